"""Measure how fast ``ocireg`` starts, next to ``import requests``.

Run from the repository root::

    .venv/bin/python benchmarks/bench_startup.py [--runs N] [--top N]

Issue #6 asks that ``ocireg --version`` and ``ocireg parse`` cost at most 0.05 s more than
``python -c 'import requests'``. Each command runs ``--runs`` times (default 20) as a fresh
subprocess of this interpreter, after one warm-up run, and the median wall time is printed
with the difference to the baseline. Then ``python -X importtime -m ocireg.cli parse mongo``
shows the ``--top`` imports by cumulative time (microseconds, as Python reports them; one
run, so noisy) and whether any module that must stay lazy (requests, urllib3, pluggy, tqdm)
was loaded. tests/unit/test_cli_startup.py checks the latter on every test run.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time

BUDGET = 0.05  # seconds over `import requests`
LAZY = ("requests", "urllib3", "pluggy", "tqdm", "argcomplete")
CLI = [sys.executable, "-m", "ocireg.cli"]
COMMANDS = {
    "python -c 'import requests'": [sys.executable, "-c", "import requests"],
    "python -c pass": [sys.executable, "-c", "pass"],
    "ocireg --version": [*CLI, "--version"],
    "ocireg parse mongo": [*CLI, "parse", "mongo"],
}


def clean_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith(("OCIREG_", "PYTHON"))}


def median_wall(cmd: list[str], runs: int) -> float:
    env = clean_env()
    subprocess.run(cmd, capture_output=True, env=env, check=True)  # warm the page cache
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(cmd, capture_output=True, env=env, check=True)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def importtime(top: int) -> tuple[list[tuple[int, int, str]], set[str]]:
    """``(cumulative µs, self µs, module)`` of the slowest imports, and every module name."""
    proc = subprocess.run(
        [sys.executable, "-X", "importtime", *CLI[1:], "parse", "mongo"],
        capture_output=True,
        text=True,
        env=clean_env(),
        check=True,
    )
    rows = []
    for line in proc.stderr.splitlines():
        if not line.startswith("import time:") or "|" not in line:
            continue
        self_us, cumulative, name = (part.strip() for part in line[12:].split("|"))
        if self_us.isdigit():
            rows.append((int(cumulative), int(self_us), name))
    rows.sort(reverse=True)
    return rows[:top], {name.strip() for _, _, name in rows}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--top", type=int, default=15)
    args = parser.parse_args()

    print(f"median wall time of {args.runs} runs each ({sys.executable})")
    medians = {}
    for label, cmd in COMMANDS.items():
        medians[label] = median_wall(cmd, args.runs)
        print(f"  {label:<32} {medians[label] * 1000:7.1f} ms")
    baseline = medians["python -c 'import requests'"]
    verdict = 0
    for label in ("ocireg --version", "ocireg parse mongo"):
        extra = medians[label] - baseline
        ok = extra <= BUDGET
        verdict |= not ok
        print(
            f"  {label:<32} {extra * 1000:+7.1f} ms over import requests "
            f"(budget {BUDGET * 1000:+.0f} ms): {'OK' if ok else 'OVER'}"
        )

    top, modules = importtime(args.top)
    print(f"\npython -X importtime -m ocireg.cli parse mongo, top {args.top} by cumulative time")
    print(f"  {'cumulative':>10} {'self':>8}  module")
    for cumulative, self_us, name in top:
        print(f"  {cumulative:>8} µs {self_us:>5} µs  {name}")
    loaded = sorted(m for m in modules if m.split(".")[0] in LAZY)
    print(f"\nlazy modules loaded by parse: {', '.join(loaded) or 'none'}")
    return verdict | bool(loaded)


if __name__ == "__main__":
    sys.exit(main())
