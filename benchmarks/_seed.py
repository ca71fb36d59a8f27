"""What compare.py measures against, put into a test registry with plain ``requests`` (so the
seeding never depends on the client under test): a repository of many tags, a 3-platform
index, and an image with one large random layer, streamed from a file."""

from __future__ import annotations

import hashlib
import json
import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urljoin

import requests

from tests.fixtures.images import OCI_CONFIG, OCI_LAYER, OCI_MANIFEST, Pushed, Pusher
from tests.fixtures.registry import Registry

__all__ = ["BigImage", "random_file", "seed_big_image", "seed_index", "seed_tags"]

_CHUNK = 8 << 20


def seed_tags(registry: Registry, repo: str, count: int) -> Pushed:
    """One tiny image under ``count`` tags (``t0000``...), put on 4 threads."""
    image = Pusher(registry).image(repo, "t0000", layers=1, layer_size=64)
    names = [f"t{i:04d}" for i in range(1, count)]
    pushers = [Pusher(registry) for _ in range(4)]

    def put(batch: int) -> None:
        for name in names[batch::4]:
            pushers[batch].tag(image, name)

    with ThreadPoolExecutor(4) as pool:
        list(pool.map(put, range(4)))
    return image


def seed_index(registry: Registry, repo: str, tag: str) -> Pushed:
    """A 3-platform OCI index (each child a config and two 1 KiB layers)."""
    platforms = [("linux", "amd64", None), ("linux", "arm64", "v8"), ("linux", "s390x", None)]
    return Pusher(registry).index(repo, tag, platforms)


def random_file(path: Path, size: int) -> str:
    """Write ``size`` random bytes to ``path``; returns their digest."""
    hasher = hashlib.sha256()
    with path.open("wb") as f:
        left = size
        while left:
            chunk = os.urandom(min(_CHUNK, left))
            hasher.update(chunk)
            f.write(chunk)
            left -= len(chunk)
    return "sha256:" + hasher.hexdigest()


@dataclass(frozen=True)
class BigImage:
    """An image of one large layer: its tag, manifest digest, and the layer's digest/size."""

    repo: str
    tag: str
    digest: str
    layer: str
    size: int


def _put_blob(session: requests.Session, base: str, repo: str, digest: str, body: object) -> None:
    resp = session.post(f"{base}/v2/{repo}/blobs/uploads/")
    assert resp.status_code == 202, resp.text
    location = urljoin(base, resp.headers["Location"])
    sep = "&" if "?" in location else "?"
    resp = session.put(f"{location}{sep}digest={digest}", data=body)
    assert resp.status_code == 201, resp.text


def seed_big_image(registry: Registry, repo: str, tag: str, layer: Path, digest: str) -> BigImage:
    """Push ``layer`` (already written, of ``digest``) as the one layer of an image."""
    session = requests.Session()
    session.trust_env = False
    size = layer.stat().st_size
    with layer.open("rb") as f:
        _put_blob(session, registry.url, repo, digest, f)
    config = json.dumps(
        {"architecture": "amd64", "os": "linux", "rootfs": {"type": "layers", "diff_ids": []}}
    ).encode()
    config_digest = "sha256:" + hashlib.sha256(config).hexdigest()
    _put_blob(session, registry.url, repo, config_digest, config)
    manifest = json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "config": {"mediaType": OCI_CONFIG, "digest": config_digest, "size": len(config)},
            "layers": [{"mediaType": OCI_LAYER, "digest": digest, "size": size}],
        }
    ).encode()
    resp = session.put(
        f"{registry.url}/v2/{repo}/manifests/{tag}",
        data=manifest,
        headers={"Content-Type": OCI_MANIFEST},
    )
    assert resp.status_code == 201, resp.text
    return BigImage(repo, tag, "sha256:" + hashlib.sha256(manifest).hexdigest(), digest, size)
