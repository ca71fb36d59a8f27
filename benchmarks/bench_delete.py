"""What safe deletion costs in requests: planning, and execution with its re-checks.

Run from the repository root::

    .venv/bin/python benchmarks/bench_delete.py [--sizes 10/50,100/2000]

For each ``K/N`` it starts (once) an open CNCF distribution registry, seeds a repository of
N tags (a tenth of them aliases of other tags' images, one multi-arch index), and deletes K
tags: half aliases (untag), half lone tags (delete by digest). It prints the requests the
plan sends (reads; the probes' ``DELETE`` of names that do not exist) and those execution
sends (the re-checks' reads, and the changes), and the time of each phase. Execution's
reads are the price of re-verification: a fresh survey of the repository, one ``HEAD`` per
step, one tag list per delete-by-digest, one manifest ``GET`` per untag.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "sdk")]

from ocireg import Client  # noqa: E402
from tests.fixtures.clients import count_requests  # noqa: E402
from tests.fixtures.images import Pusher  # noqa: E402
from tests.fixtures.registry import Registry, start_registry  # noqa: E402


def seed(registry: Registry, repo: str, n: int, k: int) -> list[str]:
    """N tags; returns the K to delete (half aliases, half lone tags)."""
    pusher = Pusher(registry)
    aliases = max(k // 2, n // 10)
    lone = n - aliases - 1
    images = [pusher.image(repo, f"t{i:05}", layers=1, layer_size=16) for i in range(lone)]
    for i in range(aliases):
        pusher.tag(images[i], f"alias{i:05}")
    pusher.index(repo, "multi")
    return [f"alias{i:05}" for i in range(k // 2)] + [
        f"t{i:05}" for i in range(lone - (k - k // 2), lone)
    ]


def measure(registry: Registry, k: int, n: int) -> list[str]:
    repo = f"bench/delete-{k}-of-{n}"
    chosen = seed(registry, repo, n, k)
    with Client(load_entrypoints=False) as client:
        calls = count_requests(client)
        started = time.perf_counter()
        plan = client.plan_tag_deletes(f"{registry.host}/{repo}", chosen)
        planned = time.perf_counter()
        planning = len(calls)
        result = client.execute_plan(plan)
        done = time.perf_counter()
    assert sorted(result.tags) == sorted(chosen), result.to_dict()
    plan_reads = sum(1 for m, _ in calls[:planning] if m in ("GET", "HEAD"))
    exec_calls = calls[planning:]
    exec_reads = sum(1 for m, _ in exec_calls if m in ("GET", "HEAD"))
    changes = len(exec_calls) - exec_reads
    actions = {
        a: sum(1 for p in result.deleted if p.action == a) for a in ("untag", "delete-digest")
    }
    return [
        f"| {k} of {n} | {plan_reads} reads + {planning - plan_reads} probes, "
        f"{planned - started:.2f} s | {exec_reads} reads, {changes} changes, "
        f"{done - planned:.2f} s | {exec_reads / max(1, plan_reads):.2f}x | "
        f"{actions['untag']} untag, {actions['delete-digest']} by digest |"
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="10/50,100/2000", help="K/N pairs, comma-separated")
    args = parser.parse_args()
    pairs = [tuple(int(x) for x in p.split("/")) for p in args.sizes.split(",")]
    rows = [
        "| delete | plan | execution (re-checks + changes) | re-check reads / plan reads | steps |",
        "| --- | --- | --- | --- | --- |",
    ]
    with tempfile.TemporaryDirectory() as tmp:
        registry = start_registry(Path(tmp) / "registry", mode="open")
        try:
            for k, n in pairs:
                rows += measure(registry, k, n)
        finally:
            registry.process.terminate()
            registry.process.wait(timeout=10)
    print("\n".join(rows))
    print(f"\n(cpus: {os.cpu_count()}, python {sys.version.split()[0]})")


if __name__ == "__main__":
    main()
