"""The transport's connection adapter: requests' pooled ``HTTPAdapter`` whose connections
also bound the time to receive a response's headers.

The per-read timeout bounds silence, not a trickle: a server that sends its headers one
byte at a time never lets a read time out, and the body's minimum-rate check
(:class:`~ocireg.limits.RateGuard`) starts only with the body. Here a watchdog gives the
headers the read timeout as a whole; when it passes, the socket is shut down and the read
ends with urllib3's ``ReadTimeoutError`` (requests' ``ReadTimeout``), which the transport
reports and, for requests that may be repeated, retries like any timeout.
"""

from __future__ import annotations

import contextlib
import heapq
import itertools
import socket
import threading
import time
from collections.abc import Callable
from typing import Any

import urllib3
from requests.adapters import HTTPAdapter
from urllib3.exceptions import ReadTimeoutError

__all__ = ["WatchedAdapter"]


_Entry = list[Callable[[], None] | None]  # [callback], or [None] once cancelled or run


class _Watchdog:
    """One daemon thread for every deadline of the process: a ``threading.Timer`` per
    request would cost a thread start (~300 us, half of a HEAD's client CPU)."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._heap: list[tuple[float, int, _Entry]] = []
        self._seq = itertools.count()
        self._cancelled = 0
        self._thread: threading.Thread | None = None

    def watch(
        self, seconds: float, callback: Callable[[], None]
    ) -> list[Callable[[], None] | None]:
        """Call ``callback`` in ``seconds`` unless :meth:`cancel` is called first."""
        entry: _Entry = [callback]
        with self._cond:
            heapq.heappush(self._heap, (time.monotonic() + seconds, next(self._seq), entry))
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="ocireg-watchdog")
                self._thread.daemon = True
                self._thread.start()
            if self._heap[0][2] is entry:
                self._cond.notify()
        return entry

    def cancel(self, entry: _Entry) -> None:
        with self._cond:
            if entry[0] is not None:
                entry[0] = None
                self._cancelled += 1
                if self._cancelled > 64 and self._cancelled * 2 > len(self._heap):
                    self._heap = [item for item in self._heap if item[2][0] is not None]
                    heapq.heapify(self._heap)
                    self._cancelled = 0

    def _run(self) -> None:
        with self._cond:
            while True:
                while self._heap and self._heap[0][2][0] is None:
                    heapq.heappop(self._heap)
                    self._cancelled = max(0, self._cancelled - 1)
                if not self._heap:
                    self._cond.wait()
                    continue
                wait = self._heap[0][0] - time.monotonic()
                if wait > 0:
                    self._cond.wait(wait)
                    continue
                entry = heapq.heappop(self._heap)[2]
                callback, entry[0] = entry[0], None
                if callback is not None:
                    self._cond.release()
                    try:
                        callback()
                    finally:
                        self._cond.acquire()


_WATCHDOG = _Watchdog()


class _HeadersWatched:
    """Mixin for urllib3 connections: the response headers must be complete within the
    connection's read timeout (set by urllib3 right before ``getresponse``)."""

    timeout: Any
    sock: socket.socket | None

    def getresponse(self) -> Any:
        limit = self.timeout if isinstance(self.timeout, int | float) else None
        sock = self.sock
        if not limit or sock is None:
            return super().getresponse()  # type: ignore[misc]
        lock = threading.Lock()
        state = {"done": False, "cut": False}

        def cut() -> None:
            with lock:
                if state["done"]:
                    return
                state["cut"] = True
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)

        timer = _WATCHDOG.watch(limit, cut)
        message = f"response headers not complete within {limit:g} s"
        try:
            response = super().getresponse()  # type: ignore[misc]
        except Exception:
            if state["cut"]:
                raise ReadTimeoutError(None, None, message) from None  # type: ignore[arg-type]
            raise
        finally:
            with lock:
                state["done"] = True
            _WATCHDOG.cancel(timer)
        if state["cut"]:  # http.client may take the cut for the end of the headers
            response.close()
            raise ReadTimeoutError(None, None, message)  # type: ignore[arg-type]
        return response


_WATCHED: dict[type, type] = {}


def _watched(cls: type) -> type:
    """``cls`` with the headers watchdog mixed in, made once per class. The class is read
    from urllib3's pool when a pool is made, not fixed here, so that whoever replaces it
    (vcrpy's recording stubs) still gets the connections it expects."""
    found = _WATCHED.get(cls)
    if found is None:
        found = _WATCHED[cls] = type(f"Watched{cls.__name__}", (_HeadersWatched, cls), {})
    return found


class _HTTPPool(urllib3.HTTPConnectionPool):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.ConnectionCls = _watched(urllib3.HTTPConnectionPool.ConnectionCls)


class _HTTPSPool(urllib3.HTTPSConnectionPool):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.ConnectionCls = _watched(urllib3.HTTPSConnectionPool.ConnectionCls)


class WatchedAdapter(HTTPAdapter):
    """``HTTPAdapter`` whose direct connections watch the time to receive headers
    (connections through a proxy are requests' own)."""

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {"http": _HTTPPool, "https": _HTTPSPool}
