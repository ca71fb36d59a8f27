"""Safe deletion: remove exactly the tags asked for, never a manifest another tag still needs.

Why this is more than one ``DELETE``: distribution 2.x refuses ``DELETE`` by tag
(400 ``DIGEST_INVALID``) and deleting by digest removes *every* tag on that digest, the
footgun behind "renaming a tag deleted my image" (skopeo#795). Cleanup that deletes a
manifest still listed in a tagged index breaks multi-arch pulls, and regclient's untag
trick (point the tag at a dummy manifest, delete the dummy) leaves the tag moved when the
registry turns out to refuse deletes (regclient#258). So the engine first looks at the
graph, then picks the least destructive operation, and learns whether deletes work before
it changes anything.

One engine, in four parts:

* :mod:`.graph`: the snapshot of a repository (tags, digests, indexes) the rules decide on;
* :mod:`.plan`: the rules, once (tag-delete / delete-digest / untag / skip / refuse, the
  shared-digest policy, the order), producing a :class:`BatchPlan`;
* :mod:`.probe`: what the registry allows, cached on the wire layer;
* :mod:`.native`: the mechanism of each action (``via``): a registry-native API a plugin
  offers (:class:`~ocireg.registry_api.RegistryAPI`), or the Registry HTTP API; with a
  native listing, :mod:`.listing` replaces the survey's ``HEAD`` per tag;
* :mod:`.run`: carrying a plan out (:func:`execute`) or showing it (:func:`preview`),
  re-checking each step against the repository as it is then (:mod:`.verify`);
* :mod:`.records`: the plans and results handed out; :mod:`.placeholder`: untag's
  placeholders, recognisable so that a run killed mid-untag is finished by the next.

:func:`delete_tags` is ``execute(plan_tag_deletes(...))``; :func:`delete_tag` of a tag is
:func:`delete_tags` of one tag (:mod:`.single`), and only ``repo@digest`` has a path of its
own.
"""

from __future__ import annotations

from collections.abc import Iterable

from ..reference import Reference
from ..remote import Remote
from .graph import RepositoryGraph, snapshot
from .placeholder import PLACEHOLDER_ARTIFACT_TYPE
from .plan import plan_tag_deletes
from .records import (
    BatchPlan,
    BatchResult,
    DeleteAction,
    DeletePlan,
    NotDone,
    ReferrerDelete,
    SharedDigest,
)
from .run import execute, preview
from .single import delete_tag

__all__ = [
    "PLACEHOLDER_ARTIFACT_TYPE",
    "BatchPlan",
    "BatchResult",
    "DeleteAction",
    "DeletePlan",
    "NotDone",
    "ReferrerDelete",
    "RepositoryGraph",
    "SharedDigest",
    "delete_tag",
    "delete_tags",
    "execute",
    "plan_tag_deletes",
    "preview",
    "snapshot",
]


def delete_tags(
    remote: Remote,
    repository: Reference,
    tags: Iterable[str],
    *,
    shared_digest: SharedDigest = "untag",
    delete_referrers: bool = False,
    dry_run: bool = False,
) -> BatchResult:
    """:func:`plan_tag_deletes`, then :func:`execute` it (or :func:`preview`, dry run)."""
    plan = plan_tag_deletes(
        remote, repository, tags, shared_digest=shared_digest, delete_referrers=delete_referrers
    )
    return preview(plan) if dry_run else execute(remote, plan)
