"""Connections: made through ``http.client`` (plain, TLS, or through an http proxy, tunnelled
with ``CONNECT`` for https), kept in a pool per origin while idle, checked before reuse, and
given a watchdog on the time their response headers take.

``ssl`` is imported, and a CA bundle loaded, only when a TLS connection is made.
"""

from __future__ import annotations

import base64
import contextlib
import http.client
import os
import select
import socket
import threading
from collections.abc import Hashable
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlsplit

from .errors import InvalidURL, ReadTimeout
from .watchdog import WATCHDOG

if TYPE_CHECKING:
    import ssl

__all__ = [
    "BLOCKSIZE",
    "ConnectionPool",
    "Origin",
    "headers_in_time",
    "proxy_headers",
    "tunnel_failed",
]

#: How much a request body is read (and sent) at a time; http.client's default is 8 KiB.
BLOCKSIZE = 1024 * 1024

#: (scheme, host, port, proxy, verify, cert): connections with one key are interchangeable.
Origin = tuple[str, str, int, str | None, bool | str, Hashable]


def proxy_headers(proxy: str) -> dict[str, str]:
    """``Proxy-Authorization`` for the user and password written in a proxy URL."""
    parts = urlsplit(proxy)
    if parts.username is None:
        return {}
    pair = f"{unquote(parts.username)}:{unquote(parts.password or '')}".encode()
    return {"Proxy-Authorization": "Basic " + base64.b64encode(pair).decode("ascii")}


def _proxy_address(proxy: str) -> tuple[str, int]:
    parts = urlsplit(proxy if "://" in proxy else "http://" + proxy)
    if parts.scheme != "http" or not parts.hostname:
        # https and socks proxies need a TLS or SOCKS hop http.client does not make.
        raise InvalidURL(f"unsupported proxy scheme {parts.scheme!r} (use an http:// proxy)")
    return parts.hostname, parts.port or 80


def _tls_context(verify: bool | str, cert: Hashable) -> ssl.SSLContext:
    import ssl

    if verify is False:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
    elif isinstance(verify, str):
        if os.path.isdir(verify):
            ctx = ssl.create_default_context(capath=verify)
        else:
            ctx = ssl.create_default_context(cafile=verify)
    else:
        ctx = ssl.create_default_context()
        paths = ssl.get_default_verify_paths()
        if not (paths.cafile or (paths.capath and os.listdir(paths.capath))):
            with contextlib.suppress(ImportError):  # no system store: certifi's, if installed
                import certifi  # type: ignore[import-not-found, unused-ignore]

                ctx.load_verify_locations(cafile=certifi.where())
    if isinstance(cert, tuple):
        ctx.load_cert_chain(cert[0], cert[1])
    elif isinstance(cert, str):
        ctx.load_cert_chain(cert)
    return ctx


def _dropped(conn: http.client.HTTPConnection) -> bool:
    """Whether an idle connection was closed by the server (readable means EOF or junk)."""
    sock = conn.sock
    if sock is None:
        return False  # http.client opens it again on the next request
    try:
        if hasattr(select, "poll"):  # select() fails on descriptors over 1023
            poller = select.poll()
            poller.register(sock, select.POLLIN)
            return bool(poller.poll(0))
        return bool(select.select([sock], [], [], 0)[0])
    except (OSError, ValueError):
        return True


class ConnectionPool:
    """Idle connections per :data:`Origin`, at most ``maxsize`` each (the most recent
    first), and one TLS context per (verify, cert)."""

    def __init__(self, maxsize: int = 16) -> None:
        self.maxsize = maxsize
        self._idle: dict[Origin, list[http.client.HTTPConnection]] = {}
        self._contexts: dict[tuple[bool | str, Hashable], ssl.SSLContext] = {}
        self._lock = threading.Lock()

    def take(self, key: Origin, timeout: float | None) -> tuple[http.client.HTTPConnection, bool]:
        """An idle connection for ``key`` (and True), or a new one, not yet connected."""
        with self._lock:
            idle = self._idle.get(key)
            while idle:
                conn = idle.pop()
                if not _dropped(conn):
                    conn.timeout = timeout
                    return conn, True
                conn.close()
        return self._make(key, timeout), False

    def give_back(self, key: Origin, conn: http.client.HTTPConnection) -> None:
        with self._lock:
            idle = self._idle.setdefault(key, [])
            if len(idle) < self.maxsize:
                idle.append(conn)
                return
        conn.close()

    def close(self) -> None:
        with self._lock:
            conns = [c for idle in self._idle.values() for c in idle]
            self._idle.clear()
        for conn in conns:
            conn.close()

    def _make(self, key: Origin, timeout: float | None) -> http.client.HTTPConnection:
        scheme, host, port, proxy, verify, cert = key
        # Looked up on the module at each call: vcrpy replaces these classes to record.
        if scheme == "https":
            with self._lock:
                ctx = self._contexts.get((verify, cert))
                if ctx is None:
                    ctx = self._contexts[(verify, cert)] = _tls_context(verify, cert)
            if proxy is None:
                return http.client.HTTPSConnection(
                    host, port, timeout=timeout, context=ctx, blocksize=BLOCKSIZE
                )
            phost, pport = _proxy_address(proxy)
            conn = http.client.HTTPSConnection(
                phost, pport, timeout=timeout, context=ctx, blocksize=BLOCKSIZE
            )
            conn.set_tunnel(host, port, headers=proxy_headers(proxy))
            return conn
        if proxy is None:
            return http.client.HTTPConnection(host, port, timeout=timeout, blocksize=BLOCKSIZE)
        phost, pport = _proxy_address(proxy)
        return http.client.HTTPConnection(phost, pport, timeout=timeout, blocksize=BLOCKSIZE)


def headers_in_time(conn: http.client.HTTPConnection, limit: float | None) -> Any:
    """``conn.getresponse()``, the headers complete within ``limit`` seconds as a whole.

    A per-read timeout bounds silence, not a trickle: a server sending its headers a byte a
    second never lets a read time out (and the body's rate check starts only with the body).
    When ``limit`` passes, the socket is shut down and :class:`ReadTimeout` raised.
    """
    sock = conn.sock
    if not limit or sock is None:
        return conn.getresponse()
    lock = threading.Lock()
    state = {"done": False, "cut": False}

    def cut() -> None:
        with lock:
            if state["done"]:
                return
            state["cut"] = True
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)

    timer = WATCHDOG.watch(limit, cut)
    message = f"response headers not complete within {limit:g} s"
    try:
        response = conn.getresponse()
    except Exception:
        if state["cut"]:
            raise ReadTimeout(message) from None
        raise
    finally:
        with lock:
            state["done"] = True
        WATCHDOG.cancel(timer)
    if state["cut"]:  # http.client may take the cut for the end of the headers
        response.close()
        raise ReadTimeout(message)
    return response


def tunnel_failed(exc: OSError) -> bool:
    """Whether ``exc`` is http.client's report of a refused ``CONNECT``."""
    return str(exc).startswith("Tunnel connection failed")
