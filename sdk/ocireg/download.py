"""Downloading a blob to a file (distribution spec, "Pulling blobs"): verified, atomic, and
bounded by the blob's size.

The bytes come from a :class:`~ocireg.blobs.BlobReader`, which verifies digest and size as
the last byte arrives and stops a registry that sends more than the size (known from the
descriptor, the caller, or a HEAD first): an endless body cannot fill the disk.

Where they go depends on the destination:

* a regular file, or a path that does not exist yet: a hidden temporary file beside it,
  renamed over it only once everything is verified; nothing is left behind on failure.
  Over plain http the body is spliced into it (:mod:`ocireg.splicing`) and hashed from it;
* a character or block device, or a FIFO (``/dev/null``, ``/dev/stdout``, a named pipe), or
  an open binary file object: written as the bytes come (renaming a file over
  ``/dev/null`` would replace the device for everyone), and verified at the end; on a
  mismatch the error says the bytes written were not the blob;
* a symbolic link: refused unless ``force=True``, which writes where the link points (the
  temporary file then goes in the target's directory, and the link stays a link);
* a directory, a socket: refused.
"""

from __future__ import annotations

import contextlib
import errno
import os
import queue
import secrets
import stat
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

from .blobs import BlobReader, open_blob
from .errors import DigestMismatchError
from .manifests import Descriptor
from .mediatypes import BLOB_MEDIA_TYPE
from .splicing import SplicingReader

if TYPE_CHECKING:
    from .reference import Reference
    from .remote import Remote

__all__ = ["pull_blob"]

#: pull_blob's buffers (made only when the body cannot be spliced: TLS, a device, a file
#: object), going round: filled from the socket and written, then hashed on the
#: worker and reused; they are all the memory a download holds. 4 x 256 KiB keep a 1 GiB
#: pull ~1 MiB above the cost of importing ocireg and requests (10 x 1 MiB held ~10 MiB,
#: 3 x 512 KiB ~2.5), for a few per cent more CPU in per-buffer overhead
#: (benchmarks/bench_blobs.py).
PULL_BUFFERS = 4
PULL_BUFFER_SIZE = 256 << 10
#: The most one splice moves into the file (the pipe's size, :data:`~ocireg.splicing.PIPE_SIZE`).
SPLICE_SIZE = 1 << 20


def pull_blob(
    remote: Remote,
    ref: Reference,
    digest: str | Descriptor,
    dest: str | os.PathLike[str] | BinaryIO,
    *,
    size: int | None = None,
    force: bool = False,
    fsync: bool = False,
    progress: Callable[[int], None] | None = None,
) -> Descriptor:
    """Download a blob to ``dest`` (see the module docstring for what each kind of
    destination gets); the blob's descriptor, as received.

    ``digest`` is the blob's digest, or its :class:`Descriptor` (whose size is then the
    expected size); ``size`` the expected size otherwise. Without either, a HEAD asks the
    registry first: the download stops at that size, whatever the GET announces.

    A regular file is replaced only once every byte is verified: the bytes go to a hidden
    temporary file in its directory (same filesystem, so the final :func:`os.replace` is
    atomic); on any failure, ``KeyboardInterrupt`` included (the CLI turns SIGTERM and
    SIGHUP into one), it is removed and a pre-existing file is left as it was.
    ``fsync=True`` also flushes file and directory before returning, so a crash right after
    cannot leave a short file; it costs what the disk needs to write the blob (next to
    nothing on the benchmark's VM, seconds per GiB on slow disks). Off by default, as in
    curl and crane.

    ``force=True`` lets ``dest`` be a symbolic link, written where it points.

    ``progress(n)`` is called with the number of bytes just written, after each chunk (up to
    :data:`PULL_BUFFER_SIZE`); bytes a resumed GET receives again are not counted twice.

    :raises FileExistsError: ``dest`` is a symbolic link and ``force`` is false.
    :raises IsADirectoryError: ``dest`` is a directory.
    :raises DigestMismatchError: the bytes are not the blob; for a destination written as
        the bytes came, the message says how many were written.
    """
    if isinstance(digest, Descriptor):
        size = digest.size if size is None else size
        digest = digest.digest
    # The destination is checked before any request: a refused one costs no download.
    path = Path(dest) if isinstance(dest, str | os.PathLike) else None
    target, direct = _destination(path, force) if path is not None else (None, True)
    if size is None:
        size = remote.head_blob(ref, digest).size
    if target is None:
        assert not isinstance(dest, str | os.PathLike)
        name = getattr(dest, "name", None)
        where = name if isinstance(name, str) else repr(dest)
        return _stream(remote, ref, digest, size, dest, where, progress)
    if direct:
        fd = _open_special(target)
        if fd is not None:
            with os.fdopen(fd, "wb") as out:
                return _stream(remote, ref, digest, size, out, str(target), progress)
    return _replace(remote, ref, digest, size, target, fsync, progress)


def _destination(target: Path, force: bool) -> tuple[Path, bool]:
    """``(path to write, whether to write it in place)``; symlinks resolved when forced."""
    try:
        st = os.lstat(target)
    except FileNotFoundError:
        return target, False
    if stat.S_ISLNK(st.st_mode):
        if not force:
            raise FileExistsError(
                errno.EEXIST,
                "destination is a symbolic link (force=True writes the file it points to)",
                str(target),
            )
        target = Path(os.path.realpath(target))
        try:
            st = os.stat(target)
        except FileNotFoundError:
            return target, False  # a dangling link: its target is created
    mode = st.st_mode
    if stat.S_ISREG(mode):
        return target, False
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode) or stat.S_ISFIFO(mode):
        return target, True
    if stat.S_ISDIR(mode):
        raise IsADirectoryError(errno.EISDIR, "destination is a directory", str(target))
    raise OSError(errno.EINVAL, "destination is not a file, a device or a FIFO", str(target))


def _open_special(target: Path) -> int | None:
    """An open descriptor on the device or FIFO ``target``; None if, by the time it is
    opened, it has become a regular file (then it gets the temporary file and the rename).
    Never follows a symlink put there since :func:`_destination` looked."""
    flags = os.O_WRONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
    fd = os.open(target, flags | getattr(os, "O_NOCTTY", 0))
    if stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        return None
    return fd


class _Buffers:
    """pull_blob's buffers, made on first use (a spliced download needs none)."""

    def __init__(self) -> None:
        self.free: queue.SimpleQueue[bytearray] | None = None

    def take(self) -> bytearray:
        if self.free is None:
            self.free = queue.SimpleQueue()
            for _ in range(PULL_BUFFERS):
                self.free.put(bytearray(PULL_BUFFER_SIZE))
        return self.free.get()

    def give_back(self, buf: bytearray) -> None:
        assert self.free is not None
        self.free.put(buf)


def _copy(reader: BlobReader, out: BinaryIO, progress: Callable[[int], None] | None) -> None:
    # Buffers go round: filled from the socket, written, hashed on the worker, reused.
    # Into a file, plain-http bytes are spliced instead: they never enter a buffer.
    buffers = _Buffers()
    splicing = reader if isinstance(reader, SplicingReader) else None
    fd = out.fileno() if splicing is not None else -1
    while True:
        n = splicing.splice_to(fd, SPLICE_SIZE) if splicing is not None else None
        if n is None:
            n = reader.read_owned(buf := buffers.take(), buffers.give_back)
            _write(out, memoryview(buf)[:n])
        if not n:
            return
        if progress is not None:
            progress(n)


def _write(out: BinaryIO, view: memoryview) -> None:
    # An unbuffered file may take part of a write; a file object answering None took it all.
    while view:
        k = out.write(view)
        if k is None:
            return
        view = view[k:]


def _stream(
    remote: Remote,
    ref: Reference,
    digest: str,
    size: int,
    out: BinaryIO,
    where: str,
    progress: Callable[[int], None] | None,
) -> Descriptor:
    written = 0

    def count(n: int) -> None:
        nonlocal written
        written += n
        if progress is not None:
            progress(n)

    try:
        with open_blob(remote, ref, digest, size=size) as reader:
            _copy(reader, out, count)
        out.flush()
    except DigestMismatchError as exc:
        if not written:
            raise
        raise DigestMismatchError(
            f"{exc}; the {written} bytes already written to {where} are not the blob",
            expected=exc.expected,
            actual=exc.actual,
        ) from exc
    return Descriptor(media_type=BLOB_MEDIA_TYPE, digest=reader.digest, size=reader.received)


def _replace(
    remote: Remote,
    ref: Reference,
    digest: str,
    size: int,
    target: Path,
    fsync: bool,
    progress: Callable[[int], None] | None,
) -> Descriptor:
    # Readable too: spliced bytes are hashed by reading them back.
    flags = os.O_RDWR | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0)
    tmp = target.parent / f".{target.name}.{secrets.token_hex(8)}.part"  # O_EXCL, umask mode
    try:
        fd = os.open(tmp, flags, 0o666)
        # Unbuffered: spliced bytes go to the descriptor, so nothing may wait in a buffer.
        with (
            os.fdopen(fd, "wb", buffering=0) as out,
            SplicingReader(remote, ref, digest, size=size) as reader,
        ):
            _copy(reader, out, progress)
            if fsync:
                os.fsync(out.fileno())
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    if fsync:
        with contextlib.suppress(OSError):  # not every platform lets a directory be synced
            dir_fd = os.open(target.parent, os.O_RDONLY)
            try:
                os.fsync(dir_fd)
            finally:
                os.close(dir_fd)
    return Descriptor(media_type=BLOB_MEDIA_TYPE, digest=reader.digest, size=reader.received)
