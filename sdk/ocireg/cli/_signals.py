"""SIGTERM and SIGHUP end a command the way Ctrl-C does.

They raise :class:`Terminated`, a ``KeyboardInterrupt``, so every cleanup written for Ctrl-C
runs for them too: a partial download is removed, an upload session is cancelled, a tag
being moved to a placeholder is put back, and ``delete``/``prune`` report what was done
before they stop. The exit status is 128 + the signal's number (130 for SIGINT, 143 for
SIGTERM, 129 for SIGHUP), as shells report a process killed by it.
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator
from types import FrameType

__all__ = ["Terminated", "exit_code_for_interrupt", "signals_interrupt"]

_CAUGHT = (signal.SIGTERM, signal.SIGHUP)


class Terminated(KeyboardInterrupt):
    """The process was asked to stop by ``signum``."""

    def __init__(self, signum: int) -> None:
        super().__init__(f"terminated by {signal.Signals(signum).name}")
        self.signum = signum


def _raise(signum: int, frame: FrameType | None) -> None:
    raise Terminated(signum)


@contextlib.contextmanager
def signals_interrupt() -> Iterator[None]:
    """Within the block, SIGTERM and SIGHUP raise :class:`Terminated` (main thread only)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    before = {s: signal.signal(s, _raise) for s in _CAUGHT}
    try:
        yield
    finally:
        for s, handler in before.items():
            signal.signal(s, handler)


def exit_code_for_interrupt(exc: KeyboardInterrupt) -> int:
    return 128 + (exc.signum if isinstance(exc, Terminated) else int(signal.SIGINT))
