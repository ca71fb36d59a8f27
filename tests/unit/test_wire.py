"""The wire layer (``ocireg.wire``) against small loopback servers written here: keep-alive
and its limits, stale pooled connections, body framing both ways (chunked, Content-Length,
truncated), gzip/deflate decoding bounded by the read size, timeouts, error mapping (with no
secret quoted), http proxies (absolute form, ``CONNECT`` tunnels to TLS), the ``Headers`` and
``links`` helpers, and the environment's proxies (``ocireg.hosts.environ_proxies``).

Every server listens on 127.0.0.1, every socket has a timeout and every thread join a bound.
"""

from __future__ import annotations

import base64
import http.client
import io
import os
import select
import socket
import ssl
import sys
import threading
import time
import traceback
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from ocireg import wire
from ocireg.hosts import environ_proxies
from ocireg.wire import connections as wire_connections
from ocireg.wire.response import Body, Headers, Response, SentRequest
from tests.fixtures.loopback import (
    IO_TIMEOUT,
    Handler,
    LoopbackServer,
    Peer,
    RawRequest,
    http_response,
    keep_alive,
    loopback_servers,
    wait_event,
)

SECRET = "Bearer sk-live-5ecr3t-T0ken-do-not-leak"


# -- loopback servers ---------------------------------------------------------------------------


@pytest.fixture
def serve() -> Iterator[Callable[..., LoopbackServer]]:
    """Start loopback servers for one test; all are closed when it ends."""
    with loopback_servers() as start:
        yield start


@pytest.fixture
def session() -> Iterator[wire.Session]:
    with wire.Session() as s:
        yield s


@dataclass(frozen=True)
class Pki:
    server_context: ssl.SSLContext
    ca_path: str
    other_ca_path: str


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    from tests.fixtures.pki import make_ca, make_server_cert

    directory = tmp_path_factory.mktemp("wire-pki")
    ca = make_ca()
    ca_path, _ = ca.write(directory, "ca")
    other_ca_path, _ = make_ca("another CA").write(directory, "other-ca")
    cert_path, key_path = make_server_cert(ca, ("127.0.0.1",)).write(directory, "server")
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(str(cert_path), str(key_path))
    return Pki(context, str(ca_path), str(other_ca_path))


# -- keep-alive and the pool --------------------------------------------------------------------


def test_sequential_gets_share_one_connection(
    serve: Callable[..., LoopbackServer], session: wire.Session
) -> None:
    server = serve(keep_alive(http_response(b"hello")))
    first = session.request("GET", server.url("/a"))
    second = session.request("GET", server.url("/b"))
    streamed = session.request("GET", server.url("/c"), stream=True)
    assert b"".join(streamed.iter_content(2)) == b"hello"
    fourth = session.request("GET", server.url("/d"))
    assert (first.status_code, first.content, second.content, fourth.content) == (
        200,
        b"hello",
        b"hello",
        b"hello",
    )
    assert [r.line for r in server.requests] == [
        "GET /a HTTP/1.1",
        "GET /b HTTP/1.1",
        "GET /c HTTP/1.1",
        "GET /d HTTP/1.1",
    ]
    assert server.accepted == 1


def test_a_connection_on_a_descriptor_over_1023_is_still_reused(
    serve: Callable[..., LoopbackServer], session: wire.Session
) -> None:
    """select() cannot watch such a descriptor (a busy process: Ansible, a server); the
    check before reuse must not take that for a dropped connection."""
    import resource

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < 1200:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, 4096), hard))
    filler = [os.open(os.devnull, os.O_RDONLY) for _ in range(1100)]
    try:
        server = serve(keep_alive(http_response(b"hello")))
        first = session.request("GET", server.url("/a"))
        second = session.request("GET", server.url("/b"))
        assert (first.content, second.content) == (b"hello", b"hello")
        assert server.accepted == 1
    finally:
        for fd in filler:
            os.close(fd)
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


# Small: the whole body is in the client's buffer after the first read (the socket has
# nothing more to say, so only the release rule can tell). Big: the rest is still coming.
@pytest.mark.parametrize("size", [100, 100_000], ids=["buffered", "still-coming"])
def test_body_closed_before_its_end_drops_the_connection(
    serve: Callable[..., LoopbackServer], session: wire.Session, size: int
) -> None:
    server = serve(keep_alive(http_response(b"x" * size)))
    resp = session.request("GET", server.url("/big"), stream=True)
    assert resp.raw.read(10) == b"x" * 10
    resp.close()
    # A second close is harmless and gives nothing back to the pool.
    resp.close()
    again = session.request("GET", server.url("/big"))
    assert again.content == b"x" * size
    assert server.accepted == 2
    # The one read to its end is kept.
    assert session.request("GET", server.url("/big")).content == b"x" * size
    assert server.accepted == 2


def test_concurrent_streams_use_separate_connections_then_pool_them(
    serve: Callable[..., LoopbackServer], session: wire.Session
) -> None:
    server = serve(keep_alive(http_response(b"0123456789")))
    one = session.request("GET", server.url("/1"), stream=True)
    two = session.request("GET", server.url("/2"), stream=True)
    assert server.accepted == 2
    assert one.content == two.content == b"0123456789"
    for _ in range(3):
        assert session.request("GET", server.url("/3")).content == b"0123456789"
    assert server.accepted == 2


def test_fp_read_to_the_end_then_release_conn_keeps_the_connection(
    serve: Callable[..., LoopbackServer], session: wire.Session
) -> None:
    server = serve(keep_alive(http_response(b"abcdefgh" * 1000)))
    resp = session.request("GET", server.url("/blob"), stream=True)
    buf = bytearray(3000)
    got = bytearray()
    while n := resp.raw.fp.readinto(buf):
        got += buf[:n]
    resp.raw.release_conn()
    assert bytes(got) == b"abcdefgh" * 1000
    assert session.request("GET", server.url("/x")).status_code == 200
    assert server.accepted == 1
    # Through fp but not to the end: the connection is dropped.
    partial = session.request("GET", server.url("/blob"), stream=True)
    assert partial.raw.fp.readinto(buf) > 0
    partial.raw.release_conn()
    assert session.request("GET", server.url("/x")).status_code == 200
    assert server.accepted == 2


def test_connection_close_response_is_not_reused_but_next_request_works(
    serve: Callable[..., LoopbackServer], session: wire.Session
) -> None:
    def handle(peer: Peer, server: LoopbackServer) -> None:
        request = peer.read_request()
        assert request is not None
        server.requests.append(request)
        peer.send(http_response(b"bye", headers=[("Connection", "close")]))

    server = serve(handle)
    assert session.request("GET", server.url("/1")).content == b"bye"
    assert session.request("GET", server.url("/2")).content == b"bye"
    assert server.accepted == 2


def test_body_until_close_is_read_whole(
    serve: Callable[..., LoopbackServer], session: wire.Session
) -> None:
    def handle(peer: Peer, server: LoopbackServer) -> None:
        assert peer.read_request() is not None
        peer.send(b"HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\n" + b"until close")

    server = serve(handle)
    resp = session.request("GET", server.url("/"))
    assert resp.content == b"until close"
    assert resp.text == "until close"


# -- connections closed by the server -----------------------------------------------------------


def serve_once_then_close(peer: Peer, server: LoopbackServer) -> None:
    """Answer one request, then close the connection (as an idle timeout on a server does)."""
    request = peer.read_request()
    if request is None:
        return
    server.requests.append(request)
    peer.send(http_response(b"once"))


def test_idle_connection_closed_by_server_is_replaced(
    serve: Callable[..., LoopbackServer], session: wire.Session
) -> None:
    server = serve(serve_once_then_close)
    assert session.request("GET", server.url("/1")).content == b"once"
    wait_event(server)  # the server has closed the pooled connection
    assert session.request("GET", server.url("/2")).content == b"once"
    assert server.accepted == 2
    wait_event(server)
    # Found closed before anything is sent: a POST (never sent twice) is safe on a new one.
    assert session.request("POST", server.url("/3"), data=b"body").content == b"once"
    assert server.accepted == 3
    assert [r.line for r in server.requests] == [
        "GET /1 HTTP/1.1",
        "GET /2 HTTP/1.1",
        "POST /3 HTTP/1.1",
    ]
    assert server.requests[-1].body == b"body"


@pytest.mark.parametrize("method", ["GET", "HEAD", "PUT", "DELETE"])
def test_stale_connection_is_retried_once_for_idempotent_methods(
    serve: Callable[..., LoopbackServer],
    session: wire.Session,
    monkeypatch: pytest.MonkeyPatch,
    method: str,
) -> None:
    server = serve(serve_once_then_close)
    assert session.request("GET", server.url("/1")).status_code == 200
    wait_event(server)
    # The close comes after the pool's check (a race the check cannot win every time).
    monkeypatch.setattr(wire_connections, "_dropped", lambda conn: False)
    data = b"payload" if method == "PUT" else None
    resp = session.request(method, server.url("/2"), data=data)
    assert resp.status_code == 200
    assert server.accepted == 2
    assert server.requests[-1].line == f"{method} /2 HTTP/1.1"
    if method == "PUT":
        assert server.requests[-1].body == b"payload"


@pytest.mark.parametrize(
    ("method", "data"),
    [("POST", b"payload"), ("PATCH", b"payload"), ("PUT", iter([b"streamed"]))],
    ids=["post", "patch", "put-iterator"],
)
def test_stale_connection_is_not_retried_for_unsafe_requests(
    serve: Callable[..., LoopbackServer],
    session: wire.Session,
    monkeypatch: pytest.MonkeyPatch,
    method: str,
    data: Any,
) -> None:
    server = serve(serve_once_then_close)
    assert session.request("GET", server.url("/1")).status_code == 200
    wait_event(server)
    monkeypatch.setattr(wire_connections, "_dropped", lambda conn: False)
    with pytest.raises(wire.ConnectionError, match="connection broken") as info:
        session.request(method, server.url("/2"), data=data)
    assert isinstance(info.value.__cause__, OSError | http.client.HTTPException)
    assert server.accepted == 1


def test_fresh_connection_closed_without_answer_is_not_retried(
    serve: Callable[..., LoopbackServer], session: wire.Session
) -> None:
    def hang_up(peer: Peer, server: LoopbackServer) -> None:
        request = peer.read_request()
        if request is not None:
            server.requests.append(request)

    server = serve(hang_up)
    with pytest.raises(wire.ConnectionError) as info:
        session.request("GET", server.url("/"))
    assert isinstance(info.value.__cause__, http.client.RemoteDisconnected | ConnectionResetError)
    assert server.accepted == 1
    assert len(server.requests) == 1


# -- response bodies ----------------------------------------------------------------------------


def truncated(peer: Peer, server: LoopbackServer) -> None:
    assert peer.read_request() is not None
    peer.send(http_response(b"", headers=[("Content-Length", "100")], length=False) + b"0" * 10)


def test_truncated_body_raises_incomplete_read(
    serve: Callable[..., LoopbackServer], session: wire.Session
) -> None:
    server = serve(truncated)
    resp = session.request("GET", server.url("/"), stream=True)
    assert resp.raw.read1(10) == b"0" * 10
    with pytest.raises(http.client.IncompleteRead) as info:
        resp.raw.read()
    assert info.value.expected == 90
    # Not given back to the pool: the next request makes a new connection.
    with pytest.raises(http.client.IncompleteRead):
        b"".join(session.request("GET", server.url("/"), stream=True).iter_content(64))
    assert server.accepted == 2


def test_truncated_body_without_stream_is_a_connection_error(
    serve: Callable[..., LoopbackServer], session: wire.Session
) -> None:
    server = serve(truncated)
    with pytest.raises(wire.ConnectionError) as info:
        session.request("GET", server.url("/"))
    assert isinstance(info.value.__cause__, http.client.IncompleteRead)


def test_truncated_chunked_body_raises_incomplete_read(
    serve: Callable[..., LoopbackServer], session: wire.Session
) -> None:
    def handle(peer: Peer, server: LoopbackServer) -> None:
        assert peer.read_request() is not None
        head = http_response(headers=[("Transfer-Encoding", "chunked")], length=False)
        peer.send(head + b"a\r\n0123456789\r\n10\r\nshort")

    server = serve(handle)
    resp = session.request("GET", server.url("/"), stream=True)
    with pytest.raises(http.client.IncompleteRead):
        resp.raw.read()


def test_chunked_response_is_read_and_connection_kept(
    serve: Callable[..., LoopbackServer], session: wire.Session
) -> None:
    body = b"5\r\nhello\r\n7\r\n, world\r\n0\r\n\r\n"
    head = http_response(headers=[("Transfer-Encoding", "chunked")], length=False)
    server = serve(keep_alive(head + body))
    assert session.request("GET", server.url("/1")).content == b"hello, world"
    streamed = session.request("GET", server.url("/2"), stream=True)
    chunks = list(streamed.iter_content(4))
    assert b"".join(chunks) == b"hello, world"
    assert all(len(c) <= 4 for c in chunks)
    assert session.request("GET", server.url("/3")).content == b"hello, world"
    assert server.accepted == 1


def gzip_bytes(data: bytes) -> bytes:
    c = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    return c.compress(data) + c.flush()


BOMB_SIZE = 50 * 1024 * 1024


@pytest.fixture(scope="module")
def gzip_bomb() -> bytes:
    c = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    block = bytes(1024 * 1024)
    return b"".join(c.compress(block) for _ in range(BOMB_SIZE // len(block))) + c.flush()


def test_gzip_bomb_never_returns_more_than_asked(
    serve: Callable[..., LoopbackServer], session: wire.Session, gzip_bomb: bytes
) -> None:
    assert len(gzip_bomb) < 100_000
    server = serve(keep_alive(http_response(gzip_bomb, headers=[("Content-Encoding", "gzip")])))
    resp = session.request("GET", server.url("/bomb"), stream=True)
    assert resp.headers["Content-Encoding"] == "gzip"
    total = 0
    for n in (1, 7, 100, 4096):
        data = resp.raw.read1(n)
        assert 0 < len(data) <= n
        assert data == bytes(len(data))
        total += len(data)
    while data := resp.raw.read1(256 * 1024):
        assert len(data) <= 256 * 1024
        total += len(data)
    assert total == BOMB_SIZE
    # Read to its end: the connection goes back to the pool.
    assert session.request("GET", server.url("/bomb"), stream=True).raw.read(5) == bytes(5)
    assert server.accepted == 1


def test_gzip_read_sizes_are_exact(
    serve: Callable[..., LoopbackServer], session: wire.Session
) -> None:
    data = bytes(range(256)) * 4000 + b"tail"
    server = serve(
        keep_alive(http_response(gzip_bytes(data), headers=[("Content-Encoding", "gzip")]))
    )
    resp = session.request("GET", server.url("/"), stream=True)
    assert resp.raw.read(1000) == data[:1000]
    chunks = list(resp.raw.stream(333))
    assert all(0 < len(c) <= 333 for c in chunks)
    assert b"".join(chunks) == data[1000:]
    assert session.request("GET", server.url("/")).content == data
    iterated = list(session.request("GET", server.url("/"), stream=True).iter_content(5000))
    assert all(len(c) <= 5000 for c in iterated)
    assert b"".join(iterated) == data


def deflate_zlib(data: bytes) -> bytes:
    return zlib.compress(data)


def deflate_raw(data: bytes) -> bytes:
    c = zlib.compressobj(6, zlib.DEFLATED, -zlib.MAX_WBITS)
    return c.compress(data) + c.flush()


@pytest.mark.parametrize(
    ("encoding", "compress"),
    [
        pytest.param("gzip", gzip_bytes, id="gzip"),
        pytest.param(
            "x-gzip",
            gzip_bytes,
            id="x-gzip",
        ),
        pytest.param("GZIP", gzip_bytes, id="upper-case"),
        pytest.param("deflate", deflate_zlib, id="deflate-zlib"),
        pytest.param("deflate", deflate_raw, id="deflate-raw"),
    ],
)
def test_content_encodings_are_decoded(
    serve: Callable[..., LoopbackServer],
    session: wire.Session,
    encoding: str,
    compress: Callable[[bytes], bytes],
) -> None:
    data = b'{"layers": ["' + b"sha256:0123456789abcdef" * 3000 + b'"]}'
    wire_body = compress(data)
    assert wire_body != data
    server = serve(keep_alive(http_response(wire_body, headers=[("Content-Encoding", encoding)])))
    assert session.request("GET", server.url("/")).content == data
    resp = session.request("GET", server.url("/"), stream=True)
    parts = []
    while part := resp.raw.read1(1000):
        assert len(part) <= 1000
        parts.append(part)
    assert b"".join(parts) == data
    assert server.accepted == 1


def test_raw_deflate_whose_first_read_is_one_byte_is_decoded(
    serve: Callable[..., LoopbackServer], session: wire.Session
) -> None:
    data = b"manifest " * 500
    body = deflate_raw(data)
    headers_read = threading.Event()

    def handle(peer: Peer, server: LoopbackServer) -> None:
        assert peer.read_request() is not None
        peer.send(http_response(body[:1], headers=[("Content-Encoding", "deflate")], length=False))
        # The rest only once the client holds the headers (and at most the first byte).
        if headers_read.wait(IO_TIMEOUT):
            peer.send(body[1:])

    server = serve(handle)
    # The headers say nothing of the length: the body ends when the connection does.
    resp = session.request("GET", server.url("/"), stream=True)
    headers_read.set()
    assert resp.raw.read() == data


def test_corrupt_compressed_body_is_a_wire_error(
    serve: Callable[..., LoopbackServer], session: wire.Session
) -> None:
    bogus = http_response(b"this is not gzip at all", headers=[("Content-Encoding", "gzip")])
    server = serve(keep_alive(bogus))
    with pytest.raises(wire.RequestException):
        session.request("GET", server.url("/"))


def test_decode_content_false_gives_the_raw_bytes(
    serve: Callable[..., LoopbackServer], session: wire.Session
) -> None:
    data = b"plain text " * 1000
    compressed = gzip_bytes(data)
    server = serve(keep_alive(http_response(compressed, headers=[("Content-Encoding", "gzip")])))
    resp = session.request("GET", server.url("/"), stream=True)
    assert resp.raw.read(decode_content=False) == compressed
    streamed = session.request("GET", server.url("/"), stream=True)
    chunks = list(streamed.raw.stream(100, decode_content=False))
    assert all(len(c) <= 100 for c in chunks)
    assert b"".join(chunks) == compressed
    assert zlib.decompress(b"".join(chunks), 16 + zlib.MAX_WBITS) == data
    assert server.accepted == 1


def test_identity_encoding_is_not_decoded(
    serve: Callable[..., LoopbackServer], session: wire.Session
) -> None:
    compressed = gzip_bytes(b"stays compressed")
    server = serve(keep_alive(http_response(compressed, headers=[("Content-Type", "x/gz")])))
    assert session.request("GET", server.url("/")).content == compressed


@pytest.mark.parametrize(
    ("method", "status"),
    [("HEAD", "200 OK"), ("GET", "204 No Content"), ("GET", "304 Not Modified")],
)
@pytest.mark.parametrize("stream", [False, True])
def test_bodiless_responses_release_the_connection(
    serve: Callable[..., LoopbackServer],
    session: wire.Session,
    method: str,
    status: str,
    stream: bool,
) -> None:
    def answer(request: RawRequest) -> bytes:
        if request.line.startswith("GET /next"):
            return http_response(b"next")
        # A HEAD announces the length of the GET's body, and sends none.
        headers = [("Content-Length", "1234")] if method == "HEAD" else []
        return http_response(headers=headers, status=status, length=False)

    server = serve(keep_alive(answer))
    resp = session.request(method, server.url("/thing"), stream=stream)
    assert resp.status_code == int(status.split()[0])
    assert resp.content == b""
    assert session.request("GET", server.url("/next")).content == b"next"
    assert server.accepted == 1


def test_body_stalling_mid_way_is_a_read_timeout(
    serve: Callable[..., LoopbackServer], session: wire.Session
) -> None:
    def handle(peer: Peer, server: LoopbackServer) -> None:
        assert peer.read_request() is not None
        peer.send(http_response(b"", headers=[("Content-Length", "10")], length=False) + b"12")
        server.stop.wait(IO_TIMEOUT)

    server = serve(handle)
    started = time.monotonic()
    with pytest.raises(wire.ReadTimeout):
        session.request("GET", server.url("/"), timeout=(2, 0.3))
    assert time.monotonic() - started < 2


# -- request bodies -----------------------------------------------------------------------------


def echo(request: RawRequest) -> bytes:
    return http_response(b"ok")


def test_iterator_body_is_sent_chunked(
    serve: Callable[..., LoopbackServer], session: wire.Session
) -> None:
    server = serve(keep_alive(echo))

    def parts() -> Iterator[bytes]:
        yield b"ab"
        yield b"cde"
        yield b"f" * 20

    assert session.request("PATCH", server.url("/upload"), data=parts()).status_code == 200
    assert session.request("PATCH", server.url("/upload"), data=iter([b"xyz"])).status_code == 200
    first, second = server.requests
    assert first.headers["transfer-encoding"] == "chunked"
    assert "content-length" not in first.headers
    assert first.raw_body == b"2\r\nab\r\n3\r\ncde\r\n14\r\n" + b"f" * 20 + b"\r\n0\r\n\r\n"
    assert first.body == b"abcde" + b"f" * 20
    assert second.raw_body == b"3\r\nxyz\r\n0\r\n\r\n"
    assert server.accepted == 1


def test_file_bodies_are_sent_with_their_length(
    serve: Callable[..., LoopbackServer], session: wire.Session, tmp_path: Path
) -> None:
    server = serve(keep_alive(echo))
    # Bigger than one block (1 MiB), not a multiple of it.
    content = os.urandom(wire_connections.BLOCKSIZE * 2 + 12345)
    path = tmp_path / "layer.tar"
    path.write_bytes(content)
    with path.open("rb") as f:
        assert session.request("PUT", server.url("/file"), data=f).status_code == 200
    with path.open("rb") as f:
        f.seek(1000)  # only what is left is sent
        assert session.request("PUT", server.url("/rest"), data=f).status_code == 200
    buffer = io.BytesIO(b"in memory bytes")
    assert session.request("PUT", server.url("/bytesio"), data=buffer).status_code == 200
    partial = io.BytesIO(b"0123456789")
    partial.seek(4)
    assert session.request("PUT", server.url("/partial"), data=partial).status_code == 200
    whole, rest, in_memory, tail = server.requests
    assert whole.headers["content-length"] == str(len(content))
    assert whole.body == content
    assert "transfer-encoding" not in whole.headers
    assert rest.headers["content-length"] == str(len(content) - 1000)
    assert rest.body == content[1000:]
    assert in_memory.headers["content-length"] == "15"
    assert in_memory.body == b"in memory bytes"
    assert "transfer-encoding" not in in_memory.headers
    assert (tail.headers["content-length"], tail.body) == ("6", b"456789")
    assert server.accepted == 1


def test_bytes_json_params_and_default_headers(
    serve: Callable[..., LoopbackServer], session: wire.Session
) -> None:
    server = serve(keep_alive(echo))
    session.request("POST", server.url("/v2/x/blobs/uploads/?mount=a"), params={"from": "b/c"})
    session.request("PUT", server.url("/json"), json={"k": [1, 2]})
    session.request(
        "PUT",
        server.url("/raw"),
        data=b"\x00\x01",
        headers={"accept-encoding": None, "Content-Type": "application/octet-stream"},
    )
    post, put_json, put_raw = server.requests
    assert post.line == "POST /v2/x/blobs/uploads/?mount=a&from=b%2Fc HTTP/1.1"
    assert post.headers["accept-encoding"] == "gzip, deflate"
    assert post.headers["host"] == f"127.0.0.1:{server.port}"
    assert put_json.headers["content-type"] == "application/json"
    assert put_json.body == b'{"k": [1, 2]}'
    assert put_json.headers["content-length"] == str(len(put_json.body))
    # The default named None is not sent (http.client then asks for no encoding).
    assert put_raw.headers["accept-encoding"] == "identity"
    assert put_raw.headers["content-type"] == "application/octet-stream"
    assert (put_raw.headers["content-length"], put_raw.body) == ("2", b"\x00\x01")


# -- errors -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "ftp://127.0.0.1/file",
        "http:///v2/",
        "/v2/relative",
        "127.0.0.1:5000/v2/",
        "http://127.0.0.1:99999/",
        "http://127.0.0.1:port/",
    ],
)
def test_invalid_urls(session: wire.Session, url: str) -> None:
    with pytest.raises(wire.InvalidURL) as info:
        session.request("GET", url)
    assert isinstance(info.value, ValueError)
    assert isinstance(info.value, wire.RequestException)


BAD_HEADERS = pytest.mark.parametrize(
    "headers",
    [
        {"Authorization": SECRET + "\nX-Injected: 1"},
        {"Authorization": SECRET + "\r\n"},
        {"Authorization": SECRET + "\u20ac"},
        {SECRET.replace(" ", "-") + "\n": "value"},
    ],
    ids=["lf", "crlf", "non-latin-1", "bad-name"],
)
SECRET_PART = "5ecr3t-T0ken"


@BAD_HEADERS
def test_invalid_header_is_never_quoted_nor_chained(
    serve: Callable[..., LoopbackServer], session: wire.Session, headers: dict[str, str]
) -> None:
    server = serve(keep_alive(echo))
    with pytest.raises(wire.InvalidHeader) as info:
        session.request("GET", server.url("/"), headers=headers)
    exc = info.value
    assert isinstance(exc, ValueError)
    assert SECRET_PART not in str(exc)
    assert SECRET_PART not in repr(exc)
    assert exc.__cause__ is None
    assert exc.__context__ is None or exc.__suppress_context__
    # What a traceback print or a log shows.
    assert SECRET_PART not in "".join(traceback.format_exception(exc))
    # Nothing reached the server.
    assert server.requests == []


@BAD_HEADERS
def test_invalid_header_has_no_context_quoting_the_value(
    serve: Callable[..., LoopbackServer], session: wire.Session, headers: dict[str, str]
) -> None:
    server = serve(keep_alive(echo))
    with pytest.raises(wire.InvalidHeader) as info:
        session.request("GET", server.url("/"), headers=headers)
    context = info.value.__context__
    assert context is None or SECRET_PART not in f"{context!s} {context!r}"


def test_connection_refused(session: wire.Session) -> None:
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()  # nothing listens there now
    with pytest.raises(wire.ConnectionError) as info:
        session.request("GET", f"http://127.0.0.1:{port}/v2/", timeout=2)
    assert isinstance(info.value.__cause__, ConnectionRefusedError)
    assert not isinstance(info.value, wire.Timeout)
    assert f"127.0.0.1:{port}" in str(info.value)


@pytest.mark.skipif(sys.platform != "linux", reason="relies on Linux dropping SYNs on a full queue")
def test_connect_timeout(session: wire.Session) -> None:
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(0)
    filler = socket.create_connection(listener.getsockname(), timeout=1)  # fills the queue
    try:
        started = time.monotonic()
        with pytest.raises(wire.ConnectTimeout) as info:
            session.request("GET", f"http://127.0.0.1:{listener.getsockname()[1]}/", timeout=0.3)
        assert time.monotonic() - started < 2
        assert isinstance(info.value, wire.ConnectionError)
        assert isinstance(info.value, wire.Timeout)
    finally:
        filler.close()
        listener.close()


def test_headers_trickling_in_are_a_read_timeout(
    serve: Callable[..., LoopbackServer], session: wire.Session
) -> None:
    def trickle(peer: Peer, server: LoopbackServer) -> None:
        assert peer.read_request() is not None
        for byte in b"HTTP/1.1 200 OK\r\nX-Slow: " + b"z" * 50:
            peer.send(bytes([byte]))
            if server.stop.wait(0.2):
                return

    server = serve(trickle)
    started = time.monotonic()
    # No read waits 1 s (a byte comes every 0.2 s), but the headers as a whole take longer.
    with pytest.raises(wire.ReadTimeout, match="headers") as info:
        session.request("GET", server.url("/"), timeout=(2, 1))
    elapsed = time.monotonic() - started
    assert 0.9 < elapsed < 3
    assert not isinstance(info.value, wire.ConnectionError)


def test_silent_server_is_a_read_timeout(
    serve: Callable[..., LoopbackServer], session: wire.Session
) -> None:
    def silent(peer: Peer, server: LoopbackServer) -> None:
        assert peer.read_request() is not None
        server.stop.wait(IO_TIMEOUT)

    server = serve(silent)
    started = time.monotonic()
    with pytest.raises(wire.ReadTimeout):
        session.request("GET", server.url("/"), timeout=(2, 0.3))
    assert time.monotonic() - started < 2


def test_tls_verification(
    serve: Callable[..., LoopbackServer], session: wire.Session, pki: Pki
) -> None:
    server = serve(keep_alive(http_response(b"secure")), tls=pki.server_context)
    url = server.url("/v2/", scheme="https")
    assert session.request("GET", url, verify=pki.ca_path).content == b"secure"
    with pytest.raises(wire.SSLError) as info:
        session.request("GET", url, verify=pki.other_ca_path)
    assert isinstance(info.value.__cause__, ssl.SSLError)
    assert isinstance(info.value, wire.ConnectionError)
    assert session.request("GET", url, verify=False).content == b"secure"
    # The session's own default applies when the request names none.
    session.verify = pki.ca_path
    assert session.request("GET", url).content == b"secure"


def test_http_response_garbage_is_a_connection_error_without_quote(
    serve: Callable[..., LoopbackServer], session: wire.Session
) -> None:
    def garbage(peer: Peer, server: LoopbackServer) -> None:
        assert peer.read_request() is not None
        peer.send(b"NOT-HTTP " + SECRET.encode() + b"\r\n\r\n")

    server = serve(garbage)
    with pytest.raises(wire.ConnectionError) as info:
        session.request("GET", server.url("/"))
    assert "5ecr3t" not in str(info.value)
    assert info.value.__cause__ is None


# -- proxies ------------------------------------------------------------------------------------


def basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def test_http_request_through_a_forward_proxy(
    serve: Callable[..., LoopbackServer], session: wire.Session
) -> None:
    proxy = serve(keep_alive(http_response(b"via proxy")))
    proxies = {"http": f"http://user:pa%3Ass@127.0.0.1:{proxy.port}"}
    # The target's name is never resolved (tests may resolve loopback names only): the proxy is.
    resp = session.request("GET", "http://registry.test:5000/v2/x?n=1", proxies=proxies)
    assert resp.content == b"via proxy"
    again = session.request("GET", "http://registry.test:5000/v2/y", proxies=proxies)
    assert again.status_code == 200
    first, second = proxy.requests
    assert first.line == "GET http://registry.test:5000/v2/x?n=1 HTTP/1.1"
    assert first.headers["proxy-authorization"] == basic("user", "pa:ss")
    assert first.headers["host"] == "registry.test:5000"
    assert second.line == "GET http://registry.test:5000/v2/y HTTP/1.1"
    assert proxy.accepted == 1


def test_proxy_is_picked_by_scheme(
    serve: Callable[..., LoopbackServer], session: wire.Session
) -> None:
    direct = serve(keep_alive(http_response(b"direct")))
    proxy = serve(keep_alive(http_response(b"proxied")))
    elsewhere = f"http://127.0.0.1:{proxy.port}"
    # Only an https proxy: a plain http request goes direct.
    assert session.request("GET", direct.url("/"), proxies={"https": elsewhere}).content == (
        b"direct"
    )
    assert direct.requests[0].line == "GET / HTTP/1.1"
    assert "proxy-authorization" not in direct.requests[0].headers
    # The most specific key wins.
    specific = {"http": "http://127.0.0.1:1", "http://127.0.0.1": elsewhere}
    assert session.request("GET", direct.url("/p"), proxies=specific).content == b"proxied"
    assert proxy.requests[0].line == f"GET http://127.0.0.1:{direct.port}/p HTTP/1.1"
    assert "proxy-authorization" not in proxy.requests[0].headers


def test_unsupported_proxy_scheme(session: wire.Session) -> None:
    with pytest.raises(wire.InvalidURL, match="proxy scheme"):
        session.request(
            "GET", "http://registry.test/v2/", proxies={"http": "socks5://127.0.0.1:1080"}
        )


def splice(a: socket.socket, b: socket.socket, stop: threading.Event) -> None:
    """Copy bytes both ways until one side closes (or the server stops)."""
    deadline = time.monotonic() + IO_TIMEOUT
    while not stop.is_set() and time.monotonic() < deadline:
        readable, _, _ = select.select([a, b], [], [], 0.05)
        for src in readable:
            data = src.recv(65536)
            if not data:
                return
            (b if src is a else a).sendall(data)


def connect_proxy(target_port: int, refuse: bool = False) -> Handler:
    def handle(peer: Peer, server: LoopbackServer) -> None:
        request = peer.read_request()
        if request is None:
            return
        server.requests.append(request)
        if refuse:
            peer.send(
                http_response(
                    b"auth please",
                    "407 Proxy Authentication Required",
                    [("Proxy-Authenticate", 'Basic realm="proxy"')],
                )
            )
            return
        upstream = socket.create_connection(("127.0.0.1", target_port), timeout=IO_TIMEOUT)
        try:
            peer.send(b"HTTP/1.1 200 Connection established\r\n\r\n")
            splice(peer.sock, upstream, server.stop)
        finally:
            upstream.close()

    return handle


def test_https_through_a_connect_tunnel(
    serve: Callable[..., LoopbackServer], session: wire.Session, pki: Pki
) -> None:
    target = serve(keep_alive(http_response(b"tunnelled")), tls=pki.server_context)
    proxy = serve(connect_proxy(target.port))
    proxies = {"https": f"http://alice:s3cret@127.0.0.1:{proxy.port}"}
    url = target.url("/v2/", scheme="https")
    resp = session.request("GET", url, proxies=proxies, verify=pki.ca_path)
    assert (resp.status_code, resp.content) == (200, b"tunnelled")
    assert session.request("GET", url, proxies=proxies, verify=pki.ca_path).status_code == 200
    (connect,) = proxy.requests
    assert connect.line.startswith(f"CONNECT 127.0.0.1:{target.port} HTTP/1.")
    assert connect.headers["proxy-authorization"] == basic("alice", "s3cret")
    # Inside the tunnel: origin-form, no proxy credentials.
    assert [r.line for r in target.requests] == ["GET /v2/ HTTP/1.1"] * 2
    assert "proxy-authorization" not in target.requests[0].headers
    assert (proxy.accepted, target.accepted) == (1, 1)
    # The certificate is still checked through the tunnel.
    with pytest.raises(wire.SSLError):
        session.request("GET", url, proxies=proxies, verify=pki.other_ca_path)


def test_connect_refused_by_the_proxy_is_a_proxy_error(
    serve: Callable[..., LoopbackServer], session: wire.Session
) -> None:
    proxy = serve(connect_proxy(1, refuse=True))
    proxies = {"https": f"http://bob:wrong@127.0.0.1:{proxy.port}"}
    with pytest.raises(wire.ProxyError) as info:
        session.request("GET", "https://registry.test/v2/", proxies=proxies, verify=False)
    assert isinstance(info.value, wire.ConnectionError)
    assert "407" in str(info.value)
    assert "wrong" not in str(info.value)
    (connect,) = proxy.requests
    assert connect.line.startswith("CONNECT registry.test:443 HTTP/1.")
    assert connect.headers["proxy-authorization"] == basic("bob", "wrong")


# -- Headers and Response helpers ---------------------------------------------------------------


def test_headers_mapping() -> None:
    headers = Headers(
        [
            ("Content-Type", "application/json"),
            ("WWW-Authenticate", 'Bearer realm="a"'),
            ("www-authenticate", 'Basic realm="b"'),
        ]
    )
    assert headers["content-type"] == headers["CONTENT-TYPE"] == "application/json"
    assert headers["Www-Authenticate"] == 'Bearer realm="a", Basic realm="b"'
    assert list(headers) == ["Content-Type", "WWW-Authenticate"]
    assert len(headers) == 2
    assert "CONTENT-type" in headers
    not_a_name: object = 42
    assert not_a_name not in headers
    assert headers.get("missing") is None
    headers["content-TYPE"] = "text/plain"
    assert headers["Content-Type"] == "text/plain"
    assert len(headers) == 2
    del headers["WWW-AUTHENTICATE"]
    assert "www-authenticate" not in headers
    assert dict(Headers({"A": "1", "a": "2"})) == {"A": "1, 2"}


def test_repeated_response_headers_are_joined(
    serve: Callable[..., LoopbackServer], session: wire.Session
) -> None:
    head = [
        ("X-Repeat", "one"),
        ("Www-Authenticate", 'Bearer realm="https://auth.test/token"'),
        ("x-repeat", "two"),
        ("X-REPEAT", "three"),
    ]
    server = serve(keep_alive(http_response(b"", headers=head)))
    resp = session.request("GET", server.url("/"))
    assert resp.headers["x-repeat"] == "one, two, three"
    assert resp.headers["WWW-AUTHENTICATE"] == 'Bearer realm="https://auth.test/token"'
    assert resp.headers["content-length"] == "0"
    assert resp.request.method == "GET"
    assert resp.url == server.url("/")


def make_response(headers: dict[str, str], body: bytes = b"") -> Response:
    raw = Body(io.BytesIO(body), None, lambda reusable: None)
    return Response(200, "OK", Headers(headers), raw, SentRequest("GET", "http://h/", {}))


def test_links() -> None:
    resp = make_response({"Link": '</v2/x/tags/list?n=2&last=b>; rel="next"'})
    assert resp.links == {"next": {"url": "/v2/x/tags/list?n=2&last=b", "rel": "next"}}
    several = make_response(
        {"link": '<https://r.test/a?last=1>; rel="next", </b>; rel=prev; title="B"'}
    )
    assert several.links["next"]["url"] == "https://r.test/a?last=1"
    assert several.links["prev"] == {"url": "/b", "rel": "prev", "title": "B"}
    assert make_response({}).links == {}
    assert make_response({"Link": "</no-rel>"}).links == {"/no-rel": {"url": "/no-rel"}}


def test_link_header_from_a_server(
    serve: Callable[..., LoopbackServer], session: wire.Session
) -> None:
    link = '</v2/x/tags/list?n=2&last=b>; rel="next"'
    server = serve(keep_alive(http_response(b'{"tags": ["a", "b"]}', headers=[("Link", link)])))
    resp = session.request("GET", server.url("/v2/x/tags/list", "http") + "?n=2")
    assert resp.links["next"]["url"] == "/v2/x/tags/list?n=2&last=b"
    assert resp.json() == {"tags": ["a", "b"]}


def test_text_encoding_and_single_use_stream() -> None:
    resp = make_response({"Content-Type": 'text/plain; charset="latin-1"'}, "é".encode("latin-1"))
    assert resp.encoding == "latin-1"
    assert resp.text == "é"
    streamed = make_response({}, b"abc")
    assert list(streamed.iter_content(2)) == [b"ab", b"c"]
    with pytest.raises(RuntimeError):
        _ = streamed.content


# -- proxies from the environment ---------------------------------------------------------------


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    """No proxy variable from the test's own environment, and no socket may connect."""
    for name in list(os.environ):
        if name.lower().endswith("_proxy") or name == "REQUEST_METHOD":
            monkeypatch.delenv(name)

    def no_connect(*args: object, **kwargs: object) -> None:
        raise AssertionError("environ_proxies opened a connection")

    monkeypatch.setattr(socket, "create_connection", no_connect)
    monkeypatch.setattr(socket.socket, "connect", no_connect)
    return monkeypatch


PROXY = "http://proxy.corp:3128"


def test_environ_proxies_none_set(clean_env: pytest.MonkeyPatch) -> None:
    assert environ_proxies("registry.example.com", 443) == {}


@pytest.mark.parametrize("name", ["https_proxy", "HTTPS_PROXY"])
def test_environ_proxies_either_case(clean_env: pytest.MonkeyPatch, name: str) -> None:
    clean_env.setenv(name, PROXY)
    assert environ_proxies("registry.example.com", 443) == {"https": PROXY}
    assert environ_proxies("registry.example.com") == {"https": PROXY}


def test_environ_proxies_lower_case_wins(clean_env: pytest.MonkeyPatch) -> None:
    clean_env.setenv("HTTP_PROXY", "http://upper:1")
    clean_env.setenv("http_proxy", "http://lower:2")
    assert environ_proxies("registry.example.com", 80) == {"http": "http://lower:2"}


@pytest.mark.parametrize(
    ("no_proxy", "host", "port", "bypassed"),
    [
        ("*", "registry.example.com", 443, True),
        ("*", "10.1.2.3", None, True),
        (".example.com", "registry.example.com", 443, True),
        (".example.com", "example.com", None, True),
        (".example.com", "deep.registry.example.com", None, True),
        ("example.com", "registry.example.com", 443, True),
        ("example.com", "example.com", 5000, True),
        (".example.com", "example.org", 443, False),
        ("example.com", "notexample.com", 443, False),
        ("registry.local", "registry.local", 5000, True),
        ("REGISTRY.local", "Registry.LOCAL", None, True),
        ("registry.local", "registry.local.evil", 443, False),
        ("registry.local:5000", "registry.local", 5000, True),
        ("registry.local:5000", "registry.local", 5001, False),
        ("10.0.0.0/8", "10.1.2.3", 443, True),
        ("10.0.0.0/8", "11.1.2.3", 443, False),
        ("10.0.0.0/8", "ten.example.com", 443, False),
        ("10.0.0.0/8", "10.example.com", None, False),
        ("192.168.1.7", "192.168.1.7", 5000, True),
        ("fd00::/8", "fd12::1", 443, True),
        ("other.test, example.com", "registry.example.com", 443, True),
        ("other.test example.com", "registry.example.com", 443, True),
        ("other.test,,", "registry.example.com", 443, False),
    ],
)
def test_environ_no_proxy(
    clean_env: pytest.MonkeyPatch, no_proxy: str, host: str, port: int | None, bypassed: bool
) -> None:
    clean_env.setenv("HTTPS_PROXY", PROXY)
    clean_env.setenv("NO_PROXY", no_proxy)
    expected: dict[str, str] = {} if bypassed else {"https": PROXY}
    assert environ_proxies(host, port) == expected


def test_environ_no_proxy_lower_case(clean_env: pytest.MonkeyPatch) -> None:
    clean_env.setenv("http_proxy", PROXY)
    clean_env.setenv("no_proxy", "internal.test")
    assert environ_proxies("a.internal.test", 80) == {}
    assert environ_proxies("public.test", 80) == {"http": PROXY}


@pytest.mark.parametrize(
    ("no_proxy", "host", "port"),
    [("example.com", "notexample.com", None), ("registry.local:5000", "myregistry.local", 5000)],
    ids=["no-port", "host-port"],
)
def test_environ_no_proxy_suffix_respects_label_boundary(
    clean_env: pytest.MonkeyPatch, no_proxy: str, host: str, port: int | None
) -> None:
    clean_env.setenv("HTTPS_PROXY", PROXY)
    clean_env.setenv("NO_PROXY", no_proxy)
    assert environ_proxies(host, port) == {"https": PROXY}


def test_environ_proxies_httpoxy_is_ignored_under_cgi(clean_env: pytest.MonkeyPatch) -> None:
    clean_env.setenv("REQUEST_METHOD", "GET")
    clean_env.setenv("HTTP_PROXY", "http://attacker.test:80")
    assert "http" not in environ_proxies("registry.example.com", 80)


@pytest.mark.parametrize(
    "variables",
    [
        {"HTTPS_PROXY": PROXY, "https_proxy": ""},
        {"HTTPS_PROXY": PROXY, "https_proxy": "http://lower.test:3128"},
        {"Https_Proxy": PROXY},
        {"ALL_PROXY": PROXY, "ftp_proxy": "http://ftp.test:21"},
        {"REQUEST_METHOD": "GET", "HTTP_PROXY": PROXY, "http_proxy": "http://lower.test:1"},
        {"REQUEST_METHOD": "GET", "HTTP_PROXY": PROXY},
        {"NO_PROXY": "example.com", "https_proxy": PROXY},
    ],
)
def test_proxy_variables_are_read_as_urllib_reads_them(
    clean_env: pytest.MonkeyPatch, variables: dict[str, str]
) -> None:
    """hosts reads the variables itself (urllib.request costs ~4 ms to import): same answer."""
    import urllib.request

    for name, value in variables.items():
        clean_env.setenv(name, value)
    expected = urllib.request.getproxies_environment()
    expected.pop("no", None)
    got = environ_proxies("registry.test", 443)
    assert got == expected
