"""Deletion fails closed: a fault at any request of a run never costs a kept tag its image.

A real registry sits behind :mod:`tests.fixtures.faultproxy`. The run deletes three tags
that cover the three ways of removing a tag on distribution: ``a1`` shares its image with
the kept ``a2`` (untag), ``b`` is alone on its image (delete by digest), ``c`` is on an
image the kept index ``idx`` lists (untag). For every request index k of a clean run and
for each fault (404, 500, connection reset, SIGINT, SIGKILL at request k) a fresh copy of
the repository is deleted through the proxy, and afterwards, read straight from the
registry:

* every kept tag still resolves to its original digest, and everything it reaches exists;
* every selected tag is gone or still on its original image, never on a placeholder;
* after SIGKILL (and after any other fault) running the same delete again converges:
  selected tags gone, kept tags intact, no tag left on a placeholder.
"""

from __future__ import annotations

import itertools
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from ocireg import Client, OciregError
from ocireg.deletion import PLACEHOLDER_ARTIFACT_TYPE
from tests.fixtures.faultproxy import FAULTS, FaultProxy, fault_proxy
from tests.fixtures.images import OCI_INDEX, OCI_MANIFEST, Pusher
from tests.fixtures.registry import Registry

SELECTED = ["a1", "b", "c"]
KEPT = ["a2", "idx", "keep"]
ACCEPT = ", ".join([OCI_INDEX, OCI_MANIFEST])
_COUNTER = itertools.count()
ROOT = Path(__file__).resolve().parents[2]

CLI = """
import sys
from ocireg.cli import main
sys.stdin.readline()  # the proxy is armed
sys.exit(main(sys.argv[1:]))
"""

CHILD = """
import json, sys
from ocireg import Client
from ocireg.deletion import graph
graph.RETRY_PAUSE = 0.0  # the survey's pause before asking a 404 again: no need to wait here
host, repo = sys.argv[1], sys.argv[2]
sys.stdin.readline()  # the proxy is armed
with Client(load_entrypoints=False, plain_http=[host], max_workers=1) as client:
    result = client.delete_tags(f"{host}/{repo}", ["a1", "b", "c"])
print(json.dumps(result.to_dict()))
"""


@pytest.fixture(autouse=True)
def _no_retry_pause(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("ocireg.deletion.graph.RETRY_PAUSE", 0.0)


@pytest.fixture(scope="module")
def proxy(registry_open: Registry) -> Iterator[FaultProxy]:
    host, port = registry_open.host.rsplit(":", 1)
    with fault_proxy(host, int(port)) as p:
        yield p


def _seed(pusher: Pusher) -> tuple[str, dict[str, str], set[str]]:
    """A fresh repository; the digest of each tag, and every digest a kept tag needs."""
    repo = f"faults/r{next(_COUNTER)}"
    a = pusher.image(repo, "a1", layers=1, layer_size=32)
    pusher.tag(a, "a2")
    b = pusher.image(repo, "b", layers=1, layer_size=32)
    idx = pusher.index(repo, "idx")
    pusher.tag(idx.children[0], "c")
    keep = pusher.image(repo, "keep", layers=1, layer_size=32)
    digests = {"a1": a.digest, "a2": a.digest, "b": b.digest, "idx": idx.digest}
    digests |= {"c": idx.children[0].digest, "keep": keep.digest}
    needed = {a.digest, idx.digest, keep.digest, *(ch.digest for ch in idx.children)}
    return repo, digests, needed


def _head(registry: Registry, repo: str, ref: str) -> tuple[str, bytes] | None:
    """``(digest, manifest)`` of a tag or digest, read straight from the registry."""
    resp = requests.get(
        f"{registry.url}/v2/{repo}/manifests/{ref}", headers={"Accept": ACCEPT}, timeout=10
    )
    if resp.status_code == 404:
        return None
    resp.raise_for_status()
    return resp.headers["Docker-Content-Digest"], resp.content


def _check(
    registry: Registry,
    repo: str,
    digests: dict[str, str],
    needed: set[str],
    *,
    done: bool,
    killed: bool = False,
) -> None:
    """The invariants. ``killed``: a SIGKILL may leave a selected tag on a placeholder (the
    process had no chance to put it back); the rerun must then finish it."""
    for tag in KEPT:
        found = _head(registry, repo, tag)
        assert found is not None and found[0] == digests[tag], f"kept tag {tag} lost its image"
    for digest in needed:
        assert _head(registry, repo, digest) is not None, f"{digest} a kept tag needs is gone"
    for tag in SELECTED:
        found = _head(registry, repo, tag)
        if done:
            assert found is None, f"selected tag {tag} still there after the rerun"
        elif found is not None and not (killed and PLACEHOLDER_ARTIFACT_TYPE.encode() in found[1]):
            assert found[0] == digests[tag], f"selected tag {tag} moved: {found[1][:200]!r}"


def _in_process(proxy: FaultProxy, repo: str) -> None:
    with Client(load_entrypoints=False, plain_http=[proxy.host], max_workers=1) as client:
        client.delete_tags(f"{proxy.host}/{repo}", SELECTED)


def _in_child(proxy: FaultProxy, repo: str, fault: str, at: int) -> int:
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, proxy.host, repo],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=ROOT,
    )
    proxy.arm(fault, at, child.pid)
    child.communicate(b"go\n", timeout=60)
    return child.returncode


def _clean_run_length(proxy: FaultProxy, pusher: Pusher) -> int:
    repo, _, _ = _seed(pusher)
    proxy.arm(None, 0)
    _in_process(proxy, repo)
    return proxy.count


@pytest.mark.parametrize("fault", FAULTS)
def test_a_fault_at_any_request_keeps_every_kept_image(
    registry_open: Registry, proxy: FaultProxy, fault: str
) -> None:
    pusher = Pusher(registry_open)
    length = _clean_run_length(proxy, pusher)
    assert length > 20  # the run is long enough for the walk to mean something
    outcomes: dict[str, int] = {}
    tried = 0
    for at in range(1, length + 1):
        repo, digests, needed = _seed(pusher)
        if fault in ("sigint", "sigkill"):
            code = _in_child(proxy, repo, fault, at)
            outcomes[str(code)] = outcomes.get(str(code), 0) + 1
        else:
            proxy.arm(fault, at)
            try:
                _in_process(proxy, repo)
                outcomes["ok"] = outcomes.get("ok", 0) + 1
            except OciregError as exc:
                outcomes[type(exc).__name__] = outcomes.get(type(exc).__name__, 0) + 1
        try:
            _check(registry_open, repo, digests, needed, done=False, killed=fault == "sigkill")
        except AssertionError as exc:
            trail = [f"{n} {m} {p}" for n, m, p in proxy.log]
            raise AssertionError(f"{fault} at request {at}: {exc}\n" + "\n".join(trail)) from None
        proxy.arm(None, 0)
        _in_process(proxy, repo)  # the rerun converges
        _check(registry_open, repo, digests, needed, done=True)
        tried += 1
    # The faults did bite: some runs did not end as a clean one does.
    assert set(outcomes) != {"ok"} and set(outcomes) != {"0"}, outcomes
    assert tried == length
    print(f"{fault}: {tried} faulted runs, each rerun converged; outcomes {outcomes}")


def test_sigint_reports_what_was_done(registry_open: Registry, proxy: FaultProxy) -> None:
    """Interrupted in the middle, the child exits on KeyboardInterrupt; the kept tags are
    intact (checked above); here: an interrupt before the first change changes nothing."""
    pusher = Pusher(registry_open)
    repo, digests, needed = _seed(pusher)
    code = _in_child(proxy, repo, "sigint", 3)
    assert code != 0
    for tag in SELECTED:
        found = _head(registry_open, repo, tag)
        assert found is not None and found[0] == digests[tag]
    _check(registry_open, repo, digests, needed, done=False)


def test_the_child_script_deletes_when_nothing_fails(
    registry_open: Registry, proxy: FaultProxy
) -> None:
    pusher = Pusher(registry_open)
    repo, digests, needed = _seed(pusher)
    child = subprocess.run(
        [sys.executable, "-c", CHILD, proxy.host, repo],
        input=b"go\n",
        capture_output=True,
        cwd=ROOT,
        timeout=60,
        check=True,
    )
    result = json.loads(child.stdout)
    assert sorted(p["tag"] for p in result["deleted"]) == SELECTED
    _check(registry_open, repo, digests, needed, done=True)


@pytest.mark.parametrize(("fault", "code"), [("sigterm", 143), ("sigint", 130)])
def test_the_cli_reports_what_an_interrupted_delete_did(
    registry_open: Registry, proxy: FaultProxy, fault: str, code: int
) -> None:
    """Stopped while moving ``a1`` to a placeholder: ``a1`` is put back, the report says
    which steps were not done and why, and the exit status is the signal's."""
    pusher = Pusher(registry_open)
    repo, digests, needed = _seed(pusher)
    proxy.arm(None, 0)
    _in_process(proxy, repo)
    moves = [n for n, m, p in proxy.log if m == "PUT" and p.endswith("/manifests/a1")]
    repo, digests, needed = _seed(pusher)
    names = [f"{proxy.host}/{repo}:{t}" for t in SELECTED]
    child = subprocess.Popen(
        [sys.executable, "-c", CLI, "delete", "--json", "--plain-http", *names],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=ROOT,
    )
    proxy.arm(fault, moves[0], child.pid)
    out, err = child.communicate(b"go\n", timeout=60)
    assert child.returncode == code, err
    report = json.loads(out)
    assert fault.upper() in (report["stopped"] or "").upper() or fault == "sigint"
    assert {n["tag"] for n in report["not_done"]} == {"a1", "b", "c"}
    assert all("the run stopped" in n["reason"] for n in report["not_done"])
    assert report["plans"] == []  # a1 was put back, so nothing was deleted
    found = _head(registry_open, repo, "a1")
    assert found is not None and found[0] == digests["a1"]
    _check(registry_open, repo, digests, needed, done=False)


def test_a_killed_untag_is_recovered_by_the_next_run(
    registry_open: Registry, proxy: FaultProxy
) -> None:
    """SIGKILL right after ``a1`` moved to a placeholder: the tag is left there, marked as
    ours; the next run reports it as ``recovered`` and leaves no placeholder."""
    pusher = Pusher(registry_open)
    repo, digests, needed = _seed(pusher)
    proxy.arm(None, 0)
    _in_process(proxy, repo)
    moves = [n for n, m, p in proxy.log if m == "PUT" and p.endswith("/manifests/a1")]
    repo, digests, needed = _seed(pusher)
    assert _in_child(proxy, repo, "sigkill", moves[0]) == -9
    left = _head(registry_open, repo, "a1")
    assert left is not None and PLACEHOLDER_ARTIFACT_TYPE.encode() in left[1]
    assert f'"io.ocireg.placeholder.of":"{digests["a1"]}"'.encode() in left[1]
    proxy.arm(None, 0)
    with Client(load_entrypoints=False, plain_http=[proxy.host]) as client:
        plan = client.plan_tag_deletes(f"{proxy.host}/{repo}", ["b"])  # a1 not even asked
        assert [p.tag for p in plan.recover] == ["a1"]
        result = client.execute_plan(plan)
    assert result.recovered == ["a1"] and result.tags == ["b"]
    assert _head(registry_open, repo, "a1") is None
    _check(registry_open, repo, digests, needed, done=False)
