"""What the wire layer raises. The names and the tree follow requests' (``ConnectionError``,
``Timeout``, ``SSLError``...) so that code and users who know those read these the same way.

No message here ever holds a header value or a URL's query: the transport chains these
into its :class:`~ocireg.errors.TransportError` as they are.
"""

from __future__ import annotations

__all__ = [
    "ConnectTimeout",
    "ConnectionError",
    "ContentDecodingError",
    "InvalidHeader",
    "InvalidURL",
    "ProxyError",
    "ReadTimeout",
    "RequestException",
    "SSLError",
    "Timeout",
]


class RequestException(OSError):
    """Something went wrong sending a request or receiving its response."""


class ConnectionError(RequestException):
    """The connection could not be made, or broke before the response's headers came."""


class ProxyError(ConnectionError):
    """The proxy refused or failed the tunnel."""


class SSLError(ConnectionError):
    """The TLS handshake failed (an untrusted or mismatched certificate, among others)."""


class Timeout(RequestException):
    """A connect or a read took longer than its timeout."""


class ConnectTimeout(ConnectionError, Timeout):
    """The connection (and its TLS handshake) was not made in time."""


class ReadTimeout(Timeout):
    """The server said nothing for the read timeout, or took longer than it for the headers."""


class InvalidURL(RequestException, ValueError):
    """A URL the wire layer cannot send to (no host, an unknown scheme)."""


class InvalidHeader(RequestException, ValueError):
    """A header name or value that cannot be sent (the value is never quoted)."""


class ContentDecodingError(RequestException):
    """A body sent gzip- or deflate-encoded that does not decode."""
