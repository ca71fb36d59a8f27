"""``registry_tag``, ``registry_image_copy`` and ``registry_catalog_info`` in real playbooks
against real registries: check mode first (nothing changes, the prediction is the real
run's), the real run, then an idempotent rerun; the state checked independently."""

from __future__ import annotations

import itertools
from typing import Any

import pytest

from tests.ansible.conftest import PlaybookRunner, task
from tests.fixtures.images import Pusher
from tests.fixtures.registry import Registry

pytestmark = pytest.mark.live

_COUNTER = itertools.count()

#: Keys that differ between the check run and the real run by nature.
_RUN_ONLY = {"invocation", "changed", "msg"}


def _same(check: dict[str, Any], real: dict[str, Any]) -> None:
    keys = (set(check) | set(real)) - _RUN_ONLY
    assert {k: check.get(k) for k in keys} == {k: real.get(k) for k in keys}


def test_registry_tag_promotes_and_moves(registry_open: Registry, playbook: PlaybookRunner) -> None:
    registry = registry_open
    pusher = Pusher(registry)
    n = next(_COUNTER)
    repo, builds = f"tagging/app-{n}", f"tagging/builds-{n}"
    rc = pusher.image(repo, "rc-42")
    old = pusher.image(repo, "1.4")
    index = pusher.index(builds, "multi")
    name = f"{registry.host}/{repo}"
    promote = {"name": f"{name}:1.4", "source": "rc-42", "diff": True}
    cross = {"name": f"{name}:multi", "source": f"{registry.host}/{builds}:multi"}
    run = playbook(
        [
            task("registry_tag", "check", check_mode=True, **promote),
            task("registry_tag_info", "between", repository=name),
            task("registry_tag", "real", **promote),
            task("registry_tag", "again", **promote),
            task("registry_tag", "by_digest", name=f"{name}:pinned", source=rc.digest),
            task("registry_tag", "cross_check", check_mode=True, **cross),
            task("registry_tag", "cross", **cross),
            task("registry_tag", "cross_again", **cross),
            task("registry_tag", "other_registry", name=f"{name}:x",
                 source="quay.io/org/app:1.0", ignore_errors=True),
            task("registry_tag", "missing", name=f"{name}:x", source="nope", ignore_errors=True),
        ],
        save=["check", "between", "real", "again", "by_digest", "cross_check", "cross",
              "cross_again", "other_registry", "missing"],
    )  # fmt: skip
    check, real, again = run["check"], run["real"], run["again"]
    assert check["changed"] is True and real["changed"] is True and again["changed"] is False
    assert check["msg"] == f"would move {name}:1.4 from {old.digest} to {rc.digest}"
    assert real["msg"] == f"moved {name}:1.4 from {old.digest} to {rc.digest}"
    assert (
        check["diff"]
        == real["diff"]
        == {
            "before": {"name": f"{name}:1.4", "digest": old.digest},
            "after": {"name": f"{name}:1.4", "digest": rc.digest},
        }
    )
    _same(check, real)
    assert run["between"]["tags"] == ["1.4", "rc-42"]
    assert again["previous_digest"] == again["digest"] == rc.digest
    assert "already points at" in again["msg"]
    assert run["by_digest"]["digest"] == rc.digest and run["by_digest"]["previous_digest"] is None
    cross_check, cross_real = run["cross_check"], run["cross"]
    assert cross_real["digest"] == index.digest  # an index is tagged as it is
    assert (
        cross_real["blobs_mounted"] > 0
        and cross_real["blobs_mounted"] == cross_check["blobs_mounted"]
    )
    _same(cross_check, cross_real)
    assert cross_real["image"]["platform_names"] == ["linux/amd64", "linux/arm64/v8"]
    assert run["cross_again"]["changed"] is False
    assert run["other_registry"]["failed"] is True
    assert "registry_image_copy" in run["other_registry"]["msg"]
    assert run["missing"]["failed"] is True and run["missing"]["error_type"] == "NotFoundError"
    assert pusher.tags(repo) == ["1.4", "multi", "pinned", "rc-42"]
    assert pusher.exists(repo, index.children[1].digest)


def test_registry_image_copy(registry_open: Registry, registry_token: Registry,
                             playbook: PlaybookRunner) -> None:  # fmt: skip
    """Between two registries (open -> token auth): all platforms, one, two of three; check
    mode predicts the counts and bytes; a rerun copies nothing."""
    source_registry, target = registry_open, registry_token
    src_pusher, dst_pusher = Pusher(source_registry), Pusher(target)
    n = next(_COUNTER)
    repo = f"copy/app-{n}"
    index = src_pusher.index(
        repo, "multi", platforms=[("linux", "amd64", None), ("linux", "arm64", "v8"),
                                  ("linux", "s390x", None)])  # fmt: skip
    single = src_pusher.image(repo, "single")
    user, password = target.credentials("alice")
    src, dst = f"{source_registry.host}/{repo}", f"{target.host}/mirror/app-{n}"
    everything = {"source": f"{src}:multi", "destination": dst, "diff": True}
    two = {"source": f"{src}:multi", "destination": f"{dst}:two",
           "platforms": ["linux/amd64", "linux/arm64"]}  # fmt: skip
    run = playbook(
        [
            task("registry_image_copy", "check", check_mode=True, **everything),
            task("registry_image_copy", "real", **everything),
            task("registry_image_copy", "again", **everything),
            task("registry_image_copy", "one", source=f"{src}:multi",
                 destination=f"{dst}:arm", platforms=["linux/arm64"]),
            task("registry_image_copy", "two_check", check_mode=True, **two),
            task("registry_image_copy", "two", **two),
            task("registry_image_copy", "two_again", **two),
            task("registry_image_copy", "single", source=f"{src}:single",
                 destination=f"{dst}:single"),
            task("registry_image_copy", "no_such_platform", source=f"{src}:multi",
                 destination=f"{dst}:x", platforms=["windows/amd64"], ignore_errors=True),
            task("registry_manifest_info", "copied", reference=f"{dst}:multi"),
        ],
        save=["check", "real", "again", "one", "two_check", "two", "two_again", "single",
              "no_such_platform", "copied"],
        module_defaults={"username": user, "password": password},
    )  # fmt: skip
    check, real, again = run["check"], run["real"], run["again"]
    assert real["digest"] == index.digest and real["destination"] == f"{dst}:multi"
    assert check["changed"] is real["changed"] is True and again["changed"] is False
    _same(check, real)
    assert real["blobs_copied"] > 0 and real["bytes_transferred"] > 0
    assert real["blobs_mounted"] == 0  # two registries: nothing to mount from
    assert real["platforms"] == ["linux/amd64", "linux/arm64/v8", "linux/s390x"]
    assert len(real["manifests"]) == 4 and real["manifests"][-1] == index.digest
    assert again["blobs_copied"] == 0 and again["bytes_transferred"] == 0
    assert run["copied"]["digest"] == index.digest
    assert run["one"]["digest"] == index.children[1].digest
    assert run["one"]["platforms"] == ["linux/arm64/v8"]
    two_check, two_real = run["two_check"], run["two"]
    _same(two_check, two_real)
    assert two_real["digest"] != index.digest and two_real["platforms"] == [
        "linux/amd64",
        "linux/arm64/v8",
    ]
    assert two_real["blobs_copied"] == 0  # their blobs came with the first copy
    assert run["two_again"]["changed"] is False
    assert run["two_again"]["digest"] == two_real["digest"]
    assert run["single"]["digest"] == single.digest
    assert run["no_such_platform"]["failed"] is True
    assert run["no_such_platform"]["error_type"] == "ManifestError"
    assert dst_pusher.tags(f"mirror/app-{n}") == ["arm", "multi", "single", "two"]


def test_registry_catalog_info(registry_open: Registry, playbook: PlaybookRunner) -> None:
    registry = registry_open
    pusher = Pusher(registry)
    for name in ("catalog/a2", "catalog/a10", "catalog/b1"):
        pusher.image(name, "1.0")
    run = playbook(
        [
            task("registry_catalog_info", "prefix", registry=registry.host,
                 patterns=["catalog/a"], match="prefix", sort="version"),
            task("registry_catalog_info", "nothing", registry=registry.host,
                 patterns=["^catalog/a"]),
        ],
        save=["prefix", "nothing"],
    )  # fmt: skip
    assert run["prefix"]["repositories"] == ["catalog/a2", "catalog/a10"]
    assert run["prefix"]["total"] >= 3
    assert run["nothing"]["repositories"] == []
    assert any("matched no repository" in w for w in run["nothing"]["warnings"])


def test_catalog_refused_says_why(registry_token: Registry, playbook: PlaybookRunner) -> None:
    """The token registry gives alice no catalog scope (as hosted registries refuse it)."""
    user, password = registry_token.credentials("puller")
    run = playbook(
        [task("registry_catalog_info", "refused", registry=registry_token.host,
              username=user, password=password, ignore_errors=True)],
        save=["refused"],
    )  # fmt: skip
    refused = run["refused"]
    if not refused.get("failed"):
        pytest.skip("this registry serves its catalog to this user")
    assert "does not list its repositories" in refused["msg"]
    assert refused["http_status"] in (401, 403, 404)


def test_lookups(registry_token: Registry, playbook: PlaybookRunner) -> None:
    """digest and tags lookups on the controller, with credentials given as keywords."""
    registry = registry_token
    pusher = Pusher(registry)
    repo = f"lookup/app-{next(_COUNTER)}"
    index = pusher.index(repo, "1.10")
    for tag in ("1.2", "1.9", "latest"):
        pusher.tag(index, tag)
    user, password = registry.credentials("alice")
    name = f"{registry.host}/{repo}"
    creds = f"username='{user}', password=registry_password"

    def digest(args: str) -> str:
        return "{{ lookup('ocireg.registry.digest', " + args + ", " + creds + ") }}"

    tags = "{{ query('ocireg.registry.tags', '" + name + "', patterns=['1[.]'], match='prefix', "
    run = playbook(
        [
            {
                "name": "Look up",
                "ansible.builtin.set_fact": {
                    "index_digest": digest(f"'{name}:1.10'"),
                    "arm_digest": digest(f"'{name}', platform='linux/arm64'"),
                    "absent": digest(f"'{name}:nope', default='absent'"),
                    "found_tags": tags + creds + ") }}",
                },
            },
            {
                "name": "Fail",
                "ansible.builtin.debug": {"msg": digest(f"'{name}:nope'")},
                "register": "failing",
                "ignore_errors": True,
            },
        ],
        save=["index_digest", "arm_digest", "absent", "found_tags", "failing"],
        variables={"registry_password": password},
    )
    assert run["index_digest"] == index.digest
    assert run["arm_digest"] == index.children[1].digest  # latest, resolved to arm64
    assert run["absent"] == "absent"
    assert run["found_tags"] == ["1.2", "1.9", "1.10"], run.output
    assert run["failing"]["failed"] is True and "nope" in run["failing"]["msg"]
    assert password not in run.output
