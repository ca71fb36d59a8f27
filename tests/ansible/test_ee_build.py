"""Build an execution environment (EE) with the collection, for real, and run it.

``ansible-builder build`` with podman turns an EE definition into an image: ansible-core,
ansible-runner, the collection (its tarball from this checkout) and, found by introspecting
the collection's ``meta/execution-environment.yml``, the SDK it needs. The build runs
offline (``--network none``): the base image is a Debian root file system and the wheels
come from a local directory, both prepared once by ``tests/ansible/ee/prepare.sh``
(``.ci/setup`` runs it); the SDK's wheel is built here from this checkout. Inside the image,
``ansible-doc`` documents a module and a playbook lists the tags of a loopback registry
(host network: the container shares the test's loopback, nothing else).

podman keeps its images in a storage directory of this test, removed at the end; no daemon
is started (podman has none). Two settings make podman work on machines like the CI's:
``runc`` where the cgroup hierarchy is hybrid (crun refuses it), and container limits no
higher than the caller's (without CAP_SYS_RESOURCE podman's defaults cannot be applied).
"""

from __future__ import annotations

import json
import os
import re
import resource
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from tests.ansible.conftest import COLLECTION, REPO_ROOT, ansible_tool
from tests.fixtures.cli import cli_env
from tests.fixtures.images import Pusher
from tests.fixtures.registry import Registry

pytestmark = pytest.mark.live

CACHE = Path(os.environ.get("OCIREG_EE_CACHE", "/var/cache/ocireg-ee"))
BASE_IMAGE = "localhost/ocireg-ee-base:test"
EE_IMAGE = "localhost/ocireg-ee:test"
#: podman lowers its own RLIMIT_NPROC to this before it starts a container.
_PODMAN_NPROC = 32768


def _missing() -> list[str]:
    missing = [tool for tool in ("podman", "ansible-builder") if _which(tool) is None]
    if not (CACHE / "base-rootfs.tar").is_file() or not (CACHE / "wheels").is_dir():
        missing.append(f"{CACHE} (bash tests/ansible/ee/prepare.sh)")
    if os.geteuid() != 0:
        missing.append("root (podman builds here as root)")
    return missing


def _which(tool: str) -> str | None:
    return shutil.which(
        tool, path=os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])
    )


@pytest.fixture
def podman_env() -> Iterator[dict[str, str]]:
    """An environment whose podman stores everything in a directory removed afterwards."""
    missing = _missing()
    if missing:
        message = f"the EE build needs: {', '.join(missing)} (.ci/setup installs them)"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    root = Path(tempfile.mkdtemp(prefix="ocireg-ee-"))
    nofile = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    if nofile == resource.RLIM_INFINITY:
        nofile = 1048576
    nproc = min(resource.getrlimit(resource.RLIMIT_NPROC)[1], _PODMAN_NPROC)
    if nproc == resource.RLIM_INFINITY:
        nproc = _PODMAN_NPROC
    runtime = 'runtime = "runc"\n' if shutil.which("runc") else ""
    (root / "containers.conf").write_text(
        "[containers]\n"
        f'default_ulimits = ["nofile={nofile}:{nofile}", "nproc={nproc}:{nproc}"]\n'
        f"[engine]\n{runtime}"
    )
    (root / "storage.conf").write_text(
        f'[storage]\ndriver = "overlay"\ngraphroot = "{root}/graph"\nrunroot = "{root}/run"\n'
    )
    env = cli_env()
    env.update(
        CONTAINERS_CONF=str(root / "containers.conf"),
        CONTAINERS_STORAGE_CONF=str(root / "storage.conf"),
        TMPDIR=str(root),
    )
    try:
        yield env
    finally:
        subprocess.run(
            ["podman", "rmi", "--all", "--force"],
            env=env,
            capture_output=True,
            timeout=120,
            check=False,
        )
        shutil.rmtree(root, ignore_errors=True)


def _run(cmd: list[str], env: dict[str, str], cwd: Path | None = None) -> str:
    proc = subprocess.run(
        cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=600, check=False
    )
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0, f"{' '.join(cmd)} exited {proc.returncode}\n{output[-6000:]}"
    return proc.stdout


def _build_context(work: Path, env: dict[str, str]) -> None:
    """The EE definition, the collection's tarball and the wheels it installs (the SDK's
    built from this checkout, offline, from the prepared wheels)."""
    wheels = work / "wheels"
    shutil.copytree(CACHE / "wheels", wheels)
    src = work / "sdk-src"
    src.mkdir()
    for name in ("pyproject.toml", "README.md", "sdk"):
        (shutil.copytree if (REPO_ROOT / name).is_dir() else shutil.copy)(
            REPO_ROOT / name, src / name
        )
    _run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "-q",
            "--disable-pip-version-check",
            "--no-deps",
            "--no-index",
            "--find-links",
            str(wheels),
            "-w",
            str(wheels),
            str(src),
        ],
        env,
    )
    _run(
        [
            ansible_tool("ansible-galaxy"),
            "collection",
            "build",
            "--output-path",
            str(work),
            str(COLLECTION),
        ],
        env,
    )
    (tarball,) = work.glob("ocireg-registry-*.tar.gz")
    from ansible.release import __version__ as core_version

    definition = {
        "version": 3,
        "images": {"base_image": {"name": BASE_IMAGE}},
        "dependencies": {
            "python_interpreter": {"python_path": "/usr/bin/python3"},
            "ansible_core": {"package_pip": f"ansible-core=={core_version}"},
            "ansible_runner": {"package_pip": "ansible-runner"},
            # No python: entry: the SDK must come from the collection's own EE metadata.
            "galaxy": {"collections": [{"name": f"/build/{tarball.name}", "type": "file"}]},
        },
        "options": {"package_manager_path": "/usr/bin/apt-get", "skip_pip_install": True},
        "build_arg_defaults": {"ANSIBLE_GALAXY_CLI_COLLECTION_OPTS": "--offline"},
        "additional_build_files": [
            {"src": "wheels", "dest": "wheels"},
            {"src": tarball.name, "dest": "."},
        ],
        "additional_build_steps": {
            "prepend_base": [
                "COPY _build/wheels /wheels",
                "ENV PIP_NO_INDEX=1 PIP_FIND_LINKS=/wheels",
            ],
            "append_final": ["RUN rm -rf /wheels"],
        },
    }
    (work / "execution-environment.yml").write_text(yaml.safe_dump(definition))


def test_an_execution_environment_builds_offline_and_runs_the_modules(
    podman_env: dict[str, str], registry_open: Registry, tmp_path: Path
) -> None:
    env = podman_env
    _run(
        [
            "podman",
            "import",
            "--change",
            'CMD ["/bin/bash"]',
            str(CACHE / "base-rootfs.tar"),
            BASE_IMAGE,
        ],
        env,
    )
    _build_context(tmp_path, env)
    builder = _which("ansible-builder")
    assert builder is not None
    log = _run(
        [
            builder,
            "build",
            "-v",
            "3",
            "--container-runtime",
            "podman",
            "-f",
            "execution-environment.yml",
            "--context",
            "context",
            "--tag",
            EE_IMAGE,
            "--extra-build-cli-args",
            "--network none",
        ],
        env,
        cwd=tmp_path,
    )
    # The SDK requirement was found in the collection's meta/execution-environment.yml.
    assert re.search(r"ocireg >= [0-9.]+ +# from collection ocireg\.registry", log), log[-6000:]

    podman_run = ["podman", "run", "--rm"]
    doc = json.loads(
        _run(
            [
                *podman_run,
                "--network",
                "none",
                EE_IMAGE,
                "ansible-doc",
                "--json",
                "ocireg.registry.registry_tag_info",
            ],
            env,
        )
    )
    module_doc = doc["ocireg.registry.registry_tag_info"]["doc"]
    assert module_doc["module"] == "registry_tag_info" and "repository" in module_doc["options"]

    repository = "ee/seed"
    pushed = Pusher(registry_open).image(repository, "1.0")
    project = tmp_path / "project"
    project.mkdir()
    os.chown(project, 1000, 0)  # the image runs as uid 1000; it writes the result here
    play = [
        {
            "hosts": "localhost",
            "gather_facts": False,
            "tasks": [
                {
                    "ocireg.registry.registry_tag_info": {
                        "repository": f"{registry_open.host}/{repository}",
                        "details": True,
                    },
                    "register": "listed",
                },
                {
                    "ansible.builtin.copy": {
                        "content": "{{ listed | to_json }}",
                        "dest": "/runner/project/result.json",
                        "mode": "0644",
                    }
                },
            ],
        }
    ]
    (project / "playbook.yml").write_text(json.dumps(play))
    _run(
        [
            *podman_run,
            "--network",
            "host",
            "-v",
            f"{project}:/runner/project",
            EE_IMAGE,
            "ansible-playbook",
            "-i",
            "localhost,",
            "-c",
            "local",
            "project/playbook.yml",
        ],
        env,
    )
    listed = json.loads((project / "result.json").read_text())
    assert listed["tags"] == ["1.0"], listed
    assert listed["tag_details"][0]["digest"] == pushed.digest, listed
    assert listed["changed"] is False
