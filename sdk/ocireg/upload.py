"""Pushing blobs (distribution spec, "Pushing blobs"): skip, mount, monolithic, chunked.

The order is the cheapest first:

1. ``HEAD`` the blob; when the repository has it, nothing is sent (every peer does this).
2. With ``mount_from`` on the same registry, ``POST ?mount=<digest>&from=<repo>``: ``201``
   means mounted. A ``202`` opens an upload session whose ``Location`` is used for the upload
   instead of a second POST (as regclient does).
3. Otherwise ``POST`` opens a session, and the bytes go either

   * monolithic: one ``PUT <location>&digest=`` streaming the file (the default, and the
     fastest path: what curl, regclient and the test harness do), or
   * chunked: ``PATCH`` requests of ``chunk_size`` bytes with ``Content-Range``, always to the
     newest ``Location``, then an empty ``PUT <location>&digest=``. Used when ``chunk_size``
     is given, when the blob is over :data:`CHUNKED_THRESHOLD`, or when the source cannot be
     rewound. A ``416`` or a connection lost mid-``PATCH`` is recovered by asking the session
     (``GET <location>`` -> ``204`` + ``Range``) how much it holds and going on from there.

Any failure after the session opened, ``KeyboardInterrupt`` included, cancels it with
``DELETE <location>`` so the registry is left with no stray upload.

Progress: with ``progress`` given, each body is wrapped in an object with ``read`` and
``__len__`` but no ``__iter__`` (as :class:`ocireg.copy._LazyBlob`), so requests still sends
``Content-Length`` and never a chunked transfer-encoding, and every read is reported.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import logging
import re
from typing import TYPE_CHECKING
from urllib.parse import quote

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
from .http_errors import raise_for_status
from .manifests import Descriptor
from .mediatypes import BLOB_MEDIA_TYPE
from .upload_source import Progress, ProgressMeter, Source, UploadSource, wrap_body

if TYPE_CHECKING:
    import requests

    from .reference import Reference
    from .remote import Remote

__all__ = ["CHUNKED_THRESHOLD", "DEFAULT_CHUNK_SIZE", "push_blob"]

log = logging.getLogger("ocireg.upload")

#: Chunk size when chunking was not asked for but is needed (oras-py's default; one buffer of
#: this size is the upload's only large allocation).
DEFAULT_CHUNK_SIZE = 16 << 20
#: Blobs above this go chunked even without ``chunk_size``: a lost connection then costs one
#: chunk instead of the whole upload, and registries that cap one request's body (Quay near
#: 20 GB, per oras-py) still accept them. Below it one streamed PUT: supported everywhere,
#: and on distribution 2.8 about 5 % faster than 16 MiB chunks (benchmarks/bench_blobs.py).
CHUNKED_THRESHOLD = 4 << 30
#: How often a chunked upload may ask the session where to go on (416, dropped PATCH).
MAX_RECOVERIES = 5
_PUSH = ("pull", "push")  # the actions of the HEAD before an upload: one token for both
_RANGE = re.compile(r"(?:bytes=)?(\d+)-(\d+)", re.ASCII)


class _Session:
    """An open upload session. Each response may move it to a new ``Location`` (often with
    a new signed ``_state``), and only the newest is valid: so every step, the final PUT and
    the DELETE of a failed upload read it from here."""

    __slots__ = ("location",)

    def __init__(self, location: str) -> None:
        self.location = location

    def follow(self, resp: requests.Response) -> None:
        self.location = resp.headers.get("Location") or self.location


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
) -> Descriptor:
    """Upload a blob to ``ref``'s repository unless it is there already; returns its descriptor.

    :param source: a path, bytes, or a binary file object read from its current position.
    :param digest: the blob's digest if known; else it is computed by reading the source once
        (a source that cannot be rewound is hashed while it is uploaded instead, so the
        existence check and the mount are skipped).
    :param size: the size if known; checked against the source when it can be measured.
    :param mount_from: a repository on the same registry that may hold the blob; ignored
        for another registry (mounting across registries is not possible).
    :param chunk_size: upload in chunks of this many bytes (raised to the registry's
        ``OCI-Chunk-Min-Length``).
    :param progress: called with the number of bytes just sent, as the request bodies are
        read (16 KiB at a time in a monolithic PUT). Bytes sent again are first taken back
        with a negative number, and a failed upload takes back all it reported, so the
        numbers add up to the blob's size when it is uploaded, to 0 when it fails, and stay
        0 when the registry had the blob or mounted it.
    """
    if chunk_size is not None and chunk_size <= 0:
        raise ValueError("chunk_size must be positive")
    src = UploadSource(source, size)
    try:
        want = Digest.parse(digest) if digest else (src.digest() if src.seekable else None)
        meter = ProgressMeter(progress) if progress is not None else None
        return _push(remote, ref, src, want, mount_from, chunk_size, meter)
    finally:
        src.close()


def _push(
    remote: Remote,
    ref: Reference,
    src: UploadSource,
    want: Digest | None,
    mount_from: Reference | None,
    chunk_size: int | None,
    meter: ProgressMeter | None = None,
) -> Descriptor:
    extra: tuple[str, ...] = ()
    if mount_from is not None and mount_from.domain != ref.domain:
        log.debug("not mounting from %s: another registry than %s", mount_from, ref.domain)
        mount_from = None
    if mount_from is not None and want is not None:
        # One token for pull on the source and pull,push on the target (distribution checks both).
        extra = (repository_scope(mount_from.path, "pull"),)
    if want is not None:
        with contextlib.suppress(NotFoundError):
            found = remote.head_blob(ref, str(want), actions=_PUSH, extra_scopes=extra)
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
    with contextlib.closing(opened):
        session, minimum = _Session(_location(opened, ref)), _min_chunk(opened)
    try:
        chunked = chunk_size is not None or want is None or src.size is None
        if not chunked and src.size is not None and src.size > CHUNKED_THRESHOLD:
            chunked = True
        if chunked:
            size = max(chunk_size or DEFAULT_CHUNK_SIZE, minimum)
            total, computed = _patch_chunks(remote, ref, src, session, size, want, meter)
            url = _with_digest(session.location, computed)
            resp = remote.session_request(ref, "PUT", url, b"", {})
        else:
            assert want is not None and src.size is not None
            computed, total = want, src.size
            src.rewind()
            body: object = src.data if src.data is not None else src.file
            if meter is not None:
                body = wrap_body(src.file, total, meter, 0, src.seekable)
            headers = {"Content-Length": str(total)}
            url = _with_digest(session.location, computed)
            resp = remote.session_request(ref, "PUT", url, body, headers)
        _check(resp, ref, "finish upload", (201,))
    except BaseException:
        _cancel(remote, ref, session.location)
        if meter is not None:
            meter.back_to(0)
        raise
    _verify_commit(resp, ref, computed)
    return _descriptor(computed, total)


def _mount(
    remote: Remote, ref: Reference, source: Reference, want: Digest, extra: tuple[str, ...]
) -> requests.Response | None:
    """``None`` when mounted (201); else the 202 response that opened an upload session."""
    try:
        resp = remote.start_upload(ref, mount=(want, source), extra_scopes=extra)
        _check(resp, ref, "mount blob", (201, 202))
    except (DeniedError, UnsupportedError) as exc:  # no pull on the source: upload instead
        log.info("mounting %s from %s refused (%s); uploading", want, source, exc)
        return _open_session(remote, ref)
    if resp.status_code == 202:
        return resp
    resp.close()
    _verify_commit(resp, ref, want)
    log.debug("mounted %s from %s into %s", want, source.path, ref.path)
    return None


def _open_session(remote: Remote, ref: Reference) -> requests.Response:
    resp = remote.start_upload(ref)
    _check(resp, ref, "start upload", (202,))
    return resp


def _patch_chunks(
    remote: Remote,
    ref: Reference,
    src: UploadSource,
    session: _Session,
    chunk_size: int,
    want: Digest | None,
    meter: ProgressMeter | None = None,
) -> tuple[int, Digest]:
    """Send the source in chunks; returns the size and the digest (``want``, or for a
    source that cannot be rewound and whose digest nobody knew, that of what was sent)."""
    hasher = None if want is not None else hashlib.sha256()  # only for unrewindable sources
    offset = recoveries = 0
    src.rewind()
    while chunk := src.read(chunk_size):
        end = offset + len(chunk) - 1
        headers = {"Content-Range": f"{offset}-{end}", "Content-Length": str(len(chunk))}
        problem = None
        body: object = chunk
        if meter is not None:
            body = wrap_body(io.BytesIO(chunk), len(chunk), meter, offset, True)
        try:
            resp = remote.session_request(ref, "PATCH", session.location, body, headers)
        except TransportError as exc:
            if not src.seekable:
                raise
            problem = str(exc)
        else:
            with contextlib.closing(resp):
                if resp.status_code == 416:
                    problem = "416 Range Not Satisfiable"
                else:
                    _check(resp, ref, "PATCH blob upload", (202,))
                    session.follow(resp)
                    m = _RANGE.fullmatch(resp.headers.get("Range", "").strip())
                    if m is not None and int(m.group(2)) != end:
                        problem = f"registry holds bytes 0-{m.group(2)} after {offset}-{end}"
        if problem is not None:
            recoveries += 1
            if not src.seekable or recoveries > MAX_RECOVERIES:
                raise TransportError(
                    f"PATCH blob upload {ref.domain}/{ref.path} at byte {offset}: {problem}; "
                    f"gave up after {recoveries - 1} recoveries"
                )
            offset = _session_offset(remote, ref, session)
            log.info("upload to %s/%s: %s; resuming at %d", ref.domain, ref.path, problem, offset)
            src.rewind(offset)
            if meter is not None:
                meter.back_to(offset)
            continue
        if hasher is not None:
            hasher.update(chunk)
        offset = end + 1
    if src.size is not None and offset != src.size:
        raise ValueError(f"the source ended after {offset} of {src.size} bytes")
    hashed = Digest("sha256", hasher.hexdigest()) if hasher is not None else want
    assert hashed is not None
    return offset, hashed


def _session_offset(remote: Remote, ref: Reference, session: _Session) -> int:
    """Ask an upload session how many bytes it holds: ``GET <location>`` -> 204 + Range."""
    resp = remote.session_request(ref, "GET", session.location, None, {})
    with contextlib.closing(resp):
        _check(resp, ref, "upload status", (204,))
        session.follow(resp)
        m = _RANGE.fullmatch(resp.headers.get("Range", "").strip())
        return int(m.group(2)) + 1 if m else 0


def _check(resp: requests.Response, ref: Reference, operation: str, ok: tuple[int, ...]) -> None:
    raise_for_status(resp, operation=operation, registry=ref.domain, target=ref.path, ok=ok)


def _location(resp: requests.Response, ref: Reference) -> str:
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


def _min_chunk(resp: requests.Response) -> int:
    value = resp.headers.get("OCI-Chunk-Min-Length", "").strip()
    return int(value) if value.isdigit() else 0


def _with_digest(location: str, digest: Digest) -> str:
    """``location`` verbatim (its ``_state`` and signatures untouched) plus ``digest=``."""
    base, hash_sign, fragment = location.partition("#")
    sep = "&" if "?" in base else "?"
    return f"{base}{sep}digest={quote(str(digest), safe=':')}{hash_sign}{fragment}"


def _verify_commit(resp: requests.Response, ref: Reference, want: Digest) -> None:
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
