"""The wire layer under the transport: HTTP/1.1 over pooled ``http.client`` connections.

A registry command needs one request, or a few, in a process that should start fast:
``http.client`` is imported in a fifth of the time requests and urllib3 take, and ``ssl`` only
when a TLS connection is made. The API keeps requests' names (``Session.request``,
``status_code``, ``iter_content``, ``ConnectionError``...), so a caller's own
``requests.Session`` can still be handed to :class:`~ocireg.Client` and used as is.
"""

from __future__ import annotations

from .errors import (
    ConnectionError,
    ConnectTimeout,
    ContentDecodingError,
    InvalidHeader,
    InvalidURL,
    ProxyError,
    ReadTimeout,
    RequestException,
    SSLError,
    Timeout,
)
from .response import Body, Headers, Response
from .session import Session

__all__ = [
    "Body",
    "ConnectTimeout",
    "ConnectionError",
    "ContentDecodingError",
    "Headers",
    "InvalidHeader",
    "InvalidURL",
    "ProxyError",
    "ReadTimeout",
    "RequestException",
    "Response",
    "SSLError",
    "Session",
    "Timeout",
]
