"""What the answer to a blob GET says about its body, checked before a byte of it is read:
the status, the content encoding, where a ranged answer starts, the digest the registry
announces and the size the body will have."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, NamedTuple

from .errors import DigestMismatchError, TransportError
from .http_errors import raise_for_status

if TYPE_CHECKING:
    from . import wire
    from .reference import Reference

__all__ = ["BodyFraming", "check_blob_response"]

_CONTENT_RANGE = re.compile(r"bytes\s+(\d+)-(\d+)/(\d+|\*)", re.ASCII)


class BodyFraming(NamedTuple):
    #: Content-encoded: read decoded, counted after decoding, never resumed.
    decode: bool
    #: Bytes at the start the reader already has (a ``200`` to a ``Range`` request).
    skip: int
    #: The blob's size: the caller's, else what the answer announces; None if neither.
    size: int | None


def check_blob_response(
    resp: wire.Response,
    *,
    ref: Reference,
    digest: str,
    algorithm: str,
    start: int,
    size: int | None,
) -> BodyFraming:
    """Check the answer to ``GET`` of blob ``digest`` from byte ``start``, knowing
    ``size`` or not; what the reader needs to read its body.

    :raises DigestMismatchError: the registry announces another digest or another size.
    :raises TransportError: a Content-Range that does not start at ``start``, or an
        encoded body of unknown size (a small gzip body could expand without bound).
    """
    where = f"{ref.domain}/{ref.path}@{digest}"
    raise_for_status(
        resp,
        operation="GET blob",
        registry=ref.domain,
        target=f"{ref.path}@{digest}",
        ok=(200, 206),
    )
    encoding = resp.headers.get("Content-Encoding", "identity").strip().lower()
    decode = encoding not in ("", "identity")
    if decode and size is None:
        raise TransportError(
            f"GET blob {where}: the registry sent it with Content-Encoding"
            f" {encoding[:40]!r} although identity was asked, and its size is not known"
        )
    length = resp.headers.get("Content-Length", "")
    total = int(length) if length.isdigit() else None
    if resp.status_code == 206:
        m = _CONTENT_RANGE.fullmatch(resp.headers.get("Content-Range", "").strip())
        if m is None or int(m.group(1)) != start:
            raise TransportError(
                f"GET blob {where}: asked for bytes {start}- but the server answered "
                f"Content-Range {resp.headers.get('Content-Range')!r}"
            )
        total = int(m.group(3)) if m.group(3) != "*" else None
    skip = start if resp.status_code == 200 else 0  # 200: the whole blob again
    header = resp.headers.get("Docker-Content-Digest", "")
    if header.partition(":")[0] == algorithm and header != digest:
        raise DigestMismatchError(
            f"blob {where}: registry announces {header}", expected=digest, actual=header
        )
    if total is not None and not decode:
        if size is None:
            size = total
        elif total != size:
            raise DigestMismatchError(
                f"blob {where}: registry sends {total} bytes, expected {size}",
                expected=digest,
                actual="size",
            )
    return BodyFraming(decode, skip, size)
