"""Redaction: URLs and headers with their secrets replaced by ``***``, for logs and messages.

Whatever ocireg logs or puts in an exception message passes through here first: userinfo in a
URL, secret-looking query values, and the values of credential headers (the scheme, ``Basic``
or ``Bearer``, is kept: it helps debugging and is no secret).

Blob GETs are commonly redirected to presigned storage URLs whose query *is* the credential:
S3 (``X-Amz-Signature``, ``X-Amz-Credential``, ``X-Amz-Security-Token``), Google Cloud
Storage (``X-Goog-Signature``, ``X-Goog-Credential``, ``GoogleAccessId``, ``Signature``),
Azure SAS (``sig``, and ``se``/``st``/``skoid``...), CloudFront (``Signature``, ``Policy``,
``Key-Pair-Id``), Cloudflare R2/Workers (``verify``), and Aliyun OSS. Names are compared
case-insensitively.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

__all__ = ["SECRET_HEADERS", "SECRET_QUERY", "URL_HEADERS", "redact_headers", "redact_url"]

#: Query parameter names (lower-cased) whose values are secrets.
SECRET_QUERY = frozenset(
    {
        "access_token",
        "token",
        "refresh_token",
        "id_token",
        "password",
        "passwd",
        "secret",
        "client_secret",
        "auth",
        "api_key",
        "apikey",
        "key",
        "code",
        "sig",
        "signature",
        "policy",
        "key-pair-id",
        "x-amz-signature",
        "x-amz-credential",
        "x-amz-security-token",
        "x-goog-signature",
        "x-goog-credential",
        "googleaccessid",
        "x-oss-signature",
        "x-oss-credential",
        "x-oss-security-token",
        "ossaccesskeyid",
        "se",
        "st",
        "skoid",
        "sktid",
        "sks",
        "skv",
        "skt",
        "ske",
        "verify",
    }
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
    try:
        parts = urlsplit(url)
    except ValueError:  # malformed (a bad IPv6 literal): keep only what precedes the query
        return url.split("?", 1)[0].split("#", 1)[0] + ("?***" if "?" in url else "")
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


#: Headers whose value is a URL (``Link``: URLs in ``<...>``), redacted with :func:`redact_url`:
#: a blob GET's ``Location`` is often a presigned storage URL.
URL_HEADERS = frozenset({"location", "content-location", "referer", "link"})
_LINK_URL = re.compile(r"<([^>]*)>")


def redact_headers(headers: Mapping[str, str]) -> dict[str, str]:
    """Credential header values replaced by ``***`` (keeping the scheme); the secret query
    values of URL-valued headers (``Location``, ``Link``...) too."""
    out = {}
    for name, value in headers.items():
        lower = name.lower()
        if lower in SECRET_HEADERS:
            scheme = value.split(" ", 1)[0] if " " in value else ""
            out[name] = f"{scheme} ***".strip()
        elif lower == "link":
            out[name] = _LINK_URL.sub(lambda m: f"<{redact_url(m.group(1))}>", value)
        elif lower in URL_HEADERS:
            out[name] = redact_url(value)
        else:
            out[name] = value
    return out
