"""Deletion invariants over random repository graphs (hypothesis), against an in-memory
model of distribution 2.8 (:mod:`tests.fixtures.memregistry`), with and without a fault at a
random request; a few of the same graphs run on the real registry in
``tests/live/test_delete_races.py``.

For every graph, selection and policy:

* every tag that was not selected still resolves to its original digest, and every
  manifest it reaches (through indexes, at any depth) still exists;
* every selected tag is gone or still on its original digest (never on a placeholder);
* without a fault and with ``shared_digest="untag"``, every selected tag is gone, and
  with ``"fail"`` either all go or (a kept tag needs one) none does.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ocireg import Client, OciregError, SharedDigestError
from ocireg.manifests import EMPTY_BLOB, EMPTY_DESCRIPTOR, build_image_manifest
from ocireg.mediatypes import OCI_INDEX, OCI_MANIFEST
from tests.fixtures.memregistry import HOST, MemoryRegistry, digest_of, session_for

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


def build(client: Client, repo: str, graph: Graph) -> dict[str, str]:
    """Push ``graph``; returns the digest of every node (``m0``, ``i1``...)."""
    client.push_blob(repo, EMPTY_BLOB, digest=EMPTY_DESCRIPTOR.digest)
    nodes: dict[str, tuple[str, bytes, str]] = {}
    for n in range(graph.images):
        raw = build_image_manifest(
            EMPTY_DESCRIPTOR, [], annotations={"n": str(n)}, artifact_type="application/x.test"
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


def _client(registry: MemoryRegistry) -> Client:
    return Client(
        load_entrypoints=False, session=session_for(registry), plain_http=[HOST], max_workers=1
    )


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    graph=graphs(),
    data=st.data(),
    policy=st.sampled_from(["untag", "skip", "fail"]),
    fault=st.sampled_from([None, 404, 500]),
)
def test_kept_tags_keep_their_images(
    graph: Graph, data: st.DataObject, policy: str, fault: int | None
) -> None:
    registry = MemoryRegistry()
    names = [t for t, _ in graph.tags]
    chosen = set(data.draw(st.lists(st.sampled_from(names), max_size=len(names), unique=True)))
    with _client(registry) as client:
        repo = f"{HOST}/{REPO}"
        nodes = build(client, repo, graph)
        if fault is not None:
            registry.fail_at = registry.count + data.draw(st.integers(1, 60))
            registry.fail_with = fault
        raised: Exception | None = None
        try:
            client.delete_tags(repo, sorted(chosen), shared_digest=policy)  # type: ignore[arg-type]
        except OciregError as exc:
            raised = exc
        registry.fail_at = 0
        where = check(client, repo, graph, nodes, chosen)
    if fault is None and policy == "untag":
        assert raised is None and all(d is None for d in where.values()), where
    if fault is None and policy == "fail":
        gone = {t for t, d in where.items() if d is None}
        assert gone in (set(), chosen), (gone, chosen)
        assert (raised is None) == (gone == chosen) or not chosen
        if raised is not None:
            assert isinstance(raised, SharedDigestError)
