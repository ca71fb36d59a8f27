"""Progress bars for ``blob get``, ``blob put`` and ``copy``: bytes, rate and ETA on stderr.

A bar is shown only when stderr is a terminal, and never with ``--json`` or ``--quiet``.
``OCIREG_PROGRESS=1`` shows it on any stderr (a log file, a test), ``OCIREG_PROGRESS=0`` never
(``--json`` and ``--quiet`` still win). tqdm is imported when the first bytes move, so commands
that show no bar never load it.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import threading
from collections.abc import Iterator
from typing import Any

ENV = "OCIREG_PROGRESS"
_ON = frozenset({"1", "true", "yes", "on"})
_OFF = frozenset({"0", "false", "no", "off"})


def wanted(args: argparse.Namespace) -> bool:
    """Whether this command should draw a bar (see the module docstring)."""
    if args.json or args.quiet:
        return False
    forced = os.environ.get(ENV, "").strip().lower()
    if forced in _ON:
        return True
    if forced in _OFF:
        return False
    try:
        return sys.stderr.isatty()
    except (AttributeError, ValueError):  # replaced or closed stderr
        return False


class Bar:
    """A byte counter drawn with tqdm once bytes move; safe to call from worker threads.

    Call it with the bytes just moved (negative: taken back, as a failed upload does) and
    :meth:`set_total` when the expected size changes. Nothing is drawn while nothing moved,
    so a blob the registry already had, or a copy that only mounts, shows no bar.
    """

    def __init__(self, desc: str, total: int | None = None) -> None:
        self._desc, self._total = desc, total
        self._bar: Any = None
        self._lock = threading.Lock()

    def __call__(self, n: int) -> None:
        with self._lock:
            if self._bar is None:
                if not n:
                    return
                self._bar = self._open()
            self._bar.update(n)

    def set_total(self, total: int) -> None:
        with self._lock:
            self._total = total
            if self._bar is not None:
                self._bar.total = total
                self._bar.refresh()

    def _open(self) -> Any:
        from tqdm import tqdm  # type: ignore[import-untyped]

        return tqdm(
            total=self._total,
            desc=self._desc,
            unit="B",
            unit_scale=True,
            unit_divisor=1024,
            file=sys.stderr,
            dynamic_ncols=True,
            leave=True,
        )

    def close(self) -> None:
        with self._lock:
            bar, self._bar = self._bar, None
        if bar is not None:
            bar.close()


@contextlib.contextmanager
def progress_bar(
    args: argparse.Namespace, desc: str, total: int | None = None
) -> Iterator[Bar | None]:
    """A :class:`Bar` closed on the way out (before an error is printed), or None when no
    bar is wanted."""
    if not wanted(args):
        yield None
        return
    bar = Bar(desc, total)
    try:
        yield bar
    finally:
        bar.close()
