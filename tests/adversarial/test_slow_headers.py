"""A server that trickles its response headers (one byte at a time, so no read ever times
out) is cut off once the headers take longer than the read timeout as a whole."""

from __future__ import annotations

import time

import pytest

from ocireg import Client, TransportError
from tests.adversarial.hostile import Request, hostile


def _trickled_headers(req: Request) -> None:
    req.wfile.write(b"HTTP/1.1 200 OK\r\n")
    for _ in range(600):  # 60 s at most, if nothing cut it off
        if req.server.stopping.is_set():
            return
        req.wfile.write(b"X")
        req.wfile.flush()
        time.sleep(0.1)


def test_trickled_headers_end_at_the_read_timeout() -> None:
    with hostile(_trickled_headers) as reg:
        client = Client(
            load_entrypoints=False, plain_http=[reg.host], timeout=(2.0, 1.0), max_retries=0
        )
        started = time.monotonic()
        with pytest.raises(TransportError, match="timed out") as info:
            client.ping(reg.host)
        elapsed = time.monotonic() - started
    assert elapsed < 5, elapsed
    assert "GET" in str(info.value)


def test_headers_that_arrive_in_time_are_untouched() -> None:
    def quick(req: Request) -> None:
        time.sleep(0.3)
        req.send_json({})

    with hostile(quick) as reg:
        client = Client(load_entrypoints=False, plain_http=[reg.host], timeout=(2.0, 1.0))
        assert client.ping(reg.host).status == 200
