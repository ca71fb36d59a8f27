"""Measure blob transfer speed and memory against a local registry, next to the baselines.

Run from the repository root::

    .venv/bin/python benchmarks/bench_blobs.py [--size MIB] [--runs N] [--chunk-mib MIB]

It starts a CNCF distribution registry (open mode, ``tests.fixtures.registry``) in a
temporary directory, writes a random blob of ``--size`` MiB to a file (1 MiB at a time, never
held in memory) and pushes it with the SDK. Then, in the same run and on the same files:

* ``hashlib``: sha256 of the blob read from the file (1 MiB ``readinto``). ``open_blob``
  must read the blob over HTTP and hash it in at most 1.2x this time: the client should add
  little to the work that cannot be avoided. Like every Python measurement here it runs in
  a fresh subprocess, timed inside it, so both sides pay the same cold-process costs.
* ``curl -o /dev/null`` and ``curl -o FILE`` of the blob URL, when curl is installed.
  ``pull_blob`` (read, hash, write a temp file, rename) must take at most 1.3x
  ``curl -o FILE``; the two run back to back, each writing a fresh file in the same
  directory, and the verdict is the median over ``--runs`` of each pair's ratio, so that
  page-cache writeback and other processes' load disturb both sides alike.
* ``requests`` reading the same URL with ``raw.read(1 MiB)`` and with ``iter_content(1 MiB)``
  plus sha256, for the record: the SDK uses neither, but http.client's ``readinto`` into its
  own reused buffers (no allocation, one copy less) with hashing on a worker thread.
* peak RSS of the process doing ``open_blob`` / ``pull_blob`` / a push: each runs in its own
  subprocess, which reports its ``ru_maxrss`` (VmHWM); target below 100 MiB.
* push time, monolithic (one streamed PUT) against chunked (``--chunk-mib`` PATCHes), each
  into a fresh repository so that neither is skipped; the digest is passed in, so the time
  is the transfer (computing it first would add one ``hashlib`` pass).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "sdk")]

MiB = 1 << 20
REPO = "bench/blob"


# -- children: one measurement each, in a fresh process so that its peak RSS is its own ----


def child(argv: list[str]) -> None:
    """``--child MODE BASE_URL DIGEST PATH [CHUNK]``: print ``{"seconds", "rss_mib"}``."""
    mode, base, digest, path = argv[:4]
    import requests

    from ocireg import Client, download
    from ocireg.reference import Reference

    ref = Reference.parse(f"{base}/{REPO}")
    url = f"{base}/v2/{REPO}/blobs/{digest}"
    with Client(load_entrypoints=False) as client:
        client.ping(base)  # scheme and connection set up outside the timing
        start = time.perf_counter()
        if mode == "hashlib":
            hashlib_seconds(Path(path))
        elif mode == "open_blob":
            with client.open_blob(ref, digest) as reader:
                for _ in reader:
                    pass
        elif mode in ("pull_blob", "pull_blob_fsync"):
            download.pull_blob(client.remote, ref, digest, path, fsync=mode.endswith("fsync"))
        elif mode in ("push_mono", "push_chunked"):
            target = Reference.parse(f"{base}/bench/push-{mode}-{time.time_ns()}")
            start = time.perf_counter()
            chunk = int(argv[4]) if mode == "push_chunked" else None
            client.push_blob(target, Path(path), digest=digest, chunk_size=chunk)
        elif mode in ("raw_read", "iter_content"):
            h = hashlib.sha256()
            resp = requests.get(url, stream=True, headers={"Accept-Encoding": "identity"})
            if mode == "raw_read":
                while piece := resp.raw.read(MiB, decode_content=False):
                    h.update(piece)
            else:
                for piece in resp.iter_content(MiB):
                    h.update(piece)
            assert "sha256:" + h.hexdigest() == digest
        else:
            raise SystemExit(f"unknown mode {mode}")
        seconds = time.perf_counter() - start
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
    print(json.dumps({"seconds": seconds, "rss_mib": rss}))


def run_child(mode: str, base: str, digest: str, path: Path, *extra: str) -> dict[str, float]:
    out = subprocess.run(
        [sys.executable, __file__, "--child", mode, base, digest, str(path), *extra],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    result: dict[str, float] = json.loads(out.strip().splitlines()[-1])
    return result


# -- baselines -------------------------------------------------------------------------------


def hashlib_seconds(path: Path) -> float:
    start = time.perf_counter()
    h = hashlib.sha256()
    buf = bytearray(MiB)
    view = memoryview(buf)
    with path.open("rb", buffering=0) as f:
        while n := f.readinto(buf):
            h.update(view[:n])
    return time.perf_counter() - start


def curl_seconds(url: str, out: str) -> float:
    result = subprocess.run(
        ["curl", "-s", "-f", "-o", out, "-w", "%{time_total}", url],
        check=True,
        capture_output=True,
        text=True,
    )
    return float(result.stdout)


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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", type=int, default=1024, help="blob size in MiB")
    parser.add_argument("--runs", type=int, default=5, help="runs per timing (median)")
    parser.add_argument("--chunk-mib", type=int, default=16, help="chunk size of the push")
    parser.add_argument(
        "--dest-dir",
        type=Path,
        default=None,
        help="where pull_blob and curl -o write (default: the run's temporary directory; "
        "/dev/shm takes disk writeback out of the comparison)",
    )
    args = parser.parse_args()

    from ocireg import Client
    from ocireg.reference import Reference
    from tests.fixtures.registry import start_registry

    curl = shutil.which("curl") is not None
    with tempfile.TemporaryDirectory(prefix="bench-blobs-") as tmp_name:
        tmp = Path(tmp_name)
        registry = start_registry(tmp / "registry", mode="open")
        try:
            source = tmp / "source.bin"
            digest = write_blob(source, args.size)
            base = registry.url
            with Client(load_entrypoints=False) as client:
                client.push_blob(Reference.parse(f"{base}/{REPO}"), source, digest=digest)
            url = f"{base}/v2/{REPO}/blobs/{digest}"
            rows = measure(args, base, digest, url, source, tmp, curl)
        finally:
            registry.stop()
    report(args, rows, curl)


Rows = dict[str, list[dict[str, float]]]


def measure(
    args: argparse.Namespace, base: str, digest: str, url: str, source: Path, tmp: Path, curl: bool
) -> Rows:
    rows: Rows = {}

    def add(name: str, seconds: float, rss: float | None = None) -> None:
        rows.setdefault(name, []).append({"seconds": seconds, "rss_mib": rss or 0.0})

    where = args.dest_dir or tmp
    dest, curl_dest = where / "pulled.bin", where / "curl.bin"
    for _ in range(args.runs):
        r = run_child("hashlib", base, digest, source)
        add("hashlib sha256 (file)", r["seconds"], r["rss_mib"])
        r = run_child("open_blob", base, digest, source)
        add("open_blob (read to end)", r["seconds"], r["rss_mib"])
        if curl:
            add("curl -o /dev/null", curl_seconds(url, "/dev/null"))
            add("curl -o FILE", curl_seconds(url, str(fresh(curl_dest))))
        r = run_child("pull_blob", base, digest, fresh(dest))
        add("pull_blob (to FILE)", r["seconds"], r["rss_mib"])
        for mode in ("raw_read", "iter_content"):
            r = run_child(mode, base, digest, source)
            add(f"requests {mode.replace('_', '.')} 1 MiB + sha256", r["seconds"], r["rss_mib"])
    fresh(dest)
    fresh(curl_dest)
    for _ in range(max(1, args.runs // 2)):
        r = run_child("pull_blob_fsync", base, digest, fresh(dest))
        add("pull_blob fsync=True", r["seconds"], r["rss_mib"])
        r = run_child("push_mono", base, digest, source)
        add("push monolithic (1 PUT)", r["seconds"], r["rss_mib"])
        r = run_child("push_chunked", base, digest, source, str(args.chunk_mib * MiB))
        add(f"push chunked ({args.chunk_mib} MiB PATCHes)", r["seconds"], r["rss_mib"])
    fresh(dest)
    return rows


def report(args: argparse.Namespace, rows: Rows, curl: bool) -> None:
    def med(name: str) -> float:
        return statistics.median(r["seconds"] for r in rows[name])

    def peak(name: str) -> float:
        return max(r["rss_mib"] for r in rows[name])

    size = args.size
    where = args.dest_dir or "the temporary directory"
    runs = f"median of {args.runs} runs (push/fsync: {max(1, args.runs // 2)})"
    print(f"\nblob {size} MiB, {runs}, pulls written to {where}\n")
    print(f"{'measurement':42s} {'median s':>9s} {'min-max s':>12s} {'MiB/s':>7s} {'peak RSS':>9s}")
    for name in rows:
        rss = peak(name)
        rss_text = f"{rss:6.0f} MiB" if rss else ""
        times = [r["seconds"] for r in rows[name]]
        spread = f"{min(times):.2f}-{max(times):.2f}"
        print(f"{name:42s} {med(name):9.3f} {spread:>12s} {size / med(name):7.0f} {rss_text:>9s}")

    def pair_ratio(mine: str, baseline: str) -> float:
        """Median over runs of the ratio within each run: the two ran back to back, so
        load from other processes, which drifts, weighs on both alike."""
        pairs = zip(rows[mine], rows[baseline], strict=True)
        return statistics.median(a["seconds"] / b["seconds"] for a, b in pairs)

    print("\ntargets (median of per-run ratios; ratio of the medians in brackets)")
    checks = [("open_blob / hashlib", "open_blob (read to end)", "hashlib sha256 (file)", 1.2)]
    if curl:
        checks.append(("pull_blob / curl -o FILE", "pull_blob (to FILE)", "curl -o FILE", 1.3))
    for label, mine, baseline, limit in checks:
        ratio = pair_ratio(mine, baseline)
        verdict = "OK" if ratio <= limit else "MISSED"
        print(
            f"  {label:30s} {ratio:5.2f}x ({med(mine) / med(baseline):4.2f}x)"
            f"  target <= {limit}x  {verdict}"
        )
    rss = max(peak("open_blob (read to end)"), peak("pull_blob (to FILE)"))
    verdict = "OK" if rss < 100 else "MISSED"
    print(f"  {'peak RSS open/pull':30s} {rss:5.0f} MiB (target < 100 MiB)  {verdict}")


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        child(sys.argv[2:])
    else:
        main()
