"""Reading blobs: HEAD, a verified streaming reader that resumes, small reads, atomic
downloads, delete (distribution spec, "Pulling blobs" and "Deleting blobs").

Every byte handed out is on its way through a :class:`~ocireg.digest.DigestVerifier`; the
reader checks digest and size as soon as the last byte arrives, so a consumer that stops at
``size`` bytes is still protected, and the final chunk of a bad blob is never returned.

Blob GETs on real registries redirect to a storage host (S3, GCS, a CDN); the transport
follows them and drops ``Authorization`` when the host changes, so nothing here deals with it.
"""

from __future__ import annotations

import contextlib
import http.client
import logging
import os
import queue
import re
import secrets
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import requests
import urllib3.exceptions

from .digest import Digest, DigestVerifier
from .errors import (
    DigestMismatchError,
    ManifestError,
    NotFoundError,
    OciregError,
    RegistryError,
    TransportError,
)
from .manifests import Descriptor
from .transport import raise_for_status

if TYPE_CHECKING:
    from .client import Client
    from .reference import Reference

__all__ = [
    "BLOB_MEDIA_TYPE",
    "BlobReader",
    "blob_exists",
    "delete_blob",
    "head_blob",
    "open_blob",
    "pull_blob",
    "read_blob",
]

log = logging.getLogger("ocireg.blobs")

#: Registries keep no media type for blobs (it lives in the manifest's descriptor).
BLOB_MEDIA_TYPE = "application/octet-stream"
#: Bytes per read from the socket. 1 MiB keeps a 1 GiB read within ~1.1x of hashing the same
#: bytes from a file (benchmarks/bench_blobs.py); 256 KiB costs ~15 % more, 4 MiB gains nothing.
CHUNK_SIZE = 1 << 20
#: A dropped connection is resumed only when this much arrived since the previous attempt
#: (containers/image's rule), or RESUME_AFTER seconds passed: a server that cuts every
#: response short then fails fast instead of being asked again and again.
MIN_RESUME_PROGRESS = 1 << 20
RESUME_AFTER = 60.0
#: At most this many resumes per blob, whatever the progress.
MAX_RESUMES = 10
#: Blobs above this (or of unknown size) are hashed on a worker thread. hashlib releases the
#: GIL, so hashing overlaps the socket reads and the consumer's writes: pull_blob of 1 GiB
#: went from ~1.7x to ~1.0x the time of ``curl -o FILE`` (benchmarks/bench_blobs.py).
THREADED_HASH_MIN = 4 << 20
#: pull_blob's buffers: enough to keep the hash queue full while one is being written.
_PULL_BUFFERS = 10

# A connection dropped mid-body as urllib3's read reports it (ProtocolError: IncompleteRead,
# resets; ReadTimeoutError), and what else a socket may raise.
_DROPPED = (
    urllib3.exceptions.HTTPError,
    requests.RequestException,
    http.client.HTTPException,
    OSError,
)
_CONTENT_RANGE = re.compile(r"bytes\s+(\d+)-(\d+)/(\d+|\*)", re.ASCII)


class BlobReader:
    """A verified stream of one blob: iterate it for chunks, or :meth:`read` from it.

    Made by :func:`open_blob`, which has already sent the GET, so a missing blob fails there.
    At the end the bytes must hash to :attr:`digest` and number :attr:`size` (the caller's
    size, else the ``Content-Length``); otherwise :class:`DigestMismatchError` is raised by
    the read that reaches the end, and a response longer than the expected size fails as
    soon as it overflows.

    A connection dropped mid-body (reset, timeout, short read) is resumed with
    ``Range: bytes=<received>-`` under the rules of :data:`MIN_RESUME_PROGRESS` and
    :data:`MAX_RESUMES`; past them :class:`TransportError` says how far it got. A server that
    answers the Range request with ``200`` instead of ``206`` sends the blob from the start:
    the bytes already received are read again and discarded (not re-hashed), which costs
    bandwidth but always yields a verifiable result; regclient refuses such servers instead.
    """

    def __init__(
        self,
        client: Client,
        ref: Reference,
        digest: str | Digest,
        *,
        size: int | None = None,
    ) -> None:
        parsed = digest if isinstance(digest, Digest) else Digest.parse(digest)
        # Refuse early what cannot be verified (an unregistered algorithm).
        self._verifier = DigestVerifier(parsed)
        self._client = client
        self._ref = ref
        self._where = f"{ref.domain}/{ref.path}@{parsed}"
        self._size = size
        self._buffer = bytearray()
        self._skip = 0
        self._decode = False
        self._done = False
        self._failed: OciregError | None = None
        self._hasher: _Hasher | None = None
        self._scratch: bytearray | None = None
        self._fast: http.client.HTTPResponse | None = None
        self._resp: requests.Response | None = None
        #: Bytes received and verified so far; resume requests and failures report it.
        self.received = 0
        #: Resumes done, and GET requests sent (the first included).
        self.resumes = 0
        self.requests = 0
        self._attempt_offset = 0
        self._attempt_time = time.monotonic()
        self._resp = self._get(0)

    # -- public ----------------------------------------------------------------------------

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
        if self._buffer:
            pending, self._buffer = bytes(self._buffer), bytearray()
            yield pending
        while chunk := self._next():
            yield chunk

    def read(self, n: int = -1) -> bytes:
        """Up to ``n`` bytes (all that remain with ``n < 0``); fewer only at the end."""
        if n is None or n < 0:
            rest = bytes(self._buffer) + b"".join(iter(self._next, b""))
            self._buffer = bytearray()
            return rest
        while len(self._buffer) < n and (chunk := self._next()):
            self._buffer += chunk
        out = bytes(self._buffer[:n])
        del self._buffer[:n]
        return out

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
        with self._guard():
            if self._scratch is None:
                self._scratch = bytearray(CHUNK_SIZE)
            view = memoryview(self._scratch)
            n = self._read_some(view)
            if not n:
                self._finish()
                return b""
            chunk = bytes(view[:n])  # the caller may keep it; the scratch buffer is reused
            self._consume(chunk, n, None)
            return chunk

    def _read_owned(self, buf: bytearray, release: Callable[[bytearray], None]) -> int:
        """Fill ``buf`` without copying (0 at the verified end); ``release(buf)`` is called
        once it is hashed, and the caller must not refill it before. pull_blob's fast path."""
        with self._guard():
            n = self._read_some(memoryview(buf))
            if not n:
                self._finish()
                return 0
            self._consume(buf, n, release)
            return n

    def _read_some(self, view: memoryview) -> int:
        """Read fresh blob bytes into ``view``, resuming as needed; 0 at the end of the body."""
        while not self._done:
            resp = self._resp
            if resp is None:
                raise ValueError(f"read from a closed BlobReader ({self._where})")
            try:
                if self._fast is not None:
                    n = self._fast.readinto(view)
                else:
                    data = resp.raw.read(len(view), decode_content=self._decode)
                    n = len(data)
                    view[:n] = data
            except _DROPPED as exc:
                self._resume(exc)
                continue
            if n and self._skip:
                dropped = min(self._skip, n)
                self._skip -= dropped
                n -= dropped
                view[:n] = view[dropped : dropped + n]
                if not n:
                    continue
            if n:
                self.received += n
                if self._size is not None and self.received > self._size:
                    raise DigestMismatchError(
                        f"blob {self._where}: more than the expected {self._size} bytes",
                        expected=self.digest,
                        actual="(longer content)",
                    )
                return n
            if self._size is not None and self.received < self._size:
                self._resume(None)  # a short body that no exception reported
                continue
            return 0
        return 0

    def _consume(
        self, data: bytes | bytearray, n: int, release: Callable[[bytearray], None] | None
    ) -> None:
        big = self._size is None or self._size > THREADED_HASH_MIN
        if big and self._hasher is None:
            self._hasher = _Hasher(self._verifier)
        if self._hasher is not None:
            self._hasher.update(data, n, release)
        else:
            self._verifier.update(memoryview(data)[:n])
            if release is not None and isinstance(data, bytearray):
                release(data)
        if self.received == self._size:
            self._finish()  # verify with the last chunk, before handing it out

    def _finish(self) -> None:
        fast, resp = self._fast, self._resp
        if fast is not None and resp is not None and fast.isclosed():
            resp.raw.release_conn()  # read to its end by hand: give the connection back
        self.close()
        self._verifier.verify(expected_size=self._size, what=f"blob {self._where}")
        self._done = True

    # -- (re)connecting --------------------------------------------------------------------

    def _get(self, start: int) -> requests.Response:
        # identity: Range offsets and Content-Length must count blob bytes, not gzip bytes.
        headers = {"Accept-Encoding": "identity"}
        if start:
            headers["Range"] = f"bytes={start}-"
        resp = self._client._request(
            "GET",
            self._ref,
            f"/v2/{self._ref.path}/blobs/{self.digest}",
            headers=headers,
            stream=True,
        )
        self.requests += 1
        try:
            self._check_response(resp, start)
        except BaseException:
            resp.close()
            raise
        # http.client's readinto fills the caller's buffer straight from the socket: no
        # allocation and one copy less per chunk than urllib3's read(). Only for plain bodies.
        fp = getattr(resp.raw, "_fp", None)
        self._fast = fp if isinstance(fp, http.client.HTTPResponse) and not self._decode else None
        return resp

    def _check_response(self, resp: requests.Response, start: int) -> None:
        target = f"{self._ref.path}@{self.digest}"
        raise_for_status(
            resp, operation="GET blob", registry=self._ref.domain, target=target, ok=(200, 206)
        )
        encoding = resp.headers.get("Content-Encoding", "identity").strip().lower()
        self._decode = encoding not in ("", "identity")
        length = resp.headers.get("Content-Length")
        total: int | None = int(length) if length and length.isdigit() else None
        if resp.status_code == 206:
            m = _CONTENT_RANGE.fullmatch(resp.headers.get("Content-Range", "").strip())
            if m is None or int(m.group(1)) != start:
                raise TransportError(
                    f"GET blob {self._where}: asked for bytes {start}- but the server answered "
                    f"Content-Range {resp.headers.get('Content-Range')!r}"
                )
            total = int(m.group(3)) if m.group(3) != "*" else None
        # 200 to a Range request: the whole blob again, so drop the prefix as it comes.
        self._skip = start if resp.status_code == 200 else 0
        header = resp.headers.get("Docker-Content-Digest")
        algorithm = self._verifier.expected.algorithm
        if header and header.split(":", 1)[0] == algorithm and header != self.digest:
            raise DigestMismatchError(
                f"blob {self._where}: registry announces {header}",
                expected=self.digest,
                actual=header,
            )
        if total is None or self._decode:
            return
        if self._size is None:
            self._size = total
        elif total != self._size:
            raise DigestMismatchError(
                f"blob {self._where}: registry sends {total} bytes, expected {self._size}",
                expected=self.digest,
                actual=f"({total} bytes)",
            )

    def _resume(self, exc: BaseException | None) -> None:
        self.close()
        of = f"{self.received} of {self._size if self._size is not None else '?'} bytes"
        reason = f"{type(exc).__name__}" if exc is not None else "connection closed early"
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


_Item = tuple[bytes | bytearray, int, Callable[[bytearray], None] | None]


class _Hasher:
    """Feeds a verifier from a worker thread through a short queue (8 chunks at most, so
    memory stays bounded); :meth:`drain` returns once everything queued is hashed."""

    def __init__(self, verifier: DigestVerifier) -> None:
        self._verifier = verifier
        self._queue: queue.Queue[_Item | None] = queue.Queue(maxsize=8)
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

    def update(
        self, data: bytes | bytearray, n: int, release: Callable[[bytearray], None] | None
    ) -> None:
        self._queue.put((data, n, release))

    def drain(self) -> None:
        self._queue.put(None)
        self._thread.join()
        if self._error is not None:
            raise self._error


# -- module functions ----------------------------------------------------------------------


def head_blob(
    client: Client,
    ref: Reference,
    digest: str,
    *,
    actions: tuple[str, ...] = ("pull",),
    extra_scopes: tuple[str, ...] = (),
) -> Descriptor:
    """Size of a blob from a HEAD; :class:`NotFoundError` when the repository lacks it.

    ``actions``/``extra_scopes`` let an upload ask for its push token up front, so one token
    serves the HEAD and the upload that follows.
    """
    d = Digest.parse(digest)
    target = f"{ref.path}@{d}"
    path = f"/v2/{ref.path}/blobs/{d}"
    resp = client._request("HEAD", ref, path, actions=actions, extra_scopes=extra_scopes)
    with contextlib.closing(resp):
        raise_for_status(resp, operation="HEAD blob", registry=ref.domain, target=target)
        header = resp.headers.get("Docker-Content-Digest")
        length = resp.headers.get("Content-Length")
    if header and header.split(":", 1)[0] == d.algorithm and header != str(d):
        raise DigestMismatchError(
            f"HEAD blob {ref.domain}/{target}: registry says {header}",
            expected=str(d),
            actual=header,
        )
    if length is None or not length.isdigit():  # the spec requires it; a proxy may drop it
        raise RegistryError(
            f"HEAD blob {ref.domain}/{target}: answer without Content-Length",
            status=resp.status_code,
            operation="HEAD blob",
            registry=ref.domain,
        )
    return Descriptor(media_type=BLOB_MEDIA_TYPE, digest=str(d), size=int(length))


def blob_exists(
    client: Client,
    ref: Reference,
    digest: str,
    *,
    actions: tuple[str, ...] = ("pull",),
    extra_scopes: tuple[str, ...] = (),
) -> bool:
    """Whether the repository holds the blob (a HEAD; 404 means no, other errors raise)."""
    try:
        head_blob(client, ref, digest, actions=actions, extra_scopes=extra_scopes)
    except NotFoundError:
        return False
    return True


def open_blob(
    client: Client, ref: Reference, digest: str, *, size: int | None = None
) -> BlobReader:
    """Start reading a blob; see :class:`BlobReader`. Use it as a context manager."""
    return BlobReader(client, ref, digest, size=size)


def read_blob(client: Client, ref: Reference, descriptor: Descriptor, *, limit: int) -> bytes:
    """The whole (small) blob of ``descriptor`` in memory, verified; configs and the like.

    More than ``limit`` bytes, announced or sent, raises :class:`ManifestError` (the
    error for metadata too large to accept) before anything big is read.
    """
    where = f"{ref.domain}/{ref.path}@{descriptor.digest}"
    if descriptor.size > limit:
        raise ManifestError(f"blob {where} is {descriptor.size} bytes, over the {limit}-byte limit")
    with open_blob(client, ref, descriptor.digest, size=descriptor.size) as reader:
        data = reader.read(limit + 1)
        if len(data) > limit:  # unreachable with a checked size; kept as the last guard
            raise ManifestError(f"blob {where} is over the {limit}-byte limit")
        if not reader.verified:
            reader.read()  # reach the end, where digest and size are checked
    return data


def pull_blob(
    client: Client,
    ref: Reference,
    digest: str,
    dest: str | os.PathLike[str],
    *,
    fsync: bool = False,
) -> Descriptor:
    """Download a blob to ``dest``, replacing it only once every byte is verified.

    The bytes go to a hidden temporary file in ``dest``'s directory (same filesystem, so the
    final :func:`os.replace` is atomic); on any failure, ``KeyboardInterrupt`` included, the
    temporary file is removed and a pre-existing ``dest`` is left as it was. ``fsync=True``
    also flushes file and directory to disk before returning: it makes the download
    crash-safe but costs about a second per GiB on a typical disk, so it is off by default
    (as in curl, skopeo and crane).
    """
    target = Path(dest)
    directory = target.parent
    # Buffers go round: filled from the socket, written, hashed on the worker, reused.
    free: queue.SimpleQueue[bytearray] = queue.SimpleQueue()
    for _ in range(_PULL_BUFFERS):
        free.put(bytearray(CHUNK_SIZE))
    tmp, fd = _create_temp(directory, target.name)
    try:
        with os.fdopen(fd, "wb", buffering=0) as out, open_blob(client, ref, digest) as reader:
            while n := reader._read_owned(buf := free.get(), free.put):
                view = memoryview(buf)[:n]
                while view:  # unbuffered writes may be partial
                    view = view[out.write(view) or 0 :]
            if fsync:
                os.fsync(out.fileno())
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    if fsync:
        _fsync_directory(directory)
    return Descriptor(media_type=BLOB_MEDIA_TYPE, digest=reader.digest, size=reader.received)


def delete_blob(client: Client, ref: Reference, digest: str) -> None:
    """Delete a blob from a repository (202); :class:`NotFoundError` if it is not there."""
    d = Digest.parse(digest)
    resp = client._request("DELETE", ref, f"/v2/{ref.path}/blobs/{d}", actions=("pull", "delete"))
    with contextlib.closing(resp):
        where = {"registry": ref.domain, "target": f"{ref.path}@{d}"}
        raise_for_status(resp, operation="DELETE blob", ok=(200, 202, 204), **where)


def _create_temp(directory: Path, name: str) -> tuple[Path, int]:
    """A new file ``.<name>.<random>.part`` created with O_EXCL and the umask's mode."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0)
    tmp = directory / f".{name}.{secrets.token_hex(8)}.part"  # 64 random bits: no retry loop
    return tmp, os.open(tmp, flags, 0o666)


def _fsync_directory(directory: Path) -> None:
    with contextlib.suppress(OSError):  # not every platform/filesystem allows it
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
