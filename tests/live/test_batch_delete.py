"""Deleting several tags at once (``ocireg.deletion``, ``Client.delete_tags``) against a
real distribution 2.8 registry, open and with token auth.

The scenarios are those of the Ansible module, which plans with the same code, checked here
at the SDK level and against the registry's state (read with plain ``requests``), plus what
the batch is for: one look at the graph, not one per tag.
"""

from __future__ import annotations

import dataclasses
import itertools
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from pytest_httpserver import HTTPServer

from ocireg import (
    BatchPlan,
    Client,
    Descriptor,
    NotFoundError,
    Reference,
    SharedDigestError,
    UnsupportedError,
)
from ocireg.deletion import preview as plan_preview
from ocireg.manifests import EMPTY_BLOB, EMPTY_DESCRIPTOR, build_image_manifest
from ocireg.referrers import fallback_tag
from tests.conftest import RegistryFactory
from tests.fixtures.cli import cli_env
from tests.fixtures.clients import client_for, count_requests, pull_everything
from tests.fixtures.images import OCI_MANIFEST, Pushed, Pusher
from tests.fixtures.registry import Registry
from tests.live.test_delete import _FakeRegistry, _tiny_manifest

pytestmark = pytest.mark.live

_COUNTER = itertools.count()


def _repo(name: str) -> str:
    return f"batch/{name}-{next(_COUNTER)}"


def _name(registry: Registry, repo: str) -> str:
    return f"{registry.host}/{repo}"


def _steps(plan_or_result: Any) -> list[tuple[str | None, str]]:
    steps = getattr(plan_or_result, "deletes", None) or plan_or_result.deleted
    return [(p.tag, p.action) for p in steps]


# -- the Ansible module's scenarios ----------------------------------------------------------


def test_delete_one_of_four_tags(registry: Registry, client: Client) -> None:
    """The tag shares its image: only the tag goes, in check mode nothing, and the second
    run finds it gone."""
    pusher = Pusher(registry)
    repo = _repo("four")
    shared = pusher.image(repo, "one")
    pusher.tag(shared, "two")
    pusher.image(repo, "three")
    pusher.image(repo, "four")
    name = _name(registry, repo)

    dry = client.delete_tags(name, ["two"], dry_run=True)
    assert not dry.executed
    assert _steps(dry) == [("two", "untag")]
    assert dry.deleted[0].shared_with == ("one",)
    assert dry.deleted_manifests == [] and dry.not_found == []
    assert pusher.tags(repo) == ["four", "one", "three", "two"]  # nothing changed

    real = client.delete_tags(name, ["two"])
    assert real.executed
    assert real.deleted == [dataclasses.replace(p, executed=True) for p in dry.deleted]
    assert real.deleted_manifests == dry.deleted_manifests == []
    assert pusher.tags(repo) == ["four", "one", "three"]
    for tag in ("one", "three", "four"):
        pull_everything(client, f"{name}:{tag}")

    again = client.delete_tags(name, ["two"])
    assert again.deleted == [] and again.not_found == ["two"]


def test_two_of_three_tags_on_one_image_are_untagged(registry: Registry, client: Client) -> None:
    pusher = Pusher(registry)
    repo = _repo("three")
    image = pusher.image(repo, "a")
    pusher.tag(image, "b")
    pusher.tag(image, "c")
    name = _name(registry, repo)

    result = client.delete_tags(name, ["b", "a"])

    assert _steps(result) == [("a", "untag"), ("b", "untag")]
    assert result.deleted[0].shared_with == ("b", "c")  # b is still there at a's turn
    assert result.deleted[1].shared_with == ("c",)
    assert result.deleted_manifests == []
    assert all(p.placeholder and not pusher.exists(repo, p.placeholder) for p in result.deleted)
    assert pusher.tags(repo) == ["c"]
    assert pusher.exists(repo, image.digest)
    pull_everything(client, f"{name}:c")


def test_all_tags_of_an_image_take_the_manifest(registry: Registry, client: Client) -> None:
    pusher = Pusher(registry)
    repo = _repo("all")
    image = pusher.image(repo, "a")
    pusher.tag(image, "b")
    keep = pusher.image(repo, "keep")
    name = _name(registry, repo)

    dry = client.delete_tags(name, ["a", "b"], dry_run=True)
    assert _steps(dry) == [("a", "untag"), ("b", "delete-digest")]
    assert dry.deleted_manifests == [image.digest]

    real = client.delete_tags(name, ["a", "b"])
    assert _steps(real) == _steps(dry)
    assert real.deleted_manifests == [image.digest]
    assert not pusher.exists(repo, image.digest)
    assert pusher.tags(repo) == ["keep"]
    assert pusher.exists(repo, keep.digest)


def test_tagged_index_child(registry: Registry, client: Client) -> None:
    """The child's tag alone is untagged, the index keeps all its children; the index tag
    and a child's tag together take both manifests, index first, the sibling stays."""
    pusher = Pusher(registry)
    repo = _repo("multi")
    index = pusher.index(repo, "multi")
    arm, amd = index.children[1], index.children[0]
    pusher.tag(arm, "multi-arm")
    pusher.tag(amd, "multi-amd")
    name = _name(registry, repo)

    child = client.delete_tags(name, ["multi-arm"])
    assert _steps(child) == [("multi-arm", "untag")]
    assert child.deleted[0].reached_by == ("multi",)
    assert child.deleted_manifests == []
    assert pusher.tags(repo) == ["multi", "multi-amd"]
    for c in index.children:
        assert pusher.exists(repo, c.digest)
    pull_everything(client, f"{name}:multi")

    both = client.delete_tags(name, ["multi-amd", "multi"])
    assert _steps(both) == [("multi", "delete-digest"), ("multi-amd", "delete-digest")]
    assert sorted(both.deleted_manifests) == sorted([index.digest, amd.digest])
    assert pusher.tags(repo) == []
    assert not pusher.exists(repo, index.digest) and not pusher.exists(repo, amd.digest)
    assert pusher.exists(repo, arm.digest)  # untagged, not ours to remove


def test_shared_digest_skip_and_fail(registry: Registry, client: Client) -> None:
    pusher = Pusher(registry)
    repo = _repo("policy")
    image = pusher.image(repo, "stable")
    pusher.tag(image, "candidate")
    other = pusher.image(repo, "old")
    name = _name(registry, repo)

    with pytest.raises(
        SharedDigestError, match="candidate: its manifest is still needed by stable"
    ):
        client.delete_tags(name, ["candidate", "old"], shared_digest="fail")
    assert pusher.tags(repo) == ["candidate", "old", "stable"]  # nothing changed

    skip = client.delete_tags(name, ["candidate", "old"], shared_digest="skip")
    assert [(p.tag, p.action, p.reason) for p in skip.plan.skipped] == [
        ("candidate", "skip", "its manifest is still needed by stable")
    ]
    assert _steps(skip) == [("old", "delete-digest")]
    assert skip.deleted_manifests == [other.digest]
    assert pusher.tags(repo) == ["candidate", "stable"]


def _assert_refused_before_any_change(registry: Registry) -> None:
    pusher = Pusher(registry)
    repo = _repo("nodelete")
    image = pusher.image(repo, "a")
    pusher.tag(image, "b")
    pusher.image(repo, "c")
    index = pusher.index(repo, "multi")
    pusher.tag(index.children[0], "child")
    name = _name(registry, repo)
    before = pusher.tags(repo)
    with client_for(registry) as client:
        plan = client.plan_tag_deletes(Reference.parse(name), ["b", "c", "child", "multi", "gone"])
        assert plan.refused is not None and "delete is disabled" in plan.refused
        assert {p.action for p in plan.deletes} == {"refuse"}
        assert plan.not_found == ("gone",)
        assert plan_preview(plan).deleted == []
        with pytest.raises(UnsupportedError, match=r"delete is disabled.*nothing in .* changed"):
            client.execute_plan(plan)
        dry = client.delete_tags(name, ["a", "b", "c"], dry_run=True)
        assert dry.plan.refused is not None and dry.deleted == []
    with client_for(registry) as client, pytest.raises(UnsupportedError):
        client.delete_tags(name, ["b"])  # a fresh client, no cached answer
    assert pusher.tags(repo) == before
    assert pusher.exists(repo, image.digest) and pusher.exists(repo, index.digest)


def test_delete_disabled_fails_before_anything_changes(registry_no_delete: Registry) -> None:
    _assert_refused_before_any_change(registry_no_delete)


def test_delete_disabled_with_token_auth(registry_factory: RegistryFactory) -> None:
    _assert_refused_before_any_change(registry_factory(mode="token", delete_enabled=False))


# -- referrers -----------------------------------------------------------------------------


def _sign(registry: Registry, client: Client, subject: Pushed) -> str:
    pusher = Pusher(registry)
    pusher.blob(subject.repository, EMPTY_BLOB)
    layer = f"signed {subject.digest}".encode()
    pusher.blob(subject.repository, layer)
    raw = build_image_manifest(
        EMPTY_DESCRIPTOR,
        [Descriptor.of(layer, "text/plain")],
        subject=Descriptor(media_type=subject.media_type, digest=subject.digest, size=subject.size),
        artifact_type="application/vnd.example.signature.v1",
    )
    ref = f"{registry.host}/{subject.repository}@{subject.digest}"
    return client.attach_referrer(ref, raw, OCI_MANIFEST).digest


def test_referrers_go_with_removed_manifests_only(registry: Registry, client: Client) -> None:
    pusher = Pusher(registry)
    repo = _repo("referrers")
    first, second = pusher.image(repo, "first"), pusher.image(repo, "second")
    pusher.tag(second, "second-alias")
    sigs = {p.digest: _sign(registry, client, p) for p in (first, second)}
    name = _name(registry, repo)

    dry = client.delete_tags(name, ["first", "second"], delete_referrers=True, dry_run=True)
    real = client.delete_tags(name, ["first", "second"], delete_referrers=True)

    for result in (dry, real):
        assert result.deleted_manifests == [first.digest]
        assert [(r.subject, r.digest) for r in result.deleted_referrers] == [
            (first.digest, sigs[first.digest])
        ]
        assert result.deleted_fallback_tags == [fallback_tag(first.digest)]
    assert not pusher.exists(repo, sigs[first.digest])
    assert pusher.exists(repo, sigs[second.digest])  # second-alias keeps its subject
    assert pusher.tags(repo) == ["second-alias", fallback_tag(second.digest)]
    assert client.referrers(f"{name}@{second.digest}")[0].digest == sigs[second.digest]


def test_a_tagged_referrer_leaves_its_subjects_list(registry: Registry, client: Client) -> None:
    """A tagged signature: its subject's fallback index lists it only as bookkeeping, so its
    tag is its last, and deleting it takes it out of that list too (as ``delete_tag``)."""
    pusher = Pusher(registry)
    repo = _repo("tagged-sig")
    image = pusher.image(repo, "img")
    name = _name(registry, repo)
    sig = _sign(registry, client, image)
    client.put_manifest(f"{name}:sig", client.get_manifest(f"{name}@{sig}").raw, OCI_MANIFEST)

    result = client.delete_tags(name, ["sig"])

    assert _steps(result) == [("sig", "delete-digest")]
    assert result.deleted_manifests == [sig]
    assert not pusher.exists(repo, sig)
    assert client.referrers(f"{name}@{image.digest}") == []
    assert pusher.tags(repo) == sorted(["img", fallback_tag(image.digest)])


# -- what the batch is for -------------------------------------------------------------------


def test_ten_of_fifty_tags_read_the_graph_once(registry: Registry, client: Client) -> None:
    """50 tags: 39 images, 10 aliases, one index. Deleting 5 aliases (untag) and 5 lone
    tags (by digest) sends about one HEAD per tag plus a few, not 10 x 50."""
    pusher = Pusher(registry)
    repo = _repo("fifty")
    images = [pusher.image(repo, f"t{i:02}", layers=1, layer_size=64) for i in range(39)]
    for i in range(10):
        pusher.tag(images[i], f"alias{i}")
    index = pusher.index(repo, "multi")
    name = _name(registry, repo)
    assert len(pusher.tags(repo)) == 50
    chosen = [f"alias{i}" for i in range(5)] + [f"t{i:02}" for i in range(30, 35)]

    calls = count_requests(client)
    plan = client.plan_tag_deletes(name, chosen)
    planning = list(calls)
    result = client.execute_plan(plan)
    executing = calls[len(planning) :]

    reads = [c for c in planning if c[0] in ("GET", "HEAD")]
    # tags/list + 50 HEADs + the index + tokens; planning changes nothing
    assert len(reads) <= 50 + 10, reads
    assert [c for c in planning if c[0] not in ("GET", "HEAD", "DELETE")] == []
    # Execution re-verifies: a fresh survey (tags/list + 50 HEADs + the index), then per
    # step one HEAD of its tag, per delete-digest one tags/list, per untag one GET of the
    # manifest to put back if interrupted, and the placeholder's config blob.
    checks = [c for c in executing if c[0] in ("GET", "HEAD")]
    assert len(checks) <= 52 + 10 + 5 + 5 + 5, checks
    changes = [c for c in executing if c[0] not in ("GET", "HEAD")]
    # the deletability proof (empty blob POST + PUT, PUT + DELETE of a probe manifest),
    # then untag: PUT + DELETE; lone tag: DELETE
    assert len(changes) <= 4 + 2 * 5 + 5, "\n".join(f"{m} {u}" for m, u in changes)
    assert sorted(result.tags) == sorted(chosen)
    assert sorted(result.deleted_manifests) == sorted(images[i].digest for i in range(30, 35))
    left = pusher.tags(repo)
    assert len(left) == 40 and not set(chosen) & set(left)
    for i in range(10):
        assert pusher.exists(repo, images[i].digest)
    assert pusher.exists(repo, index.digest)


def test_snapshot_reused_by_the_plan_and_stale_tags(registry: Registry, client: Client) -> None:
    """A snapshot can be planned on again (selection code shares it); tags that went away
    before the run are reported, not failed on."""
    pusher = Pusher(registry)
    repo = _repo("snap")
    for tag in ("x", "y", "z"):
        pusher.image(repo, tag)
    name = Reference.parse(_name(registry, repo))
    graph = client.snapshot(name)
    assert sorted(graph.tags) == ["x", "y", "z"]
    plan: BatchPlan = client.plan_tag_deletes(name, ["x", "y", "nope"], graph=graph)
    assert plan.not_found == ("nope",)
    client.delete_tags(name, ["x"])  # someone else, meanwhile
    result = client.execute_plan(plan)
    assert result.tags == ["y"]
    assert sorted(result.not_found) == ["nope", "x"]
    assert pusher.tags(repo) == ["z"]
    with pytest.raises(ValueError, match="shared_digest"):
        client.plan_tag_deletes(name, ["z"], shared_digest="maybe", graph=graph)  # type: ignore[arg-type]
    with pytest.raises(NotFoundError):
        client.get_manifest(f"{name}:y")


# -- registries with the OCI tag DELETE (a fake: distribution 2.8 has none) ----------------


def test_oci_tag_delete_removes_only_the_tags(httpserver: HTTPServer) -> None:
    fake = _FakeRegistry(httpserver)
    digest = fake.push("a", _tiny_manifest(1))
    fake.push("b", _tiny_manifest(1))
    fake.push("c", _tiny_manifest(1))
    lone = fake.push("lone", _tiny_manifest(2))
    with Client(load_entrypoints=False) as client:
        result = client.delete_tags(f"http://localhost:{httpserver.port}/app", ["b", "lone"])
    assert _steps(result) == [("b", "tag-delete"), ("lone", "tag-delete")]
    assert result.deleted_manifests == []  # the registry's GC decides
    assert fake.tags == {"a": digest, "c": digest}
    assert digest in fake.manifests and lone in fake.manifests
    assert digest not in fake.deletes and lone not in fake.deletes  # never by digest


def test_tag_delete_that_takes_the_manifest_is_repaired(httpserver: HTTPServer) -> None:
    """Like zot before 2024: the first tag DELETE takes the manifest and its tags along, so
    they are pushed back, and the remaining tags go the way of distribution 2.x."""
    fake = _FakeRegistry(httpserver, tag_delete_takes_manifest=True)
    digest = fake.push("a", _tiny_manifest(1))
    fake.push("b", _tiny_manifest(1))
    fake.push("c", _tiny_manifest(1))
    other = fake.push("other", _tiny_manifest(2))
    with Client(load_entrypoints=False) as client:
        result = client.delete_tags(f"http://localhost:{httpserver.port}/app", ["a", "b"])
        assert client.remote.capabilities.tag_delete[f"localhost:{httpserver.port}"] is False
    assert _steps(result) == [("a", "tag-delete"), ("b", "untag")]
    assert "pushed back" in result.deleted[0].reason
    assert fake.tags == {"c": digest, "other": other}
    assert set(fake.manifests) == {digest, other}  # probe and placeholder gone


# -- the CLI -------------------------------------------------------------------------------


def _ocireg(*args: str, home: Path) -> subprocess.CompletedProcess[str]:
    env = cli_env({"HOME": str(home), "DOCKER_CONFIG": str(home / ".docker")})
    return subprocess.run(
        [sys.executable, "-m", "ocireg.cli", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )


def test_cli_delete_plans_several_tags_together(registry_open: Registry, tmp_path: Path) -> None:
    pusher = Pusher(registry_open)
    repo = _repo("cli")
    image = pusher.image(repo, "a")
    pusher.tag(image, "b")
    lone = pusher.image(repo, "lone")
    keep = pusher.image(repo, "keep")
    ref = _name(registry_open, repo)

    missing = _ocireg("delete", f"{ref}:a", f"{ref}:nope", home=tmp_path)
    assert missing.returncode == 3, missing.stderr
    assert "nope" in missing.stderr and "nothing was deleted" in missing.stderr
    assert pusher.tags(repo) == ["a", "b", "keep", "lone"]

    dry = _ocireg(
        "delete", f"{ref}:b", f"{ref}:lone", f"{ref}:a", "--dry-run", "--json", home=tmp_path
    )
    assert dry.returncode == 0, dry.stderr
    plans = json.loads(dry.stdout)["plans"]
    assert [(p["tag"], p["action"], p["executed"]) for p in plans] == [
        ("b", "delete-digest", False),  # a goes first (by name), so b is the last on the image
        ("lone", "delete-digest", False),
        ("a", "untag", False),
    ]
    assert set(plans[0]) >= {"ref", "tag", "digest", "action", "shared_with", "reached_by"}
    assert pusher.tags(repo) == ["a", "b", "keep", "lone"]

    real = _ocireg("delete", f"{ref}:b", f"{ref}:lone", f"{ref}:a", "--json", home=tmp_path)
    assert real.returncode == 0, real.stderr
    done = json.loads(real.stdout)["plans"]
    assert [(p["tag"], p["action"], p["executed"]) for p in done] == [
        (p["tag"], p["action"], True) for p in plans
    ]
    assert pusher.tags(repo) == ["keep"]
    assert not pusher.exists(repo, image.digest) and not pusher.exists(repo, lone.digest)
    assert pusher.exists(repo, keep.digest)
