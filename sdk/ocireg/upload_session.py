"""The requests that fill an open upload session (distribution spec, "Pushing blobs"):
chunked PATCHes that recover from a lost chunk, and the streamed PATCH of a blob whose digest
nobody knew. :mod:`ocireg.upload` decides which, opens the session and commits it."""

from __future__ import annotations

import contextlib
import hashlib
import io
import logging
import re
from typing import TYPE_CHECKING
from urllib.parse import quote

from .digest import Digest
from .errors import TransportError
from .http_errors import raise_for_status
from .upload_source import HashingBody, ProgressMeter, UploadSource, wrap_body

if TYPE_CHECKING:
    from . import wire
    from .reference import Reference
    from .remote import Remote

__all__ = [
    "MAX_RECOVERIES",
    "PATCH_REFUSED",
    "StreamRefused",
    "UploadSession",
    "check_status",
    "patch_chunks",
    "session_offset",
    "stream_patch",
    "with_digest",
]

log = logging.getLogger("ocireg.upload")

#: How often a chunked upload may ask the session where to go on (416, dropped PATCH).
MAX_RECOVERIES = 5
#: Answers to the streamed PATCH that mean "not that way" rather than "not at all".
PATCH_REFUSED = frozenset({400, 405, 411, 415, 416, 501})
_RANGE = re.compile(r"(?:bytes=)?(\d+)-(\d+)", re.ASCII)


class UploadSession:
    """An open upload session. Each response may move it to a new ``Location`` (often with
    a new signed ``_state``), and only the newest is valid: so every step, the final PUT and
    the DELETE of a failed upload read it from here."""

    __slots__ = ("location",)

    def __init__(self, location: str) -> None:
        self.location = location

    def follow(self, resp: wire.Response) -> None:
        self.location = resp.headers.get("Location") or self.location


class StreamRefused(Exception):
    """The registry refused the streamed PATCH; ``digest`` is the blob's if all of it went
    out (hashed on the way) before the answer came."""

    def __init__(self, digest: Digest | None) -> None:
        super().__init__("streamed PATCH refused")
        self.digest = digest


def check_status(resp: wire.Response, ref: Reference, operation: str, ok: tuple[int, ...]) -> None:
    """Raise the error that a status outside ``ok`` stands for."""
    raise_for_status(resp, operation=operation, registry=ref.domain, target=ref.path, ok=ok)


def with_digest(location: str, digest: Digest) -> str:
    """``location`` verbatim (its ``_state`` and signatures untouched) plus ``digest=``."""
    base, hash_sign, fragment = location.partition("#")
    sep = "&" if "?" in base else "?"
    return f"{base}{sep}digest={quote(str(digest), safe=':')}{hash_sign}{fragment}"


def stream_patch(
    remote: Remote,
    ref: Reference,
    src: UploadSource,
    session: UploadSession,
    meter: ProgressMeter | None,
) -> tuple[Digest, int]:
    """Send the whole source in one PATCH, hashing it on the way; its digest and size."""
    assert src.size is not None
    size = src.size
    src.rewind()
    body = HashingBody(src, size, meter)
    headers = {"Content-Range": f"0-{size - 1}", "Content-Length": str(size)}
    try:
        resp = remote.session_request(ref, "PATCH", session.location, body, headers)
    finally:
        computed = body.digest()  # also ends its hash thread
    with contextlib.closing(resp):
        if resp.status_code in PATCH_REFUSED:  # the caller cancels the session
            raise StreamRefused(computed)
        check_status(resp, ref, "PATCH blob upload", (202,))
        session.follow(resp)
        m = _RANGE.fullmatch(resp.headers.get("Range", "").strip())
    if computed is None or (m is not None and int(m.group(2)) != size - 1):
        held = f"bytes 0-{m.group(2)}" if m is not None else "?"
        raise TransportError(
            f"PATCH blob upload {ref.domain}/{ref.path}: {body.taken} of {size} bytes read, "
            f"registry holds {held}"
        )
    return computed, size


def patch_chunks(
    remote: Remote,
    ref: Reference,
    src: UploadSource,
    session: UploadSession,
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
                    check_status(resp, ref, "PATCH blob upload", (202,))
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
            offset = session_offset(remote, ref, session)
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


def session_offset(remote: Remote, ref: Reference, session: UploadSession) -> int:
    """Ask an upload session how many bytes it holds: ``GET <location>`` -> 204 + Range."""
    resp = remote.session_request(ref, "GET", session.location, None, {})
    with contextlib.closing(resp):
        check_status(resp, ref, "upload status", (204,))
        session.follow(resp)
        m = _RANGE.fullmatch(resp.headers.get("Range", "").strip())
        return int(m.group(2)) + 1 if m else 0
