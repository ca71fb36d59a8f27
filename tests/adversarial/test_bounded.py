"""Attacks 7-10: endless and huge bodies, gzip bombs, endless pages, slow senders, long
Retry-After. Every server loop is bounded; memory is measured with tracemalloc."""

from __future__ import annotations

import json
import time
import tracemalloc
import zlib
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from ocireg import OciregError, RegistryError, TooManyRequestsError, TransportError
from ocireg.limits import RateGuard

from .hostile import Request, client_for, hostile

MiB = 1024 * 1024
BLOCK = b"x" * 65536


def endless(req: Request, head: bytes = b"", limit_blocks: int = 2048, delay: float = 0.0) -> None:
    """200 with a huge Content-Length and blocks until the client hangs up (or 128 MiB)."""
    req.send_response(200)
    req.send_header("Content-Type", "application/json")
    req.send_header("Content-Length", str(1 << 40))
    req.end_headers()
    req.wfile.write(head)
    for _ in range(limit_blocks):
        if req.server.stopping.is_set():
            return
        req.wfile.write(BLOCK)
        if delay:
            time.sleep(delay)


def trickle(req: Request, status: int = 200, head: bytes = b"{", steps: int = 80) -> None:
    """One byte every 0.1 s (at most ``steps`` of them)."""
    req.send_response(status)
    req.send_header("Content-Type", "application/json")
    req.send_header("Content-Length", str(len(head) + steps))
    req.end_headers()
    req.wfile.write(head)
    req.wfile.flush()
    for _ in range(steps):
        if req.server.stopping.is_set():
            return
        time.sleep(0.1)
        req.wfile.write(b" ")
        req.wfile.flush()


def token_registry(token_handler: Callable[[Request], None]) -> Callable[[Request], None]:
    def handler(req: Request) -> None:
        if req.path.startswith("/token"):
            return token_handler(req)
        if req.headers.get("Authorization") != "Bearer tok":
            realm = f"http://{req.headers['Host']}/token"
            return req.send_json({}, 401, {"WWW-Authenticate": f'Bearer realm="{realm}"'})
        req.send_json({"name": "app", "tags": ["ok"]})

    return handler


def measured(call: Callable[[], Any]) -> tuple[BaseException | None, int, float]:
    """Run ``call``; return the exception it raised, the peak traced memory, seconds."""
    tracemalloc.start()
    started = time.monotonic()
    error: BaseException | None = None
    try:
        call()
    except BaseException as exc:
        error = exc
    elapsed = time.monotonic() - started
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return error, peak, elapsed


def test_endless_token_body_stops_at_1_mib() -> None:
    with hostile(token_registry(lambda req: endless(req, b'{"token": "'))) as reg:
        client = client_for(reg)
        error, peak, elapsed = measured(lambda: client.tags(f"{reg.host}/app"))
    assert isinstance(error, OciregError), error
    assert "over 1048576 bytes" in str(error)
    assert peak < 8 * MiB and elapsed < 10


def gzip_bomb(head: bytes, filler: bytes, mib: int) -> bytes:
    z = zlib.compressobj(9, zlib.DEFLATED, 31)
    parts = [z.compress(head)]
    block = filler * (MiB // len(filler))
    parts.extend(z.compress(block) for _ in range(mib))
    parts.append(z.flush())
    return b"".join(parts)


@pytest.fixture(scope="module")
def bomb() -> bytes:
    return gzip_bomb(b'{"name": "app", "tags": ["', b"a", 256)  # 256 MiB inflated


def test_gzip_bomb_page_is_counted_after_decoding(bomb: bytes) -> None:
    assert len(bomb) < 2 * MiB

    def handler(req: Request) -> None:
        if req.path == "/v2/":
            return req.send_json({})
        req.send(200, bomb, {"Content-Type": "application/json", "Content-Encoding": "gzip"})

    with hostile(handler) as reg:
        client = client_for(reg)
        error, peak, elapsed = measured(lambda: client.tags(f"{reg.host}/app"))
    assert isinstance(error, RegistryError), error
    assert "over 16777216 bytes" in str(error)
    assert peak < 48 * MiB and elapsed < 20


def test_gzip_bomb_error_body_is_read_64_kib_at_most(bomb: bytes) -> None:
    def handler(req: Request) -> None:
        if req.path == "/v2/":
            return req.send_json({})
        req.send(404, bomb, {"Content-Type": "application/json", "Content-Encoding": "gzip"})

    with hostile(handler) as reg:
        client = client_for(reg)
        error, peak, _ = measured(lambda: client.tags(f"{reg.host}/app"))
    assert isinstance(error, RegistryError) and error.status == 404
    assert peak < 8 * MiB


def test_endless_error_body_is_not_read() -> None:
    def handler(req: Request) -> None:
        if req.path == "/v2/":
            return req.send_json({})
        req.send_response(500)
        req.send_header("Content-Length", str(1 << 40))
        req.end_headers()
        for _ in range(2048):
            if req.server.stopping.is_set():
                return
            req.wfile.write(BLOCK)

    with hostile(handler) as reg:
        client = client_for(reg, max_retries=0)
        error, peak, elapsed = measured(lambda: client.tags(f"{reg.host}/app"))
    assert isinstance(error, RegistryError) and error.status == 500
    assert peak < 8 * MiB and elapsed < 10


def test_endless_v2_body_on_ping() -> None:
    with hostile(lambda req: endless(req, b"{")) as reg:
        error, peak, elapsed = measured(lambda: client_for(reg).ping(reg.host))
    assert isinstance(error, OciregError), error
    assert peak < 48 * MiB and elapsed < 20


def test_endless_pages_end_at_the_page_cap() -> None:
    def handler(req: Request) -> None:
        if req.path == "/v2/":
            return req.send_json({})
        n = int(req.path.rsplit("=", 1)[1]) if "=" in req.path else 0
        link = f'</v2/app/tags/list?last={n + 1}>; rel="next"'
        req.send_json({"name": "app", "tags": [str(n)]}, headers={"Link": link})

    with hostile(handler) as reg:
        client = client_for(reg)
        client.remote.max_pages = 5
        with pytest.raises(RegistryError) as info:
            client.tags(f"{reg.host}/app")
    assert "more than 5 pages" in str(info.value)
    assert len(reg.log) == 1 + 5


def test_link_with_another_scheme_is_an_error() -> None:
    def handler(req: Request) -> None:
        if req.path == "/v2/":
            return req.send_json({})
        link = f'<https://{req.headers["Host"]}/v2/app/tags/list?last=a>; rel="next"'
        req.send_json({"name": "app", "tags": ["a"]}, headers={"Link": link})

    with hostile(handler) as reg, pytest.raises(RegistryError) as info:
        client_for(reg).tags(f"{reg.host}/app")
    assert "another origin" in str(info.value)


# -- slow senders ------------------------------------------------------------------------------


def slow_cases() -> Iterator[Any]:
    def registry(page: Callable[[Request], None]) -> Callable[[Request], None]:
        def handler(req: Request) -> None:
            if req.path == "/v2/":
                return req.send_json({})
            page(req)

        return handler

    yield pytest.param(token_registry(trickle), "tags", "too slow", id="token")
    yield pytest.param(trickle, "ping", "too slow", id="ping")
    yield pytest.param(registry(trickle), "tags", "too slow", id="page")
    yield pytest.param(registry(trickle), "manifest", "too slow", id="manifest")
    # The error body is given up on; the status error is raised.
    yield pytest.param(registry(lambda req: trickle(req, 404)), "tags", "404", id="error-body")


@pytest.mark.parametrize(("handler", "call", "expected"), list(slow_cases()))
def test_one_byte_at_a_time_ends_in_bounded_time(handler: Any, call: str, expected: str) -> None:
    with hostile(handler) as reg:
        client = client_for(reg, ping=False)  # 1 KiB/s over 1 s
        calls = {
            "tags": lambda: client.tags(f"{reg.host}/app"),
            "ping": lambda: client.ping(reg.host),
            "manifest": lambda: client.get_manifest(f"{reg.host}/app:1"),
        }
        started = time.monotonic()
        with pytest.raises(OciregError) as info:
            calls[call]()
        elapsed = time.monotonic() - started
    assert elapsed < 5
    assert expected in str(info.value)


def test_deadline_ends_a_call_that_keeps_a_fast_enough_rate() -> None:
    def handler(req: Request) -> None:
        if req.path == "/v2/":
            return req.send_json({})
        endless(req, b'{"tags": ["', limit_blocks=200, delay=0.05)  # ~1.2 MiB/s, 10 s

    with hostile(handler) as reg:
        client = client_for(reg)
        client.transport.deadline = 1.0
        client.remote.max_pages = 1
        started = time.monotonic()
        with pytest.raises(TransportError) as info:
            client.tags(f"{reg.host}/app")
    assert "deadline" in str(info.value)
    assert time.monotonic() - started < 5


def test_rate_guard_on_a_fake_clock() -> None:
    now = [0.0]
    guard = RateGuard(speed_limit=100, speed_time=10, clock=lambda: now[0], what="blob x")
    for _ in range(10):
        now[0] += 1
        guard.feed(150)  # 150 B/s: fine
    with pytest.raises(TransportError) as info:
        for _ in range(11):
            now[0] += 1
            guard.feed(10)
    assert "blob x: transfer too slow" in str(info.value)
    guard = RateGuard(speed_limit=0, deadline=5, clock=lambda: now[0])
    now[0] += 6
    with pytest.raises(TransportError):
        guard.check()


# -- Retry-After -------------------------------------------------------------------------------


def test_retry_after_over_the_cap_is_raised_saying_so() -> None:
    def handler(req: Request) -> None:
        if req.path == "/v2/":
            return req.send_json({})
        body = {"errors": [{"code": "TOOMANYREQUESTS", "message": "slow down"}]}
        req.send_json(body, 429, {"Retry-After": "86400"})

    with hostile(handler) as reg:
        client = client_for(reg)
        sleeps: list[float] = []
        client.transport._sleep = sleeps.append
        with pytest.raises(TooManyRequestsError) as info:
            client.tags(f"{reg.host}/app")
    assert info.value.retry_after == 86400
    assert "asked to wait 86400 s" in str(info.value) and "60 s" in str(info.value)
    assert sleeps == []


def test_retry_after_total_budget_per_call() -> None:
    def handler(req: Request) -> None:
        if req.path == "/v2/":
            return req.send_json({})
        req.send(503, json.dumps({"errors": []}).encode(), {"Retry-After": "50"})

    with hostile(handler) as reg:
        client = client_for(reg, max_retries=10)
        sleeps: list[float] = []
        client.transport._sleep = sleeps.append
        with pytest.raises(RegistryError) as info:
            client.tags(f"{reg.host}/app")
    assert sleeps == [50.0, 50.0]
    assert "120 s retry budget" in str(info.value)
