"""Run real ``ansible-playbook`` against the live registries, with the collection from this
checkout (``ANSIBLE_COLLECTIONS_PATH`` = the repository root).

:func:`run_playbook` writes a one-play playbook (JSON is YAML) whose tasks run on localhost
with this venv's Python (so ``import ocireg`` works), appends a task that saves the listed
registered results to a JSON file, runs it, and returns those results with the output.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.fixtures.cli import cli_env

REPO_ROOT = Path(__file__).resolve().parents[2]
COLLECTION = REPO_ROOT / "ansible_collections" / "ocireg" / "registry"
BIN = Path(sys.executable).parent


def ansible_tool(name: str) -> str:
    """Path of ``ansible-playbook`` & co. next to this Python; skip (fail under CI) if absent."""
    path = BIN / name
    if path.is_file():
        return str(path)
    found = shutil.which(name)
    if found:
        return found
    message = f"{name} is missing: pip install ansible-core (bash .ci/setup does)"
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"the Ansible tests need ansible-core under CI=true: {message}", pytrace=False)
    pytest.skip(message)


def ansible_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    """A clean environment: no OCIREG_*/DOCKER_* credentials of the caller, no ansible.cfg,
    an empty docker config unless the test gives one."""
    env = cli_env(also=("ANSIBLE_", "REGISTRY_AUTH"))
    empty_docker = tmp_path / "no-docker-config"
    empty_docker.mkdir(exist_ok=True)
    env.update(
        ANSIBLE_COLLECTIONS_PATH=str(REPO_ROOT),
        ANSIBLE_COLLECTIONS_SCAN_SYS_PATH="false",
        ANSIBLE_CONFIG=str(tmp_path / "no-ansible.cfg"),
        ANSIBLE_LOCAL_TEMP=str(tmp_path / "ansible-local"),
        ANSIBLE_REMOTE_TEMP=str(tmp_path / "ansible-remote"),
        ANSIBLE_HOME=str(tmp_path / "ansible-home"),
        ANSIBLE_NOCOLOR="1",
        ANSIBLE_FORCE_COLOR="0",
        ANSIBLE_RETRY_FILES_ENABLED="0",
        ANSIBLE_DEPRECATION_WARNINGS="0",
        ANSIBLE_SYSTEM_WARNINGS="0",
        DOCKER_CONFIG=str(empty_docker),
        PYTHONDONTWRITEBYTECODE="1",
    )
    env.update(extra)
    return env


@dataclass
class PlaybookRun:
    returncode: int
    stdout: str
    stderr: str
    results: dict[str, Any]

    @property
    def output(self) -> str:
        return self.stdout + self.stderr

    def __getitem__(self, name: str) -> Any:
        return self.results[name]


def run_playbook(
    tmp_path: Path,
    tasks: Sequence[Mapping[str, Any]],
    *,
    save: Sequence[str],
    variables: Mapping[str, Any] | None = None,
    module_defaults: Mapping[str, Any] | None = None,
    env: Mapping[str, str] | None = None,
    interpreter: str | None = None,
    verbosity: int = 0,
    name: str = "play",
    expect_rc: int | None = 0,
    handlers: Sequence[Mapping[str, Any]] = (),
    args: Sequence[str] = (),
) -> PlaybookRun:
    """Run ``tasks`` on localhost; return the registered results named in ``save``.

    ``module_defaults`` are set for the collection's action group
    (``group/ocireg.registry.registry``), the way playbooks set connection options once.

    The save task runs in an ``always`` section, so results are there even when a task
    failed (the run's return code says so). ``handlers`` are the play's handlers; ``args``
    extra ``ansible-playbook`` arguments (``--diff``, ``--check``).
    """
    workdir = tmp_path / name
    workdir.mkdir()
    out = workdir / "results.json"
    saved = "{" + ", ".join(f"'{n}': {n} | default(None)" for n in save) + "}"
    play = {
        "name": name,
        "hosts": "localhost",
        "gather_facts": False,
        "vars": dict(variables or {}),
        "module_defaults": {"group/ocireg.registry.registry": dict(module_defaults or {})},
        "tasks": [
            {
                "block": list(tasks),
                "always": [
                    {
                        "name": "Save the results",
                        "ansible.builtin.copy": {
                            "content": "{{ " + saved + " | to_json }}",
                            "dest": str(out),
                            "mode": "0600",
                        },
                    }
                ],
            }
        ],
    }
    if handlers:
        play["handlers"] = list(handlers)
    (workdir / "playbook.yml").write_text(json.dumps([play], indent=1))
    python = interpreter or sys.executable
    (workdir / "inventory").write_text(
        f"localhost ansible_connection=local ansible_python_interpreter={python}\n"
    )
    cmd = [ansible_tool("ansible-playbook"), "-i", "inventory", "playbook.yml", *args]
    if verbosity:
        cmd.append("-" + "v" * verbosity)
    proc = subprocess.run(
        cmd,
        cwd=workdir,
        env=ansible_env(workdir, **(env or {})),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    results = json.loads(out.read_text()) if out.exists() else {}
    run = PlaybookRun(proc.returncode, proc.stdout, proc.stderr, results)
    if expect_rc is not None and proc.returncode != expect_rc:
        raise AssertionError(
            f"ansible-playbook exited {proc.returncode}, expected {expect_rc}\n"
            f"--- stdout ---\n{proc.stdout[-8000:]}\n--- stderr ---\n{proc.stderr[-4000:]}"
        )
    return run


def task(module: str, register: str, /, **options: Any) -> dict[str, Any]:
    """A task of the collection's ``module``; ``check_mode``, ``diff`` and ``ignore_errors``
    are task keywords, the rest module options."""
    keywords = {
        k: options.pop(k)
        for k in ("check_mode", "diff", "ignore_errors", "notify", "loop", "async", "poll", "when")
        if k in options
    }
    return {
        "name": f"{module} {register}",
        f"ocireg.registry.{module}": options,
        "register": register,
        **keywords,
    }


PlaybookRunner = Callable[..., PlaybookRun]


@pytest.fixture
def playbook(tmp_path: Path) -> PlaybookRunner:
    """``playbook(tasks, save=[...], ...)``: :func:`run_playbook` in this test's tmp_path."""

    def run(tasks: Sequence[Mapping[str, Any]], **kwargs: Any) -> PlaybookRun:
        return run_playbook(tmp_path, tasks, **kwargs)

    return run
