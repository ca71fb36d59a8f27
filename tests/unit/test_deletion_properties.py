"""Deletion invariants over random repository graphs (hypothesis), against an in-memory
model of distribution 2.8 (:mod:`tests.fixtures.memregistry`) and of the three kinds of
hosted registry whose own API deletes and lists (``tag-stays``: Docker Hub, ACR, GitLab,
Harbor; ``tag-takes-image``: ECR; ``manifest-only``: GitHub), with and without a fault at
any request of the run (the index drawn among the requests a clean run of the same case
sends); a few of the same graphs run on the real registry in
``tests/live/test_delete_races.py``.

For every flavour, graph, selection and policy:

* every tag that was not selected still resolves to its original digest, and every
  manifest it reaches (through indexes, at any depth) still exists;
* every selected tag is gone or still on its original digest (never on a placeholder);
* without a fault and with ``shared_digest="untag"``, every selected tag is gone, and
  with ``"fail"`` either all go or (a kept tag needs one) none does;
* a rerun without a fault converges: the same invariants, no tag left on a placeholder, and
  with ``"untag"`` every selected tag gone;
* with a native API, every step's ``via`` names it, and no ``DELETE`` goes through /v2/.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ocireg import Client, OciregError, SharedDigestError
from ocireg.deletion import PLACEHOLDER_ARTIFACT_TYPE, BatchResult
from ocireg.manifests import EMPTY_BLOB, EMPTY_DESCRIPTOR, Descriptor, build_image_manifest
from ocireg.mediatypes import OCI_INDEX, OCI_LAYER_TAR_GZIP, OCI_MANIFEST
from tests.fixtures.memregistry import FLAVOURS, HOST, MemoryRegistry, digest_of, session_for

REPO = "prop/app"


@dataclass(frozen=True)
class Graph:
    """``images`` tiny manifests; ``indexes[i]`` lists images (by number) and earlier
    indexes (``"i<n>"``); ``tags`` maps a tag to ``"m<n>"`` or ``"i<n>"``."""

    images: int
    indexes: tuple[tuple[str, ...], ...]
    tags: tuple[tuple[str, str], ...]


@st.composite
def graphs(draw: st.DrawFn) -> Graph:
    images = draw(st.integers(1, 4))
    indexes: list[tuple[str, ...]] = []
    for i in range(draw(st.integers(0, 3))):
        pool = [f"m{n}" for n in range(images)] + [f"i{n}" for n in range(i)]
        indexes.append(
            tuple(draw(st.lists(st.sampled_from(pool), min_size=1, max_size=3, unique=True)))
        )
    targets = [f"m{n}" for n in range(images)] + [f"i{n}" for n in range(len(indexes))]
    names = draw(st.lists(st.sampled_from("abcdefgh"), min_size=1, max_size=6, unique=True))
    tags = tuple((name, draw(st.sampled_from(targets))) for name in names)
    return Graph(images, tuple(indexes), tags)


def build(client: Client, repo: str, graph: Graph, *, sized: bool = False) -> dict[str, str]:
    """Push ``graph``; returns the digest of every node (``m0``, ``i1``...). ``sized``: each
    image lists a 64 KiB layer that is never pushed (the in-memory model does not check),
    so that native listings size it as an image and not as a possible placeholder."""
    client.push_blob(repo, EMPTY_BLOB, digest=EMPTY_DESCRIPTOR.digest)
    nodes: dict[str, tuple[str, bytes, str]] = {}
    for n in range(graph.images):
        layers = (
            [Descriptor(media_type=OCI_LAYER_TAR_GZIP, digest=digest_of(b"%d" % n), size=65536)]
            if sized
            else []
        )
        raw = build_image_manifest(
            EMPTY_DESCRIPTOR, layers, annotations={"n": str(n)}, artifact_type="application/x.test"
        )
        nodes[f"m{n}"] = (digest_of(raw), raw, OCI_MANIFEST)
    for i, members in enumerate(graph.indexes):
        entries = [
            {"mediaType": nodes[m][2], "digest": nodes[m][0], "size": len(nodes[m][1])}
            for m in members
        ]
        doc = {"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": entries}
        raw = json.dumps(doc, separators=(",", ":")).encode()
        nodes[f"i{i}"] = (digest_of(raw), raw, OCI_INDEX)
    for digest, raw, kind in nodes.values():
        client.put_manifest(f"{repo}@{digest}", raw, kind)
    for tag, node in graph.tags:
        client.put_manifest(f"{repo}:{tag}", nodes[node][1], nodes[node][2])
    return {name: digest for name, (digest, _, _) in nodes.items()}


def reached(graph: Graph, node: str) -> Iterator[str]:
    yield node
    if node.startswith("i"):
        for member in graph.indexes[int(node[1:])]:
            yield from reached(graph, member)


def check(
    client: Client, repo: str, graph: Graph, nodes: dict[str, str], chosen: set[str]
) -> dict[str, str | None]:
    """The invariants; returns where each selected tag is now (None: gone)."""
    now: dict[str, str | None] = {}
    for tag, _ in graph.tags:
        try:
            now[tag] = client.head_manifest(f"{repo}:{tag}").digest
        except OciregError:
            now[tag] = None
    for tag, node in graph.tags:
        if tag in chosen:
            assert now[tag] in (None, nodes[node]), f"selected {tag} moved to {now[tag]}"
            continue
        assert now[tag] == nodes[node], f"kept tag {tag} lost its image"
        for needed in reached(graph, node):
            client.head_manifest(f"{repo}@{nodes[needed]}")  # raises if it is gone
    return {t: now[t] for t in chosen}


def memory_client(registry: MemoryRegistry) -> Client:
    return Client(
        load_entrypoints=False,
        session=session_for(registry),
        plain_http=[HOST],
        max_workers=1,
        plugins=[registry.plugin()] if registry.api is not None else [],
        max_retry_wait=0.0,
    )


def _run(
    registry: MemoryRegistry, graph: Graph, chosen: set[str], policy: str, fault_at: int = 0
) -> tuple[dict[str, str], BatchResult | None, Exception | None, int]:
    """Build ``graph``, delete ``chosen`` (request ``fault_at`` of the delete failing);
    ``(nodes, result, what it raised, requests the delete sent)``."""
    repo = f"{HOST}/{REPO}"
    with memory_client(registry) as client:
        nodes = build(client, repo, graph, sized=registry.api is not None)
        start = registry.count
        if fault_at:
            registry.fail_at = start + fault_at
        result: BatchResult | None = None
        raised: Exception | None = None
        try:
            result = client.delete_tags(repo, sorted(chosen), shared_digest=policy)  # type: ignore[arg-type]
        except OciregError as exc:
            raised = exc
        registry.fail_at = 0
        return nodes, result, raised, registry.count - start


def _placeholder_tags(registry: MemoryRegistry) -> list[str]:
    repo = registry.repos[REPO]
    return [
        tag
        for tag, digest in repo.tags.items()
        if json.loads(repo.manifests[digest][0]).get("artifactType") == PLACEHOLDER_ARTIFACT_TYPE
    ]


@pytest.mark.parametrize("flavour", [None, *FLAVOURS])
@settings(max_examples=75, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    graph=graphs(),
    data=st.data(),
    policy=st.sampled_from(["untag", "skip", "fail"]),
    fault=st.sampled_from([None, 404, 500]),
)
def test_kept_tags_keep_their_images(
    flavour: str | None, graph: Graph, data: st.DataObject, policy: str, fault: int | None
) -> None:
    names = [t for t, _ in graph.tags]
    chosen = set(data.draw(st.lists(st.sampled_from(names), max_size=len(names), unique=True)))
    fault_at = 0
    if fault is not None:  # a request of this very run: count a clean one first
        sent = _run(MemoryRegistry(flavour), graph, chosen, policy)[3]
        fault_at = data.draw(st.integers(1, max(sent, 1)))
    registry = MemoryRegistry(flavour)
    registry.fail_with = fault or 0
    nodes, result, raised, _ = _run(registry, graph, chosen, policy, fault_at)
    repo = f"{HOST}/{REPO}"
    with memory_client(registry) as client:
        where = check(client, repo, graph, nodes, chosen)
        if fault is None and policy == "untag":
            assert raised is None and all(d is None for d in where.values()), where
        if fault is None and policy == "fail":
            gone = {t for t, d in where.items() if d is None}
            assert gone in (set(), chosen), (gone, chosen)
            assert (raised is None) == (gone == chosen) or not chosen
            if raised is not None:
                assert isinstance(raised, SharedDigestError)
        if registry.api is not None:
            assert "DELETE" not in {m for m, _ in registry.log}, registry.log
            if result is not None:
                vias = {p.via for p in result.deleted}
                assert vias <= _native_vias(registry), vias
        # A rerun without a fault converges.
        try:
            client.delete_tags(repo, sorted(chosen), shared_digest=policy)  # type: ignore[arg-type]
        except SharedDigestError:
            assert policy == "fail"
        where = check(client, repo, graph, nodes, chosen)
    assert _placeholder_tags(registry) == []
    if policy == "untag":
        assert all(d is None for d in where.values()), where


def _native_vias(registry: MemoryRegistry) -> set[str | None]:
    """Every ``via`` a step may name with the registry's native API (never /v2/'s)."""
    api = registry.api
    assert api is not None
    vias: set[str | None] = {api.tag_delete, api.manifest_delete}
    if api.manifest_delete:
        vias.add(f"untag+{api.manifest_delete}")
    return vias - {None}
