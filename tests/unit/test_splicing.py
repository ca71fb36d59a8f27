"""The two ways plain-http blob bytes go around our buffers, held to everything the buffered
way guarantees:

* pull_blob into a file moves the body with ``splice(2)`` (``ocireg.splicing``): socket ->
  pipe -> file, hashed by reading the file back;
* iterating a reader takes each whole chunk with one http.client ``read`` straight from the
  socket when the kernel already holds it (``BlobReader._read_queued``).

Against a keep-alive loopback server that sends body bytes together with the headers (so
http.client has some buffered), cuts or stalls mid-body, and ignores Range: the file is the
blob or is not there, every byte is reported once, chunks are whole, the connection is
reused, and a kernel refusing the splice only means the bytes take the buffered way.
"""

from __future__ import annotations

import errno
import hashlib
import http.client
import io
import itertools
import os
import re
import socket
import ssl
import stat
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from ocireg import Client, DigestMismatchError, TransportError, blobs, download, splicing
from ocireg.reference import Reference
from ocireg.stream_io import FileSpan, queued_bytes
from ocireg.wire.response import Body
from tests.fixtures.loopback import (
    IO_TIMEOUT,
    Handler,
    LoopbackServer,
    Peer,
    http_response,
    loopback_servers,
)

# Skipped only off Linux on a developer's machine: CI must run them, and fails loudly.
pytestmark = pytest.mark.skipif(
    not splicing.AVAILABLE and os.environ.get("CI") != "true", reason="os.splice is Linux-only"
)

REPO = "test/repo"
MiB = 1 << 20
BLOB = os.urandom(3 * MiB + 12345)
DIGEST = "sha256:" + hashlib.sha256(BLOB).hexdigest()
BLOB_PATH = f"/v2/{REPO}/blobs/{DIGEST}"


# -- the server ----------------------------------------------------------------------------------


@dataclass
class Plan:
    """What one blob GET gets: ``with_headers`` body bytes in the same write as the headers
    (http.client then holds them buffered), then the rest, unless the server ``cut_after``
    (closes) or ``stall_after`` (goes quiet) that many body bytes; Range honoured or not;
    ``chunked``: the body in 64 KiB chunks with no Content-Length (the counts above are
    then of the bytes on the wire, framing included)."""

    with_headers: int = 0
    cut_after: int | None = None
    stall_after: int | None = None
    honour_range: bool = True
    chunked: bool = False
    data: bytes = field(default=BLOB, repr=False)


def chunk_framed(body: bytes) -> bytes:
    pieces = [body[i : i + (64 << 10)] for i in range(0, len(body), 64 << 10)]
    return b"".join(b"%x\r\n%s\r\n" % (len(p), p) for p in pieces) + b"0\r\n\r\n"


def blob_server(plans: Callable[[int], Plan]) -> Handler:
    """Answers ``GET /v2/``, HEAD and GET of the blob, keeping connections alive;
    ``plans(n)`` says how the n-th blob GET (from 1, over all connections) is served."""
    numbers = itertools.count(1)

    def handle(peer: Peer, server: LoopbackServer) -> None:
        while (request := peer.read_request()) is not None:
            server.requests.append(request)
            method, path, _ = request.line.split(" ")
            if path != BLOB_PATH:
                peer.send(http_response(b"{}", headers=[("Content-Type", "application/json")]))
                continue
            if method == "HEAD":
                size = [("Content-Length", str(len(BLOB)))]
                peer.send(http_response(b"", headers=size, length=False))
                continue
            plan = plans(next(numbers))
            m = re.fullmatch(r"bytes=(\d+)-", request.headers.get("range", ""))
            start = int(m.group(1)) if m and plan.honour_range else 0
            body = plan.data[start:]
            headers = [("Content-Length", str(len(body)))]
            if plan.chunked:
                body, headers = chunk_framed(body), [("Transfer-Encoding", "chunked")]
            if start:
                headers.append(("Content-Range", f"bytes {start}-{len(BLOB) - 1}/{len(BLOB)}"))
            status = "206 Partial Content" if start else "200 OK"
            head = http_response(b"", status, headers, length=False)
            stop = min(x for x in (plan.cut_after, plan.stall_after, len(body)) if x is not None)
            first = min(plan.with_headers, stop)
            peer.send(head + body[:first])
            for pos in range(first, stop, 64 << 10):
                peer.send(body[pos : min(stop, pos + (64 << 10))])
            if plan.cut_after is not None:
                return  # the connection closes
            if plan.stall_after is not None:
                server.stop.wait(IO_TIMEOUT)
                return

    return handle


@pytest.fixture
def serve() -> Iterator[Callable[[Callable[[int], Plan]], LoopbackServer]]:
    with loopback_servers() as start:
        yield lambda plans: start(blob_server(plans))


def always(plan: Plan) -> Callable[[int], Plan]:
    return lambda _: plan


def first_then(plan: Plan, then: Plan | None = None) -> Callable[[int], Plan]:
    return lambda n: plan if n == 1 else (then or Plan())


@pytest.fixture
def client() -> Iterator[Client]:
    with Client(load_entrypoints=False, timeout=(2.0, 5.0)) as c:
        yield c


def ref_of(server: LoopbackServer) -> Reference:
    return Reference.parse(f"http://127.0.0.1:{server.port}/{REPO}")


def blob_gets(server: LoopbackServer) -> list[str]:
    """The Range header of each blob GET ("" for none)."""
    return [
        r.headers.get("range", "")
        for r in server.requests
        if r.line.startswith("GET ") and BLOB_PATH in r.line
    ]


# -- watching the splices --------------------------------------------------------------------


class SpliceSpy:
    """Wraps ``os.splice``: counts the bytes moved out of sockets and into regular files, and
    can refuse (EINVAL) one or the other, as a kernel or filesystem without splice would."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.from_sockets = self.into_files = 0
        self.refuse_sockets = self.refuse_files = self.stuck_files = False
        self.refused = 0
        self.refusal = errno.EINVAL
        real = os.splice

        def spy(src: int, dst: int, count: int, *args: object, **kwargs: object) -> int:
            from_socket = stat.S_ISSOCK(os.fstat(src).st_mode)
            into_file = stat.S_ISREG(os.fstat(dst).st_mode)
            if (from_socket and self.refuse_sockets) or (into_file and self.refuse_files):
                self.refused += 1
                raise OSError(self.refusal, os.strerror(self.refusal))
            if into_file and self.stuck_files:
                return 0
            n: int = real(src, dst, count, *args, **kwargs)  # type: ignore[arg-type]
            self.from_sockets += n if from_socket else 0
            self.into_files += n if into_file else 0
            return n

        monkeypatch.setattr(os, "splice", spy)


@pytest.fixture
def spy(monkeypatch: pytest.MonkeyPatch) -> SpliceSpy:
    return SpliceSpy(monkeypatch)


class Reports(list[int]):
    def __call__(self, n: int) -> None:
        self.append(n)


def open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


# -- the file is the blob ------------------------------------------------------------------------


@pytest.mark.parametrize("with_headers", [0, 1, 5000, 8192, 20000, 300_000])
def test_bytes_that_came_with_the_headers_are_written_first(
    serve: Callable[[Callable[[int], Plan]], LoopbackServer],
    client: Client,
    spy: SpliceSpy,
    tmp_path: Path,
    with_headers: int,
) -> None:
    """http.client reads the headers through a buffer that may hold body bytes; splicing
    from the socket before taking them would lose them (and fail the digest)."""
    server = serve(always(Plan(with_headers=with_headers)))
    target = tmp_path / "blob"
    desc = client.pull_blob(ref_of(server), DIGEST, target)
    assert (desc.digest, desc.size) == (DIGEST, len(BLOB))
    assert target.read_bytes() == BLOB
    assert spy.from_sockets > 2 * MiB  # the bulk was spliced
    assert spy.into_files == spy.from_sockets


@pytest.mark.usefixtures("hash_mode")
def test_spliced_pulls_reuse_the_connection_and_close_their_pipe(
    serve: Callable[[Callable[[int], Plan]], LoopbackServer],
    client: Client,
    spy: SpliceSpy,
    tmp_path: Path,
) -> None:
    server = serve(always(Plan(with_headers=3000)))
    client.pull_blob(ref_of(server), DIGEST, tmp_path / "first")  # the pool is warm now
    fds = open_fds()
    reports = Reports()
    client.pull_blob(ref_of(server), DIGEST, tmp_path / "second", progress=reports)
    assert (tmp_path / "first").read_bytes() == (tmp_path / "second").read_bytes() == BLOB
    assert server.accepted == 1  # the body was read to its end: the connection went back
    assert open_fds() == fds  # no pipe left open
    assert sum(reports) == len(BLOB)
    assert all(0 < n <= download.SPLICE_SIZE for n in reports)
    assert spy.from_sockets > 4 * MiB


# -- cuts, stalls, Range ignored -----------------------------------------------------------------


@pytest.mark.usefixtures("hash_mode")
def test_a_cut_mid_splice_is_resumed_with_range(
    serve: Callable[[Callable[[int], Plan]], LoopbackServer],
    client: Client,
    spy: SpliceSpy,
    tmp_path: Path,
) -> None:
    cut = MiB + MiB // 2 + 7
    server = serve(first_then(Plan(with_headers=100, cut_after=cut), Plan(with_headers=50)))
    reports = Reports()
    client.pull_blob(ref_of(server), DIGEST, tmp_path / "blob", progress=reports)
    assert (tmp_path / "blob").read_bytes() == BLOB
    assert blob_gets(server) == ["", f"bytes={cut}-"]
    assert sum(reports) == len(BLOB)  # every byte reported once
    assert spy.from_sockets > 2 * MiB


def test_a_server_ignoring_range_after_a_cut_is_read_again_from_the_start(
    serve: Callable[[Callable[[int], Plan]], LoopbackServer],
    client: Client,
    spy: SpliceSpy,
    tmp_path: Path,
) -> None:
    cut = MiB + 3
    server = serve(first_then(Plan(cut_after=cut), Plan(with_headers=700, honour_range=False)))
    reports = Reports()
    client.pull_blob(ref_of(server), DIGEST, tmp_path / "blob", progress=reports)
    assert (tmp_path / "blob").read_bytes() == BLOB
    assert blob_gets(server) == ["", f"bytes={cut}-"]
    assert sum(reports) == len(BLOB)
    # the repeated first MiB is dropped through a buffer; what follows is spliced again
    assert spy.from_sockets >= len(BLOB) - cut - splicing._DRAIN_READ


def test_a_stall_mid_splice_times_out_and_is_resumed(
    serve: Callable[[Callable[[int], Plan]], LoopbackServer], spy: SpliceSpy, tmp_path: Path
) -> None:
    stall = MiB + MiB // 4
    server = serve(first_then(Plan(with_headers=10, stall_after=stall)))
    with Client(load_entrypoints=False, timeout=(2.0, 0.3)) as client:
        client.pull_blob(ref_of(server), DIGEST, tmp_path / "blob")
    assert (tmp_path / "blob").read_bytes() == BLOB
    first, resumed = blob_gets(server)
    offset = int(resumed.removeprefix("bytes=").removesuffix("-"))
    # What the timed-out splice had moved is dropped, as a failed read's buffer would be.
    assert first == ""
    assert stall - download.SPLICE_SIZE < offset <= stall


@pytest.mark.usefixtures("hash_mode")
def test_wrong_bytes_are_refused_and_leave_no_file(
    serve: Callable[[Callable[[int], Plan]], LoopbackServer],
    client: Client,
    spy: SpliceSpy,
    tmp_path: Path,
) -> None:
    bad = BLOB[: 2 * MiB] + bytes([BLOB[2 * MiB] ^ 1]) + BLOB[2 * MiB + 1 :]
    server = serve(always(Plan(with_headers=2000, data=bad)))
    with pytest.raises(DigestMismatchError):
        client.pull_blob(ref_of(server), DIGEST, tmp_path / "blob")
    assert list(tmp_path.iterdir()) == []
    assert spy.from_sockets > MiB


def test_an_interrupt_mid_splice_leaves_no_file_and_no_pipe(
    serve: Callable[[Callable[[int], Plan]], LoopbackServer],
    client: Client,
    spy: SpliceSpy,
    tmp_path: Path,
) -> None:
    server = serve(always(Plan()))
    client.pull_blob(ref_of(server), DIGEST, tmp_path / "warm")
    (tmp_path / "warm").unlink()
    fds = open_fds()

    def interrupt(n: int) -> None:
        if spy.from_sockets:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        client.pull_blob(ref_of(server), DIGEST, tmp_path / "blob", progress=interrupt)
    assert list(tmp_path.iterdir()) == []
    assert open_fds() <= fds  # the pipe and the dropped connection are closed


# -- any sequence of answers -----------------------------------------------------------------


plans = st.builds(
    Plan,
    with_headers=st.integers(0, 300_000),
    chunked=st.sampled_from([False, False, False, True]),
    # mostly cuts after enough progress to be resumed (blobs.MIN_RESUME_PROGRESS), some not
    cut_after=st.none()
    | st.integers(blobs.MIN_RESUME_PROGRESS, len(BLOB) - 1)
    | st.integers(blobs.MIN_RESUME_PROGRESS, len(BLOB) - 1)
    | st.integers(0, len(BLOB)),
    honour_range=st.sampled_from([True, True, True, False]),
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(answers=st.lists(plans, min_size=1, max_size=4))
def test_the_file_is_the_blob_or_is_not_there(
    answers: list[Plan], tmp_path_factory: pytest.TempPathFactory
) -> None:
    """Whatever the server does (body bytes with the headers or not, a cut anywhere, Range
    honoured or not, then full answers): pull_blob leaves the blob with every byte reported
    once, or raises and leaves nothing."""
    server = LoopbackServer(blob_server(lambda n: answers[n - 1] if n <= len(answers) else Plan()))
    directory = tmp_path_factory.mktemp("pull")
    reports = Reports()
    try:
        with Client(load_entrypoints=False, timeout=(2.0, 5.0)) as client:
            client.pull_blob(ref_of(server), DIGEST, directory / "blob", progress=reports)
    except TransportError:
        event("gave up")
        assert list(directory.iterdir()) == []  # gave up (no progress between cuts)
    else:
        event(f"the blob, after {len(blob_gets(server))} GETs")
        assert (directory / "blob").read_bytes() == BLOB
        assert sum(reports) == len(BLOB)
    finally:
        server.close()


# -- when the kernel will not splice -------------------------------------------------------------


@pytest.mark.usefixtures("hash_mode")
def test_a_chunked_body_is_not_spliced_and_arrives_whole(
    serve: Callable[[Callable[[int], Plan]], LoopbackServer],
    client: Client,
    spy: SpliceSpy,
    tmp_path: Path,
) -> None:
    """A chunked body's socket carries the chunks' framing too: only http.client can read
    it. (Spliced, the file would hold the framing and fail the digest.)"""
    cut = MiB + MiB // 2
    server = serve(
        first_then(Plan(with_headers=9000, chunked=True, cut_after=cut), Plan(chunked=True))
    )
    reports = Reports()
    client.pull_blob(ref_of(server), DIGEST, tmp_path / "blob", progress=reports)
    assert (tmp_path / "blob").read_bytes() == BLOB
    assert sum(reports) == len(BLOB)
    assert len(blob_gets(server)) == 2
    assert spy.from_sockets == 0


@pytest.mark.parametrize("refusal", [errno.EINVAL, errno.EPERM])
def test_a_filesystem_refusing_splice_gets_the_bytes_copied(
    serve: Callable[[Callable[[int], Plan]], LoopbackServer],
    client: Client,
    spy: SpliceSpy,
    tmp_path: Path,
    refusal: int,
) -> None:
    spy.refuse_files, spy.refusal = True, refusal
    server = serve(always(Plan(with_headers=1000)))
    client.pull_blob(ref_of(server), DIGEST, tmp_path / "blob")
    assert (tmp_path / "blob").read_bytes() == BLOB
    assert spy.refused == 1  # asked once, then the buffered way
    assert 0 < spy.from_sockets <= download.SPLICE_SIZE


def test_a_splice_into_the_file_that_moves_nothing_fails_instead_of_spinning(
    serve: Callable[[Callable[[int], Plan]], LoopbackServer],
    client: Client,
    spy: SpliceSpy,
    tmp_path: Path,
) -> None:
    spy.stuck_files = True
    server = serve(always(Plan()))
    with pytest.raises(OSError, match="moved nothing"):
        client.pull_blob(ref_of(server), DIGEST, tmp_path / "blob")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("refusal", [errno.EINVAL, errno.EPERM])
def test_a_socket_refusing_splice_is_read_through_buffers(
    serve: Callable[[Callable[[int], Plan]], LoopbackServer],
    client: Client,
    spy: SpliceSpy,
    tmp_path: Path,
    refusal: int,
) -> None:
    spy.refuse_sockets, spy.refusal = True, refusal
    server = serve(always(Plan(with_headers=1000)))
    client.pull_blob(ref_of(server), DIGEST, tmp_path / "blob")
    assert (tmp_path / "blob").read_bytes() == BLOB
    assert spy.refused == 1
    assert spy.from_sockets == 0


def test_a_tls_body_offers_no_socket_to_splice() -> None:
    """Only the TLS layer can read a TLS socket's bytes."""
    plain = socket.socket()
    tls = ssl.create_default_context().wrap_socket(
        socket.socket(), server_hostname="localhost", do_handshake_on_connect=False
    )
    try:
        assert Body(io.BytesIO(), None, lambda _: None, plain).socket is plain
        assert Body(io.BytesIO(), None, lambda _: None, tls).socket is None
        assert Body(io.BytesIO(), None, lambda _: None, None).socket is None
    finally:
        plain.close()
        tls.close()


def test_a_file_shorter_than_written_fails_the_read_back(tmp_path: Path) -> None:
    path = tmp_path / "f"
    path.write_bytes(b"x" * 1000)
    fd = os.open(path, os.O_RDONLY)
    try:
        with pytest.raises(OSError, match="ends at byte 1000 of the 1500"):
            FileSpan(fd, 0, 1500).feed(hashlib.sha256(), bytearray(512))
    finally:
        os.close(fd)


# -- the pieces ----------------------------------------------------------------------------------


@pytest.mark.parametrize("n", [1000, 4096, 70_000, MiB])
def test_splice_to_gives_the_blob_whatever_it_is_asked_for(
    serve: Callable[[Callable[[int], Plan]], LoopbackServer],
    client: Client,
    spy: SpliceSpy,
    tmp_path: Path,
    n: int,
) -> None:
    """Small moves too: a read smaller than http.client's buffer must not be taken for the
    one that emptied it."""
    server = serve(always(Plan(with_headers=20000)))
    ref = ref_of(server)
    path = tmp_path / "blob"
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        remote = client.remote
        with splicing.SplicingReader(remote, ref, DIGEST, size=len(BLOB)) as reader:
            sizes = list(iter(lambda: reader.splice_to(fd, n), 0))
            assert reader.verified
    finally:
        os.close(fd)
    assert path.read_bytes() == BLOB
    assert all(size is not None and 0 < size <= n for size in sizes)
    assert spy.from_sockets > 0


def test_a_failed_fill_leaves_nothing_in_the_pipe() -> None:
    """An error after some bytes moved drops them: the next fill starts clean, as a read
    after a failed readinto would."""
    a, b = socket.socketpair()
    a.settimeout(IO_TIMEOUT)
    splicer = splicing.Splicer()
    try:
        b.sendall(b"stale" * 1000)

        class Body(io.BytesIO):
            length: int | None = None

            def close(self) -> None:
                pass

        def fail(k: int) -> None:
            raise TimeoutError("timed out")

        with pytest.raises(TimeoutError):
            splicer.fill(Body(), a, 5000, fail)  # type: ignore[arg-type]
        assert splicer.pending == 0
        b.sendall(b"fresh")
        assert splicer.fill(Body(), a, 5, lambda k: None) == 5  # type: ignore[arg-type]
        out = io.BytesIO()
        r, w = os.pipe()
        try:
            assert splicer.drain_to(w) == 5
            out.write(os.read(r, 100))
        finally:
            os.close(r)
            os.close(w)
        assert out.getvalue() == b"fresh"
    finally:
        splicer.close()
        a.close()
        b.close()


# -- iterating: whole chunks read straight from the socket -----------------------------------


@pytest.fixture
def queued(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Make every chunk look queued in the kernel already (the fast read then waits for
    the bytes, as a slow sender would make it); the sizes asked are recorded."""
    asked: list[int] = []

    def plenty(sock: socket.socket) -> int:
        asked.append(queued_bytes(sock))
        return 1 << 40

    monkeypatch.setattr(blobs, "queued_bytes", plenty)
    return asked


@pytest.mark.usefixtures("hash_mode")
@pytest.mark.parametrize("with_headers", [0, 5000, 300_000])
def test_iteration_reads_whole_chunks_straight_from_the_socket(
    serve: Callable[[Callable[[int], Plan]], LoopbackServer],
    client: Client,
    queued: list[int],
    with_headers: int,
) -> None:
    server = serve(always(Plan(with_headers=with_headers)))
    for _ in range(2):
        with client.open_blob(ref_of(server), DIGEST) as reader:
            chunks = list(reader)
            assert reader.verified
        assert b"".join(chunks) == BLOB
        assert [len(c) for c in chunks] == [blobs.ITER_CHUNK_SIZE] * 3 + [12345]
    assert len(queued) == 8  # every chunk took the fast read
    assert server.accepted == 1  # and the connection went back to the pool


@pytest.mark.usefixtures("hash_mode")
def test_a_cut_inside_a_fast_read_completes_the_chunk_after_a_resume(
    serve: Callable[[Callable[[int], Plan]], LoopbackServer],
    client: Client,
    queued: list[int],
) -> None:
    cut = MiB + MiB // 2 + 3
    server = serve(first_then(Plan(with_headers=100, cut_after=cut)))
    with client.open_blob(ref_of(server), DIGEST) as reader:
        chunks = list(reader)
    assert b"".join(chunks) == BLOB
    assert [len(c) for c in chunks] == [blobs.ITER_CHUNK_SIZE] * 3 + [12345]
    assert blob_gets(server) == ["", f"bytes={cut}-"]


def test_a_chunked_body_is_never_read_the_fast_way(
    serve: Callable[[Callable[[int], Plan]], LoopbackServer],
    client: Client,
    queued: list[int],
) -> None:
    """What the kernel holds of a chunked body includes its framing: no measure of how many
    blob bytes are there to read without waiting."""
    server = serve(always(Plan(chunked=True)))
    with client.open_blob(ref_of(server), DIGEST, size=len(BLOB)) as reader:
        chunks = list(reader)
    assert b"".join(chunks) == BLOB
    assert queued == []  # not even asked


def test_a_stall_inside_a_fast_read_times_out_and_is_resumed(
    serve: Callable[[Callable[[int], Plan]], LoopbackServer], queued: list[int]
) -> None:
    stall = MiB + MiB // 4
    server = serve(first_then(Plan(with_headers=10, stall_after=stall)))
    with (
        Client(load_entrypoints=False, timeout=(2.0, 0.3)) as client,
        client.open_blob(ref_of(server), DIGEST) as reader,
    ):
        chunks = list(reader)
    assert b"".join(chunks) == BLOB
    assert [len(c) for c in chunks] == [blobs.ITER_CHUNK_SIZE] * 3 + [12345]
    # the timed-out read's bytes are lost with it: asked for again from the chunk's start
    assert blob_gets(server) == ["", f"bytes={MiB}-"]


def test_only_a_chunk_the_kernel_holds_is_read_the_fast_way(
    serve: Callable[[Callable[[int], Plan]], LoopbackServer],
    client: Client,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Without the fixture the real FIONREAD answer decides: a fast read (which cannot
    stop for the rate guard) is only made of bytes already there; the others go the
    watched way, one socket read at a time."""
    last = [0]
    fast_reads: list[tuple[int, int]] = []  # (asked, queued just before)

    def recording(sock: socket.socket) -> int:
        last[0] = queued_bytes(sock)
        return last[0]

    real_read = http.client.HTTPResponse.read

    def read(resp: http.client.HTTPResponse, amt: int | None = None) -> bytes:
        fast_reads.append((amt or 0, last[0]))
        return real_read(resp, amt)

    monkeypatch.setattr(blobs, "queued_bytes", recording)
    monkeypatch.setattr(http.client.HTTPResponse, "read", read)
    server = serve(always(Plan(with_headers=64 << 10)))
    for _ in range(5):
        with client.open_blob(ref_of(server), DIGEST) as reader:
            assert b"".join(reader) == BLOB
    # what http.client holds buffered (at most its buffer) counts too
    assert all(asked <= queued + io.DEFAULT_BUFFER_SIZE for asked, queued in fast_reads)


def test_queued_bytes_is_what_the_kernel_holds() -> None:
    a, b = socket.socketpair()
    try:
        assert queued_bytes(a) == 0
        b.sendall(b"x" * 1000)
        for _ in range(100):  # delivered at once on a socketpair; a bound all the same
            if queued_bytes(a) == 1000:
                break
        assert queued_bytes(a) == 1000
        a.recv(400)
        assert queued_bytes(a) == 600
    finally:
        a.close()
        b.close()
    assert queued_bytes(a) == 0  # a closed socket: nothing to read, no error
