"""Error mapping: registry responses and session exceptions to :mod:`ocireg.errors`.

:func:`raise_for_status` turns an error status, with the registry's ``{"errors": [...]}`` body
(distribution spec, "Error Codes"), into the matching exception of the tree in
:mod:`ocireg.errors`; :func:`registry_errors` reads that body, bounded in size since it comes
from an untrusted server. :func:`describe_request_error` and :func:`is_transient` say what a
failed connection was, and whether trying again may help. :func:`note_response` attaches a
remark (why the transport stopped retrying) that :func:`raise_for_status` adds to its message,
and :func:`observe` logs a registry's ``Warning`` headers and keeps its rate-limit headers.
"""

from __future__ import annotations

import email.utils
import json
import logging
import re
import socket
import ssl
import sys
import time
import weakref
from collections.abc import Callable, Iterable
from typing import Any

from . import wire
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
from .limits import SMALL_BODY_LIMIT, read_bounded

__all__ = [
    "connection_failures",
    "describe_request_error",
    "exception_chain",
    "is_transient",
    "note_response",
    "observe",
    "raise_for_status",
    "registry_errors",
    "request_error_kind",
    "request_failures",
    "retry_after",
    "transport_error",
]

log = logging.getLogger("ocireg.http")
warn_log = logging.getLogger("ocireg")
#: ``Warning: 299 <agent> "<text>"`` (RFC 7234 section 5.5); several may share one header.
_WARNING = re.compile(r'(?:^|,)\s*299\s+\S+\s+"((?:[^"\\]|\\.)*)"')
_NOTES: weakref.WeakKeyDictionary[wire.Response, str] = weakref.WeakKeyDictionary()


def note_response(resp: wire.Response, remark: str) -> None:
    """Attach ``remark`` to ``resp``; :func:`raise_for_status` appends it to its message."""
    _NOTES[resp] = remark


def registry_errors(resp: wire.Response) -> tuple[RegistryErrorDetail, ...]:
    """The ``{"errors": [...]}`` list of an error response, tolerating anything else. At most
    64 KiB of the body is read (decoded), through the transport's rate guard."""
    try:
        raw = read_bounded(resp, SMALL_BODY_LIMIT, "error body", truncate=True)
        body = json.loads(raw)
    except (ValueError, RecursionError, OSError, TransportError):
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
    resp: wire.Response,
    *,
    operation: str,
    registry: str,
    target: str,
    ok: Iterable[int] = (200,),
) -> wire.Response:
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
    remark = _NOTES.get(resp)
    if remark:
        message += f" {remark}"
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
            message + (" (credentials refused)" if sent else " (authentication required)"),
            status=401,
            code=first or "UNAUTHORIZED",
        )
    if status == 403 or first == "DENIED":
        raise DeniedError(message, **kwargs)
    if status == 405 or first == "UNSUPPORTED":
        raise UnsupportedError(message, **kwargs)
    if status == 429 or first == "TOOMANYREQUESTS":
        raise TooManyRequestsError(message, retry_after=retry_after(resp), **kwargs)
    raise RegistryError(message, **kwargs)


def retry_after(resp: wire.Response) -> float | None:
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
    if cause is None or type(cause).__name__ == "SSLError":
        return False
    return isinstance(cause, connection_failures())


def _requests_exceptions() -> Any:
    """requests' exceptions module when requests is loaded (a caller gave the Client a
    ``requests.Session``), else None: ocireg never imports requests itself."""
    module = sys.modules.get("requests")
    return getattr(module, "exceptions", None)


def connection_failures() -> tuple[type[Exception], ...]:
    """What a session raises when a connection fails or times out: the wire layer's, and
    requests' when a caller's ``requests.Session`` is in use."""
    found: tuple[type[Exception], ...] = (wire.ConnectionError, wire.Timeout)
    exceptions = _requests_exceptions()
    if exceptions is not None:
        found += (exceptions.ConnectionError, exceptions.Timeout)
    return found


def request_failures() -> tuple[type[Exception], ...]:
    """Every other failure to send a request: a URL or header that cannot be sent (whose
    message may quote a secret) and the like."""
    found: tuple[type[Exception], ...] = (wire.RequestException, ValueError, UnicodeError)
    exceptions = _requests_exceptions()
    if exceptions is not None:
        found += (exceptions.RequestException,)
    return found


def _is_timeout(exc: BaseException) -> bool:
    if isinstance(exc, TimeoutError | wire.Timeout):
        return True
    exceptions = _requests_exceptions()
    return exceptions is not None and isinstance(exc, exceptions.Timeout)


def exception_chain(exc: BaseException) -> list[BaseException]:
    """``exc`` and every exception behind it: causes, contexts, urllib3's ``reason`` and
    exceptions passed as arguments (requests wraps urllib3's MaxRetryError in ``args``)."""
    seen: set[int] = set()
    stack: list[object] = [exc]
    out: list[BaseException] = []
    while stack:
        item = stack.pop()
        if not isinstance(item, BaseException) or id(item) in seen:
            continue
        seen.add(id(item))
        out.append(item)
        stack.extend([item.__cause__, item.__context__, getattr(item, "reason", None)])
        stack.extend(item.args)
    return out


#: Each kind and what in an exception chain tells it, in the order they are looked for.
_KIND_OF: tuple[tuple[str, Callable[[BaseException], bool]], ...] = (
    ("tls", lambda e: isinstance(e, ssl.SSLError) or type(e).__name__ == "SSLError"),
    ("refused", lambda e: isinstance(e, ConnectionRefusedError)),
    ("dns", lambda e: isinstance(e, socket.gaierror) or type(e).__name__ == "NameResolutionError"),
    ("timeout", _is_timeout),
)


def request_error_kind(exc: BaseException) -> str:
    """:attr:`~ocireg.errors.TransportError.kind` of a requests exception: ``tls``,
    ``refused``, ``dns``, ``timeout`` or ``connection`` (looked for along its causes)."""
    chain = exception_chain(exc)
    for kind, tells in _KIND_OF:
        if any(tells(item) for item in chain):
            return kind
    return "connection"


_KIND_TEXT = {
    "tls": "TLS error: the registry's certificate is not trusted or does not match its name"
    " (give the CA bundle that signed it, or name the registry insecure)",
    "refused": "connection refused (nothing listens there: wrong host or port, or it is down)",
    "dns": "DNS lookup failed (the registry host name does not resolve)",
}


def transport_error(what: str, exc: Exception) -> TransportError:
    """``TransportError("<what> failed: <description>", kind=...)`` for a requests
    session exception (raise it ``from exc``: their messages hold no secret here)."""
    kind = request_error_kind(exc)
    return TransportError(f"{what} failed: {describe_request_error(exc, kind)}", kind=kind)


def describe_request_error(exc: Exception, kind: str | None = None) -> str:
    """A short, secret-free description of a requests exception (of ``kind``, found from
    it when not given), for a TransportError."""
    kind = kind or request_error_kind(exc)
    if kind in _KIND_TEXT:
        return _KIND_TEXT[kind]
    name = type(exc).__name__  # requests' exceptions and the wire layer's share names
    if name == "ConnectTimeout":
        return "connection timed out"
    if name == "ReadTimeout":
        return "read timed out"
    if isinstance(exc, connection_failures()):
        return "connection failed"
    return name


def observe(
    registry: str,
    resp: wire.Response,
    warned: set[str],
    rate_limits: dict[str, dict[str, str]],
) -> None:
    """Log each distinct ``Warning: 299`` text once (``warned`` remembers them) and keep the
    Docker Hub style ``RateLimit-*`` headers in ``rate_limits[registry]``."""
    headers = resp.headers
    warning = headers.get("Warning")
    if warning:
        for match in _WARNING.finditer(warning[:SMALL_BODY_LIMIT]):
            text = re.sub(r"\\(.)", r"\1", match.group(1))
            if text not in warned and len(warned) < 100:
                warned.add(text)
                warn_log.warning("registry %s: %s", registry, text)
    # One look at all the names first: most responses have no rate-limit headers.
    if "ratelimit-" not in " ".join(headers).lower():
        return
    limits = {k: v for k, v in headers.items() if k.lower().startswith("ratelimit-")}
    if limits:
        rate_limits[registry] = limits
        log.debug("rate limit at %s: %s", registry, limits)
