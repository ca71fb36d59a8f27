"""Run the collection's integration targets (``tests/integration/targets/``) with
``ansible-test integration``, against real registries started by the test suite.

The targets read the registry from ``tests/integration/integration_config.yml``, which
ansible-test loads as play variables; this driver starts the registries (fixtures), pushes
the seed images the targets start from, writes that file, runs ansible-test with
``--local`` and the Python of this venv (which has the ocireg SDK the modules import) and
``--continue-on-error`` (every target runs; each failure is reported with its target),
and removes the file (and the inventory ansible-test writes next to it) again. Everything
stays on loopback: no docker, no internet.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

from tests.ansible.conftest import COLLECTION, ansible_tool
from tests.fixtures.cli import cli_env
from tests.fixtures.images import Pusher
from tests.fixtures.registry import Registry

TARGETS_DIR = COLLECTION / "tests" / "integration" / "targets"
CONFIG = COLLECTION / "tests" / "integration" / "integration_config.yml"
#: Written by ``ansible-test integration`` into the collection; removed after the run.
INVENTORY = COLLECTION / "tests" / "integration" / "inventory"
#: Every target that runs on its own (``setup_*`` targets are dependencies only).
TARGETS = sorted(p.name for p in TARGETS_DIR.iterdir() if not p.name.startswith("setup_"))
REQUIRED = {
    "registry_tag_info",
    "registry_manifest_info",
    "registry_tag_delete",
    "registry_tag",
    "registry_image_copy",
    "registry_catalog_info",
}


def _seed(
    open_registry: Registry, auth_registry: Registry, no_delete_registry: Registry
) -> dict[str, object]:
    """Push the images the targets start from; return the integration config."""
    namespace = f"it-{secrets.token_hex(4)}"
    seed = f"{namespace}/seed"
    pusher = Pusher(open_registry)
    one, two = pusher.image(seed, "1.0"), pusher.image(seed, "2.0")
    index = pusher.index(seed, "multi")
    user, password = auth_registry.credentials("alice")
    # Deletes disabled: two tags on one image, and one on another.
    kept = f"{namespace}/kept"
    no_delete = Pusher(no_delete_registry)
    no_delete.tag(no_delete.image(kept, "a"), "b")
    no_delete.image(kept, "c")
    return {
        "registry_host": open_registry.host,
        "auth_registry_host": auth_registry.host,
        "auth_registry_username": user,
        "auth_registry_password": password,
        "it_namespace": namespace,
        "seed_repository": seed,
        "seed_digests": {"1.0": one.digest, "2.0": two.digest},
        "seed_index_digest": index.digest,
        "seed_arm64_digest": index.children[1].digest,
        "no_delete_registry_host": no_delete_registry.host,
        "no_delete_repository": kept,
    }


def _environment(tmp_path: Path) -> dict[str, str]:
    """No credentials or Ansible settings of the caller; a HOME and docker config of our own;
    this venv first on PATH (ansible-test finds ``ansible-playbook`` & co. next to itself)."""
    env = cli_env(also=("ANSIBLE_", "REGISTRY_AUTH"))
    home = tmp_path / "home"
    (home / "docker").mkdir(parents=True)
    env.update(
        HOME=str(home),
        DOCKER_CONFIG=str(home / "docker"),
        PATH=os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")]),
        PYTHONDONTWRITEBYTECODE="1",
    )
    return env


_RUNNING = re.compile(r"^Running (\S+) integration test role$", re.MULTILINE)
_TASK = re.compile(r"^TASK \[(.*)\] \**$", re.MULTILINE)
#: A failed task, or one failed item of a loop; the result (JSON) follows, maybe on many lines.
_FAILED = re.compile(
    r"^(?:fatal: \[[^\]]+\]: FAILED!|failed: \[[^\]]+\] \(item=.*?\)) => ", re.MULTILINE
)
_RECAP = re.compile(r"^testhost\s*:\s*ok=(\d+)\s.*\bfailed=(\d+)\b", re.MULTILINE)


def _by_target(output: str) -> dict[str, str]:
    """ansible-test's output cut at each ``Running <target> integration test role``."""
    marks = list(_RUNNING.finditer(output))
    ends = [m.start() for m in marks[1:]] + [len(output)]
    return {m.group(1): output[m.end() : end] for m, end in zip(marks, ends, strict=True)}


def _failed_tasks(section: str) -> list[str]:
    """``[task name] message`` of each failure the play did not ignore."""
    failures = []
    headers = list(_TASK.finditer(section))
    ends = [h.start() for h in headers[1:]] + [len(section)]
    for header, end in zip(headers, ends, strict=True):
        chunk = section[header.end() : end]
        if re.search(r"^\.\.\.ignoring$", chunk, re.MULTILINE):
            continue
        for found in _FAILED.finditer(chunk):
            try:
                result = json.JSONDecoder().raw_decode(chunk, found.end())[0]
                message = str(result.get("msg") or result)
            except (ValueError, AttributeError):
                message = chunk[found.end() :].partition("\n")[0]
            failures.append(f"[{header.group(1)}] {message[:2000]}")
    return failures


def failures(output: str, expected: list[str]) -> dict[str, list[str]]:
    """Each target that did not pass, with what failed in it: its failed tasks, else why
    (it did not run, or its play ended without a clean recap)."""
    sections = _by_target(output)
    found: dict[str, list[str]] = {}
    for target in expected:
        if target not in sections:
            found[target] = ["did not run"]
            continue
        recaps = _RECAP.findall(sections[target])
        failed = _failed_tasks(sections[target])
        if failed or len(recaps) != 1 or int(recaps[0][0]) == 0 or recaps[0][1] != "0":
            found[target] = failed or [f"no clean recap:\n{sections[target][-3000:]}"]
    return found


@pytest.mark.live
def test_integration_targets(
    registry_open: Registry,
    registry_token: Registry,
    registry_no_delete: Registry,
    tmp_path: Path,
) -> None:
    """One ``ansible-test integration --continue-on-error`` run: a failing target does not
    hide the others; every failure is reported with its target, task and message."""
    assert set(TARGETS) >= REQUIRED, f"targets missing: {sorted(REQUIRED - set(TARGETS))}"
    ansible_test = ansible_tool("ansible-test")
    config = _seed(registry_open, registry_token, registry_no_delete)
    # JSON is YAML; the file holds a throwaway password of a loopback registry, so it is only
    # readable by us and removed when the run ends.
    CONFIG.write_text(json.dumps(config, indent=2) + "\n")
    CONFIG.chmod(0o600)
    version = "{}.{}".format(*sys.version_info[:2])
    keep_inventory = INVENTORY.exists()
    cmd = [ansible_test, "integration", "--local", "--python", version,
           "--python-interpreter", sys.executable, "--color", "no", "--continue-on-error",
           *TARGETS]  # fmt: skip
    try:
        proc = subprocess.run(
            cmd,
            cwd=COLLECTION,
            env=_environment(tmp_path),
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
    finally:
        CONFIG.unlink(missing_ok=True)
        if not keep_inventory:
            INVENTORY.unlink(missing_ok=True)
    output = proc.stdout + proc.stderr
    assert config["auth_registry_password"] not in output
    failed = failures(output, TARGETS)
    report = "\n".join(f"{target}: {line}" for target, lines in failed.items() for line in lines)
    assert not failed, f"{len(failed)} of {len(TARGETS)} targets failed:\n{report}"
    assert proc.returncode == 0, f"ansible-test exited {proc.returncode}\n{output[-12000:]}"


#: ansible-core 2.19's output for three targets (cut short): one fails an item of a loop,
#: one ignores a failing loop and then fails a task, one passes after an ignored failure.
_OUTPUT = """\
Running copy integration test role
TASK [copy : A failing loop] ************************************
ok: [testhost] => (item=1) => {
    "changed": false,
    "msg": "All assertions passed"
}
failed: [testhost] (item=3) => {
    "assertion": "item == 1",
    "changed": false,
    "msg": "item 3 is not 1"
}

PLAY RECAP *********************************************************************
testhost                   : ok=14   changed=3    unreachable=0    failed=1    skipped=0

ERROR: Command "ansible-playbook copy-4es7jfln.yml -i inventory" returned exit status 2.
Running tag integration test role
TASK [tag : An ignored failing loop] **********************************
failed: [testhost] (item=2) => {
    "changed": false,
    "msg": "Assertion failed"
}
...ignoring

TASK [tag : A failing check] *****************************
fatal: [testhost]: FAILED! => {
    "changed": false,
    "msg": "broken in tag"
}

PLAY RECAP *********************************************************************
testhost                   : ok=19   changed=5    unreachable=0    failed=1    skipped=0

Running info integration test role
TASK [info : Refuse] ***********************************************************
fatal: [testhost]: FAILED! => {"changed": false, "msg": "refused"}
...ignoring

PLAY RECAP *********************************************************************
testhost                   : ok=13   changed=0    unreachable=0    failed=0    skipped=0
"""


def test_every_failing_target_is_reported_with_its_task_and_message() -> None:
    assert failures(_OUTPUT, ["copy", "info", "never", "tag"]) == {
        "copy": ["[copy : A failing loop] item 3 is not 1"],
        "never": ["did not run"],
        "tag": ["[tag : A failing check] broken in tag"],
    }
