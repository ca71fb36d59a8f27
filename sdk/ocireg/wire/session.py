"""The wire layer's session: one request out, one response back, over pooled ``http.client``
connections. It never follows a redirect, never reads ``~/.netrc`` and never looks at the
environment (the transport decides about redirects, credentials and proxies).

Errors: every failure is one of :mod:`ocireg.wire.errors`, chained to the ``OSError`` behind
it (whose message names an address, never a header), except a header or URL that cannot be
sent, which is reported with no chain and no quote (the value may be a secret).
"""

from __future__ import annotations

import http.client
import io
import json as jsonlib
import os
import socket
import sys
from collections.abc import Hashable, Iterable, Mapping
from typing import Any
from urllib.parse import urlencode, urlsplit

from .connections import ConnectionPool, Origin, headers_in_time, proxy_headers, tunnel_failed
from .errors import (
    ConnectionError,
    ConnectTimeout,
    InvalidHeader,
    InvalidURL,
    ProxyError,
    ReadTimeout,
    RequestException,
    SSLError,
)
from .response import Body, Headers, Response, SentRequest

__all__ = ["DEFAULT_HEADERS", "Session", "body_length"]

#: Sent unless the caller names its own.
DEFAULT_HEADERS = {"Accept": "*/*", "Accept-Encoding": "gzip, deflate"}
_PORTS = {"http": 80, "https": 443}
#: Methods sent again, once, when a reused connection turns out closed before any answer.
_IDEMPOTENT = frozenset({"GET", "HEAD", "PUT", "DELETE", "OPTIONS"})
_STALE = (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError)

Timeout = float | tuple[float | None, float | None] | None


def body_length(data: Any) -> int | None:
    """The bytes left in a request body, when they can be known without reading it."""
    if hasattr(data, "__len__"):  # bytes, and bodies that say their size
        return len(data)
    fileno = getattr(data, "fileno", None)
    tell = getattr(data, "tell", None)
    try:
        if fileno is not None and tell is not None:
            return max(0, os.fstat(fileno()).st_size - int(tell()))
    except (OSError, io.UnsupportedOperation):
        pass
    seek = getattr(data, "seek", None)
    if seek is not None and tell is not None:
        try:
            here = tell()
            end = seek(0, io.SEEK_END)
            seek(here)
            return max(0, int(end) - int(here))
        except (OSError, io.UnsupportedOperation, TypeError, ValueError):
            return None
    return None


def _pick_proxy(proxies: Mapping[str, str] | None, scheme: str, host: str) -> str | None:
    """The proxy requests would choose from ``proxies`` (most specific key first)."""
    if not proxies:
        return None
    for key in (f"{scheme}://{host}", scheme, f"all://{host}", "all"):
        if proxies.get(key):
            return proxies[key]
    return None


def _split_timeout(timeout: Timeout) -> tuple[float | None, float | None]:
    if isinstance(timeout, tuple):
        return timeout[0], timeout[1]
    return timeout, timeout


def _is_ssl_error(exc: BaseException) -> bool:
    ssl = sys.modules.get("ssl")
    return ssl is not None and isinstance(exc, ssl.SSLError)


class Session:
    """Pooled connections and the defaults every request starts from (requests' names:
    ``headers``, ``verify``, ``cert``; ``trust_env`` is always False)."""

    trust_env = False

    def __init__(self, *, pool_size: int = 16) -> None:
        self.headers = Headers(DEFAULT_HEADERS)
        self.verify: bool | str = True
        self.cert: str | tuple[str, str] | None = None
        self._pool = ConnectionPool(pool_size)

    def close(self) -> None:
        """Close every idle connection (those in use close when their response does)."""
        self._pool.close()

    def __enter__(self) -> Session:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def request(
        self,
        method: str,
        url: str,
        *,
        params: Mapping[str, str] | None = None,
        headers: Mapping[str, str | None] | None = None,
        data: Any = None,
        json: Any = None,
        stream: bool = False,
        timeout: Timeout = None,
        allow_redirects: bool = False,
        proxies: Mapping[str, str] | None = None,
        verify: bool | str | None = None,
        cert: str | tuple[str, str] | None = None,
    ) -> Response:
        """Send ``method`` to ``url``; the response, whatever its status (redirects are the
        caller's: ``allow_redirects`` is accepted for requests' callers and ignored).

        ``stream=False`` reads the whole body now (unbounded: the transport streams and
        bounds it itself); ``timeout`` is one number or (connect, read)."""
        parts = urlsplit(url)
        scheme = parts.scheme.lower()
        if scheme not in _PORTS or not parts.hostname:
            raise InvalidURL(f"cannot send a request to a {scheme or 'relative'} URL")
        try:
            port = parts.port or _PORTS[scheme]
        except ValueError:
            raise InvalidURL("the URL's port is not a number from 0 to 65535") from None
        host = parts.hostname
        if params:
            url = f"{url}{'&' if parts.query else '?'}{urlencode(params)}"
            parts = urlsplit(url)
        proxy = _pick_proxy(proxies, scheme, host)
        hdrs = Headers(self.headers)
        for name, value in (headers or {}).items():
            if value is None:  # requests' way to drop a session default
                hdrs.pop(name, None)
            else:
                hdrs[name] = value
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        if proxy is not None and scheme == "http":
            target = f"http://{parts.netloc}{target}"  # absolute form, to the proxy
            hdrs.update({k: v for k, v in proxy_headers(proxy).items() if k not in hdrs})
        body, chunked = self._body(data, json, hdrs)
        if scheme == "https":
            verify = self.verify if verify is None else verify
            cert = self.cert if cert is None else cert
            key: Origin = (scheme, host, port, proxy, verify, _hashable(cert))
        else:
            key = (scheme, host, port, proxy, True, None)
        connect_t, read_t = _split_timeout(timeout)
        replayable = body is None or isinstance(body, bytes)
        for attempt in (0, 1):
            conn, reused = self._pool.take(key, connect_t)
            try:
                resp = self._exchange(conn, method, target, body, hdrs, chunked, read_t)
            except _STALE as exc:
                conn.close()
                if reused and attempt == 0 and replayable and method in _IDEMPOTENT:
                    continue  # the server closed it while idle: a new connection, once
                raise ConnectionError(f"connection broken ({type(exc).__name__})") from exc
            except BaseException:
                conn.close()
                raise
            break
        return self._response(key, conn, resp, method, url, hdrs, stream)

    def _exchange(
        self,
        conn: http.client.HTTPConnection,
        method: str,
        target: str,
        body: Any,
        hdrs: Headers,
        chunked: bool,
        read_t: float | None,
    ) -> Any:
        if conn.sock is None:
            _connect(conn)
        if conn.sock is not None:
            conn.sock.settimeout(read_t)
        broken: str | None = None
        try:
            conn.request(method, target, body=body, headers=hdrs, encode_chunked=chunked)
            return headers_in_time(conn, read_t)
        except _STALE:
            raise
        except RequestException:
            raise
        except TimeoutError as exc:
            raise ReadTimeout("read timed out") from exc
        except http.client.HTTPException as exc:
            # Its message may quote what the server sent: the type name says enough.
            broken = f"connection broken ({type(exc).__name__})"
        except (ValueError, UnicodeError):
            # http.client quotes the bad value, which may be a secret: raised below, out of
            # this block, so that not even __context__ holds it.
            broken = ""
        except OSError as exc:
            if _is_ssl_error(exc):
                raise SSLError(f"TLS error: {exc}") from exc
            raise ConnectionError(f"connection failed: {exc}") from exc
        if broken:
            raise ConnectionError(broken)
        raise InvalidHeader("a header name or value, or the URL, cannot be sent")

    def _response(
        self,
        key: Origin,
        conn: http.client.HTTPConnection,
        resp: Any,
        method: str,
        url: str,
        hdrs: Headers,
        stream: bool,
    ) -> Response:
        pool = self._pool

        def release(reusable: bool) -> None:
            if reusable:
                pool.give_back(key, conn)
            else:
                conn.close()

        headers = Headers(resp.getheaders())
        raw = Body(resp, headers.get("Content-Encoding"), release, conn.sock)
        response = Response(resp.status, resp.reason, headers, raw, SentRequest(method, url, hdrs))
        if not stream:
            try:
                _ = response.content
            except RequestException:
                raise
            except TimeoutError as exc:
                raise ReadTimeout("read timed out") from exc
            except (http.client.HTTPException, OSError) as exc:
                raise ConnectionError(f"connection broken ({type(exc).__name__})") from exc
        return response

    def _body(self, data: Any, json: Any, hdrs: Headers) -> tuple[Any, bool]:
        """The body to hand to http.client, and whether to send it chunked; sets
        ``Content-Type`` for JSON and forms and ``Content-Length`` when it can be known."""
        if json is not None and data is None:
            data = jsonlib.dumps(json).encode()
            hdrs.setdefault("Content-Type", "application/json")
        if isinstance(data, Mapping) or (isinstance(data, list) and data):
            data = urlencode(list(data.items()) if isinstance(data, Mapping) else data).encode()
            hdrs.setdefault("Content-Type", "application/x-www-form-urlencoded")
        elif isinstance(data, str):
            data = data.encode()
        elif isinstance(data, bytearray | memoryview):
            data = bytes(data)
        if data is None or isinstance(data, bytes):
            return data, False
        if "Content-Length" in hdrs or "Transfer-Encoding" in hdrs:
            return data, "chunked" in hdrs.get("Transfer-Encoding", "").lower()
        length = body_length(data)
        if length is not None:
            hdrs["Content-Length"] = str(length)
            return data, False
        if not hasattr(data, "read") and not isinstance(data, Iterable):
            raise InvalidHeader(f"cannot send a body of type {type(data).__name__}")
        hdrs["Transfer-Encoding"] = "chunked"
        return data, True


def _hashable(cert: str | tuple[str, str] | None) -> Hashable:
    return tuple(cert) if isinstance(cert, list) else cert


def _connect(conn: http.client.HTTPConnection) -> None:
    """Open ``conn`` (TCP, the proxy's tunnel, TLS), its errors told apart."""
    try:
        conn.connect()
    except TimeoutError as exc:
        raise ConnectTimeout(f"connection to {conn.host}:{conn.port} timed out") from exc
    except OSError as exc:
        if _is_ssl_error(exc):
            raise SSLError(f"TLS error: {exc}") from exc
        if tunnel_failed(exc):
            raise ProxyError(f"the proxy refused the tunnel ({exc})") from exc
        if isinstance(exc, socket.gaierror):
            raise ConnectionError(f"cannot resolve {conn.host}: {exc}") from exc
        raise ConnectionError(f"cannot connect to {conn.host}:{conn.port}: {exc}") from exc
