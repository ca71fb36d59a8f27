"""Blob reads and uploads against the real registry (REGISTRY-FACTS 1 and 3.6): HEAD,
verified streaming, corrupted storage, monolithic and chunked uploads, cross-repository
mount, skipping blobs that exist, delete."""

from __future__ import annotations

import hashlib
import io
import os
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
import urllib3.connection

from ocireg import Client, DigestMismatchError, NotFoundError
from ocireg.reference import Reference
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

    def request(self, method: str | bytes, url: str | bytes, *args: Any, **kwargs: Any) -> Any:
        resp = super().request(method, url, *args, **kwargs)
        self.seen.append((str(method).upper(), str(url), resp.status_code))
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


def test_blob_reads_keep_the_connection(
    registry_open: Registry, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Bodies read by hand (http.client readinto) still hand the connection back."""
    ref = repo(registry_open, "keepalive")
    data = os.urandom(6 * MiB)
    digest = Pusher(registry_open).blob(ref.path, data)
    opened: list[object] = []
    connect = urllib3.connection.HTTPConnection.connect

    def counting(conn: urllib3.connection.HTTPConnection) -> None:
        opened.append(conn)  # every TCP connect, also a pooled connection re-opening
        connect(conn)

    monkeypatch.setattr(urllib3.connection.HTTPConnection, "connect", counting)
    with make_client(registry_open) as client, tempfile.TemporaryDirectory() as tmp:
        client.ping(f"http://{registry_open.host}")
        opened.clear()
        for _ in range(3):
            with client.open_blob(ref, digest) as reader:
                assert reader.read() == data
            client.pull_blob(ref, digest, Path(tmp) / "blob")
            assert client.head_blob(ref, digest).size == len(data)
    assert len(opened) == 0


def _corrupt(registry: Registry, digest: str) -> None:
    hex_ = digest.split(":", 1)[1]
    path = registry.root / "docker/registry/v2/blobs/sha256" / hex_[:2] / hex_ / "data"
    content = bytearray(path.read_bytes())
    content[len(content) // 2] ^= 0xFF  # same size: the registry serves it without noticing
    path.write_bytes(bytes(content))


def test_corrupted_blob_is_refused_and_nothing_is_written(
    registry_open: Registry, tmp_path: Path
) -> None:
    ref = repo(registry_open, "corrupt")
    digest = Pusher(registry_open).blob(ref.path, os.urandom(2 * MiB))
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
    desc = client.push_blob(ref, source)
    assert (desc.digest, desc.size) == (sha256(source.read_bytes()), source.stat().st_size)
    methods = [m for m, _, _ in session.to_registry(registry_open)]
    assert methods == ["HEAD", "POST", "PUT"]
    client.pull_blob(ref, desc.digest, tmp_path / "back.bin")
    assert (tmp_path / "back.bin").read_bytes() == source.read_bytes()


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
