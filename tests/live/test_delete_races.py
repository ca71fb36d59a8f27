"""Plans go stale: execution re-checks them against the repository as it is then.

Each test plans a delete, changes the repository behind the plan's back (a tag pushed onto
a planned digest, a planned tag re-pushed to another image, an index that now lists the
planned digest, a tag pushed in the middle of the run), then executes the old plan: nothing
the new state needs may be deleted, and the result says what was not done and why. Also:
header digests are parsed before they become URLs, a plan shows how it learnt what the
registry allows, and a few graphs of the property test run on the real registry.
"""

from __future__ import annotations

import itertools
import json

import pytest
from pytest_httpserver import HTTPServer

from ocireg import Client, ManifestError, Reference
from ocireg.deletion import run as deletion_run
from tests.fixtures.clients import client_for
from tests.fixtures.images import OCI_MANIFEST, Pushed, Pusher
from tests.fixtures.registry import Registry
from tests.unit.test_deletion_properties import Graph, build, check

_COUNTER = itertools.count()


@pytest.fixture
def client(registry_open: Registry) -> Client:
    return client_for(registry_open)


def _setup(registry: Registry) -> tuple[Pusher, str, str, dict[str, Pushed]]:
    pusher = Pusher(registry)
    repo = f"races/r{next(_COUNTER)}"
    a = pusher.image(repo, "a1", layers=1, layer_size=32)
    pusher.tag(a, "a2")
    b = pusher.image(repo, "b", layers=1, layer_size=32)
    keep = pusher.image(repo, "keep", layers=1, layer_size=32)
    return pusher, repo, f"{registry.host}/{repo}", {"a": a, "b": b, "keep": keep}


def test_a_tag_pushed_onto_a_planned_digest_keeps_it(
    registry_open: Registry, client: Client
) -> None:
    pusher, repo, name, pushed = _setup(registry_open)
    plan = client.plan_tag_deletes(name, ["b"])
    assert [s.action for s in plan.deletes] == ["delete-digest"]
    pusher.tag(pushed["b"], "newcomer")
    result = client.execute_plan(plan)
    assert [s.action for s in result.deleted] == ["untag"]
    assert "now untag" in result.deleted[0].reason
    assert "b" not in pusher.tags(repo)
    assert pusher.exists(repo, "newcomer") and pusher.exists(repo, pushed["b"].digest)


def test_a_planned_tag_pushed_to_another_image_is_left_alone(
    registry_open: Registry, client: Client
) -> None:
    pusher, repo, name, pushed = _setup(registry_open)
    plan = client.plan_tag_deletes(name, ["b", "a1"])
    other = pusher.image(repo, "b", layers=1, layer_size=32)
    result = client.execute_plan(plan)
    assert result.tags == ["a1"]
    assert [(n.tag, n.digest) for n in result.not_done] == [("b", pushed["b"].digest)]
    assert f"now points at {other.digest}" in result.not_done[0].reason
    assert result.to_dict()["not_done"][0]["tag"] == "b"
    assert pusher.exists(repo, "b") and pusher.exists(repo, other.digest)


def test_an_index_listing_a_planned_digest_keeps_it(
    registry_open: Registry, client: Client
) -> None:
    pusher, repo, name, pushed = _setup(registry_open)
    plan = client.plan_tag_deletes(name, ["b"])
    b = pushed["b"]
    entry = {"mediaType": OCI_MANIFEST, "digest": b.digest, "size": b.size}
    doc = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json"}
    raw = json.dumps({**doc, "manifests": [entry]}).encode()
    pusher.manifest(repo, "bundle", raw, doc["mediaType"])
    result = client.execute_plan(plan)
    assert [s.action for s in result.deleted] == ["untag"]
    assert "b" not in pusher.tags(repo) and pusher.exists(repo, b.digest)


def test_a_tag_pushed_during_the_run_is_seen_before_delete_digest(
    registry_open: Registry, client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The push lands after the run's fresh survey: the check right before the DELETE
    re-reads the tag list and finds it."""
    pusher, repo, name, pushed = _setup(registry_open)
    plan = client.plan_tag_deletes(name, ["b"])
    reconcile = deletion_run.reconcile

    def and_then_a_push(*args: object, **kwargs: object) -> object:
        answer = reconcile(*args, **kwargs)  # type: ignore[arg-type]
        pusher.tag(pushed["b"], "late")
        return answer

    monkeypatch.setattr(deletion_run, "reconcile", and_then_a_push)
    result = client.execute_plan(plan)
    assert [s.action for s in result.deleted] == ["untag"]
    assert "late" in result.deleted[0].reason
    assert pusher.exists(repo, "late") and "b" not in pusher.tags(repo)


def test_a_plan_says_how_it_learnt_what_the_registry_allows(
    registry_open: Registry, client: Client
) -> None:
    _, _, name, _ = _setup(registry_open)
    plan = client.plan_tag_deletes(name, ["b"])
    learnt = " ".join(plan.learnt)
    assert "DELETE by tag does not work" in learnt and "DIGEST_INVALID" in learnt
    assert "deletes are enabled" in learnt
    blind = client_for(registry_open).plan_tag_deletes(name, ["b"], probe=False)
    assert "not probed" in blind.learnt[0]
    assert [s.action for s in blind.deletes] == ["delete-digest"]
    assert plan.to_dict()["learnt"] == list(plan.learnt)


def test_tag_at_digest_is_checked_at_execution(registry_open: Registry, client: Client) -> None:
    pusher, repo, name, pushed = _setup(registry_open)
    ref = Reference.parse(f"{name}:b@{pushed['b'].digest}")
    plan = client.delete_tag(ref, dry_run=True)
    assert plan.action == "delete-digest"
    pusher.image(repo, "b", layers=1, layer_size=32)  # b moves before the real call
    done = client.delete_tag(ref)
    assert done.action == "skip" and not done.executed
    assert pusher.exists(repo, "b")


@pytest.mark.parametrize(
    "bad",
    [
        "../../victim/manifests/sha256:" + "a" * 64,
        "sha256:../../../x",
        "md5:" + "a" * 32,
        "sha256:" + "A" * 64,
    ],
)
def test_a_header_digest_that_is_no_digest_never_becomes_a_url(
    httpserver: HTTPServer, bad: str
) -> None:
    httpserver.expect_request("/v2/").respond_with_data("{}")
    httpserver.expect_request("/v2/app/tags/list").respond_with_json({"name": "app", "tags": ["x"]})
    httpserver.expect_request("/v2/app/manifests/x", method="HEAD").respond_with_data(
        "", headers={"Docker-Content-Digest": bad, "Content-Type": OCI_MANIFEST}
    )
    host = f"localhost:{httpserver.port}"
    with (
        Client(load_entrypoints=False, plain_http=[host]) as c,
        pytest.raises(ManifestError, match="invalid Docker-Content-Digest"),
    ):
        c.delete_tags(f"{host}/app", ["x"])
    methods = [r.method for r, _ in httpserver.log]
    assert "DELETE" not in methods and "PUT" not in methods


@pytest.mark.parametrize(
    "graph",
    [
        Graph(2, ((("m0", "m1"),)), (("a", "m0"), ("b", "m1"), ("c", "i0"))),
        Graph(3, (("m0",), ("i0", "m1")), (("a", "m0"), ("b", "i1"), ("c", "m2"), ("d", "m1"))),
        Graph(1, (), (("a", "m0"), ("b", "m0"), ("c", "m0"))),
    ],
    ids=["index-of-two", "nested-index", "three-tags-one-image"],
)
@pytest.mark.parametrize("policy", ["untag", "skip"])
def test_property_graphs_on_the_real_registry(
    registry_open: Registry, client: Client, graph: Graph, policy: str
) -> None:
    repo = f"{registry_open.host}/races/g{next(_COUNTER)}"
    nodes = build(client, repo, graph)
    chosen = {"a", "b"}
    client.delete_tags(repo, sorted(chosen), shared_digest=policy)  # type: ignore[arg-type]
    where = check(client, repo, graph, nodes, chosen)
    if policy == "untag":
        assert all(d is None for d in where.values()), where
