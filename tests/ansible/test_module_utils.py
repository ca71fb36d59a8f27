"""The collection's deletion planning (``module_utils/_tags.py``) in-process, with a fake
client that follows the SDK's ``delete_tag`` rules on a small manifest graph: orders and
predictions the live registry tests cannot easily build (nested indexes)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import pytest

pytest.importorskip("ansible.module_utils.basic")

from ansible_collections.ocireg.registry.plugins.module_utils import _tags
from ocireg import NotFoundError, Reference
from ocireg.delete import DeletePlan


@dataclass
class FakeClient:
    """Tags -> digests, and index digests -> the digests they list."""

    tags: dict[str, str]
    children: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    deleted: list[str] = field(default_factory=list)

    def _reaches(self, root: str, digest: str) -> bool:
        kids = self.children.get(root, ())
        return digest in kids or any(self._reaches(k, digest) for k in kids)

    def delete_tag(self, ref: Reference, *, dry_run: bool = False) -> DeletePlan:
        assert ref.tag is not None
        if ref.tag not in self.tags:
            raise NotFoundError(f"{ref.tag} not found", status=404)
        digest = self.tags[ref.tag]
        others = {t: d for t, d in self.tags.items() if t != ref.tag}
        shared = tuple(sorted(t for t, d in others.items() if d == digest))
        reached = tuple(
            sorted(t for t, d in others.items() if d != digest and self._reaches(d, digest))
        )
        action = "untag" if shared or reached else "delete-digest"
        plan = DeletePlan(ref, ref.tag, digest, action, shared, reached)  # type: ignore[arg-type]
        if not dry_run:
            del self.tags[ref.tag]
            self.deleted.append(ref.tag)
            plan = DeletePlan(ref, ref.tag, digest, action, shared, reached, executed=True)  # type: ignore[arg-type]
        return plan

    def referrers(self, ref: Reference) -> list[Any]:
        return []


REPO = Reference.parse("127.0.0.1:5000/team/app")


def _plan(client: FakeClient, chosen: list[str], shared_digest: str = "untag") -> Any:
    job = _tags.TagDeletion(client, REPO, list(client.tags))
    assert job.plan(job.choose_explicit(chosen), shared_digest, False) is None
    return job


def test_nested_indexes_are_deleted_outermost_first() -> None:
    client = FakeClient(
        tags={"c": "sha256:c", "i": "sha256:i", "o": "sha256:o", "keep": "sha256:k"},
        children={"sha256:o": ("sha256:i",), "sha256:i": ("sha256:c",)},
    )
    job = _plan(client, ["c", "i", "o"])
    assert job.order == ["o", "i", "c"]
    assert sorted(job.removed) == ["sha256:c", "sha256:i", "sha256:o"]
    progress: dict[str, Any] = {}
    job.execute(progress)
    assert client.deleted == ["o", "i", "c"]
    assert progress["deleted"] == ["c", "i", "o"]
    assert progress["deleted_manifests"] == sorted(job.removed)  # prediction == outcome


def test_a_kept_index_keeps_its_children() -> None:
    client = FakeClient(
        tags={"c": "sha256:c", "i": "sha256:i", "o": "sha256:o"},
        children={"sha256:o": ("sha256:i",), "sha256:i": ("sha256:c",)},
    )
    job = _plan(client, ["c", "i"])
    assert job.removed == []  # o stays and lists i, which lists c
    skip = _plan(client, ["c", "i"], "skip")
    assert [s["tag"] for s in skip.skipped] == ["c", "i"]
    assert skip.order == []
    assert "o" in skip.skipped[0]["reason"]


def test_a_group_of_tags_on_one_image_takes_it_with_the_last() -> None:
    client = FakeClient(tags={"a": "sha256:x", "b": "sha256:x", "c": "sha256:x"})
    job = _plan(client, ["b", "a"])
    assert job.order == ["a", "b"]
    assert job.removed == []  # c stays
    job = _plan(client, ["a", "b", "c", "gone"])
    assert job.removed == ["sha256:x"]
    assert job.not_found == ["gone"]
    progress: dict[str, Any] = {}
    job.execute(progress)
    assert progress["deleted_manifests"] == ["sha256:x"]
    assert client.tags == {}


def test_fallback_tags_are_never_selected() -> None:
    fallback = "sha256-" + "ab" * 32
    client = FakeClient(tags={"v1": "sha256:1", fallback: "sha256:f"})
    job = _tags.TagDeletion(client, REPO, list(client.tags))
    assert job.choose_selection([".*"], None, None, None) == ["v1"]
    assert job.choose_explicit([fallback]) == [fallback]


@pytest.mark.parametrize(
    ("patterns", "excludes", "expected"),
    [
        ([], [], ["1.0", "1.0-rc1", "latest", "v2"]),
        (["1\\..*"], [], ["1.0", "1.0-rc1"]),
        (["1\\..*"], [".*-rc.*"], ["1.0"]),
        (["v"], [], []),  # a pattern must match the whole tag
    ],
    ids=["all", "pattern", "exclude", "full-match"],
)
def test_filter_tags(patterns: list[str], excludes: list[str], expected: list[str]) -> None:
    assert _tags.filter_tags(["1.0", "1.0-rc1", "latest", "v2"], patterns, excludes) == expected
