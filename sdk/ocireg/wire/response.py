"""A response of the wire layer: status, headers (one case-insensitive mapping), and a body
read in chunks straight from ``http.client`` (decoded from gzip or deflate, the decoded size
bounded by what each read asks for), whose connection goes back to the pool once it is read
to its end.

The attributes are named as requests names them (``status_code``, ``headers``, ``raw``,
``iter_content``, ``content``, ``json``), so code written for one reads the other.
"""

from __future__ import annotations

import json
import re
import socket
import zlib
from collections.abc import Callable, Iterator, Mapping, MutableMapping
from http.client import HTTPResponse, IncompleteRead
from typing import Any

from .errors import ContentDecodingError

__all__ = ["Body", "Headers", "Response", "SentRequest"]

#: What one read asks for when the caller names no size.
CHUNK = 64 * 1024
_QUOTES = " '\""
#: The most of a deflate body kept to start over as a raw stream.
_HEAD_LIMIT = 64 * 1024


class Headers(MutableMapping[str, str]):
    """Case-insensitive header mapping; a repeated header's values are joined with ``", "``
    (as HTTP allows, and as requests does). Iteration gives each name as first received."""

    def __init__(self, items: Mapping[str, str] | list[tuple[str, str]] | None = None) -> None:
        self._store: dict[str, tuple[str, str]] = {}
        pairs = items.items() if isinstance(items, Mapping) else (items or [])
        for name, value in pairs:
            known = self._store.get(name.lower())
            self._store[name.lower()] = (
                (known[0], f"{known[1]}, {value}") if known else (name, value)
            )

    def __getitem__(self, name: str) -> str:
        return self._store[name.lower()][1]

    def __setitem__(self, name: str, value: str) -> None:
        self._store[name.lower()] = (name, value)

    def __delitem__(self, name: str) -> None:
        del self._store[name.lower()]

    def __iter__(self) -> Iterator[str]:
        return (name for name, _ in self._store.values())

    def __len__(self) -> int:
        return len(self._store)

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name.lower() in self._store

    def __repr__(self) -> str:
        return repr(dict(self.items()))


class _Decoder:
    """gzip or deflate, never producing more than asked per call (a bomb stays a trickle).

    "deflate" comes zlib-wrapped or raw (servers send both): the start of the body is kept
    until it has decoded to something, so that a raw stream found out late starts over."""

    def __init__(self, encoding: str) -> None:
        self._gzip = encoding in ("gzip", "x-gzip")
        self._obj = zlib.decompressobj(16 + zlib.MAX_WBITS if self._gzip else zlib.MAX_WBITS)
        self._head: bytes | None = None if self._gzip else b""

    def decode(self, data: bytes, limit: int) -> bytes:
        try:
            return self._decode(data, limit)
        except zlib.error as exc:
            raise ContentDecodingError(f"the body is not valid {self._name}") from exc

    @property
    def _name(self) -> str:
        return "gzip" if self._gzip else "deflate"

    def _decode(self, data: bytes, limit: int) -> bytes:
        if self._head is None:
            return self._obj.decompress(data, limit)
        self._head += data
        try:
            out = self._obj.decompress(data, limit)
        except zlib.error:
            # "deflate" without the zlib header: start over as a raw stream.
            self._obj = zlib.decompressobj(-zlib.MAX_WBITS)
            head, self._head = self._head, None
            return self._obj.decompress(head, limit)
        if out or len(self._head) > _HEAD_LIMIT:
            self._head = None
        return out

    @property
    def pending(self) -> bytes:
        return self._obj.unconsumed_tail


class Body:
    """The body of one ``http.client`` response, as urllib3's response offers it:
    ``read``/``read1``/``stream`` with ``decode_content``, ``close`` and ``release_conn``.

    ``release(reusable)`` is called once: with True when the body was read to its end (the
    connection may serve another request), False when it is closed before.
    """

    def __init__(
        self,
        resp: Any,
        encoding: str | None,
        release: Callable[[bool], None],
        sock: socket.socket | None = None,
    ) -> None:
        self._resp = resp
        self._sock = sock
        self._release: Callable[[bool], None] | None = release
        enc = (encoding or "").strip().lower()
        self._decoder = _Decoder(enc) if enc in ("gzip", "x-gzip", "deflate") else None
        self._raw_read1 = getattr(resp, "read1", None) or resp.read
        self.closed = False

    def _done(self, reusable: bool) -> None:
        release, self._release = self._release, None
        if release is not None:
            release(reusable)

    def _read_raw(self, amt: int) -> bytes:
        if self.closed:
            return b""
        data: bytes = self._raw_read1(amt)
        if not data:
            self.closed = True
            left = getattr(self._resp, "length", None) if type(self._resp) is HTTPResponse else 0
            self._resp.close()  # http.client sends the next request only once it is closed
            self._done(not left)
            if left:  # the server closed before sending all it announced
                raise IncompleteRead(b"", left)
        return data

    def read1(self, amt: int = CHUNK, decode_content: bool | None = True) -> bytes:
        """At most ``amt`` bytes (after decoding), from what the socket has; b"" at the end."""
        amt = amt if amt and amt > 0 else CHUNK
        decoder = self._decoder if decode_content is not False else None
        if decoder is None:
            return self._read_raw(amt)
        while True:
            pending = decoder.pending
            out = decoder.decode(pending if pending else self._read_raw(amt), amt)
            if out or (not pending and self.closed):
                return out

    def read(self, amt: int | None = None, decode_content: bool | None = True) -> bytes:
        """``amt`` bytes (fewer only at the end), or everything when ``amt`` is None."""
        out = bytearray()
        while amt is None or len(out) < amt:
            data = self.read1(CHUNK if amt is None else amt - len(out), decode_content)
            if not data:
                break
            out += data
        return bytes(out)

    def stream(
        self, amt: int | None = CHUNK, decode_content: bool | None = True
    ) -> Iterator[bytes]:
        while data := self.read1(amt or CHUNK, decode_content):
            yield data

    def close(self) -> None:
        """Stop reading: the connection is dropped unless the body was read to its end."""
        if not self.closed:
            self.closed = True
            self._resp.close()
        self._done(False)

    @property
    def fp(self) -> Any:
        """The ``http.client`` response itself, for a reader that fills its own buffers
        (``readinto``); it calls :meth:`release_conn` once it has read to the end."""
        return self._resp

    @property
    def socket(self) -> socket.socket | None:
        """The plain TCP socket the body arrives on (None under TLS, whose bytes only the
        TLS layer can read): for a reader that moves the bytes on with ``os.splice``. What
        :attr:`fp` holds buffered comes first; ``fp.length`` must be kept counting."""
        sock = self._sock
        return sock if type(sock) is socket.socket and not self.closed else None

    def release_conn(self) -> None:
        """Give the connection back if the body was read to its end through :attr:`fp`;
        else drop it."""
        resp = self._resp
        if not self.closed and resp.isclosed() and not getattr(resp, "length", 0):
            self.closed = True
            self._done(True)
        self.close()


class SentRequest:
    """What was sent: ``method``, ``url`` and ``headers`` (for ``-v`` tracing)."""

    def __init__(self, method: str, url: str, headers: Mapping[str, str]) -> None:
        self.method, self.url, self.headers = method, url, Headers(headers)


class Response:
    """A status, headers and a body read on demand (``raw``, ``iter_content``) or at once
    (``content``, ``text``, ``json()``)."""

    def __init__(
        self, status: int, reason: str, headers: Headers, raw: Any, request: SentRequest
    ) -> None:
        self.status_code = status
        self.reason = reason
        self.headers = headers
        #: The body (a :class:`Body`, or a wrapper the transport puts around it).
        self.raw = raw
        self.request = request
        self.url = request.url
        self.history: list[Response] = []
        self._content: bytes | None = None
        self._content_consumed = False

    @property
    def ok(self) -> bool:
        return self.status_code < 400

    def iter_content(
        self, chunk_size: int | None = 1, decode_unicode: bool = False
    ) -> Iterator[bytes]:
        """The body in chunks of at most ``chunk_size`` bytes, once."""
        if self._content_consumed:
            if self._content is None:
                raise RuntimeError("the response body was read already")
            step = chunk_size or len(self._content) or 1
            for i in range(0, len(self._content), step):
                yield self._content[i : i + step]
            return
        self._content_consumed = True
        yield from self.raw.stream(chunk_size or CHUNK, decode_content=True)

    @property
    def content(self) -> bytes:
        if self._content is None:
            if self._content_consumed:
                raise RuntimeError("the response body was streamed already")
            self._content = b"".join(self.iter_content(CHUNK))
        return self._content

    @property
    def links(self) -> dict[str, dict[str, str]]:
        """The ``Link`` header's links by ``rel`` (or URL), each ``{"url": ..., "rel": ...}``,
        parsed as requests parses them."""
        found: dict[str, dict[str, str]] = {}
        value = self.headers.get("Link", "").strip(_QUOTES)
        if not value:
            return found
        for item in re.split(", *<", value):
            url, _, params = item.partition(";")
            link = {"url": url.strip("<> '\"")}
            for param in params.split(";") if params else ():
                key, sep, val = param.partition("=")
                if not sep or "=" in val:
                    break
                link[key.strip(_QUOTES)] = val.strip(_QUOTES)
            found[link.get("rel") or link["url"]] = link
        return found

    @property
    def encoding(self) -> str:
        ctype = self.headers.get("Content-Type", "")
        for param in ctype.split(";")[1:]:
            name, _, value = param.partition("=")
            if name.strip().lower() == "charset" and value.strip():
                return value.strip().strip('"')
        return "utf-8"

    @property
    def text(self) -> str:
        try:
            return self.content.decode(self.encoding, "replace")
        except LookupError:
            return self.content.decode("utf-8", "replace")

    def json(self, **kwargs: Any) -> Any:
        return json.loads(self.content, **kwargs)

    def close(self) -> None:
        self.raw.close()

    def __enter__(self) -> Response:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<Response [{self.status_code}]>"
