"""Reading blobs (distribution spec, "Pulling blobs", "Deleting blobs"): HEAD, a verified
streaming reader that resumes dropped connections, small reads, atomic downloads, delete.

Every byte handed out goes through a :class:`~ocireg.digest.DigestVerifier`, and digest and
size are checked as the last byte arrives: a consumer that stops at ``size`` bytes is still
protected, and the last chunk of a bad blob is never handed out. Blob GETs on real registries
redirect to storage hosts (S3, a CDN); the transport follows them and drops
``Authorization`` when the host changes.
"""

from __future__ import annotations

import contextlib
import http.client
import logging
import socket
import time
import weakref
from collections.abc import Iterator
from typing import TYPE_CHECKING

from .blob_response import check_blob_response
from .digest import Digest, DigestVerifier
from .errors import (
    DigestMismatchError,
    ManifestError,
    NotFoundError,
    OciregError,
    TransportError,
)
from .limits import read_errors
from .manifests import Descriptor
from .mediatypes import BLOB_MEDIA_TYPE
from .stream_io import (
    HASH_QUEUE_DEPTH,
    BackgroundHasher,
    FileSpan,
    Release,
    hash_bytes,
    queued_bytes,
    read1_watched,
    readinto_watched,
)

if TYPE_CHECKING:
    from . import wire
    from .reference import Reference
    from .remote import Remote

__all__ = [
    "BLOB_MEDIA_TYPE",
    "BlobReader",
    "blob_exists",
    "open_blob",
    "read_blob",
]

log = logging.getLogger("ocireg.blobs")

#: The most one read hands out (and the unit of hashing). Each chunk in flight is memory
#: held (the hash queue, the consumer's, the one being read), and 1 MiB ``bytes`` of
#: varying length also fragment the heap: 1 MiB chunks in a queue of 8 held ~13 MiB. With
#: 512 KiB an ``open_blob`` holds ~4 MiB, at the same speed (benchmarks/bench_blobs.py).
#: Larger chunks look faster in a long-lived process that has read a few blobs, but a fresh
#: process reading 1 GiB took 1.06-1.56 s with 1 MiB against 0.94-1.07 s with 512 KiB.
CHUNK_SIZE = 512 << 10
#: Iterating a reader gives whole chunks of this size (the last shorter), each read straight
#: into one buffer: a 1 GiB blob iterated in 0.70-0.77 s against 0.72-0.83 s with whatever
#: one socket read gave (hashlib of the same bytes from a file: 0.73-0.76 s).
ITER_CHUNK_SIZE = 1 << 20
#: A dropped connection is resumed only if this much arrived since the previous attempt, or
#: RESUME_AFTER seconds passed (containers/image's rule), and at most MAX_RESUMES times: a
#: server that cuts every response short fails fast instead of being asked forever.
MIN_RESUME_PROGRESS = 1 << 20
RESUME_AFTER = 60.0
MAX_RESUMES = 10
#: Blobs above this (or of unknown size) are hashed on a worker thread: hashlib releases the
#: GIL, so hashing overlaps the socket reads and the consumer's writes. With readinto into
#: reused buffers it took pull_blob of 1 GiB from ~1.7x to ~1.05x the time of
#: ``curl -o FILE`` on an idle 2-core VM (benchmarks/bench_blobs.py).
THREADED_HASH_MIN = 4 << 20


class BlobReader:
    """A verified stream of one blob: iterate it for ``bytes`` chunks, or :meth:`read` it.

    :func:`open_blob` makes it, having sent the GET, so a missing blob fails there. The
    bytes must hash to :attr:`digest` and number :attr:`size` (the caller's, else the
    ``Content-Length``): otherwise :class:`DigestMismatchError` is raised by the read that
    takes the last byte (or an overflowing one), and again by any read after it.

    A dropped connection (reset, timeout, short body) is resumed with ``Range:
    bytes=<received>-`` within :data:`MIN_RESUME_PROGRESS` and :data:`MAX_RESUMES`; past
    them :class:`TransportError` says how far it got. A server answering ``200`` instead of
    ``206`` sends the blob from the start; the bytes already received are read again and
    dropped, not hashed twice: wasteful but always verifiable (regclient refuses instead).
    """

    def __init__(
        self, remote: Remote, ref: Reference, digest: str, *, size: int | None = None
    ) -> None:
        # An unregistered algorithm cannot be verified: refuse it before any request.
        self._verifier = DigestVerifier(Digest.parse(digest))
        self._remote, self._ref = remote, ref
        self._where = f"{ref.domain}/{ref.path}@{digest}"
        # A sender that stays below the transport's minimum rate (or the call's deadline)
        # ends the read with a TransportError instead of holding it for ever.
        self._rate = remote.transport.guard(f"GET blob {self._where}")
        self._size = size
        self._pending, self._pos = b"", 0  # the chunk read() is handing out, and where
        self._skip = 0
        self._decode = self._done = False
        self._failed: OciregError | None = None
        self._hasher: BackgroundHasher | None = None
        self._scratch: bytearray | None = None
        self._fast: http.client.HTTPResponse | None = None
        self._resp: wire.Response | None = None
        #: Bytes received so far; resumes done; GET requests sent (the first included).
        self.received = self.resumes = self.requests = 0
        self._attempt_offset, self._attempt_time = 0, time.monotonic()
        self._resp = self._get(0)

    @property
    def digest(self) -> str:
        return str(self._verifier.expected)

    @property
    def size(self) -> int | None:
        """The expected size: the caller's, else the registry's ``Content-Length``."""
        return self._size

    @property
    def verified(self) -> bool:
        """True once every byte has arrived and matched digest and size."""
        return self._done

    def __iter__(self) -> Iterator[bytes]:
        if rest := self._take(len(self._pending)):
            yield rest
        while not self._done:
            left = None if self._size is None else max(1, self._size - self.received)
            if not (chunk := self._read_whole(min(ITER_CHUNK_SIZE, left or ITER_CHUNK_SIZE))):
                break
            yield chunk

    def read(self, n: int = -1) -> bytes:
        """Up to ``n`` bytes (all that remain with ``n < 0``); fewer only at the end.

        Small reads slice the current chunk instead of copying it around; a read of a chunk
        or more goes straight from the socket into one reused buffer (:meth:`_read_whole`).
        """
        if n < 0:
            return self._take(len(self._pending)) + b"".join(iter(self._next, b""))
        if n >= CHUNK_SIZE and self._pos == len(self._pending) and not self._done:
            return self._read_whole(n)
        parts: list[bytes] = []
        while n > 0:
            if self._pos == len(self._pending):
                self._pending, self._pos = self._next(), 0
                if not self._pending:
                    break
            parts.append(piece := self._take(n))
            n -= len(piece)
        return parts[0] if len(parts) == 1 else b"".join(parts)

    def _take(self, n: int) -> bytes:
        piece = self._pending[self._pos : self._pos + n]  # the chunk itself when it is all
        self._pos += len(piece)
        return piece

    def close(self) -> None:
        """Release the connection; idempotent. Bytes not read yet are never verified."""
        resp, self._resp, self._fast = self._resp, None, None
        if resp is not None:
            resp.close()
        hasher, self._hasher = self._hasher, None
        if hasher is not None:
            hasher.drain()

    def __enter__(self) -> BlobReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- reading ---------------------------------------------------------------------------

    @contextlib.contextmanager
    def _guard(self) -> Iterator[None]:
        """A failure sticks: reading on after an error never looks like a clean end."""
        if self._failed is not None:
            raise self._failed
        try:
            yield
        except OciregError as exc:
            self._failed = exc
            self.close()
            raise

    def _next(self) -> bytes:
        """The next chunk, or ``b""`` once the blob is complete and verified."""
        if self._done:
            return b""
        with self._guard():
            if (chunk := self._read_new_bytes()) is not None:
                return chunk
            if self._scratch is None:
                self._scratch = bytearray(CHUNK_SIZE)
            view = memoryview(self._scratch)
            if not (n := self._read_some(view)):
                self._finish()
                return b""
            chunk = bytes(view[:n])  # the caller may keep it; the scratch buffer is reused
            self._consume(chunk, n, None)
            return chunk

    def _read_new_bytes(self) -> bytes | None:
        """A chunk as a new ``bytes`` read straight from the socket (http.client's buffered
        ``read`` allocates it once, so there is no copy out of a scratch buffer: about 0.1 s
        per GiB); None to let the general path handle skips, resumes and the end."""
        fast = self._fast
        if fast is None or self._skip or self._resp is None:
            return None
        try:
            data = read1_watched(fast, CHUNK_SIZE, self._rate.feed)  # a trickle is seen as one
        except read_errors() as exc:
            self._resume(exc)
            return None
        if not data:
            return None
        n = len(data)
        self.received += n
        if self._size is not None and self.received > self._size:
            raise self._mismatch(f"more than the expected {self._size} bytes", "longer")
        self._consume(data, n, None)
        return data

    def _read_whole(self, n: int) -> bytes:
        """A large read straight into one buffer, as a file's read(n) is: no chunk is cut
        and joined (each byte copied twice, a quarter of the time of a 1 MiB-read loop)."""
        if (queued := self._read_queued(n)) is not None:
            return queued
        if self._scratch is None or len(self._scratch) < n:
            self._scratch = bytearray(n)  # kept: a fresh one per read costs its page faults
        view = memoryview(self._scratch)[:n]
        got = 0
        with self._guard():
            while got < n and (k := self._read_some(view[got:])):
                got += k
                if self.received == self._size:
                    break
            data = bytes(view[:got])
            if got:
                self._consume(data, got, None)
            else:
                self._finish()
        return data

    def _read_queued(self, n: int) -> bytes | None:
        """Up to ``n`` bytes as one ``bytes`` that http.client fills straight from the
        socket, when the kernel already holds them all: nothing to wait for (so nothing for
        the rate guard to watch), no copy out of a scratch buffer. None otherwise."""
        if self._done or (plain := self._plain_body()) is None:
            return None
        fast, sock, left = plain
        if (want := min(n, left)) <= 0 or queued_bytes(sock) < want:
            return None
        with self._guard():
            try:
                data = fast.read(want)
            except read_errors() as exc:
                self._resume(exc)  # what that read took is lost: asked for again
                return None
            self._rate.feed(len(data))
            if not data:
                return None  # the end after all: the usual way sees to it
            self.received += len(data)
            self._consume(data, len(data), None)
        if len(data) < want:  # the connection broke after all: the rest the usual way
            data += self._read_whole(want - len(data))
        return data

    def _plain_body(self) -> tuple[http.client.HTTPResponse, socket.socket, int] | None:
        """(response, its socket, blob bytes to come) when the socket carries only those up
        to the Content-Length (not TLS, chunked, decoded, nor what a 200 sends again)."""
        fast, resp, size = self._fast, self._resp, self._size
        if fast is None or resp is None or size is None or self._skip:
            return None
        sock = getattr(resp.raw, "socket", None)
        if sock is None or fast.chunked or fast.length is None:
            return None
        return fast, sock, size - self.received

    def read_owned(self, buf: bytearray, release: Release) -> int:
        """Fill ``buf`` without copying (0 at the verified end). ``release(buf)`` is called
        once it is hashed; until then the caller must not refill it. pull_blob's fast path."""
        with self._guard():
            if not (n := self._read_some(memoryview(buf))):
                self._finish()
                return 0
            self._consume(buf, n, release)
            return n

    def _read_some(self, view: memoryview) -> int:
        """Read new blob bytes into ``view``, resuming as needed; 0 at the end of the body."""
        while not self._done:
            if (resp := self._resp) is None:
                raise ValueError(f"read from a closed BlobReader ({self._where})")
            try:
                if self._fast is not None:
                    n = readinto_watched(self._fast, view, self._rate.feed)
                else:
                    data = resp.raw.read(len(view), decode_content=self._decode)
                    n = len(data)
                    self._rate.feed(n)
                    view[:n] = data
            except read_errors() as exc:
                self._resume(exc)
                continue
            if n and self._skip:
                dropped = min(self._skip, n)
                self._skip, n = self._skip - dropped, n - dropped
                view[:n] = view[dropped : dropped + n]
                if not n:
                    continue
            if n:
                self.received += n
                if self._size is not None and self.received > self._size:
                    raise self._mismatch(f"more than the expected {self._size} bytes", "longer")
                return n
            if self._size is not None and self.received < self._size:
                self._resume(None)  # a short body that no exception reported
                continue
            return 0
        return 0

    def _consume(self, data: bytes | bytearray | FileSpan, n: int, release: Release | None) -> None:
        if self._hasher is None and (self._size is None or self._size > THREADED_HASH_MIN):
            # As many bytes queued as HASH_QUEUE_DEPTH chunks of CHUNK_SIZE: the reads that
            # matter (iteration, read(1 MiB)) hand over chunks of ITER_CHUNK_SIZE.
            depth = max(2, HASH_QUEUE_DEPTH * CHUNK_SIZE // ITER_CHUNK_SIZE)
            self._hasher = BackgroundHasher(self._verifier, depth=depth)
            # A reader dropped without close() must not leave its thread waiting forever.
            weakref.finalize(self, self._hasher.stop)
        if self._hasher is not None:
            self._hasher.update(data, n, release)
        else:
            hash_bytes(self._verifier, data, n)
            if release is not None and isinstance(data, bytearray):
                release(data)
        if self.received == self._size:
            self._finish()  # verify with the last chunk, before handing it out

    def _finish(self) -> None:
        if self._fast is not None and self._resp is not None and self._fast.isclosed():
            self._resp.raw.release_conn()  # read to its end by hand: give the connection back
        self.close()
        self._verifier.verify(expected_size=self._size, what=f"blob {self._where}")
        self._done = True

    def _mismatch(self, problem: str, actual: str) -> DigestMismatchError:
        return DigestMismatchError(
            f"blob {self._where}: {problem}", expected=self.digest, actual=actual
        )

    # -- (re)connecting --------------------------------------------------------------------

    def _get(self, start: int) -> wire.Response:
        # identity: Range offsets and Content-Length must count blob bytes, not gzip bytes.
        resp = self._remote.get_blob(self._ref, self.digest, start=start)
        self.requests += 1
        try:
            framing = check_blob_response(
                resp,
                ref=self._ref,
                digest=self.digest,
                algorithm=self._verifier.expected.algorithm,
                start=start,
                size=self._size,
            )
        except BaseException:
            resp.close()
            raise
        self._decode, self._skip, self._size = framing
        # http.client's readinto fills our buffer straight from the socket: no allocation and
        # one copy less per chunk than read(). Only for bodies not to be decoded.
        fp = getattr(resp.raw, "fp", None) or getattr(resp.raw, "_fp", None)
        self._fast = fp if isinstance(fp, http.client.HTTPResponse) and not self._decode else None
        return resp

    def _resume(self, exc: BaseException | None) -> None:
        self.close()
        of = f"{self.received} of {self._size if self._size is not None else '?'} bytes"
        reason = type(exc).__name__ if exc is not None else "connection closed early"
        progress = self.received - self._attempt_offset
        patient = time.monotonic() - self._attempt_time >= RESUME_AFTER
        if self.resumes >= MAX_RESUMES:
            problem = f"gave up after {self.resumes} resumes"
        elif progress < MIN_RESUME_PROGRESS and not patient:
            problem = f"only {progress} bytes arrived since the last attempt, not retrying"
        elif self._decode:
            problem = "a content-encoded response cannot be resumed"
        else:
            self.resumes += 1
            self._attempt_offset, self._attempt_time = self.received, time.monotonic()
            log.info(
                "GET blob %s: %s after %s; resuming (%d)", self._where, reason, of, self.resumes
            )
            self._resp = self._get(self.received)
            return
        raise TransportError(f"GET blob {self._where}: {reason} after {of}; {problem}") from exc


# -- module functions ----------------------------------------------------------------------


def blob_exists(
    remote: Remote,
    ref: Reference,
    digest: str,
    *,
    actions: tuple[str, ...] = ("pull",),
    extra_scopes: tuple[str, ...] = (),
) -> bool:
    """Whether the repository holds the blob (a HEAD; 404 means no, other errors raise)."""
    try:
        remote.head_blob(ref, digest, actions=actions, extra_scopes=extra_scopes)
    except NotFoundError:
        return False
    return True


def open_blob(
    remote: Remote, ref: Reference, digest: str, *, size: int | None = None
) -> BlobReader:
    """Start reading a blob; see :class:`BlobReader`. Use it as a context manager."""
    return BlobReader(remote, ref, digest, size=size)


def read_blob(remote: Remote, ref: Reference, descriptor: Descriptor, *, limit: int) -> bytes:
    """The whole (small) blob of ``descriptor`` in memory, verified: configs and the like.

    A descriptor over ``limit`` bytes raises :class:`ManifestError` (metadata too large to
    accept) before any request; the reader then holds the registry to the descriptor's size.
    """
    if descriptor.size > limit:
        where = f"{ref.domain}/{ref.path}@{descriptor.digest}"
        raise ManifestError(f"blob {where} is {descriptor.size} bytes, over the {limit}-byte limit")
    with open_blob(remote, ref, descriptor.digest, size=descriptor.size) as reader:
        return reader.read()
