"""The two low-level pieces of the blob reader: a socket read that returns what one
system call gives, and hashing on a worker thread.

Hashing on a thread overlaps hashlib (which releases the GIL) with the socket reads and the
consumer's writes; buffers go round between them (``release`` hands one back once hashed).
"""

from __future__ import annotations

import http.client
import queue
import threading
from collections.abc import Callable

from .digest import DigestVerifier

__all__ = ["BackgroundHasher", "Release", "readinto_watched"]

#: Called with a buffer once its bytes are hashed, so the caller may fill it again.
Release = Callable[[bytearray], None]


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


class BackgroundHasher:
    """Feeds a verifier on a worker thread through a short queue (memory stays bounded);
    :meth:`drain` returns once everything queued is hashed, and the verifier is complete."""

    def __init__(self, verifier: DigestVerifier) -> None:
        self._verifier = verifier
        self._queue: queue.Queue[tuple[bytes | bytearray, int, Release | None] | None]
        self._queue = queue.Queue(maxsize=8)
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="ocireg-blob-hash", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while (item := self._queue.get()) is not None:
            data, n, release = item
            if self._error is None:  # after a failure keep consuming, so put() never blocks
                try:
                    self._verifier.update(memoryview(data)[:n])
                except BaseException as exc:  # pragma: no cover - hashlib does not fail
                    self._error = exc
            if release is not None and isinstance(data, bytearray):
                release(data)

    def update(self, data: bytes | bytearray, n: int, release: Release | None) -> None:
        self._queue.put((data, n, release))

    def stop(self) -> None:
        if self._thread.is_alive():
            self._queue.put(None)

    def drain(self) -> None:
        self.stop()
        self._thread.join()
        if self._error is not None:
            raise self._error
