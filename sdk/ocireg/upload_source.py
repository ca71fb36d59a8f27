"""What an upload sends: the source bytes, and request bodies that report progress.

A progress body has ``read`` and ``__len__`` but no ``__iter__`` (as
:class:`ocireg.copy._LazyBlob`), so requests still sends ``Content-Length`` and never a
chunked transfer-encoding, and every read is reported.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import os
from collections.abc import Callable
from typing import BinaryIO

from .digest import Digest

__all__ = [
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

    ``read`` and ``__len__`` but no ``__iter__``: requests sends ``Content-Length`` (never a
    chunked body) and urllib3 streams it with ``read`` calls. No ``tell`` either, so the
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
