# -*- coding: utf-8 -*-

# Copyright (c) ocireg contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# PRIVATE to the ocireg.registry collection: this may change or go away without notice.
# Do not import it from other collections.

"""Tag listing details and the tag deletion plan, on top of the ocireg SDK.

Selection (patterns, keep_latest, older_than) is the SDK's :mod:`ocireg.retention`, and each
tag is removed by the SDK's ``Client.delete_tag``, which never removes a manifest that
another tag still needs. What is added here is the plan over several tags:

1. every chosen tag gets a dry-run ``delete_tag`` plan (read-only requests only);
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
"""

from __future__ import annotations

import json
import re
from concurrent.futures import ThreadPoolExecutor

from ansible_collections.ocireg.registry.plugins.module_utils._sdk import (
    ImageIndex,
    ImageManifest,
    NotFoundError,
    OciregError,
    fallback_tag,
    read_blob,
    retention,
)

#: Tags of referrers fallback indexes (distribution spec, "Referrers Tag Schema").
FALLBACK_TAG = re.compile(r"[a-z0-9]{1,32}-[0-9a-f]{32,64}")
_CONFIG_LIMIT = 16 * 1024 * 1024
_WORKERS = 4


def _map(function, items, workers=_WORKERS):
    """``list(map(function, items))``, concurrently."""
    items = list(items)
    if len(items) <= 1:
        return [function(item) for item in items]
    with ThreadPoolExecutor(max_workers=min(workers, len(items))) as pool:
        return list(pool.map(function, items))


def filter_tags(tags, patterns, excludes):
    """Tags matching any of ``patterns`` (all when empty) and none of ``excludes`` (full match)."""
    infos = [retention.TagInfo(tag, "") for tag in tags]
    return retention.select(infos, patterns=patterns or (), excludes=excludes or ()).delete_tags


def list_tags(client, repo):
    """``(exists, tags)``; a repository the registry does not know has no tags."""
    try:
        return True, client.tags(repo)
    except NotFoundError:
        return False, []


# -- details -------------------------------------------------------------------------------


def _platform_text(os_name, architecture, variant):
    if not os_name or not architecture:
        return None
    return "/".join(p for p in (os_name, architecture, variant) if p)


def config_summary(config):
    """The useful part of an image config (``None`` when there is none)."""
    if not isinstance(config, dict):
        return None
    inner = config.get("config") or {}
    if not isinstance(inner, dict):
        inner = {}
    return dict(
        created=config.get("created"),
        os=config.get("os"),
        architecture=config.get("architecture"),
        variant=config.get("variant"),
        labels=inner.get("Labels") or {},
        env=inner.get("Env") or [],
        entrypoint=inner.get("Entrypoint"),
        cmd=inner.get("Cmd"),
    )


def read_config(client, repo, manifest):
    """The JSON config of an image manifest, or ``None`` (artifacts, non-JSON configs)."""
    try:
        data = read_blob(client, repo, manifest.config, limit=_CONFIG_LIMIT)
        config = json.loads(data)
    except (OciregError, ValueError):
        return None
    return config if isinstance(config, dict) else None


def image_summary(client, repo, digest):
    """Media type, platforms and creation time of the manifest ``digest``."""
    manifest = client.get_manifest(repo.with_digest(digest))
    platforms = []
    config = None
    if isinstance(manifest, ImageIndex):
        platforms = [
            str(child.platform) for child in manifest.manifests
            if child.platform is not None and child.platform.os != "unknown"
        ]
        try:
            config = client.image_config(repo.with_digest(digest))
        except OciregError:
            config = None  # an index of artifacts has no image config
    elif isinstance(manifest, ImageManifest):
        config = read_config(client, repo, manifest)
        text = _platform_text(*(config.get(k) for k in ("os", "architecture", "variant"))) if config else None
        platforms = [text] if text else []
    return dict(
        media_type=manifest.media_type,
        size=manifest.size,
        platforms=platforms,
        created=config.get("created") if config else None,
    )


def tag_details(client, repo, tags):
    """``(tag_details, images)``: per tag, and grouped by digest; one summary per digest."""
    descriptors = client.tag_descriptors(repo, tags)
    digests = sorted(set(d.digest for d in descriptors.values()))
    summaries = dict(zip(digests, _map(lambda d: image_summary(client, repo, d), digests)))
    rows = []
    images = {}
    for tag in tags:
        descriptor = descriptors.get(tag)
        if descriptor is None:
            continue  # deleted while we looked
        summary = summaries[descriptor.digest]
        row = dict(tag=tag, digest=descriptor.digest)
        row.update(summary)
        rows.append(row)
        image = images.setdefault(descriptor.digest, dict(digest=descriptor.digest, tags=[]))
        image["tags"].append(tag)
        image.update(summary)
    ordered = sorted(images.values(), key=lambda i: ((i["created"] or ""), i["digest"]), reverse=True)
    return rows, ordered


# -- deletion plan -------------------------------------------------------------------------


class TagDeletion(object):
    """The plan for one ``registry_tag_delete`` task, and carrying it out."""

    def __init__(self, client, repo, all_tags):
        self.client = client
        self.repo = repo
        self.all_tags = sorted(all_tags)
        self.plans = {}  # tag -> the SDK's dry-run DeletePlan
        self.order = []  # tags to delete, in the order they are deleted
        self.skipped = []
        self.not_found = []
        self.removed = []  # manifest digests that go with their last tag
        self.referrers = []  # dict(subject=, digest=, artifact_type=)
        self.fallback_tags = []  # referrers fallback tags left empty, deleted last

    # -- choosing ----------------------------------------------------------------------

    def choose_explicit(self, tags):
        present = set(self.all_tags)
        chosen = []
        for tag in tags:
            if tag in chosen or tag in self.not_found:
                continue
            (chosen if tag in present else self.not_found).append(tag)
        return chosen

    def choose_selection(self, patterns, excludes, keep_latest, older_than):
        age = retention.parse_age(older_than) if older_than is not None else None
        filter_tags([], patterns, excludes)  # bad expressions fail before any request
        candidates = [t for t in self.all_tags if not FALLBACK_TAG.fullmatch(t)]
        if keep_latest is None and older_than is None:
            infos = [retention.TagInfo(tag, "") for tag in candidates]
        else:  # digests and creation times: one HEAD per tag, one config per image
            infos = retention.gather(self.client, self.repo, candidates)
        selection = retention.select(
            infos, patterns=patterns or (), excludes=excludes or (), keep_latest=keep_latest, older_than=age
        )
        return selection.delete_tags

    # -- planning ----------------------------------------------------------------------

    def plan(self, chosen, shared_digest, delete_referrers):
        """Dry-run every chosen tag and decide; returns a refusal message or ``None``."""

        def dry_run(tag):
            try:
                return tag, self.client.delete_tag(self.repo.with_tag(tag), dry_run=True)
            except NotFoundError:
                return tag, None

        for tag, plan in _map(dry_run, chosen):
            if plan is None:
                self.not_found.append(tag)
            else:
                self.plans[tag] = plan
        refused = [p for p in self.plans.values() if p.action == "refuse"]
        if refused:
            return refused[0].reason
        going = set(self.plans)
        needers = {}
        while shared_digest != "untag":
            staying = {}
            for tag in sorted(going):
                plan = self.plans[tag]
                users = sorted(set(t for t in plan.shared_with + plan.reached_by if t not in going))
                if users:
                    staying[tag] = users
            needers.update(staying)
            going.difference_update(staying)
            # A skipped tag stays, and may need the manifest of another chosen tag.
            if not staying or shared_digest == "fail":
                break
        self.skipped = [
            dict(tag=tag, digest=self.plans[tag].digest,
                 reason="its manifest is still needed by %s" % ", ".join(needers[tag]))
            for tag in sorted(needers)
        ]
        self.order = self._ordered(going)
        self.removed = self._removed_manifests()
        if delete_referrers:
            self._plan_referrers()
        return None

    def _ordered(self, going):
        """Index tags before the tags of manifests they list; otherwise by name."""
        order = []
        seen = set()

        def visit(tag):
            if tag in seen:
                return
            seen.add(tag)
            for parent in sorted(self.plans[tag].reached_by):
                if parent in going:
                    visit(parent)
            order.append(tag)

        for tag in sorted(going):
            visit(tag)
        return order

    def _removed_manifests(self):
        done = set()
        removed = []
        for tag in self.order:
            plan = self.plans[tag]
            done.add(tag)
            if plan.action == "tag-delete":
                continue  # the registry deletes the tag by name; the manifest stays
            if any(t not in done for t in plan.shared_with + plan.reached_by):
                continue
            if plan.digest not in removed:
                removed.append(plan.digest)
        return removed

    def _plan_referrers(self):
        present = set(self.all_tags) - set(self.order)
        queue = list(self.removed)
        seen = set(queue)
        while queue:
            subject = queue.pop(0)
            try:
                found = self.client.referrers(self.repo.with_digest(subject))
            except NotFoundError:
                found = []
            all_go = True
            for descriptor in found:
                if descriptor.digest in seen:
                    continue
                plan = self.client.delete_tag(self.repo.with_digest(descriptor.digest), dry_run=True)
                if plan.action != "delete-digest":
                    all_go = False  # still tagged: it stays
                    continue
                seen.add(descriptor.digest)
                self.referrers.append(dict(subject=subject, digest=descriptor.digest,
                                           artifact_type=descriptor.artifact_type))
                queue.append(descriptor.digest)
            tag = fallback_tag(subject)
            if all_go and tag in present and tag not in self.fallback_tags:
                self.fallback_tags.append(tag)

    # -- results -------------------------------------------------------------------------

    def result(self):
        return dict(
            deleted=sorted(self.order),
            skipped=self.skipped,
            not_found=sorted(self.not_found),
            deleted_manifests=sorted(self.removed),
            deleted_referrers=self.referrers,
        )

    def diff(self):
        gone = set(self.order) | set(self.fallback_tags)
        return dict(
            before=dict(tags=list(self.all_tags)),
            after=dict(tags=[t for t in self.all_tags if t not in gone]),
        )

    # -- carrying it out -----------------------------------------------------------------

    def execute(self, progress):
        """Delete in the planned order; ``progress`` (a result dict) is kept up to date, so
        a failure half-way reports what was done."""
        done, removed, referrers = [], [], []
        progress.update(deleted=done, deleted_manifests=removed, deleted_referrers=referrers)
        for tag in self.order:
            try:
                plan = self.client.delete_tag(self.repo.with_tag(tag))
            except NotFoundError:
                self.not_found.append(tag)  # deleted meanwhile by someone else
                progress["not_found"] = sorted(self.not_found)
                continue
            done.append(tag)
            if plan.action == "delete-digest" and plan.digest not in removed:
                removed.append(plan.digest)
        for entry in self.referrers:
            try:
                self.client.delete_tag(self.repo.with_digest(entry["digest"]))
            except NotFoundError:
                continue
            referrers.append(entry)
        for tag in self.fallback_tags:
            try:
                self.client.delete_tag(self.repo.with_tag(tag))
            except NotFoundError:
                continue
        done.sort()
        removed.sort()
        return progress
