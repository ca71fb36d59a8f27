# -*- coding: utf-8 -*-

# Copyright (c) ocireg contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# PRIVATE to the ocireg.registry collection: this may change or go away without notice.
# Do not import it from other collections.

"""Tag listing details and the tag deletion plan, on top of the ocireg SDK.

The image summaries are the SDK's :mod:`ocireg.summary` (shared with ``ocireg inspect`` and
``ocireg tags --details``). Selection (patterns, keep_latest, older_than) is the SDK's
:mod:`ocireg.retention`, and the plan over several tags is the SDK's
(``Client.snapshot``, ``Client.plan_tag_deletes``, ``Client.execute_plan``, shared with the
``ocireg`` CLI), which reads the repository's graph once and never removes a manifest that a
tag that stays still needs. In short:

1. the graph is read once (every tag's descriptor, every tagged index) and every chosen tag
   is decided on it, with read-only requests only;
2. a refusal (deletes disabled on the registry) fails the task before anything changed;
3. ``shared_digest`` decides about tags whose manifest a tag that stays still needs (same
   digest, or listed by a kept index): delete the tag only (``untag``), leave it
   (``skip``, repeated until no skipped tag changes the answer), or fail;
4. the order: an index tag before the tags of the manifests it lists, so that deleting both
   removes both manifests; otherwise by name;
5. which manifests really go: a tag's manifest is removed when no tag that is still there
   at its turn needs it. Check mode reports exactly this prediction, and the real run
   carries the same order out, so both report the same result;
6. with ``delete_referrers``, the referrers (signatures, SBOMs) of the removed manifests,
   found before anything is deleted, and their emptied referrers fallback tags.

What is added here is the module's view: the selection, the result keys and the diff.
"""

from __future__ import annotations

from ansible_collections.ocireg.registry.plugins.module_utils._sdk import (
    BatchResult,
    NotFoundError,
    SharedDigestError,
    UnsupportedError,
    is_fallback_tag,
    retention,
    summarize_tags,
)


def filter_names(names, patterns, excludes, match="full"):
    """The SDK's selection of ``names`` (tags, repositories): those matching any of
    ``patterns`` (all when empty) and none of ``excludes``; see ``ocireg.retention``."""
    return retention.filter_names(names, patterns=patterns or (), excludes=excludes or (), match=match)


def filter_tags(tags, patterns, excludes, match="full"):
    """The names :func:`filter_names` selects."""
    return filter_names(tags, patterns, excludes, match).delete_tags


def selection_report(selection, order="version"):
    """Per tag, whether the selection chose it, why, and the pattern that selected or
    protected it (None when no pattern was involved), in ``order``."""
    rows = {}
    for info in selection.delete:
        rows[info.tag] = dict(tag=info.tag, selected=True, reason="selected", pattern=selection.matched.get(info.tag))
    for info, why in selection.keep:
        rows[info.tag] = dict(tag=info.tag, selected=False, reason=why, pattern=selection.matched.get(info.tag))
    return [rows[tag] for tag in retention.sort_tags(rows, order)]


def list_tags(client, repo):
    """``(exists, tags)``; a repository the registry does not know has no tags."""
    try:
        return True, client.tags(repo)
    except NotFoundError:
        return False, []


# -- details -------------------------------------------------------------------------------


def tag_details(client, repo, tags):
    """``(tag_details, images)``: per tag, and grouped by digest; one summary per digest."""
    rows = []
    images = {}
    for tag, summary in summarize_tags(client, repo, tags).items():
        data = summary.to_dict()
        details = dict(
            media_type=summary.media_type,
            size=summary.size,
            platforms=data["platforms"],
            platform_names=summary.platform_names(),
            created=summary.created,
        )
        row = dict(tag=tag, digest=summary.digest)
        row.update(details)
        rows.append(row)
        image = images.setdefault(summary.digest, dict(digest=summary.digest, tags=[]))
        image["tags"].append(tag)
        image.update(details)
    ordered = sorted(images.values(), key=lambda i: ((i["created"] or ""), i["digest"]), reverse=True)
    return rows, ordered


# -- deletion plan -------------------------------------------------------------------------


class TagDeletion(object):
    """The plan for one ``registry_tag_delete`` task, and carrying it out."""

    def __init__(self, client, repo, all_tags, sort="version"):
        self.client = client
        self.repo = repo
        self.sort = sort  # how tag lists are reported (ocireg.retention.sort_tags)
        self.all_tags = retention.sort_tags(all_tags, sort if sort != "none" else "text")
        self.batch = None  # the SDK's BatchPlan
        self.graph = None  # the SDK's RepositoryGraph, read once
        self.order = []  # tags to delete, in the order they are deleted
        self.kept_shared = []
        self.not_found = []
        self.removed = []  # manifest digests that go with their last tag
        self.referrers = []  # dict(subject=, digest=, artifact_type=)
        self.fallback_tags = []  # referrers fallback tags left empty, deleted last

    def _graph(self):
        if self.graph is None:
            self.graph = self.client.snapshot(self.repo, self.all_tags)
        return self.graph

    # -- choosing ----------------------------------------------------------------------

    def choose_explicit(self, tags):
        present = set(self.all_tags)
        chosen = []
        for tag in tags:
            if tag in chosen or tag in self.not_found:
                continue
            (chosen if tag in present else self.not_found).append(tag)
        return chosen

    def choose_selection(self, patterns, excludes, keep_latest, older_than, match="full", age_from=None):
        """The SDK's selection (``ocireg.retention.Selection``) among the repository's tags;
        ``age_from``: what the ages go by (``ocireg.retention``: created, pushed, or None)."""
        age = retention.parse_age(older_than) if older_than is not None else None
        filter_tags([], patterns, excludes, match)  # bad expressions fail before any request
        candidates = [t for t in self.all_tags if not is_fallback_tag(t)]
        if keep_latest is None and older_than is None:
            infos = [retention.TagInfo(tag, "") for tag in candidates]
        else:  # digests from the graph (one HEAD per tag, reused by the plan), one config per image
            graph = self._graph()
            infos = retention.gather(
                self.client, self.repo, candidates, descriptors=graph.tags, records=graph.records, age_from=age_from,
            )
        selection = retention.select(
            infos, patterns=patterns or (), excludes=excludes or (), keep_latest=keep_latest, older_than=age,
            match=match, age_from=age_from,
        )
        return selection

    # -- planning ----------------------------------------------------------------------

    def plan(self, chosen, shared_digest, delete_referrers, probe=True):
        """Plan every chosen tag with the SDK.

        Returns ``None``, or the SDK's exception saying why the plan cannot be carried out
        (:class:`ocireg.UnsupportedError`: deletes are disabled;
        :class:`ocireg.SharedDigestError`: ``shared_digest=fail`` met a tag that a kept tag
        needs). Either way nothing was changed.
        """
        batch = self.client.plan_tag_deletes(
            self.repo, chosen, shared_digest=shared_digest,
            delete_referrers=delete_referrers, graph=self._graph() if chosen else None, probe=probe,
        )
        self.batch = batch
        self.not_found.extend(t for t in batch.not_found if t not in self.not_found)
        if batch.refused is not None:
            return self._refusal(batch)
        self.order = [step.tag for step in batch.deletes]
        self.kept_shared = [dict(tag=step.tag, digest=step.digest, reason=step.reason) for step in batch.skipped]
        self.removed = list(batch.deleted_manifests)
        self.referrers = [referrer.to_dict() for referrer in batch.referrers]
        self.fallback_tags = [step.tag for step in batch.fallback_tags]
        if batch.fails:
            return SharedDigestError(batch)
        return None

    def _refusal(self, batch):
        """The SDK's error for a plan it refuses to carry out (deletes disabled): executing
        such a plan raises before any request that changes something."""
        try:
            self.client.execute_plan(batch)
        except (UnsupportedError, SharedDigestError) as exc:
            return exc
        raise AssertionError("the SDK carried out a refused plan")  # pragma: no cover

    # -- results -------------------------------------------------------------------------

    def _tags(self, tags):
        """Tags in the reported order (``none``: the order of deletion, else the sort)."""
        return retention.sort_tags(tags, self.sort)

    def result(self):
        batch = self.batch
        return dict(
            deleted=self._tags(self.order),
            kept_shared=self.kept_shared,
            not_found=self._tags(self.not_found),
            deleted_manifests=sorted(self.removed),
            deleted_referrers=self.referrers,
            recovered=self._tags(step.tag for step in batch.recover) if batch is not None else [],
            not_done=[],
            via={step.tag: step.via for step in batch.deletes if step.via} if batch is not None else {},
            learnt=list(batch.learnt) if batch is not None else [],
        )

    def diff(self):
        gone = set(self.order) | set(self.fallback_tags)
        return dict(
            before=dict(tags=list(self.all_tags)),
            after=dict(tags=[t for t in self.all_tags if t not in gone]),
        )

    # -- carrying it out -----------------------------------------------------------------

    def execute(self, progress):
        """Delete in the planned order; ``progress`` (a result dict) says what was done,
        also when a failure stops the run half-way."""
        done = BatchResult(self.batch)
        progress.update(deleted=[], deleted_manifests=[], deleted_referrers=[], recovered=[])
        try:
            self.client.execute_plan(self.batch, result=done)
        finally:
            for tag in done.not_found:  # deleted meanwhile by someone else
                if tag not in self.not_found:
                    self.not_found.append(tag)
            progress.update(
                deleted=self._tags(step.tag for step in done.deleted),
                deleted_manifests=sorted(done.deleted_manifests),
                deleted_referrers=[referrer.to_dict() for referrer in done.deleted_referrers],
                not_found=self._tags(self.not_found),
                recovered=self._tags(done.recovered),
                not_done=[item.to_dict() for item in done.not_done],
                via={step.tag: step.via for step in done.deleted if step.via},
            )
            if done.stopped:
                progress["stopped"] = done.stopped
        return progress
