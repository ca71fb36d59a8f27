"""A tiny hostile HTTP server on 127.0.0.1, one handler function per test.

``Hostile(handler)`` runs a ``ThreadingHTTPServer`` whose every request (any method) calls
``handler(req)``; ``req`` is the ``BaseHTTPRequestHandler`` (``req.command``, ``req.path``,
``req.headers``, ``req.body()``, ``req.send(...)``). Requests are logged in ``server.log`` as
``(method, path, headers, body)``. ``stop`` is set when the test ends: loops in handlers
must check it (``server.stopping.is_set()``) and be bounded anyway.
"""

from __future__ import annotations

import contextlib
import json
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from ocireg.auth.token import TokenCache
from ocireg.client import Client

Handler = Callable[["Request"], None]


class Request(BaseHTTPRequestHandler):
    server: Hostile
    protocol_version = "HTTP/1.1"

    def log_message(self, *args: Any) -> None:  # quiet
        pass

    def body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(min(length, 1 << 20)) if length else b""

    def send(self, status: int, body: bytes = b"", headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if body and self.command != "HEAD":
            self.wfile.write(body)

    def send_json(self, obj: Any, status: int = 200, headers: dict[str, str] | None = None) -> None:
        self.send(
            status,
            json.dumps(obj).encode(),
            {"Content-Type": "application/json", **(headers or {})},
        )

    def _any(self) -> None:
        raw = self.body()
        with self.server.lock:
            self.server.log.append((self.command, self.path, dict(self.headers), raw))
        self.raw_body = raw
        # The client giving up on us (a refused body, a slow sender cut off) is expected.
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            self.server.handler(self)

    do_GET = do_POST = do_PUT = do_HEAD = do_PATCH = do_DELETE = _any


class Hostile(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, handler: Handler) -> None:
        super().__init__(("127.0.0.1", 0), Request)
        self.handler = handler
        self.lock = threading.Lock()
        self.log: list[tuple[str, str, dict[str, str], bytes]] = []
        self.stopping = threading.Event()

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self.server_address[1]}"

    @property
    def url(self) -> str:
        return f"http://{self.host}"

    def everything_received(self) -> str:
        """Every byte any request brought (headers and bodies), as text, for secret hunts."""
        with self.lock:
            return "\n".join(
                f"{m} {p} {h!r} {b!r} {b.decode('utf-8', 'replace')}" for m, p, h, b in self.log
            )


@contextmanager
def hostile(handler: Handler) -> Iterator[Hostile]:
    server = Hostile(handler)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.stopping.set()
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def client_for(server: Hostile, *, ping: bool = True, **options: Any) -> Client:
    """A client for ``server`` over plain http, with its own token cache and a fast rate
    check (1 KiB/s over 1 s) so slow-sender tests end quickly."""
    client = Client(load_entrypoints=False, **options)
    client.transport.tokens = TokenCache()
    client.transport.speed_time = 1.0
    if ping:
        client.transport.state(server.host, "http")
    return client


def chain(exc: BaseException | None) -> Iterator[BaseException]:
    """``exc`` and everything in its ``__cause__``/``__context__`` chains."""
    seen: set[int] = set()
    stack = [exc]
    while stack:
        e = stack.pop()
        if e is None or id(e) in seen:
            continue
        seen.add(id(e))
        yield e
        stack.extend([e.__cause__, e.__context__])


def assert_no_secret(exc: BaseException, *secrets: str) -> None:
    """No secret in the message, repr, args or any link of the exception chain."""
    import traceback

    for e in chain(exc):
        text = f"{e}\n{e!r}\n{e.args!r}\n" + "".join(traceback.format_exception(e, chain=False))
        for secret in secrets:
            assert secret not in text, f"secret in {type(e).__name__}: {text[:300]}"
