"""Running one tool once, and summing many runs up as a markdown table (for compare.py).

A run is a child process: its wall time and its peak resident set. The peak comes from GNU
``/usr/bin/time`` (``%M``: ``ru_maxrss`` of the process it forks, which covers the children
that one waited for, so a shell pipeline counts its largest member). Not from our own
``wait4``: a child forked from this process starts with this process's RSS as its peak, and
``exec`` keeps that. Without GNU time it falls back to ``wait4`` (peaks then read at least
what this process holds). A tool that times itself prints ``{"seconds": ...}`` (or
``{"samples": [...]}``) as its last line of output, and that figure replaces the wall time.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import tempfile
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

_GNU_TIME = "/usr/bin/time"

__all__ = ["Result", "Run", "run", "table"]


@dataclass
class Run:
    """One run: the seconds it took (several when the tool timed repeated calls itself) and
    the process's peak RSS in bytes."""

    seconds: list[float]
    rss: int


@dataclass
class Result:
    """Every run of one tool for one operation; ``error`` once a run failed."""

    tool: str
    floor: bool = False
    runs: list[Run] = field(default_factory=list)
    error: str | None = None

    @property
    def samples(self) -> list[float]:
        return [s for r in self.runs for s in r.seconds]

    @property
    def median(self) -> float:
        return statistics.median(self.samples)


def run(
    argv: Sequence[str],
    *,
    env: Mapping[str, str] | None = None,
    timeout: float = 900.0,
    self_timed: bool = False,
) -> Run:
    """Run ``argv`` to completion; raises RuntimeError (with the end of its stderr) when it
    fails or outlives ``timeout``."""
    with (
        tempfile.TemporaryFile() as out,
        tempfile.TemporaryFile() as err,
        tempfile.NamedTemporaryFile() as peak,
    ):
        timed = os.access(_GNU_TIME, os.X_OK)
        prefix = [_GNU_TIME, "-q", "-f", "%M", "-o", peak.name] if timed else []
        started = time.perf_counter()
        proc = subprocess.Popen(
            [*prefix, *argv],
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=err,
            env=None if env is None else dict(env),
        )
        timer = threading.Timer(timeout, proc.kill)
        timer.start()
        try:
            # wait4, not Popen.wait: only it hands back the child's resource usage.
            _, status, usage = os.wait4(proc.pid, 0)
        finally:
            timer.cancel()
        wall = time.perf_counter() - started
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        stdout = out.read().decode(errors="replace")
        stderr = err.read().decode(errors="replace")
        text = Path(peak.name).read_text().strip()
        rss = int(text.splitlines()[-1]) if timed and text else usage.ru_maxrss
    if proc.returncode != 0:
        last = (stderr.strip() or stdout.strip() or "no output").splitlines()[-1]
        raise RuntimeError(f"exit {proc.returncode}: {last[:160]}")
    seconds = [wall]
    if self_timed:
        report = json.loads(stdout.strip().splitlines()[-1])
        seconds = report["samples"] if "samples" in report else [report["seconds"]]
    return Run(seconds, rss * 1024)


def _time(seconds: float) -> str:
    if seconds >= 1:
        return f"{seconds:.2f} s"
    if seconds >= 0.001:
        return f"{seconds * 1e3:.1f} ms"
    return f"{seconds * 1e6:.0f} us"


def table(title: str, results: Sequence[Result], reference: str | None = None) -> str:
    """A markdown table: median, min-max, ratio to ``reference`` (a tool's name; else the
    first floor), and the median peak RSS of the processes."""
    ok = [r for r in results if r.error is None and r.runs]
    base = next((r for r in ok if reference and r.tool.startswith(reference)), None)
    base = base or next((r for r in ok if r.floor), None)
    head = f"x {base.tool.split(' ')[0]}" if base else "ratio"
    lines = [
        f"### {title}",
        "",
        f"| tool | median | min - max | {head} | peak RSS | runs |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for r in results:
        if r.error is not None:
            lines.append(f"| {r.tool} | error | {r.error.replace('|', '/')} | | | |")
            continue
        if not r.runs:
            continue
        samples = r.samples
        ratio = f"{r.median / base.median:.2f}" if base else "-"
        rss = statistics.median(run.rss for run in r.runs) / 2**20
        lines.append(
            f"| {r.tool} | {_time(r.median)} | {_time(min(samples))} - {_time(max(samples))}"
            f" | {ratio} | {rss:.0f} MiB | {len(samples)} |"
        )
    return "\n".join(lines)
