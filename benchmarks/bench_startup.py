"""Measure how fast ``ocireg`` starts and how long one-shot commands take, next to
``python -c 'import requests'`` and python-dxf doing the same operation.

Run from the repository root::

    .venv/bin/python benchmarks/bench_startup.py [--runs N] [--top N]
        [--peers-venv DIR] [--no-peers] [--no-registry]

Issue #6 asks that ``ocireg --version`` and ``ocireg parse`` cost at most 0.05 s more than
``python -c 'import requests'``. The "Performance" issue asks that the one-shot commands that
talk to a registry (``ping``, ``tags`` of 2,000 tags, ``digest``, ``manifest``) take at most
what python-dxf takes for the same operation in its own process, and at most ``import
requests`` + 0.03 s; and that the first call in a new ``Client`` take at most twice what the
Python peers need.

Each command runs ``--runs`` times (default 20) as a fresh subprocess, after one warm-up
run; the commands of one table take turns within each repetition (so a noisy neighbour hits
them alike) and the median wall time is printed. The registry is a CNCF distribution
registry on loopback (``tests.fixtures.registry``, open mode: plain http) holding one tiny
image under 2,000 tags. ``ocireg`` is run as its console script, both as a user would type
it (TLS tried first on a loopback host, as docker does) and with ``--plain-http``.
python-dxf (``insecure=True``: plain http) is installed into a separate virtual environment
(``--peers-venv``, as ``benchmarks/bench_client.py`` does) and skipped when it cannot be.

Then ``python -X importtime -m ocireg.cli parse mongo`` shows the ``--top`` imports by
cumulative time (one run, so noisy) and whether any module that must stay lazy was loaded.
tests/unit/test_cli_startup.py and tests/live/test_cli_startup.py check those rules.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "sdk")]

BUDGET = 0.05  # seconds over `import requests` for commands that talk to no registry
REGISTRY_BUDGET = 0.03  # seconds over `import requests` for one-shot registry commands
LAZY = ("requests", "urllib3", "pluggy", "tqdm", "argcomplete")
_SCRIPT = Path(sys.executable).with_name("ocireg")
CLI = [str(_SCRIPT)] if _SCRIPT.exists() else [sys.executable, "-m", "ocireg.cli"]
IMPORT_REQUESTS = "python -c 'import requests'"
COMMANDS = {
    IMPORT_REQUESTS: [sys.executable, "-c", "import requests"],
    "python -c pass": [sys.executable, "-c", "pass"],
    "ocireg --version": [*CLI, "--version"],
    "ocireg parse mongo": [*CLI, "parse", "mongo"],
}
REPO = "bench/tags"
TAG = "t0001"

#: python-dxf doing one operation in its own process, printing what ocireg prints.
_DXF = r"""
import json, sys
from dxf import DXF
op, host, repo, tag = sys.argv[1:5]
if op == "ping":
    DXF(host, repo, insecure=True).api_version_check()
    print(f"http://{host}/v2/: OK")
elif op == "tags":
    print("\n".join(DXF(host, repo, insecure=True).list_aliases()))
elif op == "digest":
    print(DXF(host, repo, insecure=True).head_manifest_and_response(tag)[0])
elif op == "manifest":
    print(json.dumps(json.loads(DXF(host, repo, insecure=True).get_manifest(tag)), indent=2))
"""

#: The first call in a new client, in a process that has imported everything already:
#: construction, the first request(s) and closing, median of ``runs``.
_FIRST_CALL = r"""
import json, statistics, sys, time
which, host, repo, runs = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
if which == "ocireg":
    from ocireg import Client
    def once():
        with Client() as client:
            return client.tags(f"{host}/{repo}")
elif which == "ocireg --plain-http":
    from ocireg import Client
    def once():
        with Client(plain_http=[host]) as client:
            return client.tags(f"{host}/{repo}")
else:
    from dxf import DXF
    def once():
        with DXF(host, repo, insecure=True) as d:
            return d.list_aliases()
assert len(once()) == 2000
times = []
for _ in range(runs):
    t = time.perf_counter(); once(); times.append(time.perf_counter() - t)
print(json.dumps(statistics.median(times)))
"""


def clean_env() -> dict[str, str]:
    drop = ("OCIREG_", "PYTHON", "DOCKER_", "REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE")
    return {k: v for k, v in os.environ.items() if not k.startswith(drop)}


def run_once(cmd: list[str], env: dict[str, str]) -> float:
    """Wall seconds of one run of ``cmd``; a failure stops the benchmark with its stderr."""
    start = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, env=env, check=False)
    seconds = time.perf_counter() - start
    if proc.returncode != 0:
        tail = proc.stderr.decode(errors="replace").strip().splitlines()[-3:]
        raise RuntimeError(f"{cmd[:4]} failed ({proc.returncode}): {' / '.join(tail)}")
    return seconds


def alternating(commands: dict[str, list[str]], runs: int) -> dict[str, float]:
    """Median wall time of each command; every repetition runs each command once, in turn."""
    env = clean_env()
    for cmd in commands.values():  # warm the page cache and the bytecode
        run_once(cmd, env)
    times: dict[str, list[float]] = {label: [] for label in commands}
    for _ in range(runs):
        for label, cmd in commands.items():
            times[label].append(run_once(cmd, env))
    return {label: statistics.median(values) for label, values in times.items()}


def importtime(top: int) -> tuple[list[tuple[int, int, str]], set[str]]:
    """``(cumulative µs, self µs, module)`` of the slowest imports, and every module name."""
    proc = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "ocireg.cli", "parse", "mongo"],
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


def bench_local(runs: int) -> tuple[int, float]:
    """The commands that talk to no registry; (verdict, median of ``import requests``)."""
    print(f"median wall time of {runs} runs each ({sys.executable})")
    medians = alternating(COMMANDS, runs)
    for label, seconds in medians.items():
        print(f"  {label:<32} {seconds * 1000:7.1f} ms")
    baseline = medians[IMPORT_REQUESTS]
    verdict = 0
    for label in ("ocireg --version", "ocireg parse mongo"):
        extra = medians[label] - baseline
        ok = extra <= BUDGET
        verdict |= not ok
        print(
            f"  {label:<32} {extra * 1000:+7.1f} ms over import requests "
            f"(budget {BUDGET * 1000:+.0f} ms): {'OK' if ok else 'OVER'}"
        )
    return verdict, baseline


def peers_python(venv: Path) -> Path | None:
    """The peers' interpreter with python-dxf (installed on first use), or None."""
    from _peers import imports, peers_venv

    python = peers_venv(venv, {"dxf": "python-dxf"})
    if python is None or not imports(python, "dxf"):
        print("python-dxf not installed; not measured", file=sys.stderr)
        return None
    return Path(python)


def bench_registry(runs: int, peers: Path | None, baseline: float) -> int:
    """One-shot commands against a loopback registry, and the first call in a new client."""
    from bench_client import seed_tags

    from tests.fixtures.registry import start_registry

    verdict = 0
    with tempfile.TemporaryDirectory(prefix="ocireg-bench-") as tmp:
        registry = start_registry(Path(tmp) / "open", mode="open")
        try:
            seed_tags(registry)
            host = registry.host
            targets = {
                "ping": [host],
                "tags": [f"{host}/{REPO}"],
                "digest": [f"{host}/{REPO}:{TAG}"],
                "manifest": [f"{host}/{REPO}:{TAG}"],
            }
            print(f"\none-shot commands against {host} (plain http, {REPO}: 2,000 tags)")
            print(f"  {'operation':<10} {'ocireg':>9} {'--plain-http':>13} {'python-dxf':>11}")
            for op, op_args in targets.items():
                commands = {
                    IMPORT_REQUESTS: COMMANDS[IMPORT_REQUESTS],
                    "ocireg": [*CLI, op, *op_args],
                    "ocireg --plain-http": [*CLI, op, "--plain-http", *op_args],
                }
                if peers is not None:
                    commands["python-dxf"] = [str(peers), "-c", _DXF, op, host, REPO, TAG]
                medians = alternating(commands, runs)
                dxf = medians.get("python-dxf")
                ceiling = min(baseline + REGISTRY_BUDGET, dxf if dxf is not None else 1e9)
                ok = all(medians[k] <= ceiling for k in ("ocireg", "ocireg --plain-http"))
                verdict |= not ok
                print(
                    f"  {op:<10} {medians['ocireg'] * 1000:6.1f} ms "
                    f"{medians['ocireg --plain-http'] * 1000:10.1f} ms "
                    + (f"{dxf * 1000:8.1f} ms" if dxf is not None else f"{'-':>11}")
                    + f"   (import requests {medians[IMPORT_REQUESTS] * 1000:.1f} ms): "
                    + ("OK" if ok else "OVER")
                )
            verdict |= bench_first_call(runs, peers, host)
        finally:
            registry.stop()
    return verdict


def bench_first_call(runs: int, peers: Path | None, host: str) -> int:
    print(f"\nfirst call in a new client (construct, tags of 2,000, close; median of {runs})")
    pythons = {"ocireg": sys.executable, "ocireg --plain-http": sys.executable}
    if peers is not None:
        pythons["python-dxf"] = str(peers)
    times: dict[str, list[float]] = {label: [] for label in pythons}
    for _ in range(3):  # three processes each, alternating; the median of their medians
        for label, python in pythons.items():
            proc = subprocess.run(
                [python, "-c", _FIRST_CALL, label, host, REPO, str(runs)],
                capture_output=True,
                text=True,
                env=clean_env(),
                check=False,
            )
            if proc.returncode != 0:
                raise RuntimeError(f"first call, {label}: {proc.stderr.strip()[-300:]}")
            times[label].append(json.loads(proc.stdout))
    medians = {label: statistics.median(values) for label, values in times.items()}
    for label, seconds in medians.items():
        print(f"  {label:<22} {seconds * 1000:6.1f} ms")
    dxf = medians.get("python-dxf")
    if dxf is None:
        return 0
    ok = all(medians[k] <= 2 * dxf for k in ("ocireg", "ocireg --plain-http"))
    print(f"  within 2x python-dxf ({2 * dxf * 1000:.1f} ms): {'OK' if ok else 'OVER'}")
    return int(not ok)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--top", type=int, default=15)
    parser.add_argument(
        "--peers-venv", type=Path, default=Path(tempfile.gettempdir()) / "ocireg-peers-venv"
    )
    parser.add_argument("--no-peers", action="store_true", help="do not measure python-dxf")
    parser.add_argument(
        "--no-registry", action="store_true", help="only the commands that need no registry"
    )
    args = parser.parse_args()

    verdict, baseline = bench_local(args.runs)
    if not args.no_registry:
        peers = None if args.no_peers else peers_python(args.peers_venv)
        verdict |= bench_registry(args.runs, peers, baseline)

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
