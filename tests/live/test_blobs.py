"""Blob reads and uploads against the real registry (REGISTRY-FACTS 1 and 3.6): HEAD,
verified streaming, corrupted storage, monolithic, streamed and chunked uploads, a
connection cut mid-upload, cross-repository mount, skipping blobs that exist, delete, and
the memory a push and a pull hold."""

from __future__ import annotations

import hashlib
import http.client
import io
import json
import os
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from ocireg import Client, DigestMismatchError, NotFoundError, TransportError
from ocireg.reference import Reference
from tests.fixtures.faultproxy import fault_proxy
from tests.fixtures.images import Pusher
from tests.fixtures.registry import Registry

pytestmark = pytest.mark.live

KiB = 1024
MiB = 1024 * KiB


class RecordingSession(requests.Session):
    """A session that remembers ``(method, url, status)`` of every request it sends."""

    def __init__(self) -> None:
        super().__init__()
        self.seen: list[tuple[str, str, int]] = []
        self.lengths: list[tuple[str, str | None]] = []  # (method, Content-Length sent)

    def request(self, method: str | bytes, url: str | bytes, *args: Any, **kwargs: Any) -> Any:
        resp = super().request(method, url, *args, **kwargs)
        self.seen.append((str(method).upper(), str(url), resp.status_code))
        self.lengths.append((str(method).upper(), resp.request.headers.get("Content-Length")))
        return resp

    def to_registry(self, registry: Registry) -> list[tuple[str, str, int]]:
        prefix = f"//{registry.host}/v2/"
        return [s for s in self.seen if prefix in s[1] and not s[1].endswith(prefix)]


def make_client(registry: Registry, session: requests.Session | None = None) -> Client:
    return Client(
        credentials=registry.credentials("alice") if registry.users else None,
        ca_cert=str(registry.ca_cert) if registry.ca_cert else None,
        load_entrypoints=False,
        session=session,
    )


def repo(registry: Registry, name: str) -> Reference:
    return Reference.parse(f"{registry.host}/blobs/{name}-{uuid.uuid4().hex[:10]}")


def sha256(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


@pytest.fixture(params=["registry_open", "registry_token", "registry_basic", "registry_tls"])
def any_registry(request: pytest.FixtureRequest) -> Registry:
    registry: Registry = request.getfixturevalue(request.param)
    return registry


@pytest.fixture
def recorded(registry_open: Registry) -> Iterator[tuple[Client, RecordingSession]]:
    session = RecordingSession()
    with make_client(registry_open, session) as client:
        yield client, session


# -- reading -----------------------------------------------------------------------------------


def test_head_and_exists(any_registry: Registry) -> None:
    ref = repo(any_registry, "head")
    data = os.urandom(5000)
    digest = Pusher(any_registry).blob(ref.path, data)
    with make_client(any_registry) as client:
        desc = client.head_blob(ref, digest)
        assert (desc.digest, desc.size) == (digest, len(data))
        assert client.blob_exists(ref, digest)
        assert not client.blob_exists(ref, sha256(b"never pushed"))
        assert not client.blob_exists(repo(any_registry, "nothing-here"), digest)
        with pytest.raises(NotFoundError):
            client.head_blob(ref, sha256(b"never pushed"))


def test_open_blob_streams_verified_chunks(any_registry: Registry) -> None:
    ref = repo(any_registry, "stream")
    data = os.urandom(3 * MiB + 123)
    digest = Pusher(any_registry).blob(ref.path, data)
    with make_client(any_registry) as client, client.open_blob(ref, digest) as reader:
        assert (reader.size, reader.digest) == (len(data), digest)
        chunks = list(reader)
        assert reader.verified and reader.requests == 1
    assert b"".join(chunks) == data
    assert max(len(c) for c in chunks) <= MiB


def test_read_in_small_pieces(registry_open: Registry) -> None:
    ref = repo(registry_open, "pieces")
    data = os.urandom(100 * KiB)
    digest = Pusher(registry_open).blob(ref.path, data)
    with make_client(registry_open) as client, client.open_blob(ref, digest) as reader:
        pieces = [reader.read(7 * KiB) for _ in range(15)]
        assert reader.verified  # the last byte arrived, so the digest was checked
        assert reader.read(1) == b""
    assert b"".join(pieces) == data


class SpliceCount:
    """Counts the bytes ``os.splice`` moves (what pull_blob splices into a file)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.moved = 0
        real = os.splice

        def counting(src: int, dst: int, count: int, *args: Any, **kwargs: Any) -> int:
            n: int = real(src, dst, count, *args, **kwargs)
            self.moved += n
            return n

        monkeypatch.setattr(os, "splice", counting)


def test_blob_reads_keep_the_connection(
    registry_open: Registry, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Bodies read by hand (http.client readinto) or spliced into a file (plain http) still
    hand the connection back."""
    ref = repo(registry_open, "keepalive")
    data = os.urandom(6 * MiB)
    digest = Pusher(registry_open).blob(ref.path, data)
    opened: list[object] = []
    connect = http.client.HTTPConnection.connect

    def counting(conn: http.client.HTTPConnection) -> None:
        opened.append(conn)  # every TCP connect, also a pooled connection re-opening
        connect(conn)

    monkeypatch.setattr(http.client.HTTPConnection, "connect", counting)
    spliced = SpliceCount(monkeypatch)
    with make_client(registry_open) as client, tempfile.TemporaryDirectory() as tmp:
        client.ping(f"http://{registry_open.host}")
        assert len(opened) == 1
        for _ in range(3):
            with client.open_blob(ref, digest) as reader:
                assert reader.read() == data
            client.pull_blob(ref, digest, Path(tmp) / "blob")
            assert (Path(tmp) / "blob").read_bytes() == data
            assert client.head_blob(ref, digest).size == len(data)
    assert len(opened) == 1
    assert spliced.moved > 3 * 2 * 5 * MiB  # in and out of the pipe, nearly all of it


def test_a_pull_over_tls_is_verified_and_not_spliced(
    registry_tls: Registry, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Only the TLS layer can read a TLS connection's bytes: they go through buffers."""
    ref = repo(registry_tls, "tls-pull")
    data = os.urandom(6 * MiB + 7)
    digest = Pusher(registry_tls).blob(ref.path, data)
    spliced = SpliceCount(monkeypatch)
    with make_client(registry_tls) as client:
        client.pull_blob(ref, digest, tmp_path / "blob")
    assert (tmp_path / "blob").read_bytes() == data
    assert spliced.moved == 0


def _corrupt(registry: Registry, digest: str) -> None:
    hex_ = digest.split(":", 1)[1]
    path = registry.root / "docker/registry/v2/blobs/sha256" / hex_[:2] / hex_ / "data"
    content = bytearray(path.read_bytes())
    content[len(content) // 2] ^= 0xFF  # same size: the registry serves it without noticing
    path.write_bytes(bytes(content))


@pytest.mark.parametrize("size", [2 * MiB, 6 * MiB + 5])  # hashed in line, on the hash thread
def test_corrupted_blob_is_refused_and_nothing_is_written(
    registry_open: Registry, tmp_path: Path, size: int
) -> None:
    ref = repo(registry_open, "corrupt")
    digest = Pusher(registry_open).blob(ref.path, os.urandom(size))
    _corrupt(registry_open, digest)
    with make_client(registry_open) as client:
        with (
            pytest.raises(DigestMismatchError, match="digest mismatch"),
            client.open_blob(ref, digest) as reader,
        ):
            for _ in reader:
                pass
        dest = tmp_path / "layer"
        with pytest.raises(DigestMismatchError):
            client.pull_blob(ref, digest, dest)
        assert list(tmp_path.iterdir()) == []  # neither dest nor a temporary file
        dest.write_bytes(b"an older download")
        with pytest.raises(DigestMismatchError):
            client.pull_blob(ref, digest, dest)
        assert [p.name for p in tmp_path.iterdir()] == ["layer"]
        assert dest.read_bytes() == b"an older download"


def test_image_config_reads_the_config_blob(registry_token: Registry) -> None:
    ref = repo(registry_token, "config")
    pushed = Pusher(registry_token).image(ref.path, "v1", labels={"team": "blobs"})
    with make_client(registry_token) as client:
        config = client.image_config(ref.with_tag("v1"))
    assert config["config"]["Labels"] == {"team": "blobs"}
    assert pushed.config["config"]["Labels"] == {"team": "blobs"}


# -- uploads -----------------------------------------------------------------------------------


def test_monolithic_upload_of_a_file_round_trips(
    recorded: tuple[Client, RecordingSession], registry_open: Registry, tmp_path: Path
) -> None:
    client, session = recorded
    source = tmp_path / "source.bin"
    source.write_bytes(os.urandom(3 * MiB + 7))
    ref = repo(registry_open, "mono")
    desc = client.push_blob(ref, source, digest=sha256(source.read_bytes()))
    assert (desc.digest, desc.size) == (sha256(source.read_bytes()), source.stat().st_size)
    methods = [m for m, _, _ in session.to_registry(registry_open)]
    assert methods == ["HEAD", "POST", "PUT"]
    client.pull_blob(ref, desc.digest, tmp_path / "back.bin")
    assert (tmp_path / "back.bin").read_bytes() == source.read_bytes()


class CountingFile(io.FileIO):
    """A file that counts the bytes read from it."""

    count = 0

    def read(self, size: int | None = -1) -> bytes:
        data = super().read(size)
        self.count += len(data)
        return data


@pytest.mark.parametrize("fixture", ["registry_open", "registry_token"])
def test_file_of_unknown_digest_is_read_and_sent_once(
    fixture: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    """No pass to hash it first: one PATCH carries it, hashed on the way, and the digest
    given to the PUT is the one the registry computes (it refuses any other)."""
    registry: Registry = request.getfixturevalue(fixture)
    data = os.urandom(5 * MiB + 7)
    (tmp_path / "source.bin").write_bytes(data)
    ref = repo(registry, "streamed")
    session = RecordingSession()
    with make_client(registry, session) as client:
        with CountingFile(tmp_path / "source.bin") as source:
            desc = client.push_blob(ref, source)
        assert source.count == len(data)
        assert (desc.digest, desc.size) == (sha256(data), len(data))
        sent = [(m, status) for m, _, status in session.to_registry(registry)]
        assert sent == [("POST", 202), ("PATCH", 202), ("PUT", 201)]
        lengths = [n for m, n in session.lengths if m in ("PATCH", "PUT")]
        assert lengths == [str(len(data)), "0"]
        assert client.head_blob(ref, sha256(data)).size == len(data)
        with client.open_blob(ref, desc.digest) as reader:
            assert reader.read() == data


def _stored(registry: Registry, ref: Reference, kind: str) -> list[str]:
    """What the registry keeps for ``ref``'s repository, read from its storage: the upload
    sessions (``_uploads``) or the hex digests of the committed blobs (``_layers/sha256``)."""
    where = registry.root / "docker/registry/v2/repositories" / ref.path / kind
    return sorted(p.name for p in where.iterdir()) if where.exists() else []


def _session_id(path: str) -> str:
    return path.split("?", 1)[0].rsplit("/", 1)[1]


def test_connection_cut_mid_patch_cancels_and_starts_again(
    registry_open: Registry, tmp_path: Path
) -> None:
    """The registry holds half the blob when the connection drops: the session is given up
    (DELETE), never committed, and a new one carries the blob from its first byte.

    distribution 2.8 answers that DELETE 400 BLOB_UPLOAD_INVALID and keeps the session's
    files (its ``_state`` says offset 0, the session holds more, and its cancel path fails),
    so the cut session may stay on disk until the registry purges stale uploads; it can
    never be committed with that ``_state`` either."""
    data = os.urandom(4 * MiB + 3)
    (tmp_path / "source.bin").write_bytes(data)
    host, port = registry_open.host.rsplit(":", 1)
    with (
        fault_proxy(host, int(port)) as proxy,
        Client(load_entrypoints=False, plain_http=[proxy.host]) as client,
    ):
        client.ping(proxy.host)
        proxy.arm("cut", 2)  # the POST is 1, the PATCH 2: the registry gets half of it
        ref = Reference.parse(f"{proxy.host}/blobs/cut-{uuid.uuid4().hex[:10]}")
        desc = client.push_blob(ref, tmp_path / "source.bin")
        log = list(proxy.log)
    assert [m for _, m, _ in log] == ["POST", "PATCH", "DELETE", "POST", "PATCH", "PUT"]
    assert log[2][2] == log[1][2]  # the DELETE names the cut session
    assert _session_id(log[4][2]) != _session_id(log[1][2])
    assert (desc.digest, desc.size) == (sha256(data), len(data))
    direct = Reference.parse(f"{registry_open.host}/{ref.path}")
    assert set(_stored(registry_open, direct, "_uploads")) <= {_session_id(log[1][2])}
    assert _stored(registry_open, direct, "_layers/sha256") == [desc.digest.split(":")[1]]
    with make_client(registry_open) as client, client.open_blob(direct, desc.digest) as reader:
        assert reader.read() == data


def test_connection_cut_on_the_last_try_commits_nothing(
    registry_open: Registry, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("ocireg.upload.UPLOAD_ATTEMPTS", 1)
    data = os.urandom(2 * MiB)
    (tmp_path / "source.bin").write_bytes(data)
    host, port = registry_open.host.rsplit(":", 1)
    with (
        fault_proxy(host, int(port)) as proxy,
        Client(load_entrypoints=False, plain_http=[proxy.host]) as client,
    ):
        client.ping(proxy.host)
        proxy.arm("cut", 2)
        ref = Reference.parse(f"{proxy.host}/blobs/cut-{uuid.uuid4().hex[:10]}")
        with pytest.raises(TransportError):
            client.push_blob(ref, tmp_path / "source.bin")
        assert [m for _, m, _ in proxy.log] == ["POST", "PATCH", "DELETE"]
    direct = Reference.parse(f"{registry_open.host}/{ref.path}")
    assert _stored(registry_open, direct, "_layers/sha256") == []
    with make_client(registry_open) as client:
        assert not client.blob_exists(direct, sha256(data))
        assert not client.blob_exists(direct, sha256(data[: len(data) // 2]))


# -- memory ------------------------------------------------------------------------------------

_MEMORY_CHILD = """
import json, sys
from ocireg import Client
from ocireg.reference import Reference

def peak():
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith("VmHWM:")) * 1024

host, what, path, digest = sys.argv[1:5]
ref = Reference.parse(host + "/blobs/memory")
with Client(load_entrypoints=False, plain_http=[host]) as client:
    client.ping(host)
    before = peak()
    if what == "push":
        assert client.push_blob(ref, path).digest == digest
    else:
        client.pull_blob(ref, digest, path)
    print(json.dumps({"before": before, "after": peak()}))
"""


def _peak_growth(registry: Registry, what: str, path: Path, digest: str) -> int:
    out = subprocess.run(
        [sys.executable, "-c", _MEMORY_CHILD, registry.host, what, str(path), digest],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    ).stdout
    result = json.loads(out)
    growth: int = result["after"] - result["before"]
    return growth


def test_push_and_pull_hold_little_memory(registry_open: Registry, tmp_path: Path) -> None:
    """A 64 MiB blob pushed (digest unknown) and pulled in a fresh process: the peak RSS
    grows by a few MiB at most, not by the blob (a push holds ~4 MiB of blocks being read,
    hashed and sent; a pull ~1 MiB of buffers, where ten 1 MiB buffers used to be ~10)."""
    source = tmp_path / "source.bin"
    h = hashlib.sha256()
    with source.open("wb") as f:
        for _ in range(64):
            piece = os.urandom(MiB)
            h.update(piece)
            f.write(piece)
    digest = "sha256:" + h.hexdigest()
    assert _peak_growth(registry_open, "push", source, digest) < 8 * MiB
    assert _peak_growth(registry_open, "pull", tmp_path / "pulled.bin", digest) < 4 * MiB
    assert sha256((tmp_path / "pulled.bin").read_bytes()) == digest


@pytest.mark.parametrize("fixture", ["registry_open", "registry_token"])
def test_chunked_upload(fixture: str, request: pytest.FixtureRequest) -> None:
    registry: Registry = request.getfixturevalue(fixture)
    data = os.urandom(int(2.5 * 64 * KiB))
    ref = repo(registry, "chunked")
    session = RecordingSession()
    with make_client(registry, session) as client:
        desc = client.push_blob(ref, io.BytesIO(data), chunk_size=64 * KiB)
        assert (desc.digest, desc.size) == (sha256(data), len(data))
        with client.open_blob(ref, desc.digest) as reader:
            assert reader.read() == data
    sent = [(m, status) for m, _, status in session.to_registry(registry) if m != "GET"]
    assert sent == [("HEAD", 404), ("POST", 202), *[("PATCH", 202)] * 3, ("PUT", 201)]


def test_cross_repository_mount_in_token_mode(registry_token: Registry) -> None:
    data = os.urandom(200 * KiB)
    source, target = repo(registry_token, "mount-src"), repo(registry_token, "mount-dst")
    session = RecordingSession()
    assert registry_token.token_server is not None
    with make_client(registry_token, session) as client:
        digest = client.push_blob(source, data).digest
        session.seen.clear()
        registry_token.token_server.reset_requests()
        desc = client.push_blob(target, data, mount_from=source)
        assert (desc.digest, desc.size) == (digest, len(data))
        assert client.blob_exists(target, digest)
    sent = session.to_registry(registry_token)
    mounts = [(m, url, status) for m, url, status in sent if "mount=" in url]
    assert len(mounts) == 1 and mounts[0][2] == 201
    assert f"from={source.path}" in mounts[0][1]
    assert not [m for m, _, _ in sent if m in ("PATCH", "PUT")]
    # One token covered pull on the source and pull,push on the target.
    both = [
        r
        for r in registry_token.token_server.requests
        if f"repository:{source.path}:pull" in r.scopes
        and f"repository:{target.path}:pull,push" in r.scopes
    ]
    assert both


def test_mount_refused_with_202_reuses_that_upload_session(
    recorded: tuple[Client, RecordingSession], registry_open: Registry
) -> None:
    client, session = recorded
    data = os.urandom(50 * KiB)
    empty_source, target = repo(registry_open, "no-such-blob"), repo(registry_open, "mount-202")
    desc = client.push_blob(target, data, mount_from=empty_source)
    assert desc.digest == sha256(data)
    sent = [(m, s, "mount=" in url) for m, url, s in session.to_registry(registry_open)]
    # One POST only: the mount's 202 opened the session the PUT then used.
    assert sent == [("HEAD", 404, False), ("POST", 202, True), ("PUT", 201, False)]


def test_push_of_an_existing_blob_sends_only_a_head(
    recorded: tuple[Client, RecordingSession], registry_open: Registry
) -> None:
    client, session = recorded
    ref = repo(registry_open, "exists")
    data = os.urandom(10 * KiB)
    Pusher(registry_open).blob(ref.path, data)
    desc = client.push_blob(ref, data)
    assert (desc.digest, desc.size) == (sha256(data), len(data))
    assert [(m, s) for m, _, s in session.to_registry(registry_open)] == [("HEAD", 200)]


def test_push_with_a_wrong_digest_is_refused_and_cancelled(
    recorded: tuple[Client, RecordingSession], registry_open: Registry
) -> None:
    client, session = recorded
    ref = repo(registry_open, "wrong")
    with pytest.raises(Exception, match="DIGEST_INVALID"):
        client.push_blob(ref, b"some bytes", digest=sha256(b"other bytes"))
    methods = [m for m, _, _ in session.to_registry(registry_open)]
    assert methods == ["HEAD", "POST", "PUT", "DELETE"]
    assert not client.blob_exists(ref, sha256(b"some bytes"))


# -- delete ------------------------------------------------------------------------------------


@pytest.mark.parametrize("fixture", ["registry_open", "registry_token"])
def test_delete_blob(fixture: str, request: pytest.FixtureRequest) -> None:
    registry: Registry = request.getfixturevalue(fixture)
    ref = repo(registry, "delete")
    with make_client(registry) as client:
        digest = client.push_blob(ref, os.urandom(4 * KiB)).digest
        assert client.blob_exists(ref, digest)
        client.delete_blob(ref, digest)
        assert not client.blob_exists(ref, digest)
        with pytest.raises(NotFoundError):
            client.delete_blob(ref, digest)
