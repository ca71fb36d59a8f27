"""One operation by one Python tool, in its own process (for compare.py).

``python -m _ops_python TOOL OP 'JSON'`` with TOOL one of ``requests`` (the floor: a bare
``requests.Session`` and ``hashlib``), ``ocireg``, ``dxf`` (python-dxf) or ``oras`` (oras-py).
It runs under this project's virtual environment (requests, ocireg) or the peers' one (dxf,
oras), so it imports nothing at the top but the standard library. Operations that time
themselves print ``{"seconds": ...}`` or ``{"samples": [...]}`` last; the others are timed
as whole processes by the caller. Every operation checks what it got and raises otherwise.
"""

from __future__ import annotations

import hashlib
import json
import os
import statistics
import sys
import time
from collections.abc import Callable
from typing import Any

ACCEPT = ", ".join(
    [
        "application/vnd.oci.image.index.v1+json",
        "application/vnd.oci.image.manifest.v1+json",
        "application/vnd.docker.distribution.manifest.list.v2+json",
        "application/vnd.docker.distribution.manifest.v2+json",
    ]
)
CHUNK = 1 << 20


def _report(**values: Any) -> None:
    print(json.dumps(values))


def _check_file(path: str, digest: str) -> None:
    hasher = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(CHUNK):
            hasher.update(chunk)
    assert "sha256:" + hasher.hexdigest() == digest, "downloaded file has the wrong digest"


def _tags_loop(call: Callable[[], list[str]], a: dict[str, Any]) -> None:
    assert len(call()) == a["count"]  # warm: connection, imports
    samples = []
    for _ in range(a["runs"]):
        started = time.perf_counter()
        names = call()
        samples.append(time.perf_counter() - started)
    assert len(names) == a["count"]
    _report(samples=samples, median=statistics.median(samples))


# -- the floor: requests and hashlib ---------------------------------------------------------


def op_requests(op: str, a: dict[str, Any]) -> None:
    import requests

    base = f"http://{a['host']}/v2/{a['repo']}"
    started = time.perf_counter()
    s = requests.Session()
    if op in ("tags", "tags_loop"):

        def tags() -> list[str]:
            resp = s.get(f"{base}/tags/list")
            resp.raise_for_status()
            return list(resp.json()["tags"])

        if op == "tags_loop":
            return _tags_loop(tags, a)
        assert len(tags()) == a["count"]
    elif op == "manifest":
        resp = s.get(f"{base}/manifests/{a['tag']}", headers={"Accept": ACCEPT})
        resp.raise_for_status()
        assert json.loads(resp.content)["schemaVersion"] == 2
    elif op in ("digest", "first"):
        resp = s.head(f"{base}/manifests/{a['tag']}", headers={"Accept": ACCEPT})
        resp.raise_for_status()
        assert resp.headers["Docker-Content-Digest"].startswith("sha256:")
        if op == "first":
            _report(seconds=time.perf_counter() - started)
    elif op in ("stream", "file"):
        hasher = hashlib.sha256()
        out = open(a["path"], "wb") if op == "file" else None  # noqa: SIM115
        with s.get(f"{base}/blobs/{a['digest']}", stream=True) as resp:
            resp.raise_for_status()
            for chunk in resp.iter_content(CHUNK):
                hasher.update(chunk)
                if out is not None:
                    out.write(chunk)
        if out is not None:
            out.close()
        assert "sha256:" + hasher.hexdigest() == a["digest"]
        _report(seconds=time.perf_counter() - started)
    elif op == "push":
        hasher = hashlib.sha256()
        with open(a["path"], "rb") as f:
            while chunk := f.read(CHUNK):
                hasher.update(chunk)
        digest = "sha256:" + hasher.hexdigest()
        if s.head(f"{base}/blobs/{digest}").status_code != 200:
            resp = s.post(f"{base}/blobs/uploads/")
            assert resp.status_code == 202, resp.status_code
            location = resp.headers["Location"]
            location = location if "://" in location else f"http://{a['host']}{location}"
            with open(a["path"], "rb") as f:
                resp = s.put(
                    location,
                    params={"digest": digest},
                    data=f,
                    headers={"Content-Length": str(os.path.getsize(a["path"]))},
                )
            assert resp.status_code == 201, resp.status_code
        _report(seconds=time.perf_counter() - started)
    else:
        raise SystemExit(f"requests: no operation {op}")


# -- ocireg (the SDK; the CLI is run as itself) ----------------------------------------------


def op_ocireg(op: str, a: dict[str, Any]) -> None:
    from ocireg import Client

    if op == "first":
        # "Imports done": the manifest types are imported on first use (a tag list never
        # needs them); the peers import everything up front, so import them before timing.
        import ocireg.manifests.descriptor  # noqa: F401

    ref = f"{a['host']}/{a['repo']}"
    started = time.perf_counter()
    client = Client(plain_http=[a["host"]])
    if op == "tags_loop":
        return _tags_loop(lambda: client.tags(ref), a)
    if op == "first":
        assert client.head_manifest(f"{ref}:{a['tag']}").digest.startswith("sha256:")
    elif op in ("stream", "file"):
        if op == "file":
            client.pull_blob(ref, a["digest"], a["path"])
        else:
            with client.open_blob(ref, a["digest"], size=a["size"]) as reader:
                while reader.read(CHUNK):
                    pass
    elif op == "push":
        assert client.push_blob(ref, a["path"]).size == os.path.getsize(a["path"])
    else:
        raise SystemExit(f"ocireg: no operation {op}")
    _report(seconds=time.perf_counter() - started)


# -- python-dxf ------------------------------------------------------------------------------


def op_dxf(op: str, a: dict[str, Any]) -> None:
    from dxf import DXF

    started = time.perf_counter()
    d = DXF(a["host"], a["repo"], insecure=True)
    if op in ("tags", "tags_loop"):
        if op == "tags_loop":
            return _tags_loop(lambda: list(d.list_aliases()), a)
        assert len(d.list_aliases()) == a["count"]
    elif op == "manifest":
        assert json.loads(d.get_manifest(a["tag"]))["schemaVersion"] == 2
    elif op in ("digest", "first"):
        assert d.get_digest(a["tag"]).startswith("sha256:")
        if op == "first":
            _report(seconds=time.perf_counter() - started)
    elif op in ("stream", "file"):
        out = open(a["path"], "wb") if op == "file" else None  # noqa: SIM115
        for chunk in d.pull_blob(a["digest"], chunk_size=CHUNK):  # checks the digest at the end
            if out is not None:
                out.write(chunk)
        if out is not None:
            out.close()
        _report(seconds=time.perf_counter() - started)
    elif op == "push":
        assert d.push_blob(a["path"]).startswith("sha256:")
        _report(seconds=time.perf_counter() - started)
    else:
        raise SystemExit(f"dxf: no operation {op}")


# -- oras-py ---------------------------------------------------------------------------------


def op_oras(op: str, a: dict[str, Any]) -> None:
    import oras.oci
    import oras.provider

    started = time.perf_counter()
    r = oras.provider.Registry(hostname=a["host"], insecure=True)
    container = f"{a['host']}/{a['repo']}"
    if op in ("tags", "tags_loop"):
        if op == "tags_loop":
            return _tags_loop(lambda: list(r.get_tags(container)), a)
        assert len(r.get_tags(container)) == a["count"]
    elif op in ("manifest", "first"):
        assert r.get_manifest(f"{container}:{a['tag']}")["schemaVersion"] == 2
        if op == "first":
            _report(seconds=time.perf_counter() - started)
    elif op == "file":
        r.download_blob(container, a["digest"], a["path"])
        _check_file(a["path"], a["digest"])  # oras-py does not check it
        _report(seconds=time.perf_counter() - started)
    elif op == "push":
        layer = oras.oci.NewLayer(a["path"])  # hashes the file
        resp = r.upload_blob(a["path"], container, layer)
        assert resp.status_code in (200, 201), resp.status_code
        _report(seconds=time.perf_counter() - started)
    else:
        raise SystemExit(f"oras: no operation {op}")


def main() -> None:
    tool, op, args = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
    {"requests": op_requests, "ocireg": op_ocireg, "dxf": op_dxf, "oras": op_oras}[tool](op, args)


if __name__ == "__main__":
    main()
