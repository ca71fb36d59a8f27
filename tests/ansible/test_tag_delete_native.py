"""``registry_tag_delete`` with a registry-native API: ``via`` in check mode and in the real
run, and ``age_from``. The API is the test plugin of :mod:`tests.fixtures.native_plugin`
(listing and manifest deletes through /v2/ of the real registry), registered through an
entry point in a temporary ``dist-info`` on the ``PYTHONPATH`` the module runs with; a
plain run without it shows the Registry HTTP API's mechanisms."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from tests.ansible.conftest import PlaybookRunner, task
from tests.fixtures.images import Pusher
from tests.fixtures.native_plugin import entry_point_path
from tests.fixtures.registry import Registry

pytestmark = pytest.mark.live


def test_via_and_age_from(
    registry_open: Registry, playbook: PlaybookRunner, tmp_path: Path
) -> None:
    pusher = Pusher(registry_open)
    repo = f"ansible/native-{uuid.uuid4().hex[:8]}"
    shared = pusher.image(repo, "a", layers=2, layer_size=4096)
    pusher.tag(shared, "keep")
    pusher.image(repo, "lone", layers=2, layer_size=4096)
    name = f"{registry_open.host}/{repo}"
    tasks = [
        task("registry_tag_delete", "by_push_time", repository=name, older_than="1d",
             age_from="pushed", check_mode=True),
        task("registry_tag_delete", "preview", repository=name, tags=["a", "lone"],
             check_mode=True),
        task("registry_tag_delete", "real", repository=name, tags=["a", "lone"]),
    ]  # fmt: skip
    env = {"PYTHONPATH": entry_point_path(tmp_path / "site")}
    run = playbook(tasks, save=["by_push_time", "preview", "real"], env=env)
    # The test listing knows no push times: by push time, no age is known.
    assert run["by_push_time"]["deleted"] == []
    assert {s["reason"] for s in run["by_push_time"]["selection"]} == {"age unknown"}
    want = {"a": "untag+test-v2-delete", "lone": "test-v2-delete"}
    assert run["preview"]["via"] == want and run["real"]["via"] == want
    assert run["preview"]["learnt"][0] == "deletes through test /v2/ API (test-v2-delete)"
    assert run["real"]["deleted"] == ["a", "lone"]
    assert pusher.tags(repo) == ["keep"]

    plain_repo = f"ansible/plain-{uuid.uuid4().hex[:8]}"
    pusher.image(plain_repo, "x")
    plain = playbook(
        [task("registry_tag_delete", "plain", repository=f"{registry_open.host}/{plain_repo}",
              tags=["x"], check_mode=True)],
        save=["plain"],
        name="plain",
    )  # fmt: skip
    assert plain["plain"]["via"] == {"x": "registry-delete-digest"}
