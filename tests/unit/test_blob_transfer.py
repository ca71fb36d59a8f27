"""Blob transfer against fake servers, for what a real registry cannot be made to do: cut a
connection mid-blob, ignore Range, redirect to another host, lose an upload chunk, fail a
PATCH. Servers are pytest-httpserver (werkzeug), which closes every connection after its
response, so a body shorter than its Content-Length is a dropped connection to the client."""

from __future__ import annotations

import gc
import gzip
import hashlib
import io
import itertools
import os
import re
import threading
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from ocireg import (
    Client,
    DigestMismatchError,
    ManifestError,
    RegistryError,
    TransportError,
    blobs,
    download,
)
from ocireg.manifests import Descriptor
from ocireg.reference import Reference
from ocireg.wire.connections import BLOCKSIZE

REPO = "test/repo"
MiB = 1 << 20
BLOB = os.urandom(3 * MiB)
DIGEST = "sha256:" + hashlib.sha256(BLOB).hexdigest()
BLOB_PATH = f"/v2/{REPO}/blobs/{DIGEST}"

# -- servers -----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def registry_server() -> Iterator[HTTPServer]:
    server = HTTPServer(host="127.0.0.1")
    server.start()
    yield server
    server.clear()
    server.stop()


@pytest.fixture(scope="module")
def storage_server() -> Iterator[HTTPServer]:
    """Another host (127.0.0.2), standing in for S3 behind a registry's redirect."""
    server = HTTPServer(host="127.0.0.2")
    server.start()
    yield server
    server.clear()
    server.stop()


@pytest.fixture
def fake(registry_server: HTTPServer) -> HTTPServer:
    registry_server.clear()
    registry_server.expect_request("/v2/").respond_with_json({})
    return registry_server


@pytest.fixture
def client() -> Iterator[Client]:
    with Client(load_entrypoints=False, timeout=(2.0, 5.0)) as c:
        yield c


def ref_of(server: HTTPServer) -> Reference:
    return Reference.parse(f"http://127.0.0.1:{server.port}/{REPO}")


def blob_gets(server: HTTPServer) -> list[Request]:
    return [r for r, _ in server.log if r.method == "GET" and r.path == BLOB_PATH]


def serve_blob(
    server: HTTPServer,
    *,
    send: Callable[[int, int], int] = lambda number, start: len(BLOB) - start,
    honour_range: bool = True,
    data: bytes = BLOB,
    path: str = BLOB_PATH,
) -> None:
    """Serve ``data``; ``send(request_number, start)`` says how many bytes each response
    really sends (always announcing all of them in Content-Length)."""
    count = 0

    def handler(request: Request) -> Response:
        nonlocal count
        count += 1
        m = re.fullmatch(r"bytes=(\d+)-", request.headers.get("Range", ""))
        start = int(m.group(1)) if m and honour_range else 0
        headers = {"Content-Length": str(len(data) - start)}
        if start:
            headers["Content-Range"] = f"bytes {start}-{len(data) - 1}/{len(data)}"
        body = data[start : start + send(count, start)]
        # An iterable body keeps werkzeug from correcting our Content-Length.
        return Response(iter([body]), status=206 if start else 200, headers=headers)

    server.expect_request(path, method="GET").respond_with_handler(handler)
    # pull_blob asks the size first (a HEAD) when it is not given, and stops there.
    server.expect_request(path, method="HEAD").respond_with_handler(
        lambda request: Response(iter([b""]), headers={"Content-Length": str(len(data))})
    )


# -- downloads ---------------------------------------------------------------------------------


@pytest.mark.usefixtures("hash_mode")
def test_cut_connection_is_resumed_with_range(fake: HTTPServer, client: Client) -> None:
    half = len(BLOB) // 2
    serve_blob(fake, send=lambda n, start: half if n == 1 else len(BLOB) - start)
    with client.open_blob(ref_of(fake), DIGEST) as reader:
        assert reader.read() == BLOB
        assert (reader.verified, reader.resumes) == (True, 1)
    gets = blob_gets(fake)
    assert [g.headers.get("Range") for g in gets] == [None, f"bytes={half}-"]


@pytest.mark.usefixtures("hash_mode")
def test_server_ignoring_range_restarts_and_skips_the_prefix(
    fake: HTTPServer, client: Client
) -> None:
    # Cut off the 1 MiB read grid, so a restart drops part of a read and keeps the rest.
    cut = 2 * MiB + 12345
    serve_blob(fake, honour_range=False, send=lambda n, start: cut if n == 1 else len(BLOB))
    with client.open_blob(ref_of(fake), DIGEST) as reader:
        assert b"".join(reader) == BLOB
    assert len(blob_gets(fake)) == 2


@pytest.mark.usefixtures("hash_mode")
@pytest.mark.parametrize("honour_range", [True, False], ids=["resumed", "restarted"])
@pytest.mark.parametrize(
    "sizes",
    [(MiB,), (blobs.CHUNK_SIZE,), (100, MiB + 7, 3, 2 * MiB), (MiB - 1, 5 * MiB)],
    ids=["1MiB", "chunk", "mixed", "over-the-end"],
)
def test_reads_return_exactly_what_is_asked_across_a_cut(
    fake: HTTPServer, client: Client, sizes: tuple[int, ...], honour_range: bool
) -> None:
    """read(n) gives n bytes (fewer only at the end), large reads (straight into one
    buffer) and small ones (slices of a chunk) alike, also across a resume or a restart."""
    cut = MiB + 54321  # inside a read, off every grid
    serve_blob(fake, honour_range=honour_range, send=lambda n, start: cut if n == 1 else len(BLOB))
    got: list[bytes] = []
    with client.open_blob(ref_of(fake), DIGEST) as reader:
        for i in itertools.count():
            n = sizes[i % len(sizes)]
            data = reader.read(n)
            if not data:
                break
            got.append(data)
            assert len(data) == n or sum(map(len, got)) == len(BLOB)
        assert reader.verified and reader.resumes == 1
        assert reader.read(MiB) == b"" and reader.read(1) == b""
    assert b"".join(got) == BLOB


@pytest.mark.usefixtures("hash_mode")
@pytest.mark.parametrize("honour_range", [True, False], ids=["resumed", "restarted"])
def test_iterating_gives_whole_chunks_across_a_cut(
    fake: HTTPServer, client: Client, honour_range: bool
) -> None:
    cut = MiB + 54321
    serve_blob(fake, honour_range=honour_range, send=lambda n, start: cut if n == 1 else len(BLOB))
    with client.open_blob(ref_of(fake), DIGEST) as reader:
        chunks = list(reader)
        assert reader.verified and reader.resumes == 1
    assert b"".join(chunks) == BLOB
    whole, last = chunks[:-1], chunks[-1]
    assert {len(c) for c in whole} == {blobs.ITER_CHUNK_SIZE}
    assert 0 < len(last) <= blobs.ITER_CHUNK_SIZE


def test_cut_without_progress_fails_at_once(fake: HTTPServer, client: Client) -> None:
    serve_blob(fake, send=lambda n, start: 100_000)
    with (
        pytest.raises(TransportError, match=r"100000 of 3145728 bytes.*not retrying"),
        client.open_blob(ref_of(fake), DIGEST) as reader,
    ):
        reader.read()
    assert len(blob_gets(fake)) == 1


def test_server_always_cutting_short_is_given_up_after_max_resumes(
    fake: HTTPServer, client: Client
) -> None:
    big = os.urandom(20 * MiB)
    digest = "sha256:" + hashlib.sha256(big).hexdigest()
    path = f"/v2/{REPO}/blobs/{digest}"
    serve_blob(fake, data=big, path=path, send=lambda n, start: MiB + 100_000)
    with (
        pytest.raises(TransportError, match=f"gave up after {blobs.MAX_RESUMES} resumes"),
        client.open_blob(ref_of(fake), digest) as reader,
    ):
        for _ in reader:
            pass
    assert len([r for r, _ in fake.log if r.path == path]) == 1 + blobs.MAX_RESUMES


@pytest.mark.usefixtures("hash_mode")
def test_wrong_content_fails_and_pull_leaves_nothing(
    fake: HTTPServer, client: Client, tmp_path: Path
) -> None:
    serve_blob(fake, data=os.urandom(len(BLOB)))
    with client.open_blob(ref_of(fake), DIGEST) as reader:
        with pytest.raises(DigestMismatchError):
            reader.read()
        with pytest.raises(DigestMismatchError):  # the failure sticks: no clean EOF after it
            reader.read(10)
        assert not reader.verified
    dest = tmp_path / "layer.tar.gz"
    with pytest.raises(DigestMismatchError):
        client.pull_blob(ref_of(fake), DIGEST, dest)
    assert list(tmp_path.iterdir()) == []
    dest.write_bytes(b"previous")
    with pytest.raises(DigestMismatchError):
        client.pull_blob(ref_of(fake), DIGEST, dest)
    assert [p.name for p in tmp_path.iterdir()] == [dest.name]
    assert dest.read_bytes() == b"previous"


def test_content_encoded_body_is_decoded_and_verified(fake: HTTPServer, client: Client) -> None:
    # We ask for identity; a server (or proxy) that compresses anyway still gives the blob
    # when its size is known: the decoded bytes are counted against it.
    packed = gzip.compress(BLOB)
    fake.expect_request(BLOB_PATH).respond_with_response(
        Response(packed, headers={"Content-Encoding": "gzip"})
    )
    with client.open_blob(ref_of(fake), DIGEST, size=len(BLOB)) as reader:
        assert reader.read() == BLOB
        assert reader.verified
    (get,) = blob_gets(fake)
    assert get.headers["Accept-Encoding"] == "identity"


def test_content_encoded_body_of_unknown_size_is_refused(fake: HTTPServer, client: Client) -> None:
    fake.expect_request(BLOB_PATH).respond_with_response(
        Response(gzip.compress(BLOB), headers={"Content-Encoding": "gzip"})
    )
    with pytest.raises(TransportError, match=r"Content-Encoding 'gzip'.*size is not known"):
        client.open_blob(ref_of(fake), DIGEST)


def test_a_gzip_bomb_stops_at_the_expected_size(fake: HTTPServer, client: Client) -> None:
    """64 KiB of gzip that would become 64 MiB: reading stops just past the 1 KiB the
    descriptor promised, with memory to match."""
    import tracemalloc

    bomb = gzip.compress(bytes(64 << 20), compresslevel=9)
    assert len(bomb) < 128 << 10
    fake.expect_request(BLOB_PATH).respond_with_response(
        Response(bomb, headers={"Content-Encoding": "gzip"})
    )
    tracemalloc.start()
    try:
        with (
            pytest.raises(DigestMismatchError, match="more than the expected 1024 bytes"),
            client.open_blob(ref_of(fake), DIGEST, size=1024) as reader,
        ):
            reader.read()
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 16 << 20, peak


def test_announced_size_other_than_descriptor_fails_before_reading(
    fake: HTTPServer, client: Client
) -> None:
    serve_blob(fake)
    with pytest.raises(DigestMismatchError, match=f"sends {len(BLOB)} bytes, expected 10"):
        client.open_blob(ref_of(fake), DIGEST, size=10)


@pytest.mark.usefixtures("hash_mode")
def test_interrupted_pull_removes_its_temp_file(
    fake: HTTPServer, client: Client, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    serve_blob(fake)
    consume = blobs.BlobReader._consume

    def interrupt(self: blobs.BlobReader, *args: Any) -> None:
        consume(self, *args)  # Ctrl-C once the first chunk is in
        raise KeyboardInterrupt

    monkeypatch.setattr(blobs.BlobReader, "_consume", interrupt)
    dest = tmp_path / "blob"
    dest.write_bytes(b"keep me")
    with pytest.raises(KeyboardInterrupt):
        client.pull_blob(ref_of(fake), DIGEST, dest)
    assert [p.name for p in tmp_path.iterdir()] == ["blob"]
    assert dest.read_bytes() == b"keep me"


def test_reader_dropped_without_close_stops_its_hash_thread(
    fake: HTTPServer, client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(blobs, "THREADED_HASH_MIN", 0)
    serve_blob(fake)
    reader = client.open_blob(ref_of(fake), DIGEST)
    assert len(reader.read(10)) == 10
    hashing = [t for t in threading.enumerate() if t.name == "ocireg-blob-hash"]
    assert len(hashing) == 1
    del reader
    gc.collect()
    hashing[0].join(timeout=5)
    assert not hashing[0].is_alive()


@pytest.mark.usefixtures("hash_mode")
def test_pull_blob_writes_the_verified_blob(
    fake: HTTPServer, client: Client, tmp_path: Path
) -> None:
    serve_blob(fake, send=lambda n, start: 2 * MiB if n == 1 else len(BLOB) - start)
    desc = client.pull_blob(ref_of(fake), DIGEST, tmp_path / "blob")
    assert (desc.digest, desc.size) == (DIGEST, len(BLOB))
    assert (tmp_path / "blob").read_bytes() == BLOB
    assert [p.name for p in tmp_path.iterdir()] == ["blob"]


def test_redirect_to_another_host_drops_authorization(
    registry_server: HTTPServer, storage_server: HTTPServer
) -> None:
    registry_server.clear()
    storage_server.clear()

    def ping(request: Request) -> Response:
        if request.headers.get("Authorization", "").startswith("Basic "):
            return Response("{}", content_type="application/json")
        return Response(status=401, headers={"WWW-Authenticate": 'Basic realm="fake"'})

    target = f"http://127.0.0.2:{storage_server.port}/bucket/blob?X-Amz-Signature=s1gn"

    def blob(request: Request) -> Response:
        if request.headers.get("Authorization", "").startswith("Basic "):
            return Response(status=307, headers={"Location": target})
        return Response(status=401, headers={"WWW-Authenticate": 'Basic realm="fake"'})

    registry_server.expect_request("/v2/").respond_with_handler(ping)
    registry_server.expect_request(BLOB_PATH).respond_with_handler(blob)
    storage_server.expect_request("/bucket/blob").respond_with_data(BLOB)
    with (
        Client(credentials=("alice", "s3cret"), load_entrypoints=False, timeout=5.0) as c,
        c.open_blob(ref_of(registry_server), DIGEST) as reader,
    ):
        assert reader.read() == BLOB
    anonymous, first = blob_gets(registry_server)  # the 401 says Basic; then with it
    assert "Authorization" not in anonymous.headers
    assert first.headers["Authorization"].startswith("Basic ")
    (second,) = [r for r, _ in storage_server.log]
    assert "Authorization" not in second.headers
    assert second.args["X-Amz-Signature"] == "s1gn"


def test_read_blob_refuses_a_descriptor_over_the_limit(fake: HTTPServer, client: Client) -> None:
    desc = Descriptor(media_type="application/json", digest=DIGEST, size=len(BLOB))
    with pytest.raises(ManifestError, match="over the 1024-byte limit"):
        client.read_blob(ref_of(fake), desc, limit=1024)
    assert blob_gets(fake) == []


def test_read_blob_reads_and_verifies(fake: HTTPServer, client: Client) -> None:
    serve_blob(fake)
    desc = Descriptor(media_type="application/json", digest=DIGEST, size=len(BLOB))
    assert client.read_blob(ref_of(fake), desc, limit=len(BLOB)) == BLOB


# -- uploads -----------------------------------------------------------------------------------


class FakeUploads:
    """Upload sessions as distribution keeps them: POST opens, PATCH appends (416 when the
    start is not the current size), GET reports, PUT commits, DELETE cancels. Every response
    carries a new ``Location``; a request to an outdated one gets 404 BLOB_UPLOAD_INVALID."""

    def __init__(self, server: HTTPServer, *, min_chunk: int | None = None) -> None:
        self.sessions: dict[str, bytearray] = {}
        self.states: dict[str, int] = {}
        self.committed: dict[str, bytes] = {}
        self.deleted: list[str] = []
        self.lose_patch: int | None = None  # store nothing for this PATCH number, say 202
        self.fail_patch: int | None = None  # answer 500 to this PATCH number
        self.refuse_patch: int | None = None  # answer every PATCH with this status
        self.patches = 0
        self.min_chunk = min_chunk
        uploads = re.compile(rf"/v2/{REPO}/blobs/uploads/.*")
        server.expect_request(uploads).respond_with_handler(self.handle)

    def location(self, sid: str) -> dict[str, str]:
        self.states[sid] = self.states.get(sid, -1) + 1
        return {
            "Location": f"/v2/{REPO}/blobs/uploads/{sid}?_state=ab%2Bc%3D%3D&n={self.states[sid]}"
        }

    def handle(self, request: Request) -> Response:
        if request.method == "POST":
            sid = str(uuid.uuid4())
            self.sessions[sid] = bytearray()
            headers = self.location(sid)
            if self.min_chunk:
                headers["OCI-Chunk-Min-Length"] = str(self.min_chunk)
            return Response(status=202, headers=headers)
        sid = request.path.rsplit("/", 1)[1]
        if sid not in self.sessions or request.args.get("n") != str(self.states[sid]):
            return Response('{"errors":[{"code":"BLOB_UPLOAD_INVALID"}]}', status=404)
        buf = self.sessions[sid]
        if request.method == "DELETE":
            self.deleted.append(request.full_path)
            del self.sessions[sid]
            return Response(status=204)
        if request.method == "GET":
            return Response(
                status=204, headers={"Range": f"0-{len(buf) - 1}", **self.location(sid)}
            )
        if request.method == "PATCH":
            self.patches += 1
            if self.refuse_patch is not None:
                return Response('{"errors":[{"code":"UNSUPPORTED"}]}', status=self.refuse_patch)
            if self.patches == self.fail_patch:
                return Response('{"errors":[{"code":"UNKNOWN"}]}', status=500)
            start, _end = map(int, request.headers["Content-Range"].split("-"))
            if start != len(buf):
                return Response(status=416, headers={"Range": f"0-{len(buf) - 1}"})
            if self.patches != self.lose_patch:
                buf += request.get_data()
                return Response(
                    status=202, headers={"Range": f"0-{len(buf) - 1}", **self.location(sid)}
                )
            return Response(status=202, headers=self.location(sid))  # lost, and no Range to tell
        buf += request.get_data()  # PUT
        digest = "sha256:" + hashlib.sha256(buf).hexdigest()
        if request.args.get("digest") != digest:
            return Response('{"errors":[{"code":"DIGEST_INVALID"}]}', status=400)
        self.committed[digest] = bytes(buf)
        del self.sessions[sid]
        return Response(status=201, headers={"Docker-Content-Digest": digest})


def upload_requests(server: HTTPServer, method: str) -> list[Request]:
    return [r for r, _ in server.log if r.method == method and "/uploads/" in r.path]


def test_size_disagreeing_with_the_source_is_refused_before_any_request(
    fake: HTTPServer, client: Client
) -> None:
    with pytest.raises(ValueError, match="size 5 given, but the source holds 3 bytes"):
        client.push_blob(ref_of(fake), b"abc", size=5)
    assert fake.log == []


def test_monolithic_put_keeps_the_location_query_verbatim(fake: HTTPServer, client: Client) -> None:
    uploads = FakeUploads(fake)
    fake.expect_request(BLOB_PATH, method="HEAD").respond_with_data("", status=404)
    desc = client.push_blob(ref_of(fake), io.BytesIO(BLOB), digest=DIGEST)
    assert (desc.digest, desc.size) == (DIGEST, len(BLOB))
    assert uploads.committed == {DIGEST: BLOB}
    (put,) = upload_requests(fake, "PUT")
    assert put.query_string.decode() == f"_state=ab%2Bc%3D%3D&n=0&digest={DIGEST}"
    assert put.headers["Content-Type"] == "application/octet-stream"
    assert upload_requests(fake, "PATCH") == []


def test_chunked_upload_recovers_a_lost_chunk_through_416(fake: HTTPServer, client: Client) -> None:
    uploads = FakeUploads(fake)
    uploads.lose_patch = 2
    fake.expect_request(BLOB_PATH, method="HEAD").respond_with_data("", status=404)
    client.push_blob(ref_of(fake), BLOB, chunk_size=MiB)
    assert uploads.committed == {DIGEST: BLOB}
    statuses = [resp.status_code for req, resp in fake.log if req.method == "PATCH"]
    assert statuses == [202, 202, 416, 202, 202]
    assert len(upload_requests(fake, "GET")) == 1
    ranges = [r.headers["Content-Range"] for r in upload_requests(fake, "PATCH")]
    assert ranges[-2:] == [f"{MiB}-{2 * MiB - 1}", f"{2 * MiB}-{3 * MiB - 1}"]


def test_failed_chunk_cancels_the_session(fake: HTTPServer, client: Client) -> None:
    uploads = FakeUploads(fake)
    uploads.fail_patch = 2
    fake.expect_request(BLOB_PATH, method="HEAD").respond_with_data("", status=404)
    with pytest.raises(RegistryError, match="500"):
        client.push_blob(ref_of(fake), BLOB, chunk_size=MiB)
    assert uploads.sessions == {} and len(uploads.deleted) == 1
    assert uploads.deleted[0].endswith("n=1")  # the newest Location, not the first


def test_interrupted_upload_cancels_the_session(fake: HTTPServer, client: Client) -> None:
    uploads = FakeUploads(fake)
    fake.expect_request(BLOB_PATH, method="HEAD").respond_with_data("", status=404)

    class Interrupting(io.BytesIO):
        reads = 0

        def read(self, n: int | None = -1) -> bytes:
            self.reads += 1
            if self.reads == 6:  # 4 reads hash it (3 MiB, then EOF), the 5th is chunk one
                raise KeyboardInterrupt
            return super().read(n)

    with pytest.raises(KeyboardInterrupt):
        client.push_blob(ref_of(fake), Interrupting(BLOB), chunk_size=2 * MiB)
    assert uploads.sessions == {} and len(uploads.deleted) == 1
    assert len(upload_requests(fake, "PATCH")) == 1


def test_unseekable_source_is_hashed_while_chunks_go_out(fake: HTTPServer, client: Client) -> None:
    uploads = FakeUploads(fake, min_chunk=MiB + 1)

    class Pipe(io.RawIOBase):
        def __init__(self) -> None:
            self.data = io.BytesIO(BLOB)

        def readable(self) -> bool:
            return True

        def read(self, n: int = -1) -> bytes:
            return self.data.read(min(n, 100_000))  # short reads, like a pipe

    desc = client.push_blob(ref_of(fake), Pipe(), chunk_size=64 * 1024)  # type: ignore[arg-type]
    assert (desc.digest, desc.size) == (DIGEST, len(BLOB))
    assert uploads.committed == {DIGEST: BLOB}
    sizes = [int(r.headers["Content-Length"]) for r in upload_requests(fake, "PATCH")]
    assert sizes == [MiB + 1, MiB + 1, len(BLOB) - 2 * (MiB + 1)]  # raised to the minimum
    assert [r for r, _ in fake.log if r.method == "HEAD"] == []  # digest unknown: no HEAD


# -- progress ----------------------------------------------------------------------------------


class Reports(list[int]):
    """A progress callback that keeps every number it is given."""

    def __call__(self, n: int) -> None:
        self.append(n)


def test_pull_blob_reports_every_byte_once_across_a_resume(
    fake: HTTPServer, client: Client, tmp_path: Path
) -> None:
    serve_blob(fake, send=lambda n, start: 2 * MiB + 5 if n == 1 else len(BLOB) - start)
    reports = Reports()
    client.pull_blob(ref_of(fake), DIGEST, tmp_path / "blob", progress=reports)
    assert len(blob_gets(fake)) == 2  # resumed
    assert sum(reports) == len(BLOB)
    assert all(0 < n <= download.PULL_BUFFER_SIZE for n in reports)


def test_monolithic_put_reports_reads_and_keeps_content_length(
    fake: HTTPServer, client: Client
) -> None:
    uploads = FakeUploads(fake)
    fake.expect_request(BLOB_PATH, method="HEAD").respond_with_data("", status=404)
    reports = Reports()
    client.push_blob(ref_of(fake), io.BytesIO(BLOB), digest=DIGEST, progress=reports)
    assert uploads.committed == {DIGEST: BLOB}
    (put,) = upload_requests(fake, "PUT")
    assert put.headers["Content-Length"] == str(len(BLOB))
    assert "Transfer-Encoding" not in put.headers
    assert sum(reports) == len(BLOB)
    # streamed: reads of at most the wire layer's block, each reported
    assert len(reports) > 1 and all(0 < n <= BLOCKSIZE for n in reports)


def test_progress_of_a_recovered_chunked_upload_adds_up_to_the_size(
    fake: HTTPServer, client: Client
) -> None:
    uploads = FakeUploads(fake)
    uploads.lose_patch = 2
    fake.expect_request(BLOB_PATH, method="HEAD").respond_with_data("", status=404)
    reports = Reports()
    client.push_blob(ref_of(fake), BLOB, chunk_size=MiB, progress=reports)
    assert uploads.committed == {DIGEST: BLOB}
    assert all("Transfer-Encoding" not in r.headers for r in upload_requests(fake, "PATCH"))
    # The 416 tells the registry holds 1 MiB after 3 MiB went out: chunks 2 and 3 come back.
    assert [n for n in reports if n < 0] == [-2 * MiB]
    assert sum(reports) == len(BLOB)


def test_progress_of_a_failed_upload_is_taken_back(fake: HTTPServer, client: Client) -> None:
    uploads = FakeUploads(fake)
    uploads.fail_patch = 2
    fake.expect_request(BLOB_PATH, method="HEAD").respond_with_data("", status=404)
    reports = Reports()
    with pytest.raises(RegistryError):
        client.push_blob(ref_of(fake), BLOB, chunk_size=MiB, progress=reports)
    assert max(reports) > 0
    assert sum(reports) == 0


def test_existing_blob_reports_no_progress(fake: HTTPServer, client: Client) -> None:
    fake.expect_request(BLOB_PATH, method="HEAD").respond_with_data(
        "", headers={"Content-Length": str(len(BLOB)), "Docker-Content-Digest": DIGEST}
    )
    reports = Reports()
    client.push_blob(ref_of(fake), BLOB, progress=reports)
    assert reports == []
