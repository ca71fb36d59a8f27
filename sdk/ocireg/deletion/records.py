"""The values the deletion engine hands out: plans (what will be done, and why) and
results (what was done, what was not, and why)."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from ..manifests import Manifest
from ..reference import Reference

if TYPE_CHECKING:
    from .graph import RepositoryGraph

__all__ = [
    "BatchPlan",
    "BatchResult",
    "DeleteAction",
    "DeletePlan",
    "NotDone",
    "ReferrerDelete",
    "SharedDigest",
]

DeleteAction = Literal["tag-delete", "delete-digest", "untag", "recover", "refuse", "skip"]
SharedDigest = Literal["untag", "skip", "fail"]


@dataclass(frozen=True, slots=True)
class DeletePlan:
    """What :func:`~ocireg.deletion.delete_tag` decided, and whether it was carried out.

    :ivar ref: the reference as given.
    :ivar tag: the tag to remove, ``None`` for a digest reference.
    :ivar digest: the manifest the tag (or reference) pointed at.
    :ivar action: ``tag-delete``, ``delete-digest``, ``untag``, ``refuse`` or ``skip`` (see
        the module docstring).
    :ivar shared_with: other tags on the same digest, sorted.
    :ivar reached_by: other tags whose index (or an index inside it) lists the digest.
    :ivar executed: ``True`` once the registry changed; always ``False`` for dry runs.
    :ivar reason: why this action, in words.
    :ivar placeholder: the digest of the tiny manifest used by ``untag`` (not compared).
    :ivar via: the mechanism that carries the action out (:mod:`~ocireg.deletion.native`):
        a registry-native API's name for it (``ecr-batch-delete-image``, ``untag+github-api``)
        or the Registry HTTP API's (``oci-tag-delete``, ``registry-delete-digest``,
        ``untag``); ``None`` for ``skip`` and ``refuse``.
    """

    ref: Reference
    tag: str | None
    digest: str
    action: DeleteAction
    shared_with: tuple[str, ...] = ()
    reached_by: tuple[str, ...] = ()
    executed: bool = False
    reason: str = ""
    placeholder: str | None = field(default=None, compare=False)
    via: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """Plain values for JSON output (CLI, Ansible)."""
        out = dataclasses.asdict(self)
        out["ref"] = str(self.ref)
        out["shared_with"], out["reached_by"] = list(self.shared_with), list(self.reached_by)
        return out


@dataclass(frozen=True, slots=True)
class ReferrerDelete:
    """A referrer deleted with its removed subject."""

    subject: str
    digest: str
    artifact_type: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


@dataclass(frozen=True, slots=True)
class BatchPlan:
    """What :func:`~ocireg.deletion.plan_tag_deletes` decided (see the module docstring).

    :ivar repository: the repository.
    :ivar shared_digest: the policy the plan was made with.
    :ivar deletes: the chosen tags to delete, in the order they are deleted, each with the
        action of its turn (``refuse`` everywhere when deletes are disabled).
    :ivar skipped: chosen tags left because a tag that stays needs their manifest
        (``skip``; ``refuse`` with ``shared_digest="fail"``); the reason names those tags.
    :ivar not_found: chosen tags that do not exist, in the order given.
    :ivar deleted_manifests: the manifests that go with their last tag, in order.
    :ivar referrers: with ``delete_referrers``, the referrers deleted with them.
    :ivar fallback_tags: referrers fallback tags left empty, deleted last.
    :ivar refused: why nothing can be deleted (deletes disabled), else ``None``.
    :ivar disabled_status: the registry's ``(status, error code)`` that said so.
    :ivar recover: tags an interrupted run left on one of our placeholders (in this
        repository, chosen or not): executing the plan finishes removing them.
    :ivar learnt: how the plan learnt what the registry allows (the probes, that probing was
        skipped, or the registry-native API it deletes through), in words.
    :ivar chosen: the tags asked for, in order, and :ivar delete_referrers: the option, so
        that execution can re-check the plan against the repository as it is then.
    :ivar subjects: manifests with ``subject`` among those deleted by digest, for the
        referrers bookkeeping (not compared).
    :ivar graph: the snapshot the plan was made on (not compared).
    """

    repository: Reference
    shared_digest: SharedDigest = "untag"
    deletes: tuple[DeletePlan, ...] = ()
    skipped: tuple[DeletePlan, ...] = ()
    not_found: tuple[str, ...] = ()
    deleted_manifests: tuple[str, ...] = ()
    referrers: tuple[ReferrerDelete, ...] = ()
    fallback_tags: tuple[DeletePlan, ...] = ()
    refused: str | None = None
    disabled_status: tuple[int, str] | None = None
    recover: tuple[DeletePlan, ...] = ()
    learnt: tuple[str, ...] = ()
    chosen: tuple[str, ...] = ()
    delete_referrers: bool = False
    subjects: Mapping[str, Manifest] = field(default_factory=dict, compare=False, repr=False)
    graph: RepositoryGraph | None = field(default=None, compare=False, repr=False)

    @property
    def tags(self) -> list[str]:
        """The chosen tags that are deleted, sorted."""
        return sorted(p.tag for p in self.deletes if p.tag is not None)

    @property
    def fails(self) -> bool:
        """Whether execution refuses: deletes disabled, or ``shared_digest="fail"`` with a
        tag whose manifest a staying tag needs."""
        return self.refused is not None or (self.shared_digest == "fail" and bool(self.skipped))

    def to_dict(self) -> dict[str, Any]:
        """Plain values for JSON output."""
        return {
            "repository": self.repository.repository,
            "shared_digest": self.shared_digest,
            "deletes": [p.to_dict() for p in self.deletes],
            "skipped": [p.to_dict() for p in self.skipped],
            "not_found": list(self.not_found),
            "deleted_manifests": list(self.deleted_manifests),
            "referrers": [r.to_dict() for r in self.referrers],
            "fallback_tags": [p.to_dict() for p in self.fallback_tags],
            "recover": [p.to_dict() for p in self.recover],
            "refused": self.refused,
            "learnt": list(self.learnt),
        }


@dataclass(frozen=True, slots=True)
class NotDone:
    """A planned step that was not carried out, and why (its premise no longer held when
    execution re-checked it, or the run stopped before it)."""

    tag: str | None
    digest: str
    reason: str

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


@dataclass
class BatchResult:
    """What was done (or, from :func:`~ocireg.deletion.preview`, what would be).

    Pass your own to :func:`~ocireg.deletion.execute` to see how far it got when it raises.

    :ivar deleted: the chosen tags' plans as carried out, in order.
    :ivar not_found: the plan's, plus tags found gone while deleting.
    :ivar deleted_manifests: manifests removed with their last chosen tag.
    :ivar deleted_referrers: referrers removed with their subject.
    :ivar deleted_fallback_tags: emptied referrers fallback tags removed.
    :ivar recovered: tags an earlier, interrupted run had left on a placeholder, now gone.
    :ivar not_done: steps not carried out, each with the reason.
    :ivar stopped: why the run stopped before its end (an interrupt, an error), else None.
    """

    plan: BatchPlan
    executed: bool = False
    deleted: list[DeletePlan] = field(default_factory=list)
    not_found: list[str] = field(default_factory=list)
    deleted_manifests: list[str] = field(default_factory=list)
    deleted_referrers: list[ReferrerDelete] = field(default_factory=list)
    deleted_fallback_tags: list[str] = field(default_factory=list)
    recovered: list[str] = field(default_factory=list)
    not_done: list[NotDone] = field(default_factory=list)
    stopped: str | None = None

    def __post_init__(self) -> None:
        for tag in self.plan.not_found:
            if tag not in self.not_found:
                self.not_found.append(tag)

    @property
    def tags(self) -> list[str]:
        """The chosen tags deleted, sorted."""
        return sorted(p.tag for p in self.deleted if p.tag is not None)

    def to_dict(self) -> dict[str, Any]:
        """Plain values for JSON output."""
        return {
            "repository": self.plan.repository.repository,
            "executed": self.executed,
            "deleted": [p.to_dict() for p in self.deleted],
            "skipped": [p.to_dict() for p in self.plan.skipped],
            "not_found": list(self.not_found),
            "deleted_manifests": list(self.deleted_manifests),
            "deleted_referrers": [r.to_dict() for r in self.deleted_referrers],
            "deleted_fallback_tags": list(self.deleted_fallback_tags),
            "recovered": list(self.recovered),
            "not_done": [n.to_dict() for n in self.not_done],
            "stopped": self.stopped,
        }
