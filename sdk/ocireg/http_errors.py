"""Error mapping: registry responses and requests exceptions to :mod:`ocireg.errors`.

:func:`raise_for_status` turns an error status, with the registry's ``{"errors": [...]}`` body
(distribution spec, "Error Codes"), into the matching exception of the tree in
:mod:`ocireg.errors`; :func:`registry_errors` reads that body, bounded in size since it comes
from an untrusted server. :func:`describe_request_error` and :func:`is_transient` say what a
failed connection was, and whether trying again may help.
"""

from __future__ import annotations

import email.utils
import json
import time
from collections.abc import Iterable
from typing import Any

import requests

from .auth.challenge import pick_challenge
from .errors import (
    AuthenticationError,
    DeniedError,
    NotFoundError,
    RegistryError,
    RegistryErrorDetail,
    TooManyRequestsError,
    TransportError,
    UnsupportedError,
)

__all__ = [
    "describe_request_error",
    "is_transient",
    "raise_for_status",
    "registry_errors",
    "retry_after",
]

_MAX_ERROR_BODY = 64 * 1024


def registry_errors(resp: requests.Response) -> tuple[RegistryErrorDetail, ...]:
    """The ``{"errors": [...]}`` list of an error response, tolerating anything else."""
    try:
        length = resp.headers.get("Content-Length", "")
        small = length.isdigit() and int(length) <= _MAX_ERROR_BODY
        if getattr(resp, "_content_consumed", True) or small:
            raw = resp.content[:_MAX_ERROR_BODY]
        else:  # a streamed error response: read no more than an error body can sensibly be
            raw = next(resp.iter_content(_MAX_ERROR_BODY), b"")
        body = json.loads(raw)
    except (ValueError, requests.RequestException):
        return ()
    items = body.get("errors") if isinstance(body, dict) else None
    if not isinstance(items, list):
        return ()
    out = []
    for item in items:
        if isinstance(item, dict) and isinstance(item.get("code"), str):
            out.append(
                RegistryErrorDetail(
                    item["code"], str(item.get("message") or ""), item.get("detail")
                )
            )
    return tuple(out)


def raise_for_status(
    resp: requests.Response,
    *,
    operation: str,
    registry: str,
    target: str,
    ok: Iterable[int] = (200,),
) -> requests.Response:
    """Return ``resp`` when its status is in ``ok``; otherwise raise the matching error.

    The message names the operation, the registry and target, the status and the registry's
    error code and message, e.g. ``GET manifest 127.0.0.1:5000/app:1.0: 404 MANIFEST_UNKNOWN:
    manifest unknown``.
    """
    status = resp.status_code
    if status in ok:
        return resp
    details = registry_errors(resp) if resp.request.method != "HEAD" else ()
    if not details and status == 404 and resp.request.method == "HEAD":
        # A HEAD answer has no body; the spec gives 404 on these endpoints one meaning.
        for word, code in (("manifest", "MANIFEST_UNKNOWN"), ("blob", "BLOB_UNKNOWN")):
            if word in operation.lower():
                details = (RegistryErrorDetail(code, f"{word} unknown"),)
    resp.close()
    codes = "; ".join(f"{d.code}: {d.message}" if d.message else d.code for d in details)
    message = f"{operation} {registry}/{target}: {status}" + (f" {codes}" if codes else "")
    kwargs: dict[str, Any] = {
        "status": status,
        "errors": details,
        "operation": operation,
        "registry": registry,
    }
    first = details[0].code if details else ""
    if status == 404 or first.endswith("_UNKNOWN"):
        raise NotFoundError(message, **kwargs)
    if status == 401:
        ch = pick_challenge(resp.headers.get("WWW-Authenticate"))
        if ch is not None and ch.error == "insufficient_scope":
            raise DeniedError(message + " (insufficient scope)", **kwargs)
        sent = "Authorization" in (resp.request.headers if resp.request else {})
        raise AuthenticationError(
            message + (" (credentials refused)" if sent else " (authentication required)")
        )
    if status == 403 or first == "DENIED":
        raise DeniedError(message, **kwargs)
    if status == 405 or first == "UNSUPPORTED":
        raise UnsupportedError(message, **kwargs)
    if status == 429 or first == "TOOMANYREQUESTS":
        raise TooManyRequestsError(message, retry_after=retry_after(resp), **kwargs)
    raise RegistryError(message, **kwargs)


def retry_after(resp: requests.Response) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (seconds or an HTTP date), or None."""
    value = resp.headers.get("Retry-After")
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def is_transient(exc: TransportError) -> bool:
    """Whether trying again may help: a lost or timed-out connection, not a refused redirect,
    an untrusted certificate or a malformed URL."""
    cause = exc.__cause__
    if isinstance(cause, requests.exceptions.SSLError):
        return False
    return isinstance(cause, requests.ConnectionError | requests.Timeout)


def describe_request_error(exc: Exception) -> str:
    """A short, secret-free description of a requests exception, for a TransportError."""
    if isinstance(exc, requests.exceptions.SSLError):
        return "TLS error (certificate not trusted? pass ca_cert, or name the registry insecure)"
    if isinstance(exc, requests.exceptions.ConnectTimeout):
        return "connection timed out"
    if isinstance(exc, requests.exceptions.ReadTimeout):
        return "read timed out"
    if isinstance(exc, requests.exceptions.ConnectionError):
        return "connection failed"
    return type(exc).__name__
