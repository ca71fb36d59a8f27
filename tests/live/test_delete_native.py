"""Deleting through a registry-native API on the real distribution registry: a test plugin
(:mod:`tests.fixtures.native_plugin`) whose listing and manifest delete go through /v2/.
In-process through ``Client(plugins=[...])``; for the ``ocireg`` command through an entry
point in a temporary ``dist-info`` on ``PYTHONPATH`` (how any installed plugin is found, so
the command needs no option of its own for it)."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import pytest

from ocireg import Client
from tests.fixtures.cli import ocireg
from tests.fixtures.clients import count_requests
from tests.fixtures.images import Pusher
from tests.fixtures.native_plugin import NativeTestPlugin, entry_point_path
from tests.fixtures.registry import Registry

pytestmark = pytest.mark.live

DESCRIBED = "test /v2/ API: manifest deletes via test-v2-delete, tag listings via test-v2-listing"


def _seed(registry: Registry) -> tuple[str, dict[str, str]]:
    """``lone`` alone on its image, ``a`` and ``keep`` on one image; images of 8 KiB."""
    name = f"native/{uuid.uuid4().hex[:10]}"
    pusher = Pusher(registry)
    lone = pusher.image(name, "lone", layers=2, layer_size=4096)
    shared = pusher.image(name, "a", layers=2, layer_size=4096)
    pusher.tag(shared, "keep")
    return name, {"lone": lone.digest, "a": shared.digest}


def test_the_plan_and_the_run_go_through_the_plugin(registry_open: Registry) -> None:
    name, digests = _seed(registry_open)
    repo = f"{registry_open.host}/{name}"
    plugin = NativeTestPlugin()
    with Client(load_entrypoints=False, plugins=[plugin]) as client:
        calls = count_requests(client)
        plan = client.plan_tag_deletes(repo, ["lone", "a"])
        assert {p.tag: p.via for p in plan.deletes} == {
            "a": "untag+test-v2-delete",
            "lone": "test-v2-delete",
        }
        assert plan.learnt == (
            "deletes through test /v2/ API (test-v2-delete)",
            "tags listed through test /v2/ API (test-v2-listing)",
        )
        # No probe, and no HEAD per tag: the listing said what every tag is.
        sent = [(m, u.split("/v2/", 1)[1]) for m, u in calls if not u.endswith("/v2/")]
        assert sent == [("GET", f"{name}/tags/list")], calls
        result = client.execute_plan(plan)
        assert result.tags == ["a", "lone"]
        assert {p.tag: p.via for p in result.deleted} == {
            "a": "untag+test-v2-delete",
            "lone": "test-v2-delete",
        }
        assert client.tags(repo) == ["keep"]
        assert client.head_manifest(f"{repo}:keep").digest == digests["a"]
        assert not any(m == "DELETE" for m, _ in calls)  # the client itself deleted nothing
    api = plugin.apis[registry_open.host]
    deleted = [d for what, d in api.calls if what == "delete_manifest"]
    # lone's image, the deletability probe, and a's placeholder
    assert digests["lone"] in deleted and len(deleted) == 3, api.calls
    assert digests["a"] not in deleted


def test_the_command_shows_via_and_the_api(registry_open: Registry, tmp_path: Path) -> None:
    name, _ = _seed(registry_open)
    ref = f"{registry_open.host}/{name}"
    env = {
        "HOME": str(tmp_path),
        "DOCKER_CONFIG": str(tmp_path / ".docker"),
        "PYTHONPATH": entry_point_path(tmp_path / "site"),
    }
    explain = ocireg("auth", "explain", registry_open.host, env=env)
    assert explain.returncode == 0, explain.stderr
    assert f"api: {DESCRIBED}" in explain.stdout.splitlines()
    explained = json.loads(ocireg("auth", "explain", registry_open.host, "--json", env=env).stdout)
    assert explained["api"] == DESCRIBED

    dry = ocireg("delete", f"{ref}:lone", f"{ref}:a", "--dry-run", env=env)
    assert dry.returncode == 0, dry.stderr
    lines = dry.stdout.splitlines()
    assert any(
        line.startswith(f"{ref}:lone: would delete-digest via test-v2-delete") for line in lines
    )
    assert any(line.startswith(f"{ref}:a: would untag via untag+test-v2-delete") for line in lines)
    assert "learnt: deletes through test /v2/ API (test-v2-delete)" in lines

    done = ocireg("delete", f"{ref}:lone", f"{ref}:a", "--json", env=env)
    assert done.returncode == 0, done.stderr
    plans = json.loads(done.stdout)["plans"]
    assert [(p["tag"], p["via"], p["executed"]) for p in plans] == [
        ("lone", "test-v2-delete", True),
        ("a", "untag+test-v2-delete", True),
    ]
    assert Pusher(registry_open).tags(name) == ["keep"]

    # Without the plugin, the same command probes and deletes through /v2/.
    plain = ocireg("auth", "explain", registry_open.host, env={"HOME": str(tmp_path)})
    assert "api:" not in plain.stdout


def test_prune_age_from(registry_open: Registry, tmp_path: Path) -> None:
    name, _ = _seed(registry_open)
    ref = f"{registry_open.host}/{name}"
    env = {"HOME": str(tmp_path), "PYTHONPATH": entry_point_path(tmp_path / "site")}
    # The test listing knows no push times: by push time every age is unknown.
    pushed = ocireg(
        "prune", ref, "--older-than", "1d", "--age-from", "pushed", "--dry-run", "--json", env=env
    )
    assert pushed.returncode == 0, pushed.stderr
    out = json.loads(pushed.stdout)
    assert out["deleted"] == [] and {k["reason"] for k in out["kept"]} == {"age unknown"}
    # The default falls back to the images' created time (2024-01-01: old).
    default = ocireg("prune", ref, "--older-than", "1d", "--dry-run", env=env)
    assert default.returncode == 0, default.stderr
    assert "would delete lone via test-v2-delete" in default.stdout.splitlines()
    bad = ocireg("prune", ref, "--older-than", "1d", "--age-from", "modified", env=env)
    assert bad.returncode == 2 and "--age-from" in bad.stderr
