"""Measure blob push and pull against a local registry, next to curl and hashlib.

Run from the repository root::

    .venv/bin/python benchmarks/bench_blobs.py [--runs N] [--big] [--sizes MIB ...]

It starts a CNCF distribution registry (open mode, ``tests.fixtures.registry``) in a
temporary directory, writes a random blob per size (256 MiB; ``--big`` adds 1 GiB) to a file,
1 MiB at a time, and measures, each SDK side in a fresh subprocess timed inside it (so its
peak RSS is its own and both sides pay the same cold-process costs):

* push, digest unknown: ``Client.push_blob(ref, FILE)`` (what ``ocireg blob put FILE``
  does) against curl ``POST`` + monolithic ``PUT ?digest=`` with the digest known
  beforehand (the two curl calls' ``time_total`` added up). Target <= 1.1x.
* pull to a file: ``Client.pull_blob`` (read, hash, write a temporary file, rename) against
  ``curl -o FILE``, each writing a fresh file in the same directory. Target <= 1.1x.
* ``open_blob`` read to its end (verified) against hashlib sha256 of the same bytes read
  from the file (1 MiB ``readinto``). Target <= 1.1x.
* peak RSS (``VmHWM``) of each SDK child, and of a child that only imports ocireg and
  requests and pings the registry (the floor). Target <= 40 MiB for a push, <= 32 MiB for a
  pull.

The machine may be shared: every comparison runs as pairs, ``--runs`` times, each side going
first every other time (the side after a 1 GiB write pays for its write-back), and the
verdict is the median of the per-pair ratios, so load that drifts weighs on both sides alike.
``--sdk DIR`` imports ocireg from ``DIR`` instead (a copy of an older ``sdk/`` tree, to
print before/after figures from one run of this script).
"""

from __future__ import annotations

# The children's peak RSS is measured: only what ocireg imports anyway is imported at the
# top; the parent's tools (subprocess, statistics, argparse...) where they are used.
import hashlib
import json
import os
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import argparse
    from collections.abc import Callable

ROOT = Path(__file__).resolve().parent.parent
MiB = 1 << 20
REPO = "bench/blob"


# -- children: one measurement each, in a fresh process so that its peak RSS is its own ----


def vm_hwm_mib() -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return 0.0


def child(argv: list[str]) -> None:
    """``--child SDK MODE BASE_URL DIGEST PATH``: print ``{"seconds", "cpu", "rss_mib",
    "floor_mib"}`` (``floor_mib``: the peak before the measured call)."""
    sdk, mode, base, digest, path = argv[:5]
    sys.path[:0] = [str(ROOT), sdk]
    from ocireg import Client
    from ocireg.reference import Reference

    ref = Reference.parse(f"{base}/{REPO}")
    with Client(load_entrypoints=False) as client:
        client.ping(base)  # scheme and connection set up outside the timing
        floor = vm_hwm_mib()
        cpu = time.process_time()  # every thread of this process
        start = time.perf_counter()
        if mode == "hashlib":
            hashlib_file(Path(path))
        elif mode == "open_blob":
            with client.open_blob(ref, digest) as reader:
                for _ in reader:
                    pass
        elif mode == "pull_blob":
            client.pull_blob(ref, digest, path)
        elif mode == "push_unknown":
            target = Reference.parse(f"{base}/bench/push-{time.time_ns()}")
            start = time.perf_counter()
            desc = client.push_blob(target, Path(path))
            assert desc.digest == digest, desc
        elif mode != "idle":
            raise SystemExit(f"unknown mode {mode}")
        seconds = time.perf_counter() - start
        cpu = time.process_time() - cpu
    print(json.dumps({"seconds": seconds, "cpu": cpu, "rss_mib": vm_hwm_mib(), "floor_mib": floor}))


def run_child(sdk: str, mode: str, base: str, digest: str, path: Path) -> dict[str, float]:
    import subprocess

    out = subprocess.run(
        [sys.executable, __file__, "--child", sdk, mode, base, digest, str(path)],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    result: dict[str, float] = json.loads(out.strip().splitlines()[-1])
    return result


# -- baselines -------------------------------------------------------------------------------


def hashlib_file(path: Path) -> str:
    h = hashlib.sha256()
    buf = bytearray(MiB)
    view = memoryview(buf)
    with path.open("rb", buffering=0) as f:
        while n := f.readinto(buf):
            h.update(view[:n])
    return "sha256:" + h.hexdigest()


def curl(*args: str) -> str:
    import subprocess

    return subprocess.run(
        ["curl", "-s", "-S", "-f", *args], check=True, capture_output=True, text=True
    ).stdout


def curl_pull(url: str, out: Path) -> float:
    return float(curl("-o", str(out), "-w", "%{time_total}", url))


def curl_push(base: str, digest: str, path: Path, repo: str = "") -> float:
    """POST, then one monolithic PUT ?digest= of the file: the fastest a client can push."""
    repo = repo or f"bench/curl-{time.time_ns()}"
    out = curl("-X", "POST", "-D", "-", "-o", "/dev/null", "-w", "\n%{time_total}",
               f"{base}/v2/{repo}/blobs/uploads/")  # fmt: skip
    lines = out.strip().splitlines()
    location = next(
        ln.split(":", 1)[1].strip() for ln in lines if ln.lower().startswith("location:")
    )
    url = location if location.startswith("http") else base + location
    sep = "&" if "?" in url else "?"
    put = curl("-X", "PUT", "-T", str(path), "-H", "Content-Type: application/octet-stream",
               "-o", "/dev/null", "-w", "%{http_code} %{time_total}",
               f"{url}{sep}digest={digest}")  # fmt: skip
    code, seconds = put.split()
    assert code == "201", put
    return float(lines[-1]) + float(seconds)


def write_blob(path: Path, size_mib: int) -> str:
    h = hashlib.sha256()
    with path.open("wb") as f:
        for _ in range(size_mib):
            piece = os.urandom(MiB)
            h.update(piece)
            f.write(piece)
    return "sha256:" + h.hexdigest()


def fresh(path: Path) -> Path:
    path.unlink(missing_ok=True)
    return path


# -- main ------------------------------------------------------------------------------------

Sample = dict[str, float]  # seconds, cpu (the client's), registry_cpu, rss_mib
Pairs = dict[str, list[tuple[Sample, Sample]]]  # name -> [(SDK child, baseline)]


def cpu_of(pid: int) -> float:
    """User + system CPU seconds of process ``pid`` so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def children_cpu() -> float:
    import resource

    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def measure(args: argparse.Namespace, base: str, size: int, tmp: Path, pid: int) -> Pairs:
    import functools

    source = tmp / f"source-{size}.bin"
    digest = write_blob(source, size)
    dest, curl_dest = tmp / "pulled.bin", tmp / "curl.bin"
    curl_push(base, digest, source, REPO)  # the blob is in the registry for the pulls
    sdk = str(args.sdk)
    pairs: Pairs = {}

    def ours(mode: str, path: Path) -> Sample:
        registry = cpu_of(pid)
        sample = run_child(sdk, mode, base, digest, path)
        return {**sample, "registry_cpu": cpu_of(pid) - registry}

    def curl_side(call: Callable[[], float]) -> Sample:
        registry, client = cpu_of(pid), children_cpu()
        seconds = call()
        return {"seconds": seconds, "cpu": children_cpu() - client,
                "registry_cpu": cpu_of(pid) - registry}  # fmt: skip

    def pair(
        run: int, mine: Callable[[], Sample], theirs: Callable[[], Sample]
    ) -> tuple[Sample, Sample]:
        # Each side goes first every other run: the one after a 1 GiB write pays for its
        # write-back, and the registry's state (upload directories, page cache) differs.
        if run % 2:
            other = theirs()
            return mine(), other
        first = mine()
        return first, theirs()

    url = f"{base}/v2/{REPO}/blobs/{digest}"
    for run in range(args.runs):
        pairs.setdefault("push, digest unknown / curl POST+PUT", []).append(
            pair(
                run,
                functools.partial(ours, "push_unknown", source),
                functools.partial(curl_side, functools.partial(curl_push, base, digest, source)),
            )
        )
        pairs.setdefault("pull_blob / curl -o FILE", []).append(
            pair(
                run,
                lambda: ours("pull_blob", fresh(dest)),
                lambda: curl_side(functools.partial(curl_pull, url, fresh(curl_dest))),
            )
        )
        pairs.setdefault("open_blob / hashlib", []).append(
            pair(
                run,
                functools.partial(ours, "open_blob", source),
                functools.partial(run_child, sdk, "hashlib", base, digest, source),
            )
        )
        pairs.setdefault("import+ping only (the RSS floor)", []).append(
            (run_child(sdk, "idle", base, digest, source), {"seconds": 1.0, "cpu": 1.0})
        )
    fresh(dest)
    fresh(curl_dest)
    fresh(source)
    return pairs


TARGETS = {
    "push, digest unknown / curl POST+PUT": (1.1, 40),
    "pull_blob / curl -o FILE": (1.1, 32),
    "open_blob / hashlib": (1.1, 32),
}


def report(size: int, pairs: Pairs, runs: int) -> None:
    import statistics

    print(f"\nblob {size} MiB: medians of {runs} alternating pairs (ratio: median of the pairs'"
          " ratios); CPU in seconds, ours/baseline")  # fmt: skip
    print(f"{'comparison':38s} {'ours s':>7s} {'base s':>7s} {'ratio':>6s} {'target':>6s}"
          f" {'client CPU':>11s} {'registry CPU':>12s} {'peak RSS':>9s}")  # fmt: skip
    for name, rows in pairs.items():
        rss = max(r["rss_mib"] for r, _ in rows)
        if name not in TARGETS:
            print(f"{name:38s} {'':51s} {rss:5.1f} MiB")
            continue

        def med(key: str, side: int, rows: list[tuple[Sample, Sample]] = rows) -> float:
            return statistics.median(pair[side].get(key, 0.0) for pair in rows)

        ratio = statistics.median(r["seconds"] / b["seconds"] for r, b in rows)
        limit, rss_limit = TARGETS[name]
        verdict = "OK" if ratio <= limit and rss <= rss_limit else "MISSED"
        cpu = f"{med('cpu', 0):.2f}/{med('cpu', 1):.2f}"
        reg = (
            f"{med('registry_cpu', 0):.2f}/{med('registry_cpu', 1):.2f}"
            if med("registry_cpu", 1)
            else ""
        )
        print(
            f"{name:38s} {med('seconds', 0):7.3f} {med('seconds', 1):7.3f} {ratio:5.2f}x"
            f" {limit:5.1f}x {cpu:>11s} {reg:>12s} {rss:5.1f} MiB (<= {rss_limit})  {verdict}"
        )


def main() -> None:
    import argparse
    import shutil
    import tempfile

    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5, help="alternating pairs per comparison")
    parser.add_argument("--big", action="store_true", help="also measure a 1 GiB blob")
    parser.add_argument("--sizes", type=int, nargs="*", help="blob sizes in MiB (default 256)")
    parser.add_argument("--sdk", type=Path, default=ROOT / "sdk", help="import ocireg from here")
    parser.add_argument("--tmp", type=Path, default=None, help="where blobs and pulls go")
    args = parser.parse_args()
    sizes = args.sizes or [256]
    if args.big and 1024 not in sizes:
        sizes.append(1024)
    if shutil.which("curl") is None:
        raise SystemExit("curl is needed for the baselines")

    sys.path[:0] = [str(ROOT)]
    from tests.fixtures.registry import start_registry

    with tempfile.TemporaryDirectory(prefix="bench-blobs-", dir=args.tmp) as tmp_name:
        tmp = Path(tmp_name)
        registry = start_registry(tmp / "registry", mode="open")
        try:
            pid = registry.pid
            results = [(size, measure(args, registry.url, size, tmp, pid)) for size in sizes]
        finally:
            registry.stop()
    print(f"ocireg from {args.sdk}")
    for size, pairs in results:
        report(size, pairs, args.runs)


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        child(sys.argv[2:])
    else:
        main()
