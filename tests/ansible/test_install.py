"""A real install: ``.ci/build-dist`` builds the SDK wheel and sdist, the plugin wheels and
the collection tarball; the wheel goes into a fresh venv (the Python that runs the modules),
the tarball into a fresh collections path with ``ansible-galaxy collection install``, and a
playbook uses both against a real registry, with this checkout out of every path."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.ansible.conftest import REPO_ROOT, PlaybookRunner, ansible_tool, task
from tests.fixtures.images import Pusher
from tests.fixtures.registry import Registry

pytestmark = pytest.mark.live


def _run(cmd: list[str], **kwargs: object) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False, **kwargs)  # type: ignore[call-overload]
    assert proc.returncode == 0, f"{cmd}\n{proc.stdout[-4000:]}\n{proc.stderr[-4000:]}"
    return proc  # type: ignore[no-any-return]


def test_built_artefacts_install_and_run(
    registry_open: Registry, playbook: PlaybookRunner, tmp_path: Path
) -> None:
    try:
        import build  # noqa: F401
    except ImportError:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail("pip install build (.ci/setup does)", pytrace=False)
        pytest.skip("pip install build")
    dist = tmp_path / "dist"
    env = {**os.environ, "PYTHON": sys.executable,
           "ANSIBLE_GALAXY": ansible_tool("ansible-galaxy")}  # fmt: skip
    _run(["bash", str(REPO_ROOT / ".ci" / "build-dist"), str(dist)], env=env, timeout=600)
    built = sorted(p.name for p in dist.iterdir())
    version = next(n for n in built if n.startswith("ocireg-registry-")).split("-")[2][
        : -len(".tar.gz")
    ]
    for name in (f"ocireg-{version}-py3-none-any.whl", f"ocireg-{version}.tar.gz",
                 f"ocireg_keyring-{version}-py3-none-any.whl"):  # fmt: skip
        assert name in built, built
    assert not [n for n in built if n.startswith("ocireg_fakes")], "test support is no artefact"

    venv = tmp_path / "target-venv"
    _run([sys.executable, "-m", "venv", str(venv)], timeout=120)
    python = venv / "bin" / "python"
    _run([str(python), "-m", "pip", "install", "-q", "--disable-pip-version-check",
          str(dist / f"ocireg-{version}-py3-none-any.whl")], timeout=600)  # fmt: skip
    where = _run([str(python), "-c", "import ocireg; print(ocireg.__file__, ocireg.__version__)"])
    assert str(REPO_ROOT) not in where.stdout and version in where.stdout

    collections = tmp_path / "collections"
    galaxy_env = {**os.environ, "ANSIBLE_HOME": str(tmp_path / "ansible-home")}
    tarball = dist / f"ocireg-registry-{version}.tar.gz"
    galaxy = [ansible_tool("ansible-galaxy"), "collection", "install"]
    _run([*galaxy, "-p", str(collections), str(tarball)], env=galaxy_env, timeout=300)
    installed = collections / "ansible_collections" / "ocireg" / "registry"
    assert (installed / "MANIFEST.json").is_file()
    assert not (installed / "tests" / "output").exists()

    Pusher(registry_open).image("installed/app", "rc-1")
    name = f"{registry_open.host}/installed/app"
    run = playbook(
        [
            task("registry_tag", "promote", name=f"{name}:1.0", source="rc-1"),
            task("registry_tag_info", "info", repository=name),
        ],
        save=["promote", "info"],
        interpreter=str(python),
        env={"ANSIBLE_COLLECTIONS_PATH": str(collections)},
    )
    assert run["promote"]["changed"] is True
    assert run["info"]["tags"] == ["1.0", "rc-1"]
