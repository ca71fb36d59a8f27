"""Bounds on what a registry sends: body sizes (counted after decoding), a minimum transfer
rate and an overall deadline.

A registry, its token server or anything they redirect to may be hostile: an endless token
body, a 2 MiB gzip body that inflates to 2 GiB, or a server that sends one byte per second
(which no per-read timeout ever catches). Every body ocireg reads into memory goes through
:func:`read_bounded`; a response the transport hands out for streaming has its ``raw`` wrapped
in a :class:`GuardedRaw`, so ``iter_content`` (and ``.content``, ``.json()``) read through
a :class:`RateGuard` too.

Limits (the documented defaults):

- :data:`TOKEN_BODY_LIMIT` 1 MiB for token responses;
- :data:`SMALL_BODY_LIMIT` 64 KiB for ``/v2/`` and error bodies;
- :data:`PAGE_BODY_LIMIT` 16 MiB for a JSON page (tags, catalog, referrers) and for any other
  body the transport reads for a caller that did not stream.

Reads use ``read1`` (whatever the socket has, at most one chunk) so that a trickle is seen
chunk by chunk; decompression is bounded to the amount asked for.
"""

from __future__ import annotations

import http.client
import sys
import time
from collections.abc import Callable, Iterator
from typing import Any, Protocol

from . import wire
from .errors import RegistryError, TransportError

__all__ = [
    "CHUNK",
    "PAGE_BODY_LIMIT",
    "SMALL_BODY_LIMIT",
    "TOKEN_BODY_LIMIT",
    "BodyResponse",
    "GuardedRaw",
    "RateGuard",
    "guarded_chunks",
    "preload",
    "read_bounded",
    "read_errors",
]

TOKEN_BODY_LIMIT = 1024 * 1024
SMALL_BODY_LIMIT = 64 * 1024
PAGE_BODY_LIMIT = 16 * 1024 * 1024
#: The most one read asks for (after decoding).
CHUNK = 64 * 1024


class RateGuard:
    """A minimum transfer rate and an optional deadline, like curl's ``--speed-limit``,
    ``--speed-time`` and ``--max-time``.

    Call :meth:`feed` with the size of each chunk received (0 is fine). When a window of
    ``speed_time`` seconds passes with fewer than ``speed_limit * speed_time`` bytes, or when
    the deadline passes, it raises :class:`~ocireg.errors.TransportError` naming ``what``.
    Reusable by any reader (blob streams): it keeps no reference to the response.

    :param speed_limit: bytes per second; 0 turns the rate check off.
    :param speed_time: the length of the window, in seconds.
    :param deadline: seconds from now after which any further :meth:`feed`/:meth:`check`
        fails; None for no deadline.
    :param clock: a monotonic clock (tests pass a fake one).
    """

    def __init__(
        self,
        *,
        speed_limit: int = 1024,
        speed_time: float = 30.0,
        deadline: float | None = None,
        what: str = "response",
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.speed_limit = speed_limit
        self.speed_time = speed_time
        self.what = what
        self._clock = clock
        now = clock()
        self.deadline_at = None if deadline is None else now + deadline
        self.deadline = deadline
        self._window_start = now
        self._window_bytes = 0

    def remaining(self) -> float | None:
        """Seconds left before the deadline (never negative), or None without one."""
        if self.deadline_at is None:
            return None
        return max(0.0, self.deadline_at - self._clock())

    def check(self) -> None:
        """Raise when the deadline has passed."""
        if self.deadline_at is not None and self._clock() >= self.deadline_at:
            raise TransportError(
                f"{self.what}: no answer within the {self.deadline:g} s deadline", kind="limit"
            )

    def feed(self, size: int) -> None:
        """Count ``size`` bytes received; raise when too slow or past the deadline."""
        self.check()
        self._window_bytes += size
        if self.speed_limit <= 0:
            return
        now = self._clock()
        elapsed = now - self._window_start
        if elapsed < self.speed_time:
            return
        if self._window_bytes < self.speed_limit * elapsed:
            raise TransportError(
                f"{self.what}: transfer too slow ({self._window_bytes} bytes in {elapsed:.0f} s,"
                f" below {self.speed_limit} bytes/s over {self.speed_time:g} s)",
                kind="limit",
            )
        self._window_start, self._window_bytes = now, 0


def guarded_chunks(
    raw: Any, guard: RateGuard, *, chunk: int = CHUNK, decode_content: bool = True
) -> Iterator[bytes]:
    """The body of response ``raw`` (a :class:`~ocireg.wire.Body`, or urllib3's under a
    caller's ``requests.Session``), decoded, in chunks of at most ``chunk`` bytes, each fed to
    ``guard``. Read errors become :class:`TransportError` (their messages name host and port,
    never a header)."""
    if _decodes(raw):

        def read(amt: int) -> bytes:
            data: bytes = raw.read1(amt, decode_content=decode_content)
            return data

    else:  # a file-like body (a test double)
        read = raw.read
    while True:
        guard.check()
        try:
            data = read(chunk)
        except read_errors() as exc:
            raise TransportError(f"{guard.what}: reading failed ({type(exc).__name__})") from exc
        if not data:
            return
        guard.feed(len(data))
        yield data


def _decodes(raw: Any) -> bool:
    """Whether ``raw`` reads with ``read1(amt, decode_content=...)``."""
    if isinstance(raw, wire.Body):
        return True
    urllib3 = sys.modules.get("urllib3")
    return urllib3 is not None and isinstance(raw, urllib3.response.BaseHTTPResponse)


def read_errors() -> tuple[type[Exception], ...]:
    """What a body read raises when the connection drops mid-body: a socket's ``OSError``
    (resets, read timeouts; requests' exceptions are OSErrors too), http.client's
    ``IncompleteRead`` and kin, and urllib3's own errors when a caller's requests session
    has loaded it."""
    urllib3 = sys.modules.get("urllib3")
    if urllib3 is None:
        return (http.client.HTTPException, OSError)
    return (http.client.HTTPException, OSError, urllib3.exceptions.HTTPError)


class GuardedRaw:
    """A response body whose ``stream()`` (what requests' ``iter_content`` uses) reads
    through a :class:`RateGuard` and stops at ``limit`` bytes (None: no limit). Everything
    else (``read``, ``release_conn``, ``headers``...) is the wrapped response's own."""

    def __init__(self, raw: Any, guard: RateGuard, limit: int | None = None) -> None:
        self.wrapped = raw
        self.guard = guard
        self.limit = limit
        self.received = 0

    def stream(
        self, amt: int | None = CHUNK, decode_content: bool | None = None
    ) -> Iterator[bytes]:
        chunk = min(amt or CHUNK, CHUNK)
        for data in guarded_chunks(
            self.wrapped, self.guard, chunk=chunk, decode_content=decode_content is not False
        ):
            self.received += len(data)
            if self.limit is not None and self.received > self.limit:
                raise TransportError(
                    f"{self.guard.what}: the response body is over {self.limit} bytes",
                    kind="limit",
                )
            yield data

    def __getattr__(self, name: str) -> Any:
        return getattr(self.wrapped, name)


class BodyResponse(Protocol):
    """What :func:`read_bounded` needs of a response: ocireg's wire layer's, or requests'
    (the hosted-API plugins' sessions)."""

    status_code: int
    raw: Any

    @property
    def content(self) -> bytes: ...

    def close(self) -> None: ...


def read_bounded(
    resp: BodyResponse,
    limit: int,
    what: str,
    *,
    guard: RateGuard | None = None,
    truncate: bool = False,
) -> bytes:
    """Read ``resp``'s body (decoded) into memory, at most ``limit`` bytes.

    A longer body raises :class:`~ocireg.errors.RegistryError` naming ``what`` and the limit,
    or, with ``truncate=True``, is cut at ``limit`` (for error bodies, of which only the start
    matters). A body read already (a response that was not streamed) is only checked. Reads go
    through ``guard`` (the response's own when the transport wrapped it; else a default
    :class:`RateGuard`), so a slow sender ends with a TransportError.
    """
    if getattr(resp, "_content_consumed", False):
        body = resp.content or b""
        chunks: Iterator[bytes] = iter((body,))
    else:
        raw = resp.raw
        if isinstance(raw, GuardedRaw):
            raw, guard = raw.wrapped, guard or raw.guard
        chunks = guarded_chunks(raw, guard or RateGuard(what=what))
    out = bytearray()
    for data in chunks:
        room = limit + 1 - len(out)
        out += data[:room]
        if len(out) > limit:
            resp.close()
            if truncate:
                return bytes(out[:limit])
            raise RegistryError(
                f"{what}: the response body is over {limit} bytes; refusing to read more",
                status=resp.status_code,
                operation=what,
            )
    return bytes(out)


def preload(resp: wire.Response, limit: int) -> None:
    """Read the body of a response the transport streamed into ``resp.content`` now (as
    requests does when not streaming), at most ``limit`` bytes; the connection goes back to
    the pool."""
    if isinstance(resp.raw, GuardedRaw):
        resp.raw.limit = limit
    try:
        _ = resp.content
    finally:
        resp.close()
