"""ocireg beside curl/hashlib floors and its peers, one markdown table per operation.

Run from the repository root (benchmarks/README.md says what each table measures)::

    .venv/bin/python benchmarks/compare.py [--reps 3] [--only tags,copy-index,...]
        [--tags 2000] [--tag-runs 50] [--blob-mib 1024] [--push-mib 256]
        [--peers-venv DIR] [--node-dir DIR] [--no-install] [--smoke]

It starts CNCF distribution registries (``tests.fixtures.registry.start_registry``, open mode:
plain http on loopback), seeds them with plain ``requests``, and runs every tool as its own
process. The tools of a table take turns within each repetition (the order rotates), so load
from elsewhere on the machine hits them alike; the tables give medians, min-max, the ratio to
the floor and the median peak RSS of the processes. ``--smoke`` (tiny sizes, one repetition,
only what is installed, no installs) is what CI runs so that this script cannot rot; any
ocireg run that fails makes the exit status 1.
"""

from __future__ import annotations

import argparse
import compileall
import hashlib
import itertools
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path[:0] = [str(ROOT), str(ROOT / "sdk"), str(BENCH)]

from _measure import Result, run, table  # noqa: E402
from _peers import attempt, imports, peers_venv  # noqa: E402
from _seed import BigImage, random_file, seed_big_image, seed_index, seed_tags  # noqa: E402

from tests.fixtures.registry import Registry, start_registry  # noqa: E402

#: The Python that runs ocireg and the requests floor, and the ocireg command: the lean
#: virtualenv's (ocireg installed as a user installs it, nothing else) unless --dev-venv.
PY = sys.executable
CLI: list[str] = []


def use_python(python: str) -> None:
    global PY, CLI
    PY = python
    script = Path(python).with_name("ocireg")
    CLI = [str(script)] if script.exists() else [python, "-m", "ocireg.cli"]


use_python(sys.executable)


def _sources_stamp() -> str:
    digest = hashlib.sha256()
    for path in sorted([ROOT / "pyproject.toml", *(ROOT / "sdk").rglob("*.py")]):
        digest.update(str(path.relative_to(ROOT)).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def lean_venv(venv: Path, install: bool) -> str | None:
    """A virtualenv holding ocireg (a regular install of this tree, with its dependencies)
    and requests (for the floor; ocireg never imports it) and nothing else, as a user has
    it: no editable-install hooks, no development tools, no plugins. Reinstalled when the
    sources change. None when it cannot be had."""
    python = venv / "bin" / "python"
    stamp_file = venv / "ocireg-sources.sha256"
    stamp = _sources_stamp()
    current = stamp_file.exists() and stamp_file.read_text() == stamp and python.exists()
    if not current and install:
        if not python.exists():
            attempt([sys.executable, "-m", "venv", str(venv)], "the lean virtualenv")
        fresh = not imports(str(python), "pluggy")
        pip = [str(python), "-m", "pip", "install", "-q", "--force-reinstall"]
        attempt([*pip, *([] if fresh else ["--no-deps"]), str(ROOT)], "ocireg (lean virtualenv)")
        if not imports(str(python), "requests"):
            attempt([*pip[:-1], "requests"], "requests (the floor)")
        if imports(str(python), "ocireg.cli"):
            stamp_file.write_text(stamp)
            current = True
    return str(python) if current else None


ACCEPT = "Accept: " + ", ".join(
    [
        "application/vnd.oci.image.index.v1+json",
        "application/vnd.oci.image.manifest.v1+json",
        "application/vnd.docker.distribution.manifest.list.v2+json",
        "application/vnd.docker.distribution.manifest.v2+json",
    ]
)
SKOPEO_TLS = ["--src-tls-verify=false", "--dest-tls-verify=false"]
OPERATIONS = (
    "tags",
    "manifest",
    "digest",
    "first-call",
    "stream",
    "to-file",
    "push",
    "copy-index",
    "copy-big",
    "tags-inproc",
)
_unique = itertools.count()

#: The curl floors, ``sh -c SCRIPT sh BASE REPO ...``: open an upload session at BASE/REPO,
#: then stream the bytes into it with one PUT.
_CURL_UPLOAD = r"""
set -eu
loc=$(curl -sf -X POST -D - -o /dev/null "$1/v2/$2/blobs/uploads/" \
      | tr -d '\r' | sed -n 's/^[Ll]ocation: //p')
case "$loc" in http*) ;; *) loc="$1$loc" ;; esac
"""
_PUT = 'curl -sf -X PUT -H "Content-Type: application/octet-stream" -o /dev/null -T'
#: ... FILE: hash the file, then upload it.
CURL_PUSH = (
    'd="sha256:$(sha256sum "$3" | cut -d" " -f1)"\n'
    + _CURL_UPLOAD
    + f'{_PUT} "$3" "$loc&digest=$d"\n'
)
#: ... SOURCE_URL DIGEST: pipe a GET of the source blob into the upload.
CURL_COPY = _CURL_UPLOAD + f'curl -sf "$3" | {_PUT} - "$loc&digest=$4"\n'


# -- tools -----------------------------------------------------------------------------------


@dataclass
class Tool:
    """One tool doing one operation: ``argv()`` is called before each run (it may set things
    up, such as a fresh destination), ``cleanup()`` after it."""

    name: str
    argv: Callable[[], list[str]]
    floor: bool = False
    ocireg: bool = False
    self_timed: bool = False
    env: dict[str, str] | None = None
    cleanup: Callable[[], None] | None = None


@dataclass
class Peers:
    """What is installed besides ocireg, and how to start it."""

    python: str | None = None  # the peers' virtualenv python
    dxf: bool = False
    oras: bool = False
    node_modules: Path | None = None
    skopeo: str | None = shutil.which("skopeo")
    curl: str | None = shutil.which("curl")
    node: str | None = shutil.which("node")


def find_peers(venv: Path, node_dir: Path, install: bool) -> Peers:
    peers = Peers()
    python = peers_venv(venv, {"dxf": "python-dxf", "oras": "oras"}, install=install)
    if python is not None:
        peers.python = python
        peers.dxf, peers.oras = imports(python, "dxf"), imports(python, "oras")
    modules = node_dir / "node_modules"
    if (
        install
        and peers.node
        and shutil.which("npm")
        and not (modules / "docker-registry-client").exists()
    ):
        node_dir.mkdir(parents=True, exist_ok=True)
        attempt(
            ["npm", "install", "--silent", "--prefix", str(node_dir), "docker-registry-client"],
            "npm",
        )
    if peers.node and (modules / "docker-registry-client").exists():
        peers.node_modules = modules
    return peers


def compile_bytecode(peers: Peers) -> None:
    """Every Python tool starts from compiled bytecode: pip compiled the installed packages,
    so compile the editable sources (the SDK, the plugins) and the helpers here."""
    for path in [ROOT / "sdk", *ROOT.glob("plugins/*/src"), BENCH]:
        compileall.compile_dir(str(path), quiet=1, workers=0)
    if peers.python:
        subprocess.run(
            [peers.python, "-m", "compileall", "-q", str(BENCH / "_ops_python.py")], check=False
        )


# -- running ---------------------------------------------------------------------------------


def measure(tools: Sequence[Tool], reps: int, warm_up: bool) -> list[Result]:
    """Run every tool ``reps`` times, taking turns (the order rotates each repetition)."""
    results = {t.name: Result(t.name, floor=t.floor) for t in tools}

    def once(tool: Tool, keep: bool) -> None:
        result = results[tool.name]
        try:
            measured = run(tool.argv(), env=tool.env, self_timed=tool.self_timed)
            if keep:
                result.runs.append(measured)
        except (RuntimeError, OSError, ValueError, KeyError) as exc:
            result.error = str(exc)
        finally:
            if tool.cleanup is not None:
                tool.cleanup()

    if warm_up:
        for tool in tools:
            once(tool, keep=False)
    for rep in range(reps):
        shift = rep % len(tools)
        for tool in [*tools[shift:], *tools[:shift]]:
            if results[tool.name].error is None:
                once(tool, keep=True)
    return [results[t.name] for t in tools]


@dataclass
class Context:
    """The registries, what was seeded, and the sizes and tools to use."""

    a: Registry
    b: Registry
    tmp: Path
    peers: Peers
    args: argparse.Namespace
    tags_repo: str = "bench/tags"
    index_repo: str = "bench/index"
    big: BigImage | None = None
    push_file: Path | None = None

    @property
    def env(self) -> dict[str, str]:
        return {**os.environ, "PYTHONPATH": str(BENCH)}

    def py(self, name: str, tool: str, op: str, *, floor: bool = False, **a: object) -> Tool:
        """A tool of ``_ops_python`` (peers run in their own virtualenv)."""
        python = PY if tool in ("requests", "ocireg") else self.peers.python
        assert python is not None
        self_timed = op in ("first", "stream", "tags_loop")
        return Tool(
            name,
            lambda: [python, "-m", "_ops_python", tool, op, json.dumps(a)],
            floor=floor,
            ocireg=tool == "ocireg",
            self_timed=self_timed,
            env=self.env,
        )

    def node(self, op: str, **a: object) -> Tool:
        assert self.peers.node and self.peers.node_modules
        argv = [self.peers.node, str(BENCH / "_ops_node.js"), op, json.dumps(a)]
        env = {**os.environ, "NODE_PATH": str(self.peers.node_modules)}
        return Tool("docker-registry-client (node)", fixed(argv), env=env)

    def python_peers(self, op: str, *, oras: bool = True, **a: object) -> list[Tool]:
        tools = []
        if self.peers.dxf:
            tools.append(self.py("python-dxf", "dxf", op, **a))
        if self.peers.oras and oras:
            tools.append(self.py("oras-py", "oras", op, **a))
        return tools


def cli(*args: str) -> list[str]:
    return [*CLI, *args]


def fixed(argv: list[str]) -> Callable[[], list[str]]:
    """The same command every run (bound now, not when the closure runs)."""
    return lambda: list(argv)


# -- operations ------------------------------------------------------------------------------


def op_tags(c: Context) -> tuple[str, list[Tool], str | None]:
    a = {"host": c.a.host, "repo": c.tags_repo, "count": c.args.tags}
    tools = []
    if c.peers.curl:
        url = f"{c.a.url}/v2/{c.tags_repo}/tags/list"
        tools.append(Tool("curl", fixed(["curl", "-sf", "-o", "/dev/null", url]), floor=True))
    tools.append(c.py("requests (python floor)", "requests", "tags", floor=not c.peers.curl, **a))
    tools.append(
        Tool(
            "ocireg tags",
            fixed(cli("tags", "--plain-http", f"{c.a.host}/{c.tags_repo}")),
            ocireg=True,
        )
    )
    tools += c.python_peers("tags", **a)
    if c.peers.skopeo:
        ref = f"docker://{c.a.host}/{c.tags_repo}"
        tools.append(
            Tool("skopeo list-tags", fixed(["skopeo", "list-tags", "--tls-verify=false", ref]))
        )
    if c.peers.node_modules:
        tools.append(c.node("tags", **a))
    return f"tags of {c.args.tags:,} tags, one process (wall)", tools, None


def _manifest_tools(c: Context, op: str) -> list[Tool]:
    tag = "t0000"
    a = {"host": c.a.host, "repo": c.tags_repo, "tag": tag}
    url = f"{c.a.url}/v2/{c.tags_repo}/manifests/{tag}"
    ref = f"{c.a.host}/{c.tags_repo}:{tag}"
    tools = []
    if c.peers.curl:
        head = ["-I"] if op == "digest" else []
        argv = ["curl", "-sf", *head, "-H", ACCEPT, "-o", "/dev/null", url]
        tools.append(Tool("curl", fixed(argv), floor=True))
    tools.append(c.py("requests (python floor)", "requests", op, floor=not c.peers.curl, **a))
    command = "digest" if op == "digest" else "manifest"
    tools.append(Tool(f"ocireg {command}", fixed(cli(command, "--plain-http", ref)), ocireg=True))
    tools += c.python_peers(op, oras=op == "manifest", **a)
    if c.peers.skopeo:
        if op == "digest":  # skopeo inspect also reads the config blob
            argv = ["skopeo", "inspect", "--tls-verify=false", "--format", "{{.Digest}}"]
            tools.append(Tool("skopeo inspect --format", fixed([*argv, f"docker://{ref}"])))
        else:
            argv = ["skopeo", "inspect", "--raw", "--tls-verify=false", f"docker://{ref}"]
            tools.append(Tool("skopeo inspect --raw", fixed(argv)))
    if c.peers.node_modules:
        tools.append(c.node(op, **a))
    return tools


def op_manifest(c: Context) -> tuple[str, list[Tool], str | None]:
    return "get manifest, one process (wall)", _manifest_tools(c, "manifest"), None


def op_digest(c: Context) -> tuple[str, list[Tool], str | None]:
    return "tag -> digest, one process (wall)", _manifest_tools(c, "digest"), None


def op_first_call(c: Context) -> tuple[str, list[Tool], str | None]:
    a = {"host": c.a.host, "repo": c.tags_repo, "tag": "t0000"}
    tools = [
        c.py("requests.Session + HEAD (floor)", "requests", "first", floor=True, **a),
        c.py("ocireg Client() + head_manifest", "ocireg", "first", **a),
        *c.python_peers("first", **a),
    ]
    if c.peers.node_modules:
        tools.append(c.node("first", **a))
    title = "first call in a new client, in-process (imports done; from constructor to answer)"
    return title, tools, None


def _blob_args(c: Context) -> dict[str, object]:
    assert c.big is not None
    return {"host": c.a.host, "repo": c.big.repo, "digest": c.big.layer, "size": c.big.size}


def op_stream(c: Context) -> tuple[str, list[Tool], str | None]:
    a = _blob_args(c)
    tools = [
        c.py("requests + hashlib (floor)", "requests", "stream", floor=True, **a),
        c.py("ocireg open_blob().read()", "ocireg", "stream", **a),
    ]
    if c.peers.dxf:
        tools.append(c.py("python-dxf pull_blob", "dxf", "stream", **a))
    # Not the Node client: its createBlobReadStream against distribution 2.8 either never
    # ends (a small blob) or ends after ~0.17 s for 1 GiB, which no verified read can do.
    return f"{_mib(c.args.blob_mib)} blob, verified stream in-process", tools, None


def op_to_file(c: Context) -> tuple[str, list[Tool], str | None]:
    assert c.big is not None
    out = c.tmp / "pulled"
    a = {**_blob_args(c), "path": str(out)}

    def clean() -> None:
        if out.is_dir():
            shutil.rmtree(out)
        else:
            out.unlink(missing_ok=True)

    url = f"{c.a.url}/v2/{c.big.repo}/blobs/{c.big.layer}"
    tools = []
    if c.peers.curl:
        tools.append(
            Tool("curl -o (no check)", fixed(["curl", "-sf", "-o", str(out), url]), floor=True)
        )
    tools.append(c.py("requests + hashlib", "requests", "file", floor=not c.peers.curl, **a))
    ref = f"{c.a.host}/{c.big.repo}@{c.big.layer}"
    tools.append(
        Tool(
            "ocireg blob get",
            fixed(cli("blob", "get", "--plain-http", "-o", str(out), ref)),
            ocireg=True,
        )
    )
    tools += c.python_peers("file", **a)
    # Not the Node client (see op_stream).
    if c.peers.skopeo:
        src = f"docker://{c.a.host}/{c.big.repo}:{c.big.tag}"
        argv = ["skopeo", "--insecure-policy", "copy", *SKOPEO_TLS, src, f"dir:{out}"]
        tools.append(Tool("skopeo copy to dir: (image)", fixed(argv)))
    for tool in tools:
        tool.cleanup = clean
    return f"{_mib(c.args.blob_mib)} blob to a file, one process (wall)", tools, None


def op_push(c: Context) -> tuple[str, list[Tool], str | None]:
    assert c.push_file is not None
    path = str(c.push_file)
    tools = []

    def fresh(prefix: str) -> str:
        return f"bench/push-{prefix}-{next(_unique)}"

    if c.peers.curl:

        def curl_argv() -> list[str]:
            return ["sh", "-c", CURL_PUSH, "sh", c.a.url, fresh("curl"), path]

        tools.append(Tool("sha256sum + curl", curl_argv, floor=True))

    def py(name: str, tool: str, floor: bool = False) -> Tool:
        python = PY if tool in ("requests", "ocireg") else c.peers.python
        assert python is not None

        def argv() -> list[str]:
            a = {"host": c.a.host, "repo": fresh(tool), "path": path}
            return [python, "-m", "_ops_python", tool, "push", json.dumps(a)]

        return Tool(name, argv, floor=floor, env=c.env)

    tools.append(py("requests + hashlib", "requests", floor=not c.peers.curl))
    tools.append(
        Tool(
            "ocireg blob put",
            lambda: cli("blob", "put", "--plain-http", f"{c.a.host}/{fresh('cli')}", path),
            ocireg=True,
        )
    )
    if c.peers.dxf:
        tools.append(py("python-dxf push_blob", "dxf"))
    if c.peers.oras:
        tools.append(py("oras-py upload_blob", "oras"))
    if c.peers.node_modules:
        node = c.node("push")

        def node_argv() -> list[str]:
            a = {"host": c.a.host, "repo": fresh("node"), "path": path}
            return [str(c.peers.node), str(BENCH / "_ops_node.js"), "push", json.dumps(a)]

        node.argv = node_argv
        tools.append(node)
    return f"push {_mib(c.args.push_mib)} with unknown digest, one process (wall)", tools, None


def op_copy_index(c: Context) -> tuple[str, list[Tool], str | None]:
    src = f"{c.a.host}/{c.index_repo}:multi"
    tools = [
        Tool(
            "ocireg copy",
            lambda: cli("copy", "--plain-http", src, f"{c.a.host}/bench/ci-o{next(_unique)}:multi"),
            ocireg=True,
        )
    ]
    if c.peers.skopeo:

        def skopeo() -> list[str]:
            dst = f"docker://{c.a.host}/bench/ci-s{next(_unique)}:multi"
            return [
                "skopeo",
                "--insecure-policy",
                "copy",
                "--all",
                *SKOPEO_TLS,
                f"docker://{src}",
                dst,
            ]

        tools.append(Tool("skopeo copy --all", skopeo))
    return "copy a 3-platform index within one registry, one process (wall)", tools, "skopeo"


def op_copy_big(c: Context) -> tuple[str, list[Tool], str | None]:
    """Each run copies into a registry of its own, started for it and stopped after it, so
    no tool finds the blob there already (nor mounts it from an earlier run's repository)."""
    assert c.big is not None
    big = c.big
    src = f"{c.a.host}/{big.repo}:{big.tag}"
    current: list[Registry] = []

    def destination() -> Registry:
        registry = start_registry(c.tmp / f"dst-{next(_unique)}", mode="open")
        current.append(registry)
        return registry

    def stop() -> None:
        while current:
            registry = current.pop()
            registry.stop()
            shutil.rmtree(registry.root.parent, ignore_errors=True)

    def curl() -> list[str]:
        source = f"{c.a.url}/v2/{big.repo}/blobs/{big.layer}"
        return ["sh", "-c", CURL_COPY, "sh", destination().url, big.repo, source, big.layer]

    def ours() -> list[str]:
        return cli("copy", "--plain-http", src, f"{destination().host}/{big.repo}:{big.tag}")

    def skopeo() -> list[str]:
        dst = f"docker://{destination().host}/{big.repo}:{big.tag}"
        return ["skopeo", "--insecure-policy", "copy", *SKOPEO_TLS, f"docker://{src}", dst]

    tools = []
    if c.peers.curl:
        tools.append(Tool("curl into curl (layer only)", curl, floor=True, cleanup=stop))
    tools.append(Tool("ocireg copy", ours, ocireg=True, cleanup=stop))
    if c.peers.skopeo:
        tools.append(Tool("skopeo copy", skopeo, cleanup=stop))
    title = f"copy a {_mib(c.args.blob_mib)} image between two registries, one process (wall)"
    return title, tools, None


def op_tags_inproc(c: Context) -> tuple[str, list[Tool], str | None]:
    a = {"host": c.a.host, "repo": c.tags_repo, "count": c.args.tags, "runs": c.args.tag_runs}
    tools = [
        c.py("requests.Session GET + .json() (floor)", "requests", "tags_loop", floor=True, **a),
        c.py("ocireg Client.tags()", "ocireg", "tags_loop", **a),
        *c.python_peers("tags_loop", **a),
    ]
    title = (
        f"tags() of {c.args.tags:,} tags in-process, warm client ({c.args.tag_runs} calls a run)"
    )
    return title, tools, None


def _mib(mib: float) -> str:
    return f"{mib / 1024:g} GiB" if mib >= 1024 else f"{mib:g} MiB"


BUILDERS: dict[str, Callable[[Context], tuple[str, list[Tool], str | None]]] = {
    "tags": op_tags,
    "manifest": op_manifest,
    "digest": op_digest,
    "first-call": op_first_call,
    "stream": op_stream,
    "to-file": op_to_file,
    "push": op_push,
    "copy-index": op_copy_index,
    "copy-big": op_copy_big,
    "tags-inproc": op_tags_inproc,
}
#: Operations whose runs are short enough to afford a warm-up run of each tool.
_WARM = {"tags", "manifest", "digest", "first-call", "copy-index", "tags-inproc"}


def rss_table(title: str, results: Sequence[Result]) -> str:
    """The peak RSS of each tool's runs, smallest first."""
    ok = sorted((r for r in results if r.error is None and r.runs), key=_peak)
    lines = [
        f"### {title}",
        "",
        "| tool | peak RSS (median) | min - max |",
        "| --- | ---: | ---: |",
    ]
    for r in ok:
        values = [run.rss / 2**20 for run in r.runs]
        lines.append(
            f"| {r.tool} | {_peak(r) / 2**20:.0f} MiB | {min(values):.0f} - {max(values):.0f} MiB |"
        )
    return "\n".join(lines)


def _peak(r: Result) -> float:
    rss = sorted(run.rss for run in r.runs)
    return float(rss[len(rss) // 2])


# -- main ------------------------------------------------------------------------------------


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    tmp = Path(tempfile.gettempdir())
    parser.add_argument("--reps", type=int, default=3, help="repetitions of each tool")
    parser.add_argument("--only", default="", help=f"comma-separated: {','.join(OPERATIONS)}")
    parser.add_argument("--tags", type=int, default=2000, help="tags in the listed repository")
    parser.add_argument("--tag-runs", type=int, default=50, help="calls per in-process tags run")
    parser.add_argument(
        "--blob-mib", type=float, default=1024, help="size of the pulled and copied layer"
    )
    parser.add_argument("--push-mib", type=float, default=256, help="size of the pushed blob")
    parser.add_argument("--peers-venv", type=Path, default=tmp / "ocireg-peers-venv")
    parser.add_argument("--node-dir", type=Path, default=tmp / "ocireg-peers-node")
    parser.add_argument("--ocireg-venv", type=Path, default=tmp / "ocireg-bench-venv")
    parser.add_argument(
        "--dev-venv",
        action="store_true",
        help="run ocireg from this (development) virtualenv instead of the lean one",
    )
    parser.add_argument("--no-install", action="store_true", help="measure only what is there")
    parser.add_argument("--smoke", action="store_true", help="tiny sizes, 1 repetition (CI)")
    args = parser.parse_args(argv)
    if args.smoke:
        args.reps, args.tags, args.tag_runs, args.no_install = 1, 20, 3, True
        args.blob_mib = args.push_mib = 1
    unknown = {o for o in args.only.split(",") if o} - set(OPERATIONS)
    if unknown:
        parser.error(f"unknown operations: {', '.join(sorted(unknown))}")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    wanted = [o for o in OPERATIONS if not args.only or o in args.only.split(",")]
    peers = find_peers(args.peers_venv, args.node_dir, install=not args.no_install)
    lean = None if args.dev_venv else lean_venv(args.ocireg_venv, not args.no_install)
    use_python(lean or sys.executable)
    compile_bytecode(peers)
    started = time.perf_counter()
    failures: list[str] = []
    with tempfile.TemporaryDirectory(prefix="ocireg-compare-") as tmp_dir:
        tmp = Path(tmp_dir)
        a = start_registry(tmp / "a", mode="open")
        b = start_registry(tmp / "b", mode="open")
        try:
            c = Context(a, b, tmp, peers, args)
            seed(c, wanted)
            print(header(peers, args))
            for name in wanted:
                title, tools, reference = BUILDERS[name](c)
                results = measure(tools, args.reps, warm_up=not args.smoke and name in _WARM)
                print(table(title, results, reference) + "\n", flush=True)
                if name == "to-file":
                    print(rss_table(f"peak RSS of a {_mib(args.blob_mib)} pull", results) + "\n")
                failures += [
                    f"{name}: {t.name}: {r.error}"
                    for t, r in zip(tools, results, strict=True)
                    if t.ocireg and r.error is not None
                ]
        finally:
            a.stop()
            b.stop()
    print(f"({time.perf_counter() - started:.0f} s in all)")
    for failure in failures:
        print(f"FAILED {failure}", file=sys.stderr)
    return 1 if failures else 0


def seed(c: Context, wanted: list[str]) -> None:
    args = c.args
    if {"tags", "manifest", "digest", "first-call", "tags-inproc"} & set(wanted):
        seed_tags(c.a, c.tags_repo, args.tags)
    if "copy-index" in wanted:
        seed_index(c.a, c.index_repo, "multi")
    if {"stream", "to-file", "copy-big"} & set(wanted):
        size = int(args.blob_mib * 2**20)
        layer = c.tmp / "layer"
        digest = random_file(layer, size)
        c.big = seed_big_image(c.a, "bench/big", "v1", layer, digest)
        layer.unlink()
    if "push" in wanted:
        c.push_file = c.tmp / "push"
        random_file(c.push_file, int(args.push_mib * 2**20))


def header(peers: Peers, args: argparse.Namespace) -> str:
    def have(name: str, present: object) -> str:
        return f"{name} {'yes' if present else 'no'}"

    found = ", ".join(
        [
            have("curl", peers.curl),
            have("python-dxf", peers.dxf),
            have("oras-py", peers.oras),
            have("skopeo", peers.skopeo),
            have("node docker-registry-client", peers.node_modules),
        ]
    )
    return (
        f"## ocireg compared ({'smoke' if args.smoke else f'{args.reps} repetitions'})\n\n"
        f"{os.cpu_count()} cpus, python {platform.python_version()}; peers: {found}. "
        "Registry: CNCF distribution on loopback, open mode (plain http). "
        f"ocireg and the requests floor run with {PY}"
        f"{' (the development virtualenv)' if sys.executable == PY else ''}.\n"
    )


if __name__ == "__main__":
    raise SystemExit(main())
