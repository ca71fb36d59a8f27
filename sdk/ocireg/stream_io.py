"""The two low-level pieces of the blob reader and of the streamed upload: a socket read
that returns what one system call gives, and hashing on a worker thread.

Hashing on a thread overlaps hashlib (which releases the GIL) with the socket reads and the
consumer's writes, or with the socket writes of an upload; buffers go round between them
(``release`` hands one back once hashed).
"""

from __future__ import annotations

import errno
import http.client
import os
import queue
import socket
import sys
import threading
from collections.abc import Callable
from typing import Protocol

__all__ = [
    "HASH_QUEUE_DEPTH",
    "BackgroundHasher",
    "FileSpan",
    "Hasher",
    "Release",
    "hash_bytes",
    "queued_bytes",
    "read1_watched",
    "readinto_watched",
]

#: Chunks waiting for the hash thread at most. Hashing keeps up with a socket when it gets
#: a core, so the queue only absorbs the moments it does not (a busy machine): 6 x 512 KiB
#: kept open_blob within ~1.1x of hashlib on a loaded 2-core VM where 3 x 256 KiB gave
#: ~1.3x. Every queued chunk is memory held.
HASH_QUEUE_DEPTH = 6

#: The buffer a :class:`FileSpan` is read back into, one piece at a time.
FILE_SPAN_BUFFER = 1 << 20

#: Called with a buffer once its bytes are hashed, so the caller may fill it again.
Release = Callable[[bytearray], None]


class Hasher(Protocol):
    """What :class:`BackgroundHasher` feeds: a ``hashlib`` object, a ``DigestVerifier``."""

    def update(self, data: memoryview, /) -> None: ...


def read1_watched(resp: http.client.HTTPResponse, n: int, progress: Callable[[int], None]) -> bytes:
    """``resp.read1(n)`` (what http.client holds buffered, else what one socket read
    gives), counted by ``progress``; at the end of the body the response is closed, as
    ``read`` does, and the connection goes back to the pool."""
    data = resp.read1(n)
    progress(len(data))
    if resp.length == 0:
        resp.close()
    return data


def readinto_watched(
    resp: http.client.HTTPResponse, view: memoryview, progress: Callable[[int], None]
) -> int:
    """``resp.readinto(view)``, one socket read at a time, calling ``progress(n)`` after
    each: ``view`` is still filled (large writes, large hash units), but a sender that
    trickles is seen trickling, and ``progress`` (a rate guard) can end the read, instead of
    one ``readinto`` blocking until ``view`` is full. Bodies without a ``Content-Length``
    use ``readinto`` itself."""
    fp, length = resp.fp, resp.length
    if fp is None or resp.chunked or length is None or not hasattr(fp, "readinto1"):
        n: int = resp.readinto(view)
        progress(n)
        return n
    if length < len(view):
        view = view[:length]
    got = 0
    while got < len(view):
        n = fp.readinto1(view[got:])
        if not n:
            break  # the end, or a short body the caller resumes
        got += n
        progress(n)
    resp.length = length - got
    if not resp.length or not got:
        resp.close()  # as readinto does at the end: the connection goes back to the pool
    return got


def queued_bytes(sock: socket.socket) -> int:
    """How many bytes the kernel holds for ``sock``, to be read without waiting
    (``FIONREAD``); 0 where that cannot be asked."""
    try:
        import fcntl
        import termios
    except ImportError:  # not a Unix
        return 0
    try:
        answer = fcntl.ioctl(sock.fileno(), termios.FIONREAD, b"\0\0\0\0")
    except (OSError, ValueError):  # a closed socket (fileno -1): nothing to read
        return 0
    return int.from_bytes(answer, sys.byteorder, signed=True)


class FileSpan:
    """Bytes already written to a file, to be hashed by reading them back (from the page
    cache, so a copy, with no disk read): what :mod:`ocireg.splicing` leaves to hash, as
    its bytes never pass through a buffer of ours."""

    __slots__ = ("fd", "length", "offset")

    def __init__(self, fd: int, offset: int, length: int) -> None:
        self.fd, self.offset, self.length = fd, offset, length

    def feed(self, hasher: Hasher, scratch: bytearray) -> None:
        view = memoryview(scratch)
        pos, end = self.offset, self.offset + self.length
        while pos < end:
            k = os.preadv(self.fd, [view[: min(len(view), end - pos)]], pos)
            if not k:  # someone truncated the file under us: what is there is not the blob
                raise OSError(errno.EIO, f"the file ends at byte {pos} of the {end} written")
            hasher.update(view[:k])
            pos += k


def hash_bytes(
    hasher: Hasher,
    data: bytes | bytearray | FileSpan,
    n: int,
    scratch: bytearray | None = None,
) -> None:
    """Hash the first ``n`` bytes of ``data``; a :class:`FileSpan`'s are read back through
    ``scratch`` (without one, a buffer of up to :data:`FILE_SPAN_BUFFER` bytes is made)."""
    if isinstance(data, FileSpan):
        data.feed(hasher, scratch if scratch is not None else bytearray(min(n, FILE_SPAN_BUFFER)))
    else:
        hasher.update(memoryview(data)[:n])


class BackgroundHasher:
    """Feeds a hasher on a worker thread through a short queue (memory stays bounded);
    :meth:`drain` returns once everything queued is hashed, and the hasher is complete."""

    def __init__(
        self, verifier: Hasher, name: str = "ocireg-blob-hash", depth: int = HASH_QUEUE_DEPTH
    ) -> None:
        self._verifier = verifier
        self._queue: queue.Queue[tuple[bytes | bytearray | FileSpan, int, Release | None] | None]
        self._queue = queue.Queue(maxsize=depth)
        self._error: BaseException | None = None
        self._scratch: bytearray | None = None  # for FileSpans: allocated by the first
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while (item := self._queue.get()) is not None:
            data, n, release = item
            if self._error is None:  # after a failure keep consuming, so put() never blocks
                try:
                    if isinstance(data, FileSpan) and self._scratch is None:
                        self._scratch = bytearray(FILE_SPAN_BUFFER)  # reused by every span
                    hash_bytes(self._verifier, data, n, self._scratch)
                except BaseException as exc:  # a read-back that failed; hashlib does not
                    self._error = exc
            if release is not None and isinstance(data, bytearray):
                release(data)

    def update(self, data: bytes | bytearray | FileSpan, n: int, release: Release | None) -> None:
        self._queue.put((data, n, release))

    def stop(self) -> None:
        if self._thread.is_alive():
            self._queue.put(None)

    def drain(self) -> None:
        self.stop()
        self._thread.join()
        if self._error is not None:
            raise self._error
