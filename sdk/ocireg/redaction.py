"""Redaction: URLs and headers with their secrets replaced by ``***``, for logs and messages.

Whatever ocireg logs or puts in an exception message passes through here first: userinfo in a
URL, secret-looking query values (signed redirect URLs carry ``sig``/``token``), and the
values of credential headers (the scheme, ``Basic`` or ``Bearer``, is kept: it helps debugging
and is no secret).
"""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

__all__ = ["SECRET_HEADERS", "SECRET_QUERY", "redact_headers", "redact_url"]

#: Query parameter names (lower-cased) whose values are secrets.
SECRET_QUERY = frozenset(
    {"access_token", "token", "refresh_token", "password", "auth", "sig", "signature"}
)
#: Header names (lower-cased) whose values are secrets.
SECRET_HEADERS = frozenset(
    {
        "authorization",
        "proxy-authorization",
        "cookie",
        "set-cookie",
        "x-registry-auth",
    }
)


def redact_url(url: str) -> str:
    """The URL with userinfo and secret-looking query values replaced by ``***``."""
    parts = urlsplit(url)
    netloc = parts.netloc
    if "@" in netloc:
        netloc = "***@" + netloc.rsplit("@", 1)[1]
    query = parts.query
    if query:
        pairs = parse_qsl(query, keep_blank_values=True)
        if any(k.lower() in SECRET_QUERY for k, _ in pairs):
            query = urlencode(
                [(k, "***" if k.lower() in SECRET_QUERY else v) for k, v in pairs], safe="*:/"
            )
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))


def redact_headers(headers: Mapping[str, str]) -> dict[str, str]:
    out = {}
    for name, value in headers.items():
        if name.lower() in SECRET_HEADERS:
            scheme = value.split(" ", 1)[0] if " " in value else ""
            out[name] = f"{scheme} ***".strip()
        else:
            out[name] = value
    return out
