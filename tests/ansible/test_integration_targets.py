"""Run the collection's integration targets (``tests/integration/targets/``) with
``ansible-test integration``, against real registries started by the test suite.

The targets read the registry from ``tests/integration/integration_config.yml``, which
ansible-test loads as play variables; this driver starts the registries (fixtures), pushes
the seed images the targets start from, writes that file, runs ansible-test with
``--local`` and the Python of this venv (which has the ocireg SDK the modules import),
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
from tests.fixtures.images import Pusher
from tests.fixtures.registry import Registry

pytestmark = pytest.mark.live

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


def _seed(open_registry: Registry, auth_registry: Registry) -> dict[str, object]:
    """Push the images the targets start from; return the integration config."""
    namespace = f"it-{secrets.token_hex(4)}"
    seed = f"{namespace}/seed"
    pusher = Pusher(open_registry)
    one, two = pusher.image(seed, "1.0"), pusher.image(seed, "2.0")
    index = pusher.index(seed, "multi")
    user, password = auth_registry.credentials("alice")
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
    }


def _environment(tmp_path: Path) -> dict[str, str]:
    """No credentials or Ansible settings of the caller; a HOME and docker config of our own;
    this venv first on PATH (ansible-test finds ``ansible-playbook`` & co. next to itself)."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("OCIREG_", "DOCKER_", "ANSIBLE_", "REGISTRY_AUTH"))
    }
    home = tmp_path / "home"
    (home / "docker").mkdir(parents=True)
    env.update(
        HOME=str(home),
        DOCKER_CONFIG=str(home / "docker"),
        PATH=os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")]),
        PYTHONDONTWRITEBYTECODE="1",
    )
    return env


def test_integration_targets(
    registry_open: Registry, registry_token: Registry, tmp_path: Path
) -> None:
    assert set(TARGETS) >= REQUIRED, f"targets missing: {sorted(REQUIRED - set(TARGETS))}"
    ansible_test = ansible_tool("ansible-test")
    config = _seed(registry_open, registry_token)
    # JSON is YAML; the file holds a throwaway password of a loopback registry, so it is only
    # readable by us and removed when the run ends.
    CONFIG.write_text(json.dumps(config, indent=2) + "\n")
    CONFIG.chmod(0o600)
    version = "{}.{}".format(*sys.version_info[:2])
    keep_inventory = INVENTORY.exists()
    cmd = [ansible_test, "integration", "--local", "--python", version,
           "--python-interpreter", sys.executable, "--color", "no", *TARGETS]  # fmt: skip
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
    detail = f"{' '.join(cmd)}\n--- output ---\n{output[-12000:]}"
    assert proc.returncode == 0, f"ansible-test exited {proc.returncode}\n{detail}"
    ran = re.findall(r"^Running (\S+) integration test role$", output, re.MULTILINE)
    assert sorted(ran) == TARGETS, f"targets run: {ran}\n{detail}"
    recaps = re.findall(r"^testhost\s*:\s*ok=(\d+)\s.*\bfailed=(\d+)\b", output, re.MULTILINE)
    assert len(recaps) == len(TARGETS), detail
    assert all(int(ok) > 0 and failed == "0" for ok, failed in recaps), detail
    assert config["auth_registry_password"] not in output
