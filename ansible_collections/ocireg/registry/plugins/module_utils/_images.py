# -*- coding: utf-8 -*-

# Copyright (c) ocireg contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# PRIVATE to the ocireg.registry collection: this may change or go away without notice.
# Do not import it from other collections.

"""Pointing tags and copying images (``registry_tag``, ``registry_image_copy``), on the
SDK's public ``Client`` methods (``head_manifest``, ``get_manifest``, ``put_manifest``,
``blob_exists``, ``copy``) and its image summary (``ocireg.summary``).

Check mode needs to know what a copy would move before anything moves; the SDK's
``Client.copy`` has no dry run, so :func:`preview` applies the copy's own rules with
read-only requests: every distinct blob of the manifests to write once, skipped when the
destination has it, mounted when source and destination are on one registry, else copied
(its bytes counted); foreign layers (with ``urls``) are never copied.
"""

from __future__ import annotations

import hashlib
import json

from ansible_collections.ocireg.registry.plugins.module_utils._sdk import (
    NotFoundError,
    Reference,
    summarize,
)

#: What an image summary returns in the modules' ``image`` key.
IMAGE_KEYS = ("digest", "media_type", "size", "created", "platforms")


def head_or_none(client, ref):
    """The descriptor of ``ref``, or None when there is no such manifest."""
    try:
        return client.head_manifest(ref)
    except NotFoundError:
        return None


def image_summary(client, ref):
    """The SDK's image summary of ``ref``, reduced to the keys the modules return."""
    summary = summarize(client, ref)
    data = summary.to_dict()
    out = dict((key, data[key]) for key in IMAGE_KEYS)
    out["platform_names"] = summary.platform_names()
    return out


def by_digest(ref, digest):
    """``ref``'s repository at ``digest`` (no tag)."""
    return Reference.parse("%s@%s" % (ref.repository, digest))


def children_of(manifest):
    """The child descriptors of an index, else ()."""
    return tuple(getattr(manifest, "manifests", ()) or ())


def _blobs(manifest):
    """Config and layers of an image manifest (what the SDK copies), else ()."""
    found = []
    config = getattr(manifest, "config", None)
    if config is not None:
        found.append(config)
    found.extend(getattr(manifest, "layers", ()) or ())
    return found


def preview(client, src, dst, manifests):
    """What copying ``manifests`` (parsed, from ``src``'s repository) to ``dst`` would do,
    without changing anything: the counts and bytes ``Client.copy`` reports."""
    seen = {}
    foreign = 0
    for manifest in manifests:
        for blob in _blobs(manifest):
            if blob.urls:
                foreign += 1
                continue
            seen.setdefault(blob.digest, blob)
    same_registry = src.domain == dst.domain
    same_repo = src.repository == dst.repository
    counts = dict(blobs_copied=0, blobs_mounted=0, blobs_skipped=foreign, bytes_transferred=0)
    for blob in seen.values():
        if same_repo or client.blob_exists(dst, blob.digest):
            counts["blobs_skipped"] += 1
        elif same_registry:
            counts["blobs_mounted"] += 1
        else:
            counts["blobs_copied"] += 1
            counts["bytes_transferred"] += blob.size
    return counts


def manifests_to_write(client, src, dst, top, children=None):
    """The manifests a copy of ``top`` (parsed, from ``src``) to ``dst`` writes: the
    children (all of an index's, or ``children``) the destination lacks, then ``top``."""
    out = []
    for child in children_of(top) if children is None else children:
        if head_or_none(client, by_digest(dst, child.digest)) is None:
            out.append(client.get_manifest(by_digest(src, child.digest)))
    out.append(top)
    return out


def filtered_index(index, platforms):
    """``(raw, digest, kept_children)``: an index of the same media type listing only the
    children of ``index`` that match one of ``platforms`` (a new manifest, so a new digest,
    the same on every run for the same source)."""
    doc = json.loads(index.raw)
    kept, entries = [], []
    for entry, child in zip(doc.get("manifests", []), children_of(index)):
        if child.platform is not None and any(child.platform.matches(p) for p in platforms):
            entries.append(entry)
            kept.append(child)
    doc["manifests"] = entries
    raw = json.dumps(doc, indent=2).encode("utf-8")
    return raw, "sha256:" + hashlib.sha256(raw).hexdigest(), kept


def add_counts(total, result):
    """Add a ``CopyResult``'s counts to ``total`` (a dict of the module's count keys)."""
    total["blobs_copied"] += result.blobs_copied
    total["blobs_mounted"] += result.blobs_mounted
    total["blobs_skipped"] += result.blobs_skipped
    total["bytes_transferred"] += result.bytes_transferred
    return total
