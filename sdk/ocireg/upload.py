"""Pushing blobs (distribution spec, "Pushing blobs"): skip, mount, monolithic, streamed,
chunked.

The order is the cheapest first:

1. ``HEAD`` the blob; when the repository has it, nothing is sent (every peer does this).
2. With ``mount_from`` on the same registry, ``POST ?mount=<digest>&from=<repo>``: ``201``
   means mounted. A ``202`` opens an upload session whose ``Location`` is used for the upload
   instead of a second POST (as regclient does).
3. Otherwise ``POST`` opens a session, and the bytes go either

   * monolithic: one ``PUT <location>&digest=`` streaming the file (the default when the
     digest is known, and the fastest path: what curl, regclient and the test harness do), or
   * streamed: when nobody knows the digest of a file, one ``PATCH`` carrying all of it
     (``Content-Range: 0-<size-1>``, a spec chunk that is the whole blob), hashed as it is
     sent (:class:`~ocireg.upload_source.HashingBody`), then an empty
     ``PUT <location>&digest=``. The file is read once, not once to hash and once to send
     (as crane and containers/image push). Nothing is committed before that PUT, and a
     failed PATCH cancels the session, so a cut connection never leaves part of a blob
     behind. A registry that refuses the PATCH (400, 405, 415, 416, 501) gets the
     monolithic PUT instead, from then on for the client's life; the HEAD and the mount are
     skipped, as for any blob of unknown digest, or
   * chunked: ``PATCH`` requests of ``chunk_size`` bytes with ``Content-Range``, always to the
     newest ``Location``, then an empty ``PUT <location>&digest=``. Used when ``chunk_size``
     is given, when the blob is over :data:`CHUNKED_THRESHOLD`, or when the source cannot be
     rewound. A ``416`` or a connection lost mid-``PATCH`` is recovered by asking the session
     (``GET <location>`` -> ``204`` + ``Range``) how much it holds and going on from there.

Any failure after the session opened, ``KeyboardInterrupt`` included, cancels it with
``DELETE <location>`` so the registry is left with no stray upload. A monolithic or streamed
upload of a source that can be read again (a file, bytes) that loses its connection is
started again from the first byte in a new session, up to :data:`UPLOAD_ATTEMPTS` times; a
source that cannot be rewound (a pipe) cannot be sent twice, so it fails at once.

Progress: with ``progress`` given, each body is wrapped in an object with ``read`` and
``__len__`` but no ``__iter__`` (as :class:`ocireg.copy._LazyBlob`), so requests still sends
``Content-Length`` and never a chunked transfer-encoding, and every read is reported; the
streamed PATCH's body reports each block it hands out.
"""

from __future__ import annotations

import contextlib
import logging
from typing import TYPE_CHECKING

from .auth.scope import repository_scope
from .digest import Digest
from .errors import (
    DeniedError,
    DigestMismatchError,
    NotFoundError,
    RegistryError,
    TransportError,
    UnsupportedError,
)
from .manifests import Descriptor
from .mediatypes import BLOB_MEDIA_TYPE
from .upload_session import (
    StreamRefused,
    UploadSession,
    check_status,
    patch_chunks,
    stream_patch,
    with_digest,
)
from .upload_source import Progress, ProgressMeter, Source, UploadSource, wrap_body

if TYPE_CHECKING:
    from . import wire
    from .reference import Reference
    from .remote import Remote

__all__ = ["CHUNKED_THRESHOLD", "DEFAULT_CHUNK_SIZE", "UPLOAD_ATTEMPTS", "push_blob"]

log = logging.getLogger("ocireg.upload")

#: Chunk size when chunking was not asked for but is needed (oras-py's default; one buffer of
#: this size is the upload's only large allocation).
DEFAULT_CHUNK_SIZE = 16 << 20
#: Blobs above this go chunked even without ``chunk_size``: a lost connection then costs one
#: chunk instead of the whole upload, and registries that cap one request's body (Quay near
#: 20 GB, per oras-py) still accept them. Below it one streamed PUT: supported everywhere,
#: and on distribution 2.8 about 5 % faster than 16 MiB chunks (benchmarks/bench_blobs.py).
CHUNKED_THRESHOLD = 4 << 30
#: Tries of a one-request (monolithic or streamed) upload of a re-readable source whose
#: connection is lost: each starts from the first byte in a new session.
UPLOAD_ATTEMPTS = 3
_RETRIED_KINDS = ("connection", "timeout")
_PUSH = ("pull", "push")  # the actions of the HEAD before an upload: one token for both


def push_blob(
    remote: Remote,
    ref: Reference,
    source: Source,
    *,
    digest: str | None = None,
    size: int | None = None,
    mount_from: Reference | None = None,
    chunk_size: int | None = None,
    progress: Progress | None = None,
    check_exists: bool = True,
) -> Descriptor:
    """Upload a blob to ``ref``'s repository unless it is there already; returns its descriptor.

    :param source: a path, bytes, or a binary file object read from its current position.
    :param digest: the blob's digest if known (the registry checks the bytes against it).
        Else a file is hashed while it is sent in one streamed PATCH (so the existence check
        is skipped; with ``mount_from`` or ``chunk_size`` it is hashed first instead), bytes
        are hashed first, and a source that cannot be rewound is hashed while its chunks
        go out.
    :param size: the size if known; checked against the source when it can be measured.
    :param mount_from: a repository on the same registry that may hold the blob; ignored
        for another registry (mounting across registries is not possible).
    :param chunk_size: upload in chunks of this many bytes (raised to the registry's
        ``OCI-Chunk-Min-Length``).
    :param progress: called with the number of bytes just sent, as the request bodies are
        read (16 KiB at a time in a monolithic PUT, 1 MiB in a streamed PATCH). Bytes sent
        again are first taken back with a negative number, and a failed upload takes back
        all it reported, so the numbers add up to the blob's size when it is uploaded, to 0
        when it fails, and stay 0 when the registry had the blob or mounted it.
    :param check_exists: False when the caller has just learnt (by its own HEAD) that the
        repository lacks the blob: the HEAD is not sent again.
    """
    if chunk_size is not None and chunk_size <= 0:
        raise ValueError("chunk_size must be positive")
    src = UploadSource(source, size)
    try:
        meter = ProgressMeter(progress) if progress is not None else None
        stream = _streamable(remote, ref, src, digest, mount_from, chunk_size)
        want = Digest.parse(digest) if digest else None
        if want is None and src.seekable and not stream:
            want = src.digest()
        try:
            check = want if check_exists else None
            return _push(remote, ref, src, want, mount_from, chunk_size, meter, check)
        except StreamRefused as refused:
            remote.capabilities.streamed_patch_refused.add(ref.domain)
            want = refused.digest or src.digest()
            log.info("%s refused a streamed PATCH; uploading with one PUT", ref.domain)
            check = want if check_exists else None
            return _push(remote, ref, src, want, mount_from, chunk_size, meter, check)
    finally:
        src.close()


def _streamable(
    remote: Remote,
    ref: Reference,
    src: UploadSource,
    digest: str | None,
    mount_from: Reference | None,
    chunk_size: int | None,
) -> bool:
    """Whether to hash while sending: a file (bytes are hashed in no time, and then the
    HEAD may spare the upload) of unknown digest that goes in one request, unless a mount
    (which needs the digest first) may spare it or the registry refused streaming before."""
    return (
        digest is None
        and src.data is None
        and src.seekable
        and src.size is not None
        and 0 < src.size <= CHUNKED_THRESHOLD
        and mount_from is None
        and chunk_size is None
        and ref.domain not in remote.capabilities.streamed_patch_refused
    )


def _push(
    remote: Remote,
    ref: Reference,
    src: UploadSource,
    want: Digest | None,
    mount_from: Reference | None,
    chunk_size: int | None,
    meter: ProgressMeter | None = None,
    check: Digest | None = None,
) -> Descriptor:
    extra: tuple[str, ...] = ()
    if mount_from is not None and mount_from.domain != ref.domain:
        log.debug("not mounting from %s: another registry than %s", mount_from, ref.domain)
        mount_from = None
    if mount_from is not None and want is not None:
        # One token for pull on the source and pull,push on the target (distribution checks both).
        extra = (repository_scope(mount_from.path, "pull"),)
    if check is not None:
        with contextlib.suppress(NotFoundError):
            found = remote.head_blob(ref, str(check), actions=_PUSH, extra_scopes=extra)
            log.debug("blob %s already in %s/%s", want, ref.domain, ref.path)
            return found
    if mount_from is not None and want is not None:
        opened = _mount(remote, ref, mount_from, want, extra)
        if opened is None:  # mounted
            if src.size is None:
                return remote.head_blob(ref, str(want), actions=_PUSH)
            return _descriptor(want, src.size)
    else:
        opened = _open_session(remote, ref)
    chunked = chunk_size is not None or src.size is None or (want is None and not src.seekable)
    if not chunked and src.size is not None and src.size > CHUNKED_THRESHOLD:
        chunked = True
    for attempt in range(1, UPLOAD_ATTEMPTS + 1):
        if attempt > 1:
            opened = _open_session(remote, ref)
        with contextlib.closing(opened):
            session, minimum = UploadSession(_location(opened, ref)), _min_chunk(opened)
        try:
            if chunked:
                size = max(chunk_size or DEFAULT_CHUNK_SIZE, minimum)
                total, computed = patch_chunks(remote, ref, src, session, size, want, meter)
                url = with_digest(session.location, computed)
                resp = remote.session_request(ref, "PUT", url, b"", {})
            elif want is None:
                computed, total = stream_patch(remote, ref, src, session, meter)
                url = with_digest(session.location, computed)
                resp = remote.session_request(ref, "PUT", url, b"", {})
            else:
                assert src.size is not None
                computed, total = want, src.size
                src.rewind()
                body: object = src.data if src.data is not None else src.file
                if meter is not None:
                    body = wrap_body(src.file, total, meter, 0, src.seekable)
                headers = {"Content-Length": str(total)}
                url = with_digest(session.location, computed)
                resp = remote.session_request(ref, "PUT", url, body, headers)
            check_status(resp, ref, "finish upload", (201,))
        except BaseException as exc:
            _cancel(remote, ref, session.location)
            if meter is not None:
                meter.back_to(0)
            again = not chunked and src.seekable and attempt < UPLOAD_ATTEMPTS
            if not (again and _lost_connection(exc)):
                raise
            log.info("upload to %s/%s: %s; starting again (%d)", ref.domain, ref.path, exc, attempt)
            continue
        _verify_commit(resp, ref, computed)
        return _descriptor(computed, total)
    raise AssertionError("unreachable")  # pragma: no cover - the loop returns or raises


def _lost_connection(exc: BaseException) -> bool:
    return isinstance(exc, TransportError) and getattr(exc, "kind", "connection") in _RETRIED_KINDS


def _mount(
    remote: Remote, ref: Reference, source: Reference, want: Digest, extra: tuple[str, ...]
) -> wire.Response | None:
    """``None`` when mounted (201); else the 202 response that opened an upload session."""
    try:
        resp = remote.start_upload(ref, mount=(want, source), extra_scopes=extra)
        check_status(resp, ref, "mount blob", (201, 202))
    except (DeniedError, UnsupportedError) as exc:  # no pull on the source: upload instead
        log.info("mounting %s from %s refused (%s); uploading", want, source, exc)
        return _open_session(remote, ref)
    if resp.status_code == 202:
        return resp
    resp.close()
    _verify_commit(resp, ref, want)
    log.debug("mounted %s from %s into %s", want, source.path, ref.path)
    return None


def _open_session(remote: Remote, ref: Reference) -> wire.Response:
    resp = remote.start_upload(ref)
    check_status(resp, ref, "start upload", (202,))
    return resp


def _location(resp: wire.Response, ref: Reference) -> str:
    location = resp.headers.get("Location")
    if location:
        return location
    resp.close()
    raise RegistryError(
        f"start upload {ref.domain}/{ref.path}: {resp.status_code} without a Location",
        status=resp.status_code,
        operation="start upload",
        registry=ref.domain,
    )


def _min_chunk(resp: wire.Response) -> int:
    value = resp.headers.get("OCI-Chunk-Min-Length", "").strip()
    return int(value) if value.isdigit() else 0


def _verify_commit(resp: wire.Response, ref: Reference, want: Digest) -> None:
    header = resp.headers.get("Docker-Content-Digest")
    resp.close()
    if header and header.split(":", 1)[0] == want.algorithm and header != str(want):
        raise DigestMismatchError(
            f"push blob {ref.domain}/{ref.path}: registry stored {header}, not {want}",
            expected=str(want),
            actual=header,
        )


def _cancel(remote: Remote, ref: Reference, location: str) -> None:
    """Drop an upload session; errors are ignored (the registry purges stale ones anyway)."""
    with contextlib.suppress(Exception):
        resp = remote.session_request(
            ref, "DELETE", location, None, {}, timeout=(5.0, 10.0), retry=False
        )
        resp.close()


def _descriptor(digest: Digest, size: int | None) -> Descriptor:
    return Descriptor(media_type=BLOB_MEDIA_TYPE, digest=str(digest), size=size or 0)
