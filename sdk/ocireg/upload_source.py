"""What an upload sends: the source bytes, and request bodies that report progress.

A progress body has ``read`` and ``__len__`` but no ``__iter__`` (as
:class:`ocireg.copy._LazyBlob`), so requests still sends ``Content-Length`` and never a
chunked transfer-encoding, and every read is reported. A :class:`HashingBody` (the streamed
``PATCH`` of a blob whose digest nobody knew) is iterated instead, with ``__len__`` for the
``Content-Length``: the transport sends its 1 MiB blocks as they are, so the file is read
once, and hashed on a worker thread while it is sent.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import os
import weakref
from collections.abc import Callable, Iterator
from typing import BinaryIO

from .digest import Digest
from .stream_io import BackgroundHasher

__all__ = [
    "HashingBody",
    "Progress",
    "ProgressBody",
    "ProgressMeter",
    "RewindableProgressBody",
    "Source",
    "UploadSource",
    "wrap_body",
]

Source = str | os.PathLike[str] | bytes | bytearray | memoryview | BinaryIO
#: Called with the number of bytes just sent (negative when bytes are taken back; see
#: :class:`ProgressMeter`).
Progress = Callable[[int], None]
_READ_SIZE = 1 << 20
#: Bytes a streamed body hands the socket at a time: few system calls and hash calls, and
#: a few MiB held (one block being sent, a few queued for or in the hash thread).
STREAM_BLOCK = 1 << 20
#: Blocks waiting for the hash thread at most (the socket waits for the registry anyway).
_HASH_DEPTH = 3


class UploadSource:
    """The bytes to push: in memory, or a binary file from its current position."""

    def __init__(self, source: Source, size: int | None) -> None:
        self.data: bytes | None = None
        self.owned = False
        if isinstance(source, bytes | bytearray | memoryview):
            self.data = bytes(source)
            self.file: BinaryIO = io.BytesIO(self.data)
        elif isinstance(source, str | os.PathLike):
            self.file = open(source, "rb")  # noqa: SIM115 - closed by close()
            self.owned = True
        else:
            self.file = source
        self.start = 0
        self.seekable = False
        measured: int | None = None
        with contextlib.suppress(AttributeError, OSError, ValueError):
            if self.file.seekable():
                self.start = self.file.tell()
                measured = self.file.seek(0, io.SEEK_END) - self.start
                self.file.seek(self.start)
                self.seekable = True
        if size is not None and measured is not None and size != measured:
            self.close()
            raise ValueError(f"size {size} given, but the source holds {measured} bytes")
        self.size = measured if measured is not None else size

    def rewind(self, offset: int = 0) -> None:
        if self.seekable:  # an unseekable source is read once, from where it is
            self.file.seek(self.start + offset)

    def read(self, n: int) -> bytes:
        """Exactly ``n`` bytes unless the end comes first (pipes and sockets return less)."""
        parts: list[bytes] = []
        want = n
        while want > 0:
            piece = self.file.read(want)
            if not piece:
                break
            parts.append(piece)
            want -= len(piece)
        return parts[0] if len(parts) == 1 else b"".join(parts)

    def digest(self) -> Digest:
        """sha256 of the bytes, streamed once in 1 MiB reads; the position is kept."""
        if self.data is not None:
            return Digest.of(self.data)
        h = hashlib.sha256()
        self.rewind()
        while piece := self.file.read(_READ_SIZE):
            h.update(piece)
        self.rewind()
        return Digest("sha256", h.hexdigest())

    def close(self) -> None:
        if self.owned:
            self.file.close()


class ProgressMeter:
    """Counts the bytes an upload has sent and reports every change to ``progress``.

    Bytes that go out again (a body re-sent after a redirect or a 401, a chunk sent again
    after a recovery) are first taken back with a negative report, and a failed upload takes
    back everything: the reports always add up to what the upload has given the registry,
    the blob's size at the end and 0 after a failure.
    """

    __slots__ = ("progress", "sent")

    def __init__(self, progress: Progress) -> None:
        self.progress = progress
        self.sent = 0

    def add(self, n: int) -> None:
        if n:
            self.sent += n
            self.progress(n)

    def back_to(self, offset: int) -> None:
        self.add(offset - self.sent)


class ProgressBody:
    """A request body that reports what is read from it.

    ``read`` and ``__len__`` but no ``__iter__``: the session sends ``Content-Length`` (never
    a chunked body) and streams it with ``read`` calls. No ``tell`` either, so the
    transport knows it cannot be sent twice (like the unseekable file it wraps).
    """

    def __init__(self, file: BinaryIO, length: int, meter: ProgressMeter) -> None:
        self._file, self._length, self._meter = file, length, meter

    def __len__(self) -> int:
        return self._length

    def read(self, n: int = -1) -> bytes:
        data = self._file.read(n)
        self._meter.add(len(data))
        return data


class RewindableProgressBody(ProgressBody):
    """A body over a seekable file, ``base`` bytes into the blob: ``tell``/``seek`` let the
    transport send it again from its start, and rewinding takes the re-sent bytes back."""

    def __init__(self, file: BinaryIO, length: int, meter: ProgressMeter, base: int) -> None:
        super().__init__(file, length, meter)
        self._start, self._base = file.tell(), base

    def tell(self) -> int:
        return self._file.tell() - self._start

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        if whence != io.SEEK_SET:
            raise io.UnsupportedOperation("an upload body seeks from its start only")
        self._file.seek(self._start + offset)
        self._meter.back_to(self._base + offset)
        return offset


def wrap_body(
    file: BinaryIO, length: int, meter: ProgressMeter, base: int, rewindable: bool
) -> ProgressBody:
    if rewindable:
        return RewindableProgressBody(file, length, meter, base)
    return ProgressBody(file, length, meter)


class HashingBody:
    """The whole of a seekable source as one request body, hashed as the transport takes it.

    Iterating yields blocks of :data:`STREAM_BLOCK` bytes; each is reported to ``meter`` and
    queued for hashing on a worker thread (:class:`~ocireg.stream_io.BackgroundHasher`)
    before it is sent, so hashing overlaps the socket writes instead of pausing them while
    the registry waits. ``__len__`` gives requests the ``Content-Length`` (never a chunked
    body). ``tell``/``seek(0)`` let the transport send it again from the start (a redirect,
    a 401), and starting again starts the hash again, so :meth:`digest` is always that of the
    bytes of the last pass, and only once the pass read all of them. :meth:`close` stops the
    worker (the caller must call it, or :meth:`digest`).
    """

    def __init__(self, src: UploadSource, size: int, meter: ProgressMeter | None) -> None:
        self._src, self._size, self._meter = src, size, meter
        self._hash = hashlib.sha256()
        self._worker: BackgroundHasher | None = None
        #: Bytes of this pass handed out so far (not ``read``: an object with a ``read`` would be
        #: taken for a file and read 16 KiB at a time).
        self.taken = 0

    def __len__(self) -> int:
        return self._size

    def __iter__(self) -> Iterator[bytes]:
        file, meter = self._src.file, self._meter
        if self._worker is None:
            self._worker = BackgroundHasher(self._hash, "ocireg-upload-hash", _HASH_DEPTH)
            # A body dropped without close() must not leave its thread waiting forever.
            weakref.finalize(self, self._worker.stop)
        while (want := min(STREAM_BLOCK, self._size - self.taken)) > 0:
            block = file.read(want)
            if not block:  # shorter than when it was measured: a request left short
                raise ValueError(f"the source ended after {self.taken} of {self._size} bytes")
            self._worker.update(block, len(block), None)
            self.taken += len(block)
            if meter is not None:
                meter.add(len(block))
            yield block

    def tell(self) -> int:
        return self.taken

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        if offset != 0 or whence != io.SEEK_SET:
            raise io.UnsupportedOperation("a hashing body starts again from its start only")
        self.close()
        self._src.rewind()
        self._hash, self.taken = hashlib.sha256(), 0
        if self._meter is not None:
            self._meter.back_to(0)
        return 0

    def digest(self) -> Digest | None:
        """The sha256 of the bytes sent, or None while not all of them were read."""
        self.close()
        if self.taken != self._size:
            return None
        return Digest("sha256", self._hash.hexdigest())

    def close(self) -> None:
        """Wait for the worker to hash what it was given, and end it; idempotent."""
        worker, self._worker = self._worker, None
        if worker is not None:
            worker.drain()
