"""Result keys as Ansible sees them.

Ansible gives some top-level result keys a meaning of its own: a module that returns
``skipped`` makes its task show as *skipping* (the recap counts it skipped, ``--diff`` is
hidden, handlers do not fire), ``results`` is taken for a loop's results, ``finished`` and
``started`` for an ``async`` job's, and so on. So no module documents (or returns) such a key
for data of its own, which is checked on every module's RETURN, and the task status is
checked as Ansible reports it: the recap line, the handler, the diff shown.
"""

from __future__ import annotations

import ast
import re
from typing import Any

import pytest
import yaml

from tests.ansible.conftest import COLLECTION, PlaybookRunner, task
from tests.fixtures.images import Pusher
from tests.fixtures.registry import Registry

MODULES = sorted(p.stem for p in (COLLECTION / "plugins" / "modules").glob("*.py"))

#: Top-level result keys with a meaning to Ansible (task_result.py, constants.py, the
#: executor, async_status, loops and ``until``), or that a callback shows specially.
RESERVED = {
    "changed", "failed", "skipped", "skip_reason", "msg", "rc", "results", "invocation",
    "warnings", "deprecations", "exception", "stdout", "stdout_lines", "stderr", "stderr_lines",
    "module_stdout", "module_stderr", "ansible_facts", "add_host", "add_group",
    "ansible_rsync_path", "ansible_playbook_python", "attempts", "retries", "unreachable",
    "item", "ansible_loop_var", "ansible_index_var", "ansible_loop", "ansible_job_id",
    "started", "finished", "results_file", "censored", "failed_when_result",
    "changed_when_result", "_ansible_no_log", "ansible_async_watchdog_pid", "diff",
}  # fmt: skip
#: Reserved keys a module returns with exactly Ansible's meaning.
ALLOWED = {"changed", "msg", "diff"}


def _return_doc(module: str) -> dict[str, Any]:
    path = COLLECTION / "plugins" / "modules" / f"{module}.py"
    tree = ast.parse(path.read_text())
    for node in tree.body:
        if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", None) == "RETURN":
            value = ast.literal_eval(node.value)
            return yaml.safe_load(value) or {}
    raise AssertionError(f"{module} has no RETURN")


def test_every_module_is_checked() -> None:
    assert {"registry_tag_delete", "registry_tag_info", "registry_manifest_info"} <= set(MODULES)


@pytest.mark.parametrize("module", MODULES)
def test_no_module_returns_a_reserved_key(module: str) -> None:
    keys = set(_return_doc(module))
    clashes = sorted((keys & RESERVED) - ALLOWED)
    assert not clashes, f"{module} documents result keys that Ansible reserves: {clashes}"
    assert not any(k.startswith(("ansible_", "_ansible")) for k in keys), module
    if "diff" in keys:  # only as Ansible's diff: before/after, in diff mode
        diff = _return_doc(module)["diff"]
        assert diff["returned"] == "in diff mode", module
        assert set(diff["contains"]) == {"before", "after"}, module


def test_the_test_knows_a_clash_when_it_sees_one(monkeypatch: pytest.MonkeyPatch) -> None:
    doc = "deleted:\n  description: x\nskipped:\n  description: y\nresults:\n  description: z\n"
    assert sorted((set(yaml.safe_load(doc)) & RESERVED) - ALLOWED) == ["results", "skipped"]


STANDARD = {
    "changed", "failed", "msg", "invocation", "warnings", "deprecations", "diff", "exception",
    "_ansible_no_log", "skipped", "false_condition", "skip_reason",
}  # fmt: skip


def undocumented(module: str, result: dict[str, Any]) -> set[str]:
    """Keys of a registered result that the module's RETURN does not document."""
    return set(result) - set(_return_doc(module)) - STANDARD


@pytest.mark.live
def test_shared_digest_skip_is_reported_as_changed(
    registry_open: Registry, playbook: PlaybookRunner
) -> None:
    """With shared_digest=skip, a run that deletes tags is *changed* in the recap, its diff is
    shown under --diff and its handler fires; loops, module_defaults and async work too."""
    registry = registry_open
    pusher = Pusher(registry)
    repo = "status/app"
    image = pusher.image(repo, "stable")
    pusher.tag(image, "candidate")
    pusher.image(repo, "old")
    pusher.image(repo, "older")
    name = f"{registry.host}/{repo}"
    run = playbook(
        [
            task("registry_tag_delete", "cleanup", repository=name, tags=["candidate", "old"],
                 shared_digest="skip", notify="Report the cleanup"),
            task("registry_tag_info", "looped", repository="{{ item }}",
                 loop=[name, f"{registry.host}/status/none"]),
            task("registry_tag_delete", "async_delete", repository=name, tags=["older"],
                 **{"async": 60, "poll": 2}),
        ],
        handlers=[{"name": "Report the cleanup",
                   "ansible.builtin.debug": {"msg": "HANDLER FIRED for {{ cleanup.deleted }}"}}],
        save=["cleanup", "looped", "async_delete"],
        args=["--diff"],
        module_defaults={"timeout": 20},
    )  # fmt: skip
    cleanup = run["cleanup"]
    assert cleanup["changed"] is True and cleanup["deleted"] == ["old"]
    assert [k["tag"] for k in cleanup["kept_shared"]] == ["candidate"]
    assert "skipped" not in cleanup
    recap = [line for line in run.stdout.splitlines() if line.startswith("localhost")][-1]
    counts = dict(re.findall(r"(\w+)=(\d+)", recap))
    # cleanup, the async delete and the save task changed; the handler ran (ok, not skipped)
    assert counts == {**counts, "ok": "5", "changed": "3", "skipped": "0", "failed": "0"}, recap
    assert "HANDLER FIRED for ['old']" in run.stdout
    shown = run.stdout.split("TASK [registry_tag_delete cleanup]")[1].split("TASK [")[0]
    assert (
        "--- before" in shown and "+++ after" in shown and re.search(r'^-\s+"old",?$', shown, re.M)
    ), shown
    looped = run["looped"]
    assert [r["exists"] for r in looped["results"]] == [True, False]
    assert looped["results"][0]["tags"] == ["candidate", "older", "stable"]
    async_delete = run["async_delete"]
    assert async_delete["finished"] == 1 and async_delete["deleted"] == ["older"]
    assert async_delete["changed"] is True
    assert not undocumented("registry_tag_delete", cleanup)
    assert not undocumented("registry_tag_info", looped["results"][0]) - {
        "item",
        "ansible_loop_var",
    }
    assert pusher.tags(repo) == ["candidate", "stable"]
