"""Measure ocireg against real registries (and, when they install, python-dxf and oras-py).

Run from the repository root::

    .venv/bin/python benchmarks/bench_client.py [--peers-venv DIR] [--no-peers]
        [--rtt 5,20] [--workers 4,8,16,32]

It starts CNCF distribution registries with ``tests.fixtures.registry.start_registry`` (open
and token mode, each with its own temporary directory) and prints one table. What is measured,
and why each figure matters:

* ``tags()`` of a 2,000-tag repository: in-process time (median of 20), and the registry and
  token requests it makes. distribution 2.8 returns every tag in one response, so anything
  above one tags request per call is waste.
* ``tag_descriptors()`` for those 2,000 tags (concurrent HEADs on pooled connections) against
  a sequential loop of ``head_manifest``; the target is at least 3x. With it, the CPU time of
  one HEAD in the client and in the registry process (``/proc/<pid>/stat``), and the best
  speedup they allow on this machine: the client needs its CPU time per HEAD on one core (the
  GIL), and client and registry together share ``os.cpu_count()`` cores, so concurrent HEADs
  take at least ``max(client, (client + registry) / cores)`` each. A sequential HEAD on
  loopback takes about ``client + registry``, so on 2 cores the bound is about 2x whatever
  the client does (a little more when the registry spends less per HEAD under load).
* the same against a registry that is ``RTT`` away (``--rtt``, default 5 and 20 ms), which is
  what ``tag_descriptors()`` is for. The kernel here has no netem, so a small fake registry in
  a subprocess (``http.server``, HTTP/1.1 keep-alive) sleeps ``RTT`` before each answer to
  ``GET /v2/``, ``GET /v2/<name>/tags/list`` and ``HEAD /v2/<name>/manifests/<tag>``.
  Sequential ``head_manifest`` against ``tag_descriptors()`` with the default ``max_workers``
  and others (``--workers``); "bound" is the same CPU limit, or ``workers`` HEADs per
  sequential HEAD time, whichever is lower.
* token requests per scope over 100 calls (target exactly 1: tokens are cached by scope).
* TCP connections opened for 50 sequential calls (target 1: one pooled keep-alive connection),
  counted by wrapping ``urllib3.connectionpool.HTTPConnectionPool._new_conn``.
* copying a 3-layer image between two registries (streaming) and within one (mounts).

python-dxf and oras-py are installed into a separate virtual environment
(``--peers-venv``, created with ``pip install python-dxf oras`` when missing) and measured in
a subprocess, so they never touch this project's environment.
"""

from __future__ import annotations

import argparse
import inspect
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "sdk")]

import requests  # noqa: E402
import urllib3.connectionpool  # noqa: E402

from ocireg.auth.token import TOKENS  # noqa: E402
from ocireg.client import Client  # noqa: E402
from tests.fixtures.images import Pushed, Pusher  # noqa: E402
from tests.fixtures.registry import Registry, start_registry  # noqa: E402

TAGS = 2000
TAG_RUNS = 20
REPO = "bench/tags"
#: Client's default ``max_workers``, read from its signature.
DEFAULT_WORKERS: int = inspect.signature(Client).parameters["max_workers"].default

Row = tuple[str, str, str]


# -- counting --------------------------------------------------------------------------------


class Counter:
    """Counts requests sent through one client's session and TCP connections opened."""

    def __init__(self) -> None:
        self.requests = 0
        self.connections = 0


@contextmanager
def counting(client: Client) -> Iterator[Counter]:
    counter = Counter()
    session = client.transport.session
    original_request = session.request
    original_new_conn = urllib3.connectionpool.HTTPConnectionPool._new_conn

    def request(*args: Any, **kwargs: Any) -> requests.Response:
        counter.requests += 1
        return original_request(*args, **kwargs)

    def new_conn(pool: Any) -> Any:
        counter.connections += 1
        return original_new_conn(pool)

    session.request = request  # type: ignore[method-assign]
    urllib3.connectionpool.HTTPConnectionPool._new_conn = new_conn  # type: ignore[method-assign,assignment]
    try:
        yield counter
    finally:
        del session.request
        urllib3.connectionpool.HTTPConnectionPool._new_conn = original_new_conn  # type: ignore[method-assign]


def median_time(fn: Callable[[], object], runs: int) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def token_requests(registry: Registry) -> int:
    return len(registry.token_server.requests) if registry.token_server else 0


def client_for(*registries: Registry) -> Client:
    creds = {r.host: r.credentials("alice") for r in registries if "alice" in r.users}
    return Client(credentials=creds or None, load_entrypoints=False)


# -- set-up ----------------------------------------------------------------------------------


def seed_tags(registry: Registry) -> Pushed:
    """One tiny image under ``TAGS`` tags, put with plain requests on 4 threads."""
    image = Pusher(registry).image(REPO, "t0000", layers=1, layer_size=64)
    names = [f"t{i:04d}" for i in range(1, TAGS)]
    pushers = [Pusher(registry) for _ in range(4)]

    def put(batch: int) -> None:
        for name in names[batch::4]:
            pushers[batch].tag(image, name)

    with ThreadPoolExecutor(4) as pool:
        list(pool.map(put, range(4)))
    return image


# -- measurements ----------------------------------------------------------------------------


def bench_tags(registry: Registry) -> list[Row]:
    TOKENS.clear()
    before_tokens = token_requests(registry)
    with client_for(registry) as client, counting(client) as count:
        ref = f"{registry.host}/{REPO}"
        assert len(client.tags(ref)) == TAGS  # warm: ping and token
        warm_requests = count.requests
        seconds = median_time(lambda: client.tags(ref), TAG_RUNS)
        per_call = (count.requests - warm_requests) / TAG_RUNS
    tokens = token_requests(registry) - before_tokens
    return [
        (
            f"tags() 2,000 tags [{registry.mode}]",
            f"{seconds * 1000:.1f} ms",
            f"{per_call:.0f} tags request/call; first call {warm_requests} requests "
            f"(incl. ping); {tokens} token request(s) for {TAG_RUNS + 1} calls",
        )
    ]


def process_cpu(pid: int) -> float:
    """User plus system CPU seconds used so far by process ``pid`` (all its threads)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class Cost:
    """Wall time, client CPU and server CPU per request of one measured run (seconds)."""

    def __init__(self, wall: float, client: float, server: float) -> None:
        self.wall, self.client, self.server = wall, client, server

    @staticmethod
    def measure(fn: Callable[[], object], count: int, server_pid: int) -> Cost:
        server, client, wall = process_cpu(server_pid), time.process_time(), time.perf_counter()
        fn()
        return Cost(
            (time.perf_counter() - wall) / count,
            (time.process_time() - client) / count,
            (process_cpu(server_pid) - server) / count,
        )

    @staticmethod
    def median(costs: list[Cost]) -> Cost:
        return Cost(
            statistics.median(c.wall for c in costs),
            statistics.median(c.client for c in costs),
            statistics.median(c.server for c in costs),
        )

    def floor(self, cores: int, latency: float = 0.0, workers: int = 1) -> float:
        """The least wall time per request concurrency could reach with these CPU costs: the
        client's share runs on one core (GIL), both together share ``cores``, and ``workers``
        requests at most are waiting out ``latency`` at once."""
        return max(self.client, (self.client + self.server) / cores, latency / workers)

    def text(self) -> str:
        return (
            f"{self.wall * 1e6:.0f} us wall, client CPU {self.client * 1e6:.0f} us, "
            f"server CPU {self.server * 1e6:.0f} us"
        )


def bench_tag_descriptors(registry: Registry) -> list[Row]:
    cores = os.cpu_count() or 1
    with client_for(registry) as client:
        ref = f"{registry.host}/{REPO}"
        names = client.tags(ref)
        for name in names[:50]:  # warm: connections, token
            client.head_manifest(f"{ref}:{name}")

        def sequential() -> None:
            for name in names:
                client.head_manifest(f"{ref}:{name}")

        seq_runs, con_runs = [], []
        for _ in range(3):  # interleaved, so drifting load hits both alike
            seq_runs.append(Cost.measure(sequential, len(names), registry.pid))
            con_runs.append(
                Cost.measure(lambda: client.tag_descriptors(ref, names), len(names), registry.pid)
            )
        seq, con = Cost.median(seq_runs), Cost.median(con_runs)
        workers = client.max_workers
    best = con.floor(cores)
    mode = registry.mode
    return [
        (
            f"tag_descriptors() 2,000 tags [{mode}]",
            f"{con.wall * len(names):.2f} s",
            f"sequential head_manifest loop {seq.wall * len(names):.2f} s: "
            f"{seq.wall / con.wall:.1f}x faster ({workers} workers; target >= 3x)",
        ),
        (
            f"  client CPU per HEAD [{mode}]",
            f"{seq.client * 1e6:.0f} us",
            f"registry process {seq.server * 1e6:.0f} us, wall {seq.wall * 1e6:.0f} us "
            f"(sequential); concurrent: client {con.client * 1e6:.0f} us, "
            f"registry {con.server * 1e6:.0f} us, wall {con.wall * 1e6:.0f} us",
        ),
        (
            f"  best speedup possible on {cores} cores [{mode}]",
            f"{seq.wall / best:.1f}x",
            f"a concurrent HEAD needs >= max(client, (client + registry) / {cores}) = "
            f"max({con.client * 1e6:.0f}, {(con.client + con.server) / cores * 1e6:.0f}) us "
            f"vs {seq.wall * 1e6:.0f} us sequential; measured {seq.wall / con.wall:.1f}x",
        ),
    ]


# -- a registry RTT away ---------------------------------------------------------------------

#: A fake registry: sleeps RTT, then answers like distribution would (HTTP/1.1 keep-alive).
_FAKE_REGISTRY = r"""
import hashlib, json, sys, time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

rtt, count = float(sys.argv[1]), int(sys.argv[2])
TAGS = json.dumps({"name": "bench/fake", "tags": [f"t{i:04d}" for i in range(count)]}).encode()
MANIFEST = "application/vnd.oci.image.manifest.v1+json"


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True

    def log_message(self, *args):
        pass

    def answer(self, status, body, headers):
        time.sleep(rtt)
        self.send_response(status)
        self.send_header("Docker-Distribution-API-Version", "registry/2.0")
        for name, value in headers.items():
            self.send_header(name, value)
        if body is not None:
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if body and self.command != "HEAD":
            self.wfile.write(body)

    def do_GET(self):
        path = self.path.split("?", 1)[0]
        if path == "/v2/":
            self.answer(200, b"{}", {"Content-Type": "application/json"})
        elif path.startswith("/v2/") and path.endswith("/tags/list"):
            self.answer(200, TAGS, {"Content-Type": "application/json"})
        else:
            self.answer(404, b"", {})

    def do_HEAD(self):
        name, sep, tag = self.path.partition("/manifests/")
        if sep and name.startswith("/v2/") and tag:
            digest = "sha256:" + hashlib.sha256(tag.encode()).hexdigest()
            headers = {"Content-Type": MANIFEST, "Docker-Content-Digest": digest}
            self.answer(200, None, {**headers, "Content-Length": "527"})
        else:
            self.answer(404, b"", {})


class Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 256


server = Server(("127.0.0.1", 0), Handler)
print(server.server_address[1], flush=True)
server.serve_forever()
"""


@contextmanager
def fake_registry(rtt: float) -> Iterator[tuple[str, int]]:
    """``(host, pid)`` of a fake registry answering after ``rtt`` seconds."""
    proc = subprocess.Popen(
        [sys.executable, "-c", _FAKE_REGISTRY, str(rtt), str(TAGS)],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        port = int(proc.stdout.readline())
        yield f"127.0.0.1:{port}", proc.pid
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def bench_latency(rtt: float, workers: list[int]) -> list[Row]:
    cores = os.cpu_count() or 1
    ms = f"{rtt * 1000:g} ms"
    rows: list[Row] = []
    with fake_registry(rtt) as (host, pid):
        ref = f"{host}/bench/fake"
        with Client(load_entrypoints=False) as client:
            client.ping(f"http://{host}")
            names = client.tags(ref)
            assert len(names) == TAGS

            def sequential() -> None:
                for name in names:
                    client.head_manifest(f"{ref}:{name}")

            seq = Cost.measure(sequential, len(names), pid)
        rows.append(
            (
                f"sequential head_manifest, 2,000 tags, RTT {ms}",
                f"{seq.wall * len(names):.2f} s",
                f"per HEAD {seq.text()}",
            )
        )
        for count in workers:
            with Client(load_entrypoints=False, max_workers=count) as client:
                client.ping(f"http://{host}")
                client.tag_descriptors(ref, names[: count * 4])  # open the connections
                con = Cost.median(
                    [
                        Cost.measure(lambda: client.tag_descriptors(ref, names), len(names), pid)
                        for _ in range(2)
                    ]
                )
            best = con.floor(cores, seq.wall, count)
            default = " (default)" if count == DEFAULT_WORKERS else ""
            rows.append(
                (
                    f"  tag_descriptors(), RTT {ms}, {count} workers{default}",
                    f"{con.wall * len(names):.2f} s",
                    f"{seq.wall / con.wall:.1f}x faster than sequential (target >= 3x); "
                    f"bound {seq.wall / best:.1f}x; per HEAD {con.text()}",
                )
            )
    return rows


def bench_token_reuse(registry: Registry) -> list[Row]:
    assert registry.token_server is not None
    TOKENS.clear()
    registry.token_server.reset_requests()
    with client_for(registry) as client:
        ref = f"{registry.host}/{REPO}"
        for i in range(100):
            client.head_manifest(f"{ref}:t{i:04d}")
    scope = f"repository:{REPO}:pull"
    per_scope = len(registry.token_server.requests_for(scope))
    total = len(registry.token_server.requests)
    return [
        (
            "token requests, 100 head_manifest [token]",
            f"{per_scope}",
            f"for scope {scope} (target exactly 1); {total} token request(s) in all",
        )
    ]


def bench_connections(registry: Registry) -> list[Row]:
    TOKENS.clear()
    with client_for(registry) as client, counting(client) as count:
        ref = f"{registry.host}/{REPO}"
        for i in range(50):
            client.head_manifest(f"{ref}:t{i:04d}")
        opened, sent = count.connections, count.requests
    note = "includes the token server's" if registry.mode == "token" else "registry only"
    return [
        (
            f"TCP connections, 50 head_manifest [{registry.mode}]",
            f"{opened}",
            f"{sent} registry requests (incl. ping); {note} (target 1 per host)",
        )
    ]


def bench_copy(src: Registry, other: Registry, layer_size: int, runs: int = 3) -> list[Row]:
    image = Pusher(src).image("bench/copy-src", "v1", layers=3, layer_size=layer_size)
    total = sum(len(b) for b in image.blobs.values())
    rows: list[Row] = []
    for label, dst in (("between two registries", other), ("within one registry", src)):
        times, last = [], None
        with client_for(src, dst) as client:
            client.ping(src.host)
            client.ping(dst.host)
            for run in range(runs):
                target = f"{dst.host}/bench/copy-dst-{label.split()[0]}-{run}:v1"
                started = time.perf_counter()
                last = client.copy(f"{src.host}/bench/copy-src:v1", target)
                times.append(time.perf_counter() - started)
        assert last is not None and last.digest == image.digest
        rows.append(
            (
                f"copy 3-layer image ({total / 2**20:.0f} MiB), {label}",
                f"{statistics.median(times):.3f} s",
                f"copied {last.blobs_copied}, mounted {last.blobs_mounted}, "
                f"{last.bytes_transferred / 2**20:.1f} MiB streamed (median of {runs})",
            )
        )
    return rows


# -- peers -----------------------------------------------------------------------------------

_PEER_SCRIPT = r"""
import json, statistics, sys, time
import requests

host, repo, user, password = sys.argv[1:5]
runs = int(sys.argv[5])
count = {"n": 0}
_orig = requests.sessions.Session.request
def _counted(self, *a, **k):
    count["n"] += 1
    return _orig(self, *a, **k)
requests.sessions.Session.request = _counted

def timed(fn):
    fn()  # warm: authenticate
    first = count["n"]
    times = []
    for _ in range(runs):
        t = time.perf_counter(); n = len(fn()); times.append(time.perf_counter() - t)
    return {"ms": statistics.median(times) * 1000, "tags": n,
            "warm_requests": first, "per_call": (count["n"] - first) / runs}

out = {}
try:
    from dxf import DXF
    def auth(d, response):
        d.authenticate(user or None, password or None, response=response)
    d = DXF(host, repo, auth=auth if user else None, insecure=True)
    count["n"] = 0
    out["python-dxf"] = timed(d.list_aliases)
except Exception as exc:
    out["python-dxf"] = {"error": f"{type(exc).__name__}: {exc}"}
try:
    import oras.provider
    r = oras.provider.Registry(hostname=host, insecure=True)
    if user:
        r.auth.set_basic_auth(user, password)
    count["n"] = 0
    out["oras-py"] = timed(lambda: r.get_tags(f"{host}/{repo}"))
except Exception as exc:
    out["oras-py"] = {"error": f"{type(exc).__name__}: {exc}"}
print(json.dumps(out))
"""


def peers_python(venv: Path) -> Path | None:
    """The peers' interpreter with python-dxf / oras-py (installed on first use), or None."""
    from _peers import imports, peers_venv

    python = peers_venv(venv, {"dxf": "python-dxf", "oras": "oras"})
    if python is None or not (imports(python, "dxf") and imports(python, "oras")):
        print("python-dxf / oras-py not installed; not measured", file=sys.stderr)
        return None
    return Path(python)


def bench_peers(python: Path, registry: Registry) -> list[Row]:
    user, password = registry.credentials("alice") if "alice" in registry.users else ("", "")
    proc = subprocess.run(
        [str(python), "-c", _PEER_SCRIPT, registry.host, REPO, user, password, str(TAG_RUNS)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    if proc.returncode != 0:
        return [("peers", "failed", proc.stderr.strip().splitlines()[-1:][0][:100])]
    rows: list[Row] = []
    for name, data in json.loads(proc.stdout).items():
        if "error" in data:
            rows.append((f"{name} list tags [{registry.mode}]", "error", data["error"][:100]))
            continue
        rows.append(
            (
                f"{name} list tags [{registry.mode}]",
                f"{data['ms']:.1f} ms",
                f"{data['per_call']:.0f} request(s)/call; first call {data['warm_requests']} "
                f"request(s); {data['tags']} tags",
            )
        )
    return rows


# -- main ------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--peers-venv", type=Path, default=Path(tempfile.gettempdir()) / "ocireg-peers-venv"
    )
    parser.add_argument("--no-peers", action="store_true")
    parser.add_argument("--layer-mib", type=float, default=16.0, help="size of each copied layer")
    parser.add_argument(
        "--rtt", default="5,20", help="simulated round trips in ms, comma-separated ('' for none)"
    )
    parser.add_argument(
        "--workers",
        default=f"4,{DEFAULT_WORKERS},16,32",
        help="max_workers values to try against the simulated registry",
    )
    args = parser.parse_args(argv)

    rows: list[Row] = []
    with tempfile.TemporaryDirectory(prefix="ocireg-bench-") as tmp:
        registries = [
            start_registry(Path(tmp) / name, mode=mode)  # type: ignore[arg-type]
            for name, mode in (("open", "open"), ("token", "token"), ("open2", "open"))
        ]
        open_reg, token_reg, open2 = registries
        try:
            for registry in (open_reg, token_reg):
                seed_tags(registry)
            python = None if args.no_peers else peers_python(args.peers_venv)
            for registry in (open_reg, token_reg):
                rows += bench_tags(registry)
                if python is not None:
                    rows += bench_peers(python, registry)
            if python is None:
                rows.append(("python-dxf / oras-py", "-", "not measured (not installed)"))
            for registry in (open_reg, token_reg):
                rows += bench_tag_descriptors(registry)
            rows += bench_token_reuse(token_reg)
            for registry in (open_reg, token_reg):
                rows += bench_connections(registry)
            rows += bench_copy(open_reg, open2, int(args.layer_mib * 2**20))
        finally:
            for registry in registries:
                registry.stop()
    workers = [int(w) for w in re.split(r"[,\s]+", args.workers) if w]
    for rtt in (float(r) / 1000 for r in re.split(r"[,\s]+", args.rtt) if r):
        rows += bench_latency(rtt, workers)

    width = max(len(r[0]) for r in rows)
    value_width = max(len(r[1]) for r in rows)
    print(f"{'measure'.ljust(width)}  {'value'.rjust(value_width)}  notes")
    print(f"{'-' * width}  {'-' * value_width}  -----")
    for name, value, note in rows:
        print(f"{name.ljust(width)}  {value.rjust(value_width)}  {note}")
    print(f"\n(cpus: {os.cpu_count()}, python {sys.version.split()[0]})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
