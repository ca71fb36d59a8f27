"""Downloading a blob to a file (distribution spec, "Pulling blobs"): verified, atomic.

The bytes come from a :class:`~ocireg.blobs.BlobReader`, which verifies digest and size as
the last byte arrives; they go to a hidden temporary file beside the destination, renamed
over it only once everything is verified.
"""

from __future__ import annotations

import contextlib
import os
import queue
import secrets
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from .blobs import CHUNK_SIZE, open_blob
from .manifests import Descriptor
from .mediatypes import BLOB_MEDIA_TYPE

if TYPE_CHECKING:
    from .reference import Reference
    from .remote import Remote

__all__ = ["pull_blob"]

_PULL_BUFFERS = 10  # pull_blob's buffers: the hash queue's 8, one being filled, one spare


def pull_blob(
    remote: Remote,
    ref: Reference,
    digest: str,
    dest: str | os.PathLike[str],
    *,
    fsync: bool = False,
    progress: Callable[[int], None] | None = None,
) -> Descriptor:
    """Download a blob to ``dest``, replacing it only once every byte is verified.

    The bytes go to a hidden temporary file in ``dest``'s directory (same filesystem, so the
    final :func:`os.replace` is atomic); on any failure, ``KeyboardInterrupt`` included, it is
    removed and a pre-existing ``dest`` is left as it was. ``fsync=True`` also flushes file
    and directory before returning, so a crash right after cannot leave a short file at
    ``dest``; it costs what the disk needs to write the blob (next to nothing on the
    benchmark's VM, seconds per GiB on slow disks). Off by default, as in curl and crane.

    ``progress(n)`` is called with the number of bytes just written, after each chunk (up to
    :data:`CHUNK_SIZE`); bytes a resumed GET receives again are not counted twice.
    """
    target = Path(dest)
    # Buffers go round: filled from the socket, written, hashed on the worker, reused.
    free: queue.SimpleQueue[bytearray] = queue.SimpleQueue()
    for _ in range(_PULL_BUFFERS):
        free.put(bytearray(CHUNK_SIZE))
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0)
    tmp = target.parent / f".{target.name}.{secrets.token_hex(8)}.part"  # O_EXCL, umask mode
    fd = os.open(tmp, flags, 0o666)
    try:
        with os.fdopen(fd, "wb") as out, open_blob(remote, ref, digest) as reader:
            while n := reader.read_owned(buf := free.get(), free.put):
                out.write(memoryview(buf)[:n])
                if progress is not None:
                    progress(n)
            if fsync:
                out.flush()
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
