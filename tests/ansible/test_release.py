"""One version everywhere (SDK, its pyproject, the plugins, the collection), and release
metadata that tools accept: galaxy.yml, meta/runtime.yml, meta/execution-environment.yml and
the changelog (its fragments use the sections changelogs/config.yaml declares)."""

from __future__ import annotations

import ast
import os
import re
import tomllib
from pathlib import Path

import pytest
import yaml

from tests.ansible.conftest import COLLECTION, REPO_ROOT


def _published(plugin: Path) -> bool:
    """Plugins users install; test support (``Private :: Do Not Upload``) has no release."""
    meta = tomllib.loads((plugin / "pyproject.toml").read_text())["project"]
    return "Private :: Do Not Upload" not in meta.get("classifiers", [])


PLUGINS = sorted(
    p for p in (REPO_ROOT / "plugins").glob("ocireg-*") if p.is_dir() and _published(p)
)


def _assigned(path: Path, name: str) -> str:
    for node in ast.parse(path.read_text()).body:
        if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", None) == name:
            return str(ast.literal_eval(node.value))
    raise AssertionError(f"{name} is not assigned in {path}")


def _versions() -> dict[str, str]:
    found = {
        "sdk/ocireg/__init__.py": _assigned(REPO_ROOT / "sdk/ocireg/__init__.py", "__version__"),
        "pyproject.toml": tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["project"][
            "version"
        ],
        "galaxy.yml": yaml.safe_load((COLLECTION / "galaxy.yml").read_text())["version"],
    }
    for plugin in PLUGINS:
        meta = tomllib.loads((plugin / "pyproject.toml").read_text())["project"]
        found[f"{plugin.name}/pyproject.toml"] = meta["version"]
        for init in (plugin / "src").glob("*/__init__.py"):
            found[str(init.relative_to(REPO_ROOT))] = _assigned(init, "__version__")
    return found


def test_one_version_everywhere() -> None:
    versions = _versions()
    assert len(PLUGINS) >= 4
    assert len(set(versions.values())) == 1, versions


def _lower_bounds() -> dict[str, str]:
    """Every place that names the lowest SDK version the collection needs."""
    sdk = COLLECTION / "plugins/module_utils/_sdk.py"
    bounds = {"_sdk.py MIN_SDK_VERSION": _assigned(sdk, "MIN_SDK_VERSION")}
    for line in (COLLECTION / "requirements.txt").read_text().splitlines():
        if line.strip().startswith("ocireg"):
            bounds["requirements.txt"] = line.split(">=")[1].strip()
    fragment = (COLLECTION / "plugins/doc_fragments/registry.py").read_text()
    for i, match in enumerate(re.findall(r"ocireg >= ([0-9.]+)", fragment)):
        bounds[f"doc fragment requirement {i}"] = match
    for plugin in PLUGINS:
        meta = tomllib.loads((plugin / "pyproject.toml").read_text())["project"]
        for dep in meta["dependencies"]:
            if dep.replace(" ", "").startswith("ocireg>="):
                bounds[plugin.name] = dep.split(">=")[1]
    return bounds


def _parts(version: str) -> tuple[int, ...]:
    return tuple(int(p) for p in version.split("."))


def test_the_sdk_bound_is_one_and_satisfied() -> None:
    bounds = _lower_bounds()
    collection = {k: v for k, v in bounds.items() if not k.startswith("ocireg-")}
    assert len(collection) >= 3 and len(set(collection.values())) == 1, bounds
    version = _versions()["pyproject.toml"]
    for where, bound in bounds.items():
        assert _parts(bound) <= _parts(version), where


def test_galaxy_metadata() -> None:
    galaxy = yaml.safe_load((COLLECTION / "galaxy.yml").read_text())
    for key in ("namespace", "name", "version", "readme", "authors", "description", "license"):
        assert galaxy.get(key), key
    assert (COLLECTION / galaxy["readme"]).is_file()
    for key in ("repository", "documentation", "homepage", "issues"):
        url = galaxy.get(key)
        assert url is None or url.startswith("https://"), (key, url)
    for pattern in ("tests/output", "*.tar.gz", "tests/integration/inventory", ".gitignore"):
        assert pattern in galaxy["build_ignore"]


def test_runtime_and_execution_environment() -> None:
    runtime = yaml.safe_load((COLLECTION / "meta/runtime.yml").read_text())
    modules = sorted(p.stem for p in (COLLECTION / "plugins/modules").glob("*.py"))
    assert runtime["action_groups"]["registry"] == modules
    ee = yaml.safe_load((COLLECTION / "meta/execution-environment.yml").read_text())
    assert ee["version"] in (1, 3)
    python = ee["dependencies"]["python"]
    assert (COLLECTION / python).is_file(), python
    assert "ansible" not in (COLLECTION / python).read_text()  # never ansible(-core)
    bindep = ee["dependencies"].get("system")
    assert bindep is None or (COLLECTION / bindep).is_file()


def test_changelog_fragments_use_known_sections() -> None:
    config = yaml.safe_load((COLLECTION / "changelogs/config.yaml").read_text())
    sections = {name for name, _ in config["sections"]} | {
        config["trivial_section_name"],
        config["prelude_section_name"],
    }
    changelog = yaml.safe_load((COLLECTION / "changelogs/changelog.yaml").read_text())
    assert "releases" in changelog and "ancestor" in changelog
    fragments = sorted((COLLECTION / "changelogs/fragments").glob("*.yml"))
    assert fragments
    for fragment in fragments:
        data = yaml.safe_load(fragment.read_text())
        assert set(data) <= sections, (fragment.name, set(data) - sections)
        for entries in data.values():
            assert isinstance(entries, list) and all(isinstance(e, str) for e in entries)


@pytest.mark.parametrize("name", ["antsibull-changelog"])
def test_changelog_lint(name: str, tmp_path: Path) -> None:
    """``antsibull-changelog lint`` when it is installed (.ci/setup installs it)."""
    import shutil
    import subprocess
    import sys

    tool = Path(sys.executable).parent / name
    if not tool.is_file():
        found = shutil.which(name)
        if not found:
            message = f"{name} is not installed (pip install antsibull-changelog; .ci/setup does)"
            if os.environ.get("CI", "").lower() == "true":
                pytest.fail(message, pytrace=False)
            pytest.skip(message)
        tool = Path(found)
    proc = subprocess.run(
        [str(tool), "lint"],
        cwd=COLLECTION,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0 and not proc.stdout.strip(), proc.stdout + proc.stderr


def test_an_execution_environment_with_the_collection_builds_its_context(tmp_path: Path) -> None:
    """``ansible-builder`` reads the collection's dependencies (the SDK, nothing else), and
    turns an execution environment that installs the SDK and the collection into a build
    context with a Containerfile (building the image itself needs a container runtime,
    which this machine has not)."""
    import shutil
    import subprocess
    import sys

    builder = shutil.which("ansible-builder", path=str(Path(sys.executable).parent))
    if builder is None:
        message = "ansible-builder is missing (.ci/setup installs it)"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message)
        pytest.skip(message)
    root = COLLECTION.parents[2]  # the repository root is a collections path
    found = subprocess.run(
        [builder, "introspect", "--sanitize", str(root)],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    deps = yaml.safe_load(found.stdout.split("\n", 1)[1])
    assert [d.split()[0] for d in deps["python"]] == ["ocireg"], deps
    ee = {
        "version": 3,
        "images": {"base_image": {"name": "quay.io/ansible/ansible-runner:latest"}},
        "dependencies": {
            "python": ["ocireg"],
            "galaxy": {"collections": [{"name": "ocireg.registry", "source": str(COLLECTION)}]},
        },
    }
    (tmp_path / "execution-environment.yml").write_text(yaml.safe_dump(ee))
    subprocess.run(
        [builder, "create", "-f", "execution-environment.yml", "--context", "context"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    made = [
        p for p in (tmp_path / "context").iterdir() if p.name in ("Containerfile", "Dockerfile")
    ]
    assert len(made) == 1, list((tmp_path / "context").iterdir())
    text = made[0].read_text()
    assert "ansible-galaxy" in text and "requirements" in text
    assert "ocireg" in (tmp_path / "context/_build/requirements.txt").read_text()
