"""The streamed upload of a blob whose digest nobody knew (one PATCH hashed on the way, then
an empty PUT ?digest=) against fake upload sessions, for what the real registry cannot be
made to do: refuse the PATCH, fail every try, replay a body. The real registry's side (the
bytes read once, a connection cut mid-PATCH) is in tests/live/test_blobs.py."""

from __future__ import annotations

import hashlib
import io
import os
import threading
from typing import Any

import pytest
from pytest_httpserver import HTTPServer

from ocireg import Client, TransportError, upload
from ocireg.digest import Digest
from ocireg.upload_source import HashingBody, ProgressMeter, UploadSource
from tests.unit.test_blob_transfer import (
    BLOB,
    BLOB_PATH,
    DIGEST,
    FakeUploads,
    MiB,
    Reports,
    client,
    fake,
    ref_of,
    registry_server,
    upload_requests,
)

__all__ = ["client", "fake", "registry_server"]  # fixtures, used by name

OTHER = os.urandom(MiB + 1)
OTHER_DIGEST = "sha256:" + hashlib.sha256(OTHER).hexdigest()


def methods(server: HTTPServer) -> list[tuple[str, int]]:
    return [(r.method, resp.status_code) for r, resp in server.log if r.path != "/v2/"]


def test_file_of_unknown_digest_goes_in_one_patch(fake: HTTPServer, client: Client) -> None:
    uploads = FakeUploads(fake)
    desc = client.push_blob(ref_of(fake), io.BytesIO(BLOB))
    assert (desc.digest, desc.size) == (DIGEST, len(BLOB))
    assert uploads.committed == {DIGEST: BLOB}
    assert methods(fake) == [("POST", 202), ("PATCH", 202), ("PUT", 201)]  # no HEAD
    (patch,) = upload_requests(fake, "PATCH")
    assert patch.headers["Content-Range"] == f"0-{len(BLOB) - 1}"
    assert patch.headers["Content-Length"] == str(len(BLOB))
    assert "Transfer-Encoding" not in patch.headers
    (put,) = upload_requests(fake, "PUT")
    assert put.args["digest"] == DIGEST and put.get_data() == b""
    assert put.query_string.decode().startswith("_state=ab%2Bc%3D%3D&n=1&")  # newest Location


def test_bytes_and_mounts_are_hashed_first(fake: HTTPServer, client: Client) -> None:
    """Bytes cost nothing to hash, and then the HEAD may spare the upload."""
    FakeUploads(fake)
    fake.expect_request(BLOB_PATH, method="HEAD").respond_with_data("", status=404)
    client.push_blob(ref_of(fake), BLOB)
    assert methods(fake) == [("HEAD", 404), ("POST", 202), ("PUT", 201)]


@pytest.mark.parametrize("status", [405, 400, 501])
def test_registry_refusing_the_streamed_patch_gets_one_put(
    fake: HTTPServer, client: Client, status: int
) -> None:
    uploads = FakeUploads(fake)
    uploads.refuse_patch = status
    fake.expect_request(BLOB_PATH, method="HEAD").respond_with_data("", status=404)
    reports = Reports()
    desc = client.push_blob(ref_of(fake), io.BytesIO(BLOB), progress=reports)
    assert (desc.digest, desc.size) == (DIGEST, len(BLOB))
    assert uploads.committed == {DIGEST: BLOB}
    assert methods(fake) == [
        ("POST", 202),
        ("PATCH", status),
        ("DELETE", 204),  # the refused session is given up
        ("HEAD", 404),  # the digest is known now: the blob may be there
        ("POST", 202),
        ("PUT", 201),
    ]
    assert upload_requests(fake, "PUT")[0].get_data() == BLOB
    assert sum(reports) == len(BLOB)  # what the PATCH sent was taken back
    assert uploads.sessions == {}
    # The client remembers: the next blob of unknown digest goes straight to one PUT.
    fake.clear_log()
    fake.expect_request(f"/v2/test/repo/blobs/{OTHER_DIGEST}", method="HEAD").respond_with_data(
        "", status=404
    )
    assert client.push_blob(ref_of(fake), io.BytesIO(OTHER)).digest == OTHER_DIGEST
    assert methods(fake) == [("HEAD", 404), ("POST", 202), ("PUT", 201)]


def test_progress_of_a_streamed_upload_adds_up(fake: HTTPServer, client: Client) -> None:
    FakeUploads(fake)
    reports = Reports()
    client.push_blob(ref_of(fake), io.BytesIO(BLOB), progress=reports)
    assert sum(reports) == len(BLOB)
    assert len(reports) == 3 and all(n == MiB for n in reports)  # the 1 MiB blocks sent


def test_interrupted_streamed_upload_cancels_the_session(fake: HTTPServer, client: Client) -> None:
    uploads = FakeUploads(fake)

    class Interrupting(io.BytesIO):
        reads = 0

        def read(self, n: int | None = -1) -> bytes:
            self.reads += 1
            if self.reads == 2:  # the second block of the PATCH body
                raise KeyboardInterrupt
            return super().read(n)

    reports = Reports()
    with pytest.raises(KeyboardInterrupt):
        client.push_blob(ref_of(fake), Interrupting(BLOB), progress=reports)
    assert uploads.sessions == {} and len(uploads.deleted) == 1
    assert uploads.committed == {}
    assert sum(reports) == 0


class Failing:
    """Makes every request carrying data into an upload session fail as a lost connection."""

    def __init__(self, client: Client, monkeypatch: pytest.MonkeyPatch) -> None:
        self.sends = 0
        real = client.remote.session_request

        def session_request(ref: Any, method: str, url: str, body: object, *a: Any, **k: Any):  # type: ignore[no-untyped-def]
            if method in ("PATCH", "PUT") and body not in (b"", None):
                self.sends += 1
                raise TransportError(f"{method} failed: connection failed")
            return real(ref, method, url, body, *a, **k)

        monkeypatch.setattr(client.remote, "session_request", session_request)


def test_lost_connection_starts_again_from_the_first_byte(
    fake: HTTPServer, client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    uploads = FakeUploads(fake)
    failing = Failing(client, monkeypatch)
    with pytest.raises(TransportError):
        client.push_blob(ref_of(fake), io.BytesIO(BLOB))
    assert failing.sends == upload.UPLOAD_ATTEMPTS  # each try in a new session
    assert [m for m, _ in methods(fake)] == ["POST", "DELETE"] * upload.UPLOAD_ATTEMPTS
    assert uploads.sessions == {} and uploads.committed == {}


def test_unseekable_source_is_not_sent_twice(
    fake: HTTPServer, client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    FakeUploads(fake)
    fake.expect_request(BLOB_PATH, method="HEAD").respond_with_data("", status=404)
    failing = Failing(client, monkeypatch)

    class Pipe(io.RawIOBase):
        def __init__(self) -> None:
            self.data = io.BytesIO(BLOB)

        def readable(self) -> bool:
            return True

        def readinto(self, b: Any) -> int:
            return self.data.readinto(b)

    with pytest.raises(TransportError):
        client.push_blob(ref_of(fake), Pipe(), digest=DIGEST, size=len(BLOB))  # type: ignore[arg-type]
    assert failing.sends == 1


def test_hashing_body_hashes_again_when_sent_again() -> None:
    """A redirect or a 401 makes the transport seek the body back to its start: the hash
    and the progress start again too, so the digest is that of one whole pass."""
    src = UploadSource(io.BytesIO(BLOB), None)
    reports = Reports()
    body = HashingBody(src, len(BLOB), ProgressMeter(reports))
    assert len(body) == len(BLOB) and body.tell() == 0
    first = next(iter(body))
    assert len(first) == MiB and body.digest() is None  # not all of it yet
    assert body.seek(0) == 0 and body.tell() == 0
    assert b"".join(body) == BLOB
    assert body.digest() == Digest.parse(DIGEST)
    assert sum(reports) == len(BLOB)


def test_hashing_body_of_a_source_that_shrank_fails() -> None:
    src = UploadSource(io.BytesIO(BLOB[:-1]), None)
    body = HashingBody(src, len(BLOB), None)
    with pytest.raises(ValueError, match="ended after"):
        b"".join(body)
    assert body.digest() is None
    assert not [t for t in threading.enumerate() if t.name == "ocireg-upload-hash"]
