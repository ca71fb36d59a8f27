"""Moving a plain-http body from its socket into a file with ``splice(2)`` (Linux): the
bytes go socket -> pipe -> page cache without being copied into Python, and are hashed by
reading them back from the file (:class:`~ocireg.stream_io.FileSpan`) on the hash thread.

On a 2-core machine a verified 1 GiB pull runs three CPU-bound jobs: the registry sending,
the client receiving and writing, and SHA-256. Receiving into a buffer and writing it out
costs the client two copies of every byte; splicing costs it one, and the hash thread's
read-back from the page cache is cheaper than the copy it replaces
(1 GiB into a file in-process: 0.81 s against 1.05 s, ``curl -o`` 0.95 s; see
benchmarks/README.md).

Only the body's socket moves through here; what http.client already holds buffered is read
through it first (the reader drains it with ``read1``), and the response's ``length`` keeps
counting, so the connection goes back to the pool at the end as after any other read.
"""

from __future__ import annotations

import contextlib
import errno
import http.client
import io
import os
import select
import socket
from collections.abc import Callable

from .blobs import BlobReader
from .limits import read_errors
from .stream_io import FileSpan, read1_watched

__all__ = ["AVAILABLE", "SpliceUnsupported", "Splicer", "SplicingReader"]

#: ``os.splice`` exists (Linux, Python 3.10+).
AVAILABLE = hasattr(os, "splice")
#: The pipe's size, and the most one :meth:`Splicer.fill` moves: 1 MiB is the default
#: ``/proc/sys/fs/pipe-max-size`` an unprivileged process may ask for; the kernel's
#: default of 64 KiB still works, in more calls.
PIPE_SIZE = 1 << 20
#: What the read taking http.client's buffered bytes asks for: more than the buffer holds,
#: and little, as these bytes take the slower, buffered way.
_DRAIN_READ = max(64 << 10, 2 * io.DEFAULT_BUFFER_SIZE)
#: What splice answers where a file or socket cannot take part (some filesystems, FUSE), or
#: a sandbox forbids the call (EPERM): the bytes then take the buffered way.
_UNSUPPORTED = {errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP, errno.EXDEV, errno.EPERM}


class SpliceUnsupported(Exception):
    """The kernel refused to splice this file or socket; nothing was moved."""


class Splicer:
    """One pipe, and the two halves of a move: :meth:`fill` it from a response's socket
    (the errors of a read: a reset, a timeout), then :meth:`drain_to` a file (the errors of
    a write: a full disk). Close it when done."""

    def __init__(self) -> None:
        import fcntl  # Linux only, as splice is: not imported where this is never made

        self._r, self._w = os.pipe2(os.O_CLOEXEC)
        with contextlib.suppress(OSError):  # a lower pipe-max-size: the default pipe
            fcntl.fcntl(self._w, getattr(fcntl, "F_SETPIPE_SZ", 1031), PIPE_SIZE)
        #: What the pipe holds at most: a fill asking for more would wait for ever.
        self.capacity = fcntl.fcntl(self._w, getattr(fcntl, "F_GETPIPE_SZ", 1032))
        #: Bytes in the pipe, not yet written out.
        self.pending = 0
        #: False once a file refused a splice (the bytes were copied instead).
        self.to_files = True

    def fill(
        self,
        resp: http.client.HTTPResponse,
        sock: socket.socket,
        n: int,
        progress: Callable[[int], None],
    ) -> int:
        """Move up to ``n`` bytes of ``resp``'s body (bounded by its ``length``) from
        ``sock`` into the pipe, one socket read at a time, calling ``progress(k)`` after
        each; the count, 0 at the end of the body or when the server closed early.

        The socket's timeout holds for each wait, as for a ``recv``. On an error, what this
        call moved is dropped from the pipe: as after a failed ``readinto``, nothing of it
        counts, and the caller resumes from where it was.

        :raises SpliceUnsupported: the socket cannot be spliced; nothing was moved."""
        n = min(n, self.capacity - self.pending)
        if resp.length is not None:
            n = min(n, resp.length)
        fd, timeout = sock.fileno(), sock.gettimeout()
        start = self.pending
        try:
            while self.pending - start < n:
                try:
                    k = os.splice(fd, self._w, n - (self.pending - start))
                except BlockingIOError:
                    _wait_readable(fd, timeout)
                    continue
                except OSError as exc:
                    if exc.errno in _UNSUPPORTED and self.pending == start:
                        raise SpliceUnsupported(str(exc)) from None
                    raise
                if not k:
                    break
                self.pending += k
                progress(k)
        except BaseException:
            self._drop(self.pending - start)
            raise
        got = self.pending - start
        if resp.length is not None:
            resp.length -= got
            if not resp.length:
                resp.close()  # as readinto does at the end: the connection goes back
        return got

    def drain_to(self, fd: int) -> int:
        """Write what the pipe holds to ``fd`` at its position; the count. Where ``fd``'s
        filesystem refuses a splice the bytes are copied through a buffer instead, and
        :attr:`to_files` turns False: the caller should stop splicing."""
        moved = 0
        while self.pending:
            if self.to_files:
                try:
                    k = os.splice(self._r, fd, self.pending)
                except OSError as exc:
                    if exc.errno not in _UNSUPPORTED:
                        raise
                    self.to_files = False
                    continue
                if not k:  # the pipe holds bytes: nothing moved would be for ever
                    raise OSError(errno.EIO, "splice into the file moved nothing")
            else:
                data = os.read(self._r, min(self.pending, PIPE_SIZE))
                k = _write_all(fd, data)
            self.pending -= k
            moved += k
        return moved

    def _drop(self, n: int) -> None:
        while n > 0:
            k = len(os.read(self._r, min(n, PIPE_SIZE)))
            n -= k
            self.pending -= k

    def close(self) -> None:
        fds, self._r, self._w = (self._r, self._w), -1, -1
        for fd in fds:
            if fd >= 0:
                os.close(fd)


def _write_all(fd: int, data: bytes) -> int:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]
    return len(data)


def _wait_readable(fd: int, timeout: float | None) -> None:
    poller = select.poll()
    poller.register(fd, select.POLLIN | select.POLLPRI)
    if not poller.poll(None if timeout is None else max(0, int(timeout * 1000))):
        raise TimeoutError("timed out")


class SplicingReader(BlobReader):
    """A :class:`~ocireg.blobs.BlobReader` that can also move its bytes straight into a
    file (:meth:`splice_to`), with the same checks: size bound, digest at the last byte,
    resumes, the rate guard. pull_blob's reader for a regular file."""

    _splicer: Splicer | None = None
    #: The response whose http.client buffer is known to be empty: only then may its
    #: socket be read around the buffer. A new response (a resume) starts undrained; within
    #: one, read_owned only comes before splicing starts (the bytes a 200 repeats) or once
    #: splicing is off for good, so this stays true to the buffer.
    _drained: object = None
    _can_splice = AVAILABLE

    def splice_to(self, fd: int, n: int) -> int | None:
        """Move up to ``n`` new blob bytes into ``fd`` at its position (the caller keeps it
        open until this returns 0, or :meth:`close`), hashed from there on the hash
        thread; 0 at the verified end. None when these bytes cannot be spliced (TLS, a
        decoded body, the bytes a ``200`` sends again): :meth:`read_owned` them instead."""
        if self._done:
            return 0
        with self._guard():
            while True:
                if not self._can_splice or (plain := self._plain_body()) is None:
                    return None
                fast, sock, left = plain
                want = min(n, left)
                if (splicer := self._splicer) is None:
                    try:
                        splicer = self._splicer = Splicer()
                    except OSError:  # no descriptor left for a pipe: the buffered way
                        self._can_splice = False
                        return None
                data: bytes | None = None
                try:
                    if self._drained is self._resp:
                        k = splicer.fill(fast, sock, want, self._rate.feed)
                    else:
                        data = self._buffered(fast, want)
                        k = len(data)
                except SpliceUnsupported:
                    self._can_splice = False
                    return None
                except read_errors() as exc:
                    self._resume(exc)
                    continue
                if k:
                    written = self._write(fd, splicer, data, k)
                    self.received += k
                    self._consume(written, k, None)
                    return k
                if left:
                    self._resume(None)  # a short body
                    continue
                self._finish()
                return 0

    def _buffered(self, fast: http.client.HTTPResponse, want: int) -> bytes:
        # read1 gives what http.client's buffer holds, all of it when asked for more than
        # the buffer can hold (socket.makefile's io.DEFAULT_BUFFER_SIZE), or, the buffer
        # empty, what one socket read gives, straight: either way the buffer is empty after.
        want = min(want, _DRAIN_READ)
        data = read1_watched(fast, want, self._rate.feed)
        if want > io.DEFAULT_BUFFER_SIZE or len(data) < want:
            self._drained = self._resp
        return data

    def _write(self, fd: int, splicer: Splicer, data: bytes | None, k: int) -> bytes | FileSpan:
        if data is not None:
            _write_all(fd, data)
            return data
        offset = os.lseek(fd, 0, os.SEEK_CUR)
        splicer.drain_to(fd)
        self._can_splice = splicer.to_files
        return FileSpan(fd, offset, k)

    def close(self) -> None:
        try:
            super().close()  # the hash thread is done with the file once this returns
        finally:
            splicer, self._splicer = self._splicer, None
            if splicer is not None:
                splicer.close()
