"""Copy an image or index between repositories and registries, moving as little as possible.

What we learnt from the fastest peers (REGISTRY-FACTS section 4) and do here:

1. **Fast check** (regclient): HEAD the destination first. When it already holds the digest we
   would write, nothing is transferred and nothing is written; a registry only accepts a
   manifest whose blobs and children it has, so a present manifest means a complete image.
2. **Bytes exactly as served**: manifests are pushed with the raw bytes pulled, so every
   digest at the destination equals the source's (distribution spec, "Pushing manifests":
   registries store the bytes as sent).
3. **Children before parents**: blobs, then image manifests by digest, then each index, the
   top manifest last under the destination tag. A half-finished copy therefore never leaves
   a tag pointing at something incomplete. Child manifests already present at the
   destination (HEAD by digest) are skipped together with all their blobs. The manifests of
   one level go up concurrently (none of them points at another).
4. **Blobs concurrently**, largest first (regclient starts the long tail early), on a
   ``ThreadPoolExecutor(remote.max_workers)``; every distinct blob once, even when several
   platforms share it. Each blob is skipped when the destination has it (one HEAD: no
   request is sent twice), mounted when source and destination are on the same registry
   (crane, regclient: a ``mount=&from=`` POST moves no data), and otherwise streamed from the
   source GET straight into the destination upload: no temporary file, and the reader checks
   the digest as the bytes pass. The source GET is sent only once an upload really needs the
   bytes, so a mount never opens it.

Foreign and non-distributable layers (with ``urls``) are never copied, as crane does by
default: registries accept manifests that point at them without holding the blob.

Out of scope: referrers (manifests whose ``subject`` is the copied image) are not looked
for; a copied manifest that itself has a ``subject`` is pushed as is, and the registry's
referrers API (or a later referrers-aware copy) indexes it.
"""

from __future__ import annotations

import io
import threading
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_EXCEPTION, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from enum import Enum
from typing import TYPE_CHECKING, BinaryIO, TypeVar, cast

from .blobs import BlobReader, blob_exists, open_blob
from .errors import ManifestError, NotFoundError, TransportError
from .manifests import Descriptor, ImageIndex, Manifest, Platform, Schema1Manifest
from .mediatypes import (
    DOCKER_FOREIGN_LAYER,
    OCI_LAYER_NONDISTRIBUTABLE_TAR,
    OCI_LAYER_NONDISTRIBUTABLE_TAR_GZIP,
    OCI_LAYER_NONDISTRIBUTABLE_TAR_ZSTD,
    strip_params,
)
from .upload import push_blob

if TYPE_CHECKING:
    from .reference import Reference
    from .remote import Remote

__all__ = ["DEFAULT_PLATFORM", "CopyResult", "copy_image"]

#: The child copied from an index when ``all_platforms=False`` and no platform is named:
#: what ``docker pull`` picks on the most common host.
DEFAULT_PLATFORM = Platform("linux", "amd64")

_T = TypeVar("_T")
_R = TypeVar("_R")

#: How often a blob upload is tried. A streamed body cannot be replayed inside one upload
#: session, so a connection lost on either side (after the source reader's own Range resumes)
#: is retried once as a new upload with a fresh source reader.
_STREAM_ATTEMPTS = 2
_PUSH = ("pull", "push")


@dataclass(frozen=True, slots=True)
class CopyResult:
    """What :func:`copy_image` did.

    :ivar src: the source reference as given.
    :ivar dst: the destination reference as given.
    :ivar digest: digest of the top manifest now at ``dst`` (the chosen child's when one
        platform was copied from an index).
    :ivar media_type: its media type.
    :ivar blobs_copied: blobs streamed from source to destination.
    :ivar blobs_mounted: blobs cross-mounted inside the destination registry (no data moved).
    :ivar blobs_skipped: blobs the destination already had, plus foreign layers.
    :ivar manifests_written: manifests pushed (children and the top one); 0 for a no-op.
    :ivar manifests_skipped: child manifests the destination already had.
    :ivar bytes_transferred: blob bytes streamed through this process (mounts move none).
    """

    src: Reference
    dst: Reference
    digest: str
    media_type: str
    blobs_copied: int = 0
    blobs_mounted: int = 0
    blobs_skipped: int = 0
    manifests_written: int = 0
    manifests_skipped: int = 0
    bytes_transferred: int = 0

    @property
    def noop(self) -> bool:
        """True when the destination already had everything (the fast check matched)."""
        return self.manifests_written == 0


class _Outcome(Enum):
    COPIED = "copied"
    MOUNTED = "mounted"
    SKIPPED = "skipped"


def copy_image(
    remote: Remote,
    src: Reference,
    dst: Reference,
    *,
    all_platforms: bool = True,
    platform: str | Platform | None = None,
    progress: Callable[[int], None] | None = None,
    progress_total: Callable[[int], None] | None = None,
) -> CopyResult:
    """Copy ``src`` to ``dst`` (see the module docstring for how).

    :param all_platforms: copy every child of an index (the index digest is preserved).
        With False, only the :data:`DEFAULT_PLATFORM` child is copied and tagged at ``dst``.
    :param platform: copy only this child of an index (``"linux/arm64"``), tagged at ``dst``;
        overrides ``all_platforms``. A source that is a single image is copied as it is.
    :param progress: called with the number of blob bytes just streamed (from the worker
        threads, so it must be thread-safe); negative when an upload takes bytes back (see
        :func:`ocireg.upload.push_blob`).
    :param progress_total: called with the sum of the sizes of the blobs to transfer once
        they are known (before the first blob moves), then with a smaller sum each time a
        blob turns out to need no transfer (the destination has it, or it was mounted). Not
        called when the destination already holds the image.
    :raises ManifestError: no child matches the platform, ``dst`` names a digest other than
        the one being copied, or the source is a Docker schema 1 manifest.
    """
    want = _wanted_platform(all_platforms, platform)
    existing = _head_or_none(remote, dst)
    if existing is not None and want is None:
        # The digest we would write is the source's: a HEAD (free on Docker Hub) tells it.
        src_digest = src.digest or remote.head_manifest(src).digest
        if src_digest == existing.digest:
            return CopyResult(src, dst, existing.digest, existing.media_type)

    top = remote.get_manifest(src)
    if want is not None and isinstance(top, ImageIndex):
        top = remote.get_manifest(src.with_digest(top.select(want).digest))
    if isinstance(top, Schema1Manifest):
        # Its (signed) payload names the source repository and tag, and distribution 2.8
        # refuses schema 1 pushes by default: a copy could only fail half-way.
        raise ManifestError(f"cannot copy {src}: Docker schema 1 manifests are not copied")
    digest = str(top.digest)
    if dst.digest is not None and dst.digest != digest:
        raise ManifestError(f"cannot copy {digest} from {src} to {dst}: the digests differ")
    if existing is not None and existing.digest == digest:
        return CopyResult(src, dst, digest, top.media_type)

    levels, manifests_skipped = _collect_children(remote, src, dst, top)
    children = [m for level in levels for m in level]
    blobs, foreign = _distinct_blobs([*children, top])
    total = _Total(progress_total, sum(d.size for d in blobs))
    outcomes = _run_all(
        lambda desc: _transfer_blob(remote, src, dst, desc, progress, total.drop),
        sorted(blobs, key=lambda d: d.size, reverse=True),
        remote.max_workers,
    )
    for level in levels:  # deepest first; the manifests of one level concurrently
        _run_all(
            lambda m: remote.put_manifest(dst.with_digest(str(m.digest)), m.raw, m.media_type),
            level,
            remote.max_workers,
        )
    remote.put_manifest(dst, top.raw, top.media_type)

    counts = {outcome: 0 for outcome in _Outcome}
    for outcome, _ in outcomes:
        counts[outcome] += 1
    return CopyResult(
        src,
        dst,
        digest,
        top.media_type,
        blobs_copied=counts[_Outcome.COPIED],
        blobs_mounted=counts[_Outcome.MOUNTED],
        blobs_skipped=counts[_Outcome.SKIPPED] + foreign,
        manifests_written=len(children) + 1,
        manifests_skipped=manifests_skipped,
        bytes_transferred=sum(n for _, n in outcomes),
    )


# -- manifests -------------------------------------------------------------------------------


def _wanted_platform(all_platforms: bool, platform: str | Platform | None) -> Platform | None:
    if platform is not None:
        return Platform.parse(platform) if isinstance(platform, str) else platform
    return None if all_platforms else DEFAULT_PLATFORM


def _head_or_none(remote: Remote, ref: Reference) -> Descriptor | None:
    try:
        return remote.head_manifest(ref)
    except NotFoundError:
        return None


def _collect_children(
    remote: Remote, src: Reference, dst: Reference, top: Manifest
) -> tuple[list[list[Manifest]], int]:
    """The child manifests to write, level by level from the deepest, and how many the
    destination has.

    Walks level by level (an index of indexes is legal), fetching each level's children
    concurrently: a HEAD at the destination, and a GET from the source only when missing.
    """
    levels: list[list[Manifest]] = []
    seen: set[str] = {str(top.digest)}
    skipped = 0
    parents = [top]
    while True:
        wanted: list[Descriptor] = []
        for parent in parents:
            if isinstance(parent, ImageIndex):
                for desc in parent.manifests:
                    if desc.digest not in seen:
                        seen.add(desc.digest)
                        wanted.append(desc)
        if not wanted:
            break
        fetched = _run_all(
            lambda desc: _fetch_missing(remote, src, dst, desc), wanted, remote.max_workers
        )
        level = [m for m in fetched if m is not None]
        skipped += len(fetched) - len(level)
        levels.append(level)
        parents = level
    return [level for level in reversed(levels) if level], skipped


def _fetch_missing(
    remote: Remote, src: Reference, dst: Reference, desc: Descriptor
) -> Manifest | None:
    if _head_or_none(remote, dst.with_digest(desc.digest)) is not None:
        return None
    return remote.get_manifest(src.with_digest(desc.digest))


# -- blobs -----------------------------------------------------------------------------------

_FOREIGN_TYPES = frozenset(
    {
        DOCKER_FOREIGN_LAYER,
        OCI_LAYER_NONDISTRIBUTABLE_TAR,
        OCI_LAYER_NONDISTRIBUTABLE_TAR_GZIP,
        OCI_LAYER_NONDISTRIBUTABLE_TAR_ZSTD,
    }
)


def _distinct_blobs(manifests: Iterable[Manifest]) -> tuple[list[Descriptor], int]:
    """Every blob the image manifests among ``manifests`` need, each digest once, and the
    number of foreign layers left out."""
    by_digest: dict[str, Descriptor] = {}
    foreign: set[str] = set()
    for manifest in manifests:
        if isinstance(manifest, ImageIndex):
            continue
        for desc in manifest.references():
            if desc.urls and strip_params(desc.media_type) in _FOREIGN_TYPES:
                foreign.add(desc.digest)
            else:
                by_digest.setdefault(desc.digest, desc)
    return list(by_digest.values()), len(foreign - by_digest.keys())


class _Total:
    """The bytes a copy expects to stream, told to ``report`` whenever the estimate changes."""

    def __init__(self, report: Callable[[int], None] | None, total: int) -> None:
        self._report, self._total = report, total
        self._lock = threading.Lock()
        if report is not None:
            report(total)

    def drop(self, size: int) -> None:
        """A blob of ``size`` bytes needs no transfer after all."""
        if self._report is None or not size:
            return
        with self._lock:
            self._total -= size
            self._report(self._total)


def _transfer_blob(
    remote: Remote,
    src: Reference,
    dst: Reference,
    desc: Descriptor,
    progress: Callable[[int], None] | None = None,
    not_moved: Callable[[int], None] | None = None,
) -> tuple[_Outcome, int]:
    """Skip, mount or stream one blob; returns what happened and the bytes streamed.

    Between registries, the destination is asked once whether it has the blob (a HEAD);
    only then does :func:`~ocireg.upload.push_blob` run, told not to ask again. On one
    registry nothing is asked first: the mount request answers 201 whether the destination
    had the blob or not, so a HEAD would only add a request per blob. push_blob opens the
    source only if it has to upload, so an unopened source means "mounted". A retried upload
    asks again: the failed attempt may have landed.
    """
    mountable = src.domain == dst.domain and src.path != dst.path
    if not mountable and blob_exists(remote, dst, desc.digest, actions=_PUSH):
        if not_moved is not None:
            not_moved(desc.size)
        return _Outcome.SKIPPED, 0
    for attempt in range(1, _STREAM_ATTEMPTS + 1):
        source = _LazyBlob(remote, src, desc)
        try:
            push_blob(
                remote,
                dst,
                cast("BinaryIO", source),
                digest=desc.digest,
                size=desc.size,
                mount_from=src if mountable else None,
                progress=progress,
                check_exists=attempt > 1,
            )
        except TransportError:
            if attempt == _STREAM_ATTEMPTS:
                raise
            continue  # push_blob cancelled its session: start afresh with a new reader
        finally:
            source.close()
        if source.opened:
            return _Outcome.COPIED, source.received
        # Never read: the registry mounted it (or another copy pushed it meanwhile).
        if not_moved is not None:
            not_moved(desc.size)
        return (_Outcome.MOUNTED if mountable else _Outcome.SKIPPED), 0
    raise AssertionError("unreachable")  # pragma: no cover


class _LazyBlob:
    """A read-only file over a source blob that sends its GET only when first read.

    :func:`ocireg.upload.push_blob` reads the source only when it must upload: after its own
    existence check, and after a mount answered 202. Opening the source GET lazily means a
    mounted blob costs no GET at all, and whether it was opened tells a mount from a copy.
    ``__len__`` lets ``requests`` send ``Content-Length`` instead of a chunked body; there is
    no ``tell``, so the transport never tries to replay a half-sent stream.
    """

    def __init__(self, remote: Remote, src: Reference, desc: Descriptor) -> None:
        self._remote, self._src, self._desc = remote, src, desc
        self._reader: BlobReader | None = None
        self.opened = False
        self.started_sending = False

    @property
    def received(self) -> int:
        return self._reader.received if self._reader is not None else 0

    def __len__(self) -> int:
        return self._desc.size

    def read(self, n: int = -1) -> bytes:
        if self._reader is None:
            self._reader = open_blob(
                self._remote, self._src, self._desc.digest, size=self._desc.size
            )
            self.opened = True
        data = self._reader.read(n)
        self.started_sending = self.started_sending or bool(data)
        return data

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return False

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        # upload.py "rewinds" every source before sending it; the start is where we are.
        if offset == 0 and whence == io.SEEK_SET and not self.started_sending:
            return 0
        raise io.UnsupportedOperation("a streamed source blob cannot seek")

    def close(self) -> None:
        if self._reader is not None:
            self._reader.close()


# -- concurrency -----------------------------------------------------------------------------


def _run_all(fn: Callable[[_T], _R], items: Iterable[_T], workers: int) -> list[_R]:
    """``[fn(x) for x in items]`` on up to ``workers`` threads, in order.

    Unlike ``Executor.map``, the first failure cancels every job not yet started, so a copy
    that cannot succeed stops promptly instead of streaming the remaining layers.
    """
    todo = list(items)
    if len(todo) <= 1 or workers <= 1:
        return [fn(x) for x in todo]
    with ThreadPoolExecutor(max_workers=min(workers, len(todo))) as pool:
        futures: list[Future[_R]] = [pool.submit(fn, x) for x in todo]
        done, pending = wait(futures, return_when=FIRST_EXCEPTION)
        for future in pending:
            future.cancel()
        for future in _in_order(futures, done):
            future.result()  # re-raise the first failure, in submission order
        return [f.result() for f in futures]


def _in_order(futures: list[Future[_R]], done: set[Future[_R]]) -> Iterator[Future[_R]]:
    return (f for f in futures if f in done and f.exception() is not None)
