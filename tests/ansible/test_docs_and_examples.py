"""The modules' documentation renders with ``ansible-doc``, and their EXAMPLES run as written
(only the example registry host replaced) against a real token-auth registry."""

from __future__ import annotations

import base64
import json
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.ansible.conftest import PlaybookRunner, ansible_env, ansible_tool
from tests.fixtures.images import Pusher
from tests.fixtures.registry import Registry

#: In the order their EXAMPLES run (the deleting ones last).
MODULES = (
    "registry_tag_info",
    "registry_manifest_info",
    "registry_catalog_info",
    "registry_tag",
    "registry_image_copy",
    "registry_tag_delete",
)
LOOKUPS = ("digest", "tags")
EXAMPLE_HOST = "registry.example.com"


@pytest.fixture(scope="module")
def docs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """``ansible-doc --json`` of the three modules, keyed by short name."""
    tmp = tmp_path_factory.mktemp("ansible-doc")
    proc = subprocess.run(
        [ansible_tool("ansible-doc"), "--json", *(f"ocireg.registry.{m}" for m in MODULES)],
        cwd=tmp,
        env=ansible_env(tmp),
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    data = json.loads(proc.stdout)
    lookups = subprocess.run(
        [ansible_tool("ansible-doc"), "-t", "lookup", "--json",
         *(f"ocireg.registry.{m}" for m in LOOKUPS)],
        cwd=tmp, env=ansible_env(tmp), capture_output=True, text=True, timeout=120, check=True,
    )  # fmt: skip
    data.update({f"{k}@lookup": v for k, v in json.loads(lookups.stdout).items()})
    return {name.rsplit(".", 1)[1]: value for name, value in data.items()}


def test_ansible_doc_renders(tmp_path: Path) -> None:
    proc = subprocess.run(
        [ansible_tool("ansible-doc"), "ocireg.registry.registry_tag_delete"],
        cwd=tmp_path,
        env=ansible_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    for text in ("registry_tag_delete", "keep_latest", "shared_digest", "EXAMPLES", "RETURN"):
        assert text in proc.stdout
    assert "never fewer than N" in proc.stdout
    assert "WARNING" not in proc.stderr, proc.stderr


@pytest.mark.parametrize("module", MODULES)
def test_documentation_is_complete(docs: dict[str, Any], module: str) -> None:
    entry = docs[module]
    doc = entry["doc"]
    assert doc["version_added"] == "0.1.0"
    assert doc["version_added_collection"] == "ocireg.registry"
    assert any(r.startswith("ocireg >=") for r in doc["requirements"])
    attributes = doc["attributes"]
    assert attributes["check_mode"]["support"] == "full"
    assert attributes["diff_mode"]["support"] in ("full", "N/A")
    assert attributes["action_group"]["membership"] == ["ocireg.registry.registry"]
    for option in ("username", "password", "token", "config_path", "validate_certs", "ca_path",
                   "client_cert", "client_key", "plain_http", "timeout"):  # fmt: skip
        assert option in doc["options"], option
    assert doc["options"]["validate_certs"]["default"] is True
    assert doc["options"]["plain_http"]["default"] is False
    assert entry["return"], "RETURN is empty"
    for key, value in entry["return"].items():
        assert value.get("description") and value.get("returned") and value.get("type"), key
    tasks = yaml.safe_load(entry["examples"])
    assert tasks, "no EXAMPLES"
    for example in tasks:
        assert example["name"][0].isupper() and not example["name"].endswith(".")
        modules = [k for k in example if "." in k and k not in ("ansible.builtin.debug",)]
        for key in modules:
            assert key.count(".") == 2, f"not a FQCN: {key}"


def _ago(days: float) -> str:
    return (datetime.now(UTC) - timedelta(days=days)).strftime("%Y-%m-%dT%H:%M:%SZ")


def _seed(registry: Registry) -> dict[str, Any]:
    """What the examples talk about, in team/app and team/worker."""
    pusher = Pusher(registry)
    app = "team/app"
    one = pusher.image(app, "1.0", created="2024-01-01T00:00:00Z")
    pusher.tag(one, "1.0-rc2")  # the release candidate that became 1.0
    pusher.image(app, "1.0-rc1", created="2023-12-20T00:00:00Z")
    pusher.image(app, "v1.2.3", created="2024-03-01T00:00:00Z")
    newest = pusher.image(app, "v1.2.4", created="2024-04-01T00:00:00Z")
    pusher.tag(newest, "latest")
    pusher.image(app, "v1.2.5-rc1", created="2024-04-02T00:00:00Z")
    multi = pusher.index(app, "multi")
    for n in range(1, 7):  # b1 .. b6 built 10, 20, ... 60 days ago
        pusher.image(app, f"b{n}", created=_ago(10 * n))
    pusher.tag(newest, "feature-x")  # shares the image of latest: skipped
    pusher.image(app, "feature-y")
    pusher.image(app, "feature-keep-1")
    worker = pusher.image("team/worker", "1.0")
    for tag in ("1.1", "1.10", "latest"):
        pusher.tag(worker, tag)
    rc = pusher.image(app, "rc-42", created="2024-05-01T00:00:00Z")
    for data in rc.blobs.values():  # the same image in team/builds
        pusher.blob("team/builds", data)
    pusher.manifest("team/builds", "rc-42", rc.raw, rc.media_type)
    return {"one": one, "multi": multi, "newest": newest, "rc": rc}


@pytest.mark.live
def test_examples_run(
    registry_token: Registry, docs: dict[str, Any], playbook: PlaybookRunner, tmp_path: Path
) -> None:
    """Every module's EXAMPLES, in one play, as documented. Tasks without credentials take
    them from a docker config.json (DOCKER_CONFIG), as the SDK's providers do."""
    registry = registry_token
    seeded = _seed(registry)
    user, password = registry.credentials("alice")
    docker = tmp_path / "docker"
    docker.mkdir()
    auth = base64.b64encode(f"{user}:{password}".encode()).decode()
    (docker / "config.json").write_text(json.dumps({"auths": {registry.host: {"auth": auth}}}))
    tasks: list[dict[str, Any]] = []
    for module in (*MODULES[:-1], *(f"{name}@lookup" for name in LOOKUPS), MODULES[-1]):
        text = docs[module]["examples"].replace(EXAMPLE_HOST, registry.host)
        tasks.extend(yaml.safe_load(text))
    registered = sorted({t["register"] for t in tasks if "register" in t} | {"worker_tags"})
    run = playbook(
        tasks,
        save=registered,
        variables={"registry_user": user, "registry_password": password},
        env={"DOCKER_CONFIG": str(docker)},
    )
    r = run.results
    # registry_tag_info (app_tags is registered again by the module_defaults block)
    assert "latest" in r["app_tags"]["tags"] and r["app_tags"]["exists"] is True
    assert r["releases"]["tags"] == ["v1.2.3", "v1.2.4"]
    assert r["releases"]["images"][0]["tags"] == ["v1.2.4"]
    assert r["releases"]["images"][0]["created"] == "2024-04-01T00:00:00Z"
    assert r["worker_tags"]["tags"] == ["1.0", "1.1", "1.10", "latest"]
    # registry_catalog_info, registry_tag, registry_image_copy
    assert r["catalog"]["repositories"] == ["team/app", "team/builds", "team/worker"]
    assert [t["tags"] for t in r["team_tags"]["results"]][2] == ["1.0", "1.1", "1.10", "latest"]
    assert r["promoted"]["digest"] == seeded["rc"].digest
    assert r["promoted"]["previous_digest"] is None
    assert r["pin"]["msg"] == (
        f"would create {registry.host}/team/app:prod at {seeded['rc'].digest}"
    )
    assert r["mirrored"]["digest"] == seeded["multi"].digest
    assert r["mirrored"]["blobs_mounted"] > 0 and r["mirrored"]["bytes_transferred"] == 0
    assert r["copy_preview"]["changed"] is True and r["copy_preview"]["blobs_copied"] == 0
    assert r["v1"]["tags"] == ["v1.2.3", "v1.2.4", "v1.2.5-rc1"]
    # registry_manifest_info
    assert r["app"]["exists"] is True and r["app"]["digest"] == seeded["one"].digest
    assert r["app"]["config"]["created"] == "2024-01-01T00:00:00Z"
    assert r["arm64"]["digest"] == seeded["multi"].children[1].digest
    assert r["arm64"]["config"]["architecture"] == "arm64"
    assert r["maybe"]["exists"] is False
    # registry_tag_delete
    assert r["deleted"]["deleted"] == ["1.0-rc1", "1.0-rc2"]
    assert r["cleanup"]["deleted"] == ["b4", "b5", "b6"]  # as the example's comment says
    assert r["preview"]["deleted"] == ["feature-y"]
    assert [s["tag"] for s in r["preview"]["kept_shared"]] == ["feature-x"]
    assert "feature-y" not in r["preview"]["diff"]["after"]["tags"]
    remaining = Pusher(registry).tags("team/app")
    assert "1.0" in remaining and "1.0-rc2" not in remaining  # 1.0 kept its image
    assert {"b1", "b2", "b3", "feature-x", "feature-y", "feature-keep-1"} <= set(remaining)
    assert not {"b4", "b5", "b6"} & set(remaining)
    assert [(s["tag"], s["pattern"]) for s in r["old_releases"]["selection"]] == [
        ("1.0", "1\\."),
        ("1.1", "1\\.1"),
        ("1.10", "1\\.1"),
        ("latest", None),
    ]
    assert r["old_releases"]["deleted"] == ["1.0"]
    assert Pusher(registry).tags("team/worker") == ["1.1", "1.10", "latest"]
