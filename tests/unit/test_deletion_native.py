"""The deletion engine through registry-native APIs (:mod:`ocireg.deletion.native`), on the
in-memory registry's hosted flavours (:mod:`tests.fixtures.memregistry`): which mechanism
each step goes through (``via``), what is pushed back when an image goes with its last tag,
the /v2/ agreement a native 404 needs, listings instead of a ``HEAD`` per tag (and their
request counts), and retention's ``age_from``."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from ocireg import Client, RegistryError, SurveyError
from ocireg.deletion import BatchResult
from ocireg.deletion.placeholder import placeholder
from ocireg.errors import NotFoundError
from ocireg.mediatypes import OCI_MANIFEST
from ocireg.reference import Reference
from ocireg.registry_api import TagRecord
from ocireg.retention import InvalidSelectionError, TagInfo, gather, select
from tests.fixtures.memregistry import HOST, MemoryAPI, MemoryRegistry
from tests.unit.test_deletion_properties import Graph, build, check, memory_client

REPO = f"{HOST}/prop/app"


def _setup(flavour: str | None, graph: Graph) -> tuple[MemoryRegistry, Client, dict[str, str]]:
    registry = MemoryRegistry(flavour)
    client = memory_client(registry)
    return registry, client, build(client, REPO, graph, sized=True)


def _since(registry: MemoryRegistry, start: int) -> list[tuple[str, str]]:
    return registry.log[start:]


# -- planning: via, learnt, no probes ------------------------------------------------------


@pytest.mark.parametrize(
    ("flavour", "lone", "shared"),
    [
        (None, "registry-delete-digest", "untag"),
        ("tag-stays", "memory-tag-stays-delete", "memory-tag-stays-delete"),
        ("tag-takes-image", "memory-tag-takes-image-delete", "memory-tag-takes-image-delete"),
        ("manifest-only", "memory-version-delete", "untag+memory-version-delete"),
    ],
)
def test_each_step_names_its_mechanism(flavour: str | None, lone: str, shared: str) -> None:
    graph = Graph(2, (), (("a", "m0"), ("b", "m0"), ("c", "m1")))
    registry, client, _ = _setup(flavour, graph)
    with client:
        start = registry.count
        plan = client.plan_tag_deletes(REPO, ["a", "c"])
        sent = _since(registry, start)
        assert {p.tag: p.via for p in plan.deletes} == {"a": shared, "c": lone}
        assert plan.to_dict()["deletes"][0]["via"] == shared
        if flavour is None:
            assert any(m == "DELETE" for m, _ in sent)  # the probes
            return
        assert not any(m == "DELETE" for m, _ in sent), sent  # no probe
        assert registry.api is not None
        via = registry.api.tag_delete or registry.api.manifest_delete
        assert plan.learnt[0] == f"deletes through memory {flavour} API ({via})"
        assert plan.learnt[1].startswith(f"tags listed through memory {flavour} API")
        result = client.execute_plan(plan)
        assert result.tags == ["a", "c"] and [p.via for p in result.deleted] == [shared, lone]
        assert not any(m == "DELETE" for m, _ in _since(registry, start))


# -- tag-takes-image: what kept tags need is pushed back ----------------------------------


def test_an_image_that_goes_with_its_last_tag_is_pushed_back_for_a_kept_index() -> None:
    # a is the only tag on m0, which the index k keeps listing.
    graph = Graph(1, (("m0",),), (("a", "m0"), ("k", "i0")))
    registry, client, nodes = _setup("tag-takes-image", graph)
    with client:
        result = client.delete_tags(REPO, ["a"])
        check(client, REPO, graph, nodes, {"a"})
    (step,) = result.deleted
    assert step.via == "memory-tag-takes-image-delete"
    assert "along with the tag, so it was pushed back" in step.reason
    assert ("PUT", f"/v2/prop/app/manifests/{nodes['m0']}") in registry.log


def test_index_children_taken_along_are_pushed_back() -> None:
    # b's index i1 lists m1 (untagged); the kept index k2 (i2) lists m1 too. Deleting b
    # takes i1 and, at its harshest, m1 along.
    graph = Graph(2, (("m1",), ("m1", "m0")), (("b", "i0"), ("k2", "i1")))
    registry, client, nodes = _setup("tag-takes-image", graph)
    with client:
        result = client.delete_tags(REPO, ["b"])
        check(client, REPO, graph, nodes, {"b"})
    assert result.tags == ["b"]
    assert nodes["i0"] not in registry.repos["prop/app"].manifests  # it went, as it may
    assert ("PUT", f"/v2/prop/app/manifests/{nodes['m1']}") in registry.log


def test_a_lone_image_is_not_fetched_or_checked() -> None:
    graph = Graph(2, (), (("a", "m0"), ("b", "m1")))
    registry, client, nodes = _setup("tag-takes-image", graph)
    with client:
        plan = client.plan_tag_deletes(REPO, ["a"])
        start = registry.count
        client.execute_plan(plan)
    sent = _since(registry, start)
    assert not any(nodes["m0"] in path for _, path in sent), sent  # no GET, no HEAD after
    assert ("HEAD", "/v2/prop/app/manifests/a") in sent  # the re-check before


# -- a native 404 is believed only when /v2/ agrees ---------------------------------------


def _lying(api: MemoryAPI, method: str, *, really: bool) -> None:
    """Make ``api.<method>`` answer 404 (after doing it, with ``really``)."""
    original = getattr(api, method)

    def lie(*args: Any) -> None:
        if really:
            original(*args)
        raise NotFoundError("not found", status=404)

    setattr(api, method, lie)


def test_a_native_404_while_v2_still_has_the_tag_stops_the_run() -> None:
    graph = Graph(2, (), (("a", "m0"), ("b", "m1")))
    registry, client, nodes = _setup("tag-stays", graph)
    assert registry.api is not None
    _lying(registry.api, "delete_tag", really=False)
    with client:
        plan = client.plan_tag_deletes(REPO, ["a", "b"])
        result = BatchResult(plan)
        with pytest.raises(RegistryError, match="says tag a does not exist") as info:
            client.execute_plan(plan, result=result)
        assert info.value.status == 409
        assert result.deleted == [] and result.stopped is not None
        assert [n.tag for n in result.not_done] == ["a", "b"]
        check(client, REPO, graph, nodes, {"a", "b"})
    assert set(registry.repos["prop/app"].tags) == {"a", "b"}


def test_a_native_404_that_v2_agrees_with_is_already_gone() -> None:
    graph = Graph(2, (), (("a", "m0"), ("b", "m1")))
    registry, client, _ = _setup("manifest-only", graph)
    assert registry.api is not None
    _lying(registry.api, "delete_manifest", really=True)
    with client:
        result = client.delete_tags(REPO, ["a", "b"])
    assert result.deleted == [] and sorted(result.not_found) == ["a", "b"]
    assert registry.repos["prop/app"].tags == {}


def test_an_interrupted_untag_is_recovered_through_the_native_api() -> None:
    graph = Graph(1, (), (("a", "m0"), ("b", "m0")))
    registry, client, nodes = _setup("manifest-only", graph)
    with client:
        client.delete_tags(REPO, ["a"])  # proves deletability: the probe manifest is gone
        client.put_manifest(f"{REPO}:b", placeholder(nodes["m0"]), OCI_MANIFEST)  # a kill
        plan = client.plan_tag_deletes(REPO, [])
        assert plan.recover == ()  # nothing chosen: nothing surveyed
        plan = client.plan_tag_deletes(REPO, ["zzz"])
        assert [(p.tag, p.via) for p in plan.recover] == [("b", "memory-version-delete")]
        result = client.execute_plan(plan)
    assert result.recovered == ["b"] and registry.repos["prop/app"].tags == {}


# -- listings ------------------------------------------------------------------------------


@pytest.mark.parametrize("flavour", [None, "tag-stays"])
def test_a_listing_replaces_the_head_of_every_tag(flavour: str | None) -> None:
    registry = MemoryRegistry(flavour)
    with memory_client(registry) as client:
        build(
            client,
            REPO,
            Graph(2000, (), tuple((f"t{i:05}", f"m{i}") for i in range(2000))),
            sized=True,
        )
        start = registry.count
        graph = client.snapshot(REPO)
        sent = _since(registry, start)
    heads = sum(1 for m, _ in sent if m == "HEAD")
    assert len(graph.tags) == 2000
    if flavour is None:
        assert heads == 2000 and len(sent) == 2001  # the tag list and a HEAD per tag
        assert graph.listing is None and graph.records == {}
    else:
        assert sent == [("GET", "/v2/prop/app/tags/list"), ("API", "list_tags prop/app")]
        assert graph.listing == "memory-tag-stays-listing" and len(graph.records) == 2000


def test_listing_and_v2_disagreeing_are_asked_by_head() -> None:
    graph = Graph(3, (), (("a", "m0"), ("b", "m1"), ("c", "m2")))
    registry, client, nodes = _setup("tag-stays", graph)
    api = registry.api
    assert api is not None
    original = api.list_tags

    def partial(repository: Reference) -> list[TagRecord]:
        records = [r for r in original(repository) if r.tag != "a"]  # misses a
        return [*records, TagRecord("ghost", nodes["m1"], None, 99999, records[0].media_type)]

    api.list_tags = partial  # type: ignore[method-assign]
    with client:
        start = registry.count
        snap = client.snapshot(REPO)
    heads = Counter(p.rsplit("/", 1)[1] for m, p in _since(registry, start) if m == "HEAD")
    # a: /v2/ lists it, the listing does not; ghost: the other way round, and 404 (asked
    # again, then believed gone since /v2/ does not list it either).
    assert heads == {"a": 1, "ghost": 3}
    assert set(snap.tags) == {"a", "b", "c"} and snap.tags["a"].digest == nodes["m0"]
    assert set(snap.records) == {"b", "c"}


@pytest.mark.parametrize("bad", ["sha256:../../x", "md5:abc", "", "sha256:" + "0" * 63])
def test_a_listing_with_an_invalid_digest_stops_the_survey(bad: str) -> None:
    graph = Graph(1, (), (("a", "m0"),))
    registry, client, _ = _setup("tag-stays", graph)
    assert registry.api is not None
    registry.api.list_tags = lambda repository: [TagRecord("a", bad)]  # type: ignore[method-assign]
    with client, pytest.raises(SurveyError, match="invalid digest"):
        client.delete_tags(REPO, ["a"])
    assert "a" in registry.repos["prop/app"].tags


def test_a_listing_name_that_is_no_tag_stops_the_survey() -> None:
    graph = Graph(1, (), (("a", "m0"),))
    registry, client, nodes = _setup("tag-stays", graph)
    assert registry.api is not None
    registry.api.list_tags = lambda repository: [TagRecord("../a", nodes["m0"])]  # type: ignore[method-assign]
    with client, pytest.raises(SurveyError, match="no tag"):
        client.snapshot(REPO)


# -- retention: age_from -------------------------------------------------------------------


def test_age_from_pushed_needs_no_config_and_ranks_by_push_time() -> None:
    graph = Graph(3, (), (("b1", "m0"), ("b2", "m1"), ("b3", "m2")))
    registry, client, _ = _setup("tag-stays", graph)
    with client:
        snap = client.snapshot(REPO)
        start = registry.count
        infos = gather(client, Reference.parse(REPO), descriptors=snap.tags, records=snap.records)
        assert _since(registry, start) == []  # push times known: no config fetched
        created = gather(
            client,
            Reference.parse(REPO),
            descriptors=snap.tags,
            records=snap.records,
            age_from="created",
        )
        assert registry.count > start  # the configs, for created
    assert all(i.pushed is not None for i in infos) and all(i.created is None for i in created)
    newest = max(i.pushed for i in infos if i.pushed)
    now = newest + timedelta(hours=1, minutes=30)
    picked = select(infos, keep_latest=1, older_than=timedelta(hours=2), now=now)
    # pushed 3.5 h, 2.5 h and 1.5 h ago: b3 is the newest (kept), the two others too old
    assert picked.delete_tags == ["b1", "b2"]
    by_created = select(created, older_than=timedelta(hours=2), now=now, age_from="created")
    assert by_created.delete_tags == [] and {r for _, r in by_created.keep} == {"age unknown"}


def test_age_from_is_checked() -> None:
    with pytest.raises(InvalidSelectionError, match="age_from"):
        select([TagInfo("a", "d")], age_from="modified")
    when = datetime(2024, 1, 1, tzinfo=UTC)
    info = TagInfo("a", "d", created=when, pushed=when + timedelta(days=1))
    assert info.age() == info.pushed and info.age("created") == when
    assert TagInfo("a", "d", created=when).age() == when


# -- a native API that refuses a tag an index needs (real ECR) ------------------------------


def test_a_refused_native_tag_delete_is_done_as_an_untag() -> None:
    """ECR refuses to delete the last tag of an image an index lists
    (``ImageReferencedByManifestList``): the engine moves the tag to a placeholder and deletes
    that through the API instead; the index and its image stay."""
    graph = Graph(1, (("m0",),), (("a", "m0"), ("idx", "i0")))
    registry, client, nodes = _setup("refuses-listed", graph)
    with client:
        plan = client.plan_tag_deletes(REPO, ["a"])
        assert [(p.action, p.via) for p in plan.deletes] == [
            ("tag-delete", "memory-refuses-listed-delete")
        ]
        result = client.execute_plan(plan)
        assert [(p.tag, p.action, p.via) for p in result.deleted] == [
            ("a", "untag", "untag+memory-version-delete")
        ]
        assert (
            "refused to delete the tag while an index lists its image" in result.deleted[0].reason
        )
        assert "ImageReferencedByManifestList" in result.deleted[0].reason
        assert check(client, REPO, graph, nodes, {"a"}) == {"a": None}
    assert "DELETE" not in {m for m, _ in registry.log}, "nothing went through /v2/ DELETE"
