"""One daemon thread that calls back at deadlines: the wire layer's bound on the time to
receive a response's headers (:mod:`ocireg.wire.connections`)."""

from __future__ import annotations

import heapq
import itertools
import threading
import time
from collections.abc import Callable

__all__ = ["WATCHDOG", "Watchdog"]


_Entry = list[Callable[[], None] | None]  # [callback], or [None] once cancelled or run


class Watchdog:
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


#: The process's watchdog.
WATCHDOG = Watchdog()
