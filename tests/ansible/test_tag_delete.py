"""``ocireg.registry.registry_tag_delete`` in real playbooks against real registries.

Each test seeds its own repository with :class:`~tests.fixtures.images.Pusher` (plain
``requests``, independent of the SDK), runs one playbook that groups several tasks, and
checks the registered results and, independently, the registry's state afterwards.
"""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from ocireg import Descriptor
from ocireg.manifests import EMPTY_BLOB, EMPTY_DESCRIPTOR, build_image_manifest
from ocireg.referrers import fallback_tag
from tests.ansible.conftest import PlaybookRunner, task
from tests.fixtures.clients import client_for, pull_everything
from tests.fixtures.images import OCI_MANIFEST, Pushed, Pusher
from tests.fixtures.registry import Registry

pytestmark = pytest.mark.live

_COUNTER = itertools.count()


def _repo(name: str) -> str:
    return f"ansible/{name}-{next(_COUNTER)}"


def _defaults(registry: Registry) -> dict[str, Any]:
    """Connection options for the action group: alice's credentials where there are users."""
    if not registry.users:
        return {}
    user, password = registry.credentials("alice")
    return {"username": user, "password": password}


@pytest.fixture(params=["registry_open", "registry_token"])
def registry(request: pytest.FixtureRequest) -> Registry:
    value: Registry = request.getfixturevalue(request.param)
    return value


def test_check_mode_then_real_run_then_again(registry: Registry, playbook: PlaybookRunner) -> None:
    """4 tags, delete 1 (which shares its image): check mode plans it and changes nothing,
    the real run deletes exactly that, the second run is unchanged, the 3 left still pull.
    In a second repository, the tagged child of a multi-arch index is untagged while the
    index keeps all its children."""
    pusher = Pusher(registry)
    repo, multi_repo = _repo("four"), _repo("multi")
    shared = pusher.image(repo, "one")
    pusher.tag(shared, "two")
    pusher.image(repo, "three")
    pusher.image(repo, "four")
    index = pusher.index(multi_repo, "multi")
    arm = index.children[1]
    pusher.tag(arm, "multi-arm")
    name, multi = f"{registry.host}/{repo}", f"{registry.host}/{multi_repo}"
    delete = {"repository": name, "tags": ["two"], "diff": True}
    run = playbook(
        [
            task("registry_tag_info", "before", repository=name),
            task("registry_tag_delete", "check", check_mode=True, **delete),
            task("registry_tag_info", "between", repository=name),
            task("registry_tag_delete", "real", **delete),
            task("registry_tag_delete", "again", **delete),
            task("registry_tag_info", "after", repository=name, details=True),
            task("registry_tag_delete", "untag_child", repository=multi, tags=["multi-arm"]),
            task("registry_manifest_info", "arm", reference=f"{multi}:multi",
                 platform="linux/arm64"),
        ],
        save=["before", "check", "between", "real", "again", "after", "untag_child", "arm"],
        module_defaults=_defaults(registry),
    )  # fmt: skip
    everything = ["four", "one", "three", "two"]
    left = ["four", "one", "three"]
    check, real, again = run["check"], run["real"], run["again"]
    assert run["before"]["tags"] == everything
    assert check["changed"] is True
    assert check["deleted"] == ["two"]
    assert check["deleted_manifests"] == []  # "one" still needs the image
    assert check["kept_shared"] == [] and check["not_found"] == []
    assert check["diff"] == {"before": {"tags": everything}, "after": {"tags": left}}
    assert run["between"]["tags"] == everything  # check mode changed nothing
    for key in ("changed", "deleted", "kept_shared", "not_found", "deleted_manifests", "diff"):
        assert real[key] == check[key], key
    assert again["changed"] is False
    assert again["deleted"] == [] and again["not_found"] == ["two"]
    assert run["after"]["tags"] == left
    assert {d["tag"]: d["digest"] for d in run["after"]["tag_details"]}["one"] == shared.digest
    assert pusher.tags(repo) == left
    with client_for(registry) as client:
        for tag in left:
            pull_everything(client, f"{name}:{tag}")

    assert run["untag_child"]["deleted"] == ["multi-arm"]
    assert run["untag_child"]["deleted_manifests"] == []  # the index still lists it
    assert run["arm"]["exists"] is True and run["arm"]["digest"] == arm.digest
    assert run["arm"]["index_digest"] == index.digest
    assert pusher.tags(multi_repo) == ["multi"]
    for child in index.children:
        assert pusher.exists(multi_repo, child.digest)
    with client_for(registry) as client:
        pull_everything(client, f"{multi}:multi")


def test_manifests_go_with_their_last_tag(
    registry_open: Registry, playbook: PlaybookRunner
) -> None:
    """A lone tag's manifest goes with it; two tags on one image deleted together take the
    image; an index tag and the tag of one of its children deleted together take both
    (index first), while the untagged sibling child stays."""
    registry = registry_open
    pusher = Pusher(registry)
    repo = _repo("last")
    lone = pusher.image(repo, "lone")
    pair = pusher.image(repo, "pair-a")
    pusher.tag(pair, "pair-b")
    index = pusher.index(repo, "idx")
    pusher.tag(index.children[0], "idx-amd")
    keep = pusher.image(repo, "keep")
    name = f"{registry.host}/{repo}"
    delete = {"repository": name, "tags": ["idx-amd", "idx", "lone", "pair-a", "pair-b"]}
    run = playbook(
        [
            task("registry_tag_delete", "check", check_mode=True, diff=True, **delete),
            task("registry_tag_delete", "real", diff=True, **delete),
        ],
        save=["check", "real"],
    )
    removed = sorted([lone.digest, pair.digest, index.digest, index.children[0].digest])
    assert run["check"]["deleted"] == ["idx", "idx-amd", "lone", "pair-a", "pair-b"]
    assert run["check"]["deleted_manifests"] == removed
    assert run["real"]["deleted_manifests"] == removed
    assert run["real"]["diff"] == run["check"]["diff"]
    assert pusher.tags(repo) == ["keep"]
    assert pusher.exists(repo, keep.digest)
    assert pusher.exists(repo, index.children[1].digest)  # untagged, not ours to remove
    for gone in removed:
        assert not pusher.exists(repo, gone)


def test_shared_digest_skip_and_fail(registry_open: Registry, playbook: PlaybookRunner) -> None:
    registry = registry_open
    pusher = Pusher(registry)
    repo = _repo("shared")
    image = pusher.image(repo, "stable")
    pusher.tag(image, "candidate")
    other = pusher.image(repo, "old")
    name = f"{registry.host}/{repo}"
    tags = ["candidate", "old"]
    run = playbook(
        [
            task("registry_tag_delete", "skip_check", repository=name, tags=tags,
                 shared_digest="skip", check_mode=True),
            task("registry_tag_delete", "fail", repository=name, tags=tags,
                 shared_digest="fail", ignore_errors=True),
            task("registry_tag_info", "after_fail", repository=name),
            task("registry_tag_delete", "skip", repository=name, tags=tags,
                 shared_digest="skip", diff=True),
        ],
        save=["skip_check", "fail", "after_fail", "skip"],
    )  # fmt: skip
    skipped = [
        {
            "tag": "candidate",
            "digest": image.digest,
            "reason": "its manifest is still needed by stable",
        }
    ]
    assert run["skip_check"]["kept_shared"] == skipped
    assert run["skip_check"]["deleted"] == ["old"]
    assert run["fail"]["failed"] is True
    assert "shared_digest=fail" in run["fail"]["msg"] and "stable" in run["fail"]["msg"]
    assert run["fail"]["deleted"] == []
    assert run["after_fail"]["tags"] == ["candidate", "old", "stable"]  # nothing changed
    assert run["skip"]["kept_shared"] == skipped
    assert run["skip"]["deleted"] == ["old"]
    assert run["skip"]["deleted_manifests"] == [other.digest]
    assert run["skip"]["diff"]["after"] == {"tags": ["candidate", "stable"]}
    assert pusher.tags(repo) == ["candidate", "stable"]


def _ago(now: datetime, **delta: float) -> str:
    return (now - timedelta(**delta)).strftime("%Y-%m-%dT%H:%M:%SZ")


def test_keep_latest_and_older_than(registry_open: Registry, playbook: PlaybookRunner) -> None:
    """Images with known creation times: b5 newest (1 day) .. b1 oldest (5 days), b3 just
    under 3 days; ``latest`` and ``b5-alias`` on b5's image, ``release`` on its own."""
    registry = registry_open
    pusher = Pusher(registry)
    repo = _repo("retention")
    now = datetime.now(UTC)
    ages = {"b1": {"days": 5}, "b2": {"days": 4}, "b3": {"days": 3, "hours": -1},
            "b4": {"days": 2}, "b5": {"days": 1}}  # fmt: skip
    images = {tag: pusher.image(repo, tag, created=_ago(now, **age)) for tag, age in ages.items()}
    pusher.tag(images["b5"], "latest")
    pusher.tag(images["b5"], "b5-alias")
    pusher.image(repo, "release", created=_ago(now, days=30))
    name = f"{registry.host}/{repo}"
    cases = {
        # The documented example: keep the 2 newest, of the rest delete those over 3 days.
        "keep2_older3d": {"patterns": ["b[0-9]+"], "keep_latest": 2, "older_than": "3d"},
        "keep2": {"patterns": ["b[0-9]+"], "keep_latest": 2},
        "older36h": {"patterns": ["b.*"], "older_than": "36h"},
        # b5 and b5-alias are one image: keeping 2 images keeps b4 as well.
        "keep2_alias": {"patterns": ["b.*"], "keep_latest": 2},
        "keep1_excludes": {"excludes": ["latest", "release"], "keep_latest": 1},
        "older_than_all": {"patterns": [".*"], "older_than": "10d"},
    }
    tasks = [
        task("registry_tag_delete", case, repository=name, check_mode=True, **options)
        for case, options in cases.items()
    ]
    tasks.append(task("registry_tag_delete", "real", repository=name, **cases["keep2_older3d"]))
    tasks.append(task("registry_tag_info", "after", repository=name))
    run = playbook(tasks, save=[*cases, "real", "after"])
    assert run["keep2_older3d"]["deleted"] == ["b1", "b2"]
    assert run["keep2"]["deleted"] == ["b1", "b2", "b3"]
    assert run["older36h"]["deleted"] == ["b1", "b2", "b3", "b4"]
    assert run["keep2_alias"]["deleted"] == ["b1", "b2", "b3"]
    assert run["keep1_excludes"]["deleted"] == ["b1", "b2", "b3", "b4"]
    assert run["older_than_all"]["deleted"] == ["release"]
    assert run["real"]["deleted"] == ["b1", "b2"]
    assert run["real"]["deleted_manifests"] == sorted([images["b1"].digest, images["b2"].digest])
    assert run["after"]["tags"] == ["b3", "b4", "b5", "b5-alias", "latest", "release"]
    assert pusher.tags(repo) == run["after"]["tags"]


def test_delete_disabled_fails_before_any_change(
    registry_no_delete: Registry, playbook: PlaybookRunner
) -> None:
    registry = registry_no_delete
    pusher = Pusher(registry)
    repo = _repo("nodelete")
    image = pusher.image(repo, "a")
    pusher.tag(image, "b")
    pusher.image(repo, "c")
    name = f"{registry.host}/{repo}"
    run = playbook(
        [
            task("registry_tag_delete", "check", repository=name, tags=["c"], check_mode=True,
                 ignore_errors=True),
            task("registry_tag_delete", "shared", repository=name, tags=["b", "c"],
                 ignore_errors=True),
            task("registry_tag_delete", "selection", repository=name, patterns=[".*"],
                 ignore_errors=True),
        ],
        save=["check", "shared", "selection"],
    )  # fmt: skip
    for key in ("check", "shared", "selection"):
        result = run[key]
        assert result["failed"] is True, key
        # The SDK's UnsupportedError as it is, plus the module's hint for distribution.
        assert "delete is disabled" in result["msg"], result["msg"]
        assert "was changed" in result["msg"] and "nothing" in result["msg"]
        assert "REGISTRY_STORAGE_DELETE_ENABLED" in result["msg"]
        assert result["error_code"] == "UNSUPPORTED"
        assert result.get("changed") is False
    assert pusher.tags(repo) == ["a", "b", "c"]
    assert pusher.exists(repo, image.digest)


def _sign(registry: Registry, subject: Pushed, note: str) -> str:
    """Attach a signature-like artifact to ``subject`` with the SDK; return its digest."""
    pusher = Pusher(registry)
    pusher.blob(subject.repository, EMPTY_BLOB)
    layer = note.encode()
    pusher.blob(subject.repository, layer)
    raw = build_image_manifest(
        EMPTY_DESCRIPTOR,
        [Descriptor.of(layer, "text/plain")],
        subject=Descriptor(media_type=subject.media_type, digest=subject.digest, size=subject.size),
        artifact_type="application/vnd.example.signature.v1",
    )
    with client_for(registry) as client:
        ref = f"{registry.host}/{subject.repository}@{subject.digest}"
        return client.attach_referrer(ref, raw, OCI_MANIFEST).digest


def test_delete_referrers(registry_open: Registry, playbook: PlaybookRunner) -> None:
    """Referrers go with a removed manifest only when asked; a kept manifest keeps them."""
    registry = registry_open
    pusher = Pusher(registry)
    repo = _repo("referrers")
    first, second, third = (pusher.image(repo, t) for t in ("first", "second", "third"))
    pusher.tag(third, "third-alias")
    sigs = {p.digest: _sign(registry, p, f"signed {p.digest}") for p in (first, second, third)}
    name = f"{registry.host}/{repo}"
    with_refs = {"repository": name, "delete_referrers": True}
    run = playbook(
        [
            task("registry_tag_delete", "check", tags=["first"], check_mode=True, **with_refs),
            task("registry_tag_delete", "first", tags=["first"], diff=True, **with_refs),
            task("registry_tag_delete", "second", repository=name, tags=["second"]),
            task("registry_tag_delete", "third", tags=["third"], **with_refs),
        ],
        save=["check", "first", "second", "third"],
    )
    expected = [
        {
            "subject": first.digest,
            "digest": sigs[first.digest],
            "artifact_type": "application/vnd.example.signature.v1",
        }
    ]
    assert run["check"]["deleted_referrers"] == expected
    assert run["first"]["deleted_referrers"] == expected
    assert fallback_tag(first.digest) not in run["first"]["diff"]["after"]["tags"]
    assert not pusher.exists(repo, sigs[first.digest])
    assert run["second"]["deleted_referrers"] == []  # not asked
    assert pusher.exists(repo, sigs[second.digest])
    assert run["third"]["deleted_manifests"] == []  # third-alias keeps the image...
    assert run["third"]["deleted_referrers"] == []  # ... and so its signature
    assert pusher.exists(repo, sigs[third.digest])
    assert pusher.tags(repo) == sorted(
        ["third-alias", fallback_tag(second.digest), fallback_tag(third.digest)]
    )


def test_a_failure_half_way_reports_what_was_done(
    registry_open: Registry, playbook: PlaybookRunner
) -> None:
    """A 500 on the last step (moving ``c`` to a placeholder): the task fails, and says what
    it deleted before, which step was not done and why; ``c`` is back on its image. Check
    mode shows how the plan learnt what the registry allows, or that it did not probe."""
    from tests.fixtures.faultproxy import fault_proxy

    pusher = Pusher(registry_open)
    host, port = registry_open.host.rsplit(":", 1)

    def seed() -> tuple[str, dict[str, Pushed]]:
        repo = _repo("half")
        a = pusher.image(repo, "a1", layers=1, layer_size=32)
        pusher.tag(a, "a2")
        b = pusher.image(repo, "b", layers=1, layer_size=32)
        index = pusher.index(repo, "idx")
        pusher.tag(index.children[0], "c")
        return repo, {"a": a, "b": b, "c": index.children[0]}

    with fault_proxy(host, int(port)) as proxy:
        delete = {"tags": ["a1", "b", "c"], "plain_http": True}
        clean, _ = seed()
        proxy.arm(None, 0)
        playbook(
            [task("registry_tag_delete", "clean", repository=f"{proxy.host}/{clean}", **delete)],
            save=["clean"],
            name="clean",
        )
        moves = [n for n, m, p in proxy.log if m == "PUT" and p.endswith("/manifests/c")]
        repo, pushed = seed()
        name = f"{proxy.host}/{repo}"
        proxy.arm(None, 0)
        checks = playbook(
            [
                task("registry_tag_delete", "plan", repository=name, check_mode=True, **delete),
                task("registry_tag_delete", "blind", repository=name, check_mode=True,
                     probe=False, **delete),
            ],
            save=["plan", "blind"],
            name="checks",
        )  # fmt: skip
        proxy.arm("500", moves[0])
        run = playbook(
            [task("registry_tag_delete", "real", repository=name, **delete)],
            save=["real"],
            name="faulted",
            expect_rc=2,
        )
    assert "DIGEST_INVALID" in " ".join(checks["plan"]["learnt"])
    assert checks["blind"]["learnt"][0].startswith("not probed")
    assert checks["plan"]["deleted"] == ["a1", "b", "c"]
    real = run["real"]
    assert real["failed"] is True and real["http_status"] == 500
    assert real["deleted"] == ["a1", "b"]
    assert [n["tag"] for n in real["not_done"]] == ["c"]
    assert "the run stopped" in real["not_done"][0]["reason"]
    assert "RegistryError" in real["stopped"]
    assert pusher.tags(repo) == ["a2", "c", "idx"]
    assert pusher.exists(repo, "c") and pusher.exists(repo, pushed["c"].digest)
