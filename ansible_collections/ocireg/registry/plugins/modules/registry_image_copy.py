#!/usr/bin/python
# -*- coding: utf-8 -*-

# Copyright (c) ocireg contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: registry_image_copy
short_description: Copy an image or a multi-platform index between repositories or registries
version_added: 0.1.0
description:
  - Copies the image or index O(source) names to O(destination), with the ocireg SDK's C(Client.copy)
    - the bytes of every manifest exactly as served, so an index keeps its digest; every distinct
    blob once, skipped when the destination has it, mounted when both are on one registry, else
    streamed from the source into the destination without a temporary file.
  - Blobs go first, then the manifests an index lists, then the top manifest under the destination
    tag, so a copy that stops half-way never leaves the tag pointing at an incomplete image.
  - Nothing is written when the destination already has the digest that would be written.
  - O(username), O(password), O(token) and O(plain_http) apply to the destination's registry. The
    source's registry, when it is another one, gets its credentials from the SDK's providers (a docker
    C(config.json) with both registries, see O(config_path)); the TLS options apply to both.
author:
  - ocireg maintainers (@ocireg)
extends_documentation_fragment:
  - ocireg.registry.registry
  - ocireg.registry.registry.MODULE
  - ocireg.registry.attributes
  - ocireg.registry.attributes.ACTIONGROUP_REGISTRY
attributes:
  check_mode:
    support: full
    details:
      - Sends only C(HEAD) and C(GET) requests and returns the counts the real run would - blobs to
        copy, mount and skip, and the bytes to transfer.
  diff_mode:
    support: full
    details:
      - The destination's digest before and after.
  idempotent:
    support: full
    details:
      - A destination that already has the digest is not written again.
options:
  source:
    description:
      - The image to copy, with its registry host and a tag or digest, for example
        V(registry.example.com/team/app:1.4) or V(docker.io/library/alpine@sha256:...).
      - Without tag or digest it means the tag C(latest).
    type: str
    required: true
  destination:
    description:
      - Where to copy it, with its registry host, for example V(mirror.example.com/team/app:1.4).
      - Without tag or digest the source's tag is used (or, for a source given by digest, the image is
        copied by digest only, without a tag).
    type: str
    required: true
  platforms:
    description:
      - Which platforms of a multi-platform index to copy.
      - V(all) copies the index and every image it lists; the destination has the same digest.
      - A list of platforms (V(linux/amd64), V(linux/arm64/v8)) copies only those images. With one
        platform that image itself is copied and tagged (as C(docker pull --platform) would choose it).
        With several, a new index that lists only them is written, which has a digest of its own
        (the same on every run, so the task stays idempotent).
      - A source that is a single image is copied as it is with V(all); with a list it must be for one
        of the platforms.
    type: list
    elements: str
    default: [all]
seealso:
  - module: ocireg.registry.registry_tag
  - module: ocireg.registry.registry_manifest_info
  - module: community.docker.docker_image_pull
"""

EXAMPLES = r"""
- name: Mirror a multi-platform image, all platforms, keeping its digest
  ocireg.registry.registry_image_copy:
    source: registry.example.com/team/app:multi
    destination: registry.example.com/mirror/app
  delegate_to: localhost
  register: mirrored

- name: Show what moved
  ansible.builtin.debug:
    msg: >-
      {{ mirrored.digest }}: {{ mirrored.blobs_copied }} blobs copied, {{ mirrored.blobs_mounted }} mounted,
      {{ mirrored.blobs_skipped }} already there, {{ mirrored.bytes_transferred }} bytes

- name: Preview copying only the arm64 image
  ocireg.registry.registry_image_copy:
    source: registry.example.com/team/app:multi
    destination: registry.example.com/mirror/app:multi-arm64
    platforms:
      - linux/arm64
  delegate_to: localhost
  check_mode: true
  register: copy_preview

- name: Say how much it would move
  ansible.builtin.debug:
    msg: "would copy {{ copy_preview.blobs_copied }} blobs, {{ copy_preview.bytes_transferred }} bytes"
"""

RETURN = r"""
source:
  description: The source, fully qualified, at the digest it was resolved to.
  returned: always
  type: str
  sample: registry.example.com/team/app@sha256:6c3c624b58dbbcd3c0dd82b4c53f04194d1247c6eebdaab7c610cf7d66709b3b
destination:
  description: The destination, fully qualified.
  returned: always
  type: str
  sample: mirror.example.com/team/app:1.4
digest:
  description: The digest of the manifest written at the destination (in check mode, that would be written).
  returned: always
  type: str
  sample: sha256:6c3c624b58dbbcd3c0dd82b4c53f04194d1247c6eebdaab7c610cf7d66709b3b
previous_digest:
  description: The digest the destination had before, V(null) when it did not exist.
  returned: always
  type: str
  sample: null
media_type:
  description: The media type of that manifest.
  returned: always
  type: str
  sample: application/vnd.oci.image.index.v1+json
platforms:
  description: The platforms copied (of the images the destination manifest is or lists).
  returned: always
  type: list
  elements: str
  sample: ["linux/amd64", "linux/arm64/v8"]
manifests:
  description: The digests of the manifests written (would be written), children first.
  returned: always
  type: list
  elements: str
  sample: ["sha256:2b4d1f3c9dd2d8a1a1b4c12a3b0b3d8ad6c2e6b0a3a5cb47df9a2d0d3d48e8e1"]
blobs_copied:
  description: Blobs streamed from the source to the destination.
  returned: always
  type: int
  sample: 4
blobs_mounted:
  description: Blobs mounted within the destination registry (no data moved).
  returned: always
  type: int
  sample: 0
blobs_skipped:
  description: Blobs the destination already had, plus foreign layers (never copied).
  returned: always
  type: int
  sample: 1
bytes_transferred:
  description: The bytes of the blobs streamed (in check mode, to stream).
  returned: always
  type: int
  sample: 31457280
image:
  description: The SDK's image summary of what the destination has (would have).
  returned: always
  type: dict
  contains:
    digest:
      description: The manifest digest.
      type: str
      sample: sha256:6c3c624b58dbbcd3c0dd82b4c53f04194d1247c6eebdaab7c610cf7d66709b3b
    media_type:
      description: The manifest's media type.
      type: str
      sample: application/vnd.oci.image.index.v1+json
    size:
      description: The manifest's size in bytes.
      type: int
      sample: 743
    created:
      description: The image's creation time, for an index that of its C(linux/amd64) image.
      type: str
      sample: "2024-05-01T12:00:00Z"
    platforms:
      description: For an index, its children that are images, as in M(ocireg.registry.registry_manifest_info).
      type: list
      elements: dict
      sample: []
    platform_names:
      description: The platforms as text, as in M(ocireg.registry.registry_manifest_info).
      type: list
      elements: str
      sample: ["linux/amd64", "linux/arm64/v8"]
diff:
  description: The destination's digest before and after.
  returned: in diff mode
  type: dict
  contains:
    before:
      description: Before the task.
      type: dict
      sample: {"destination": "mirror.example.com/team/app:1.4", "digest": null}
    after:
      description: After the task.
      type: dict
      sample: {"destination": "mirror.example.com/team/app:1.4", "digest": "sha256:6c3c..."}
error_type:
  description:
    - When the task failed, the name of the ocireg error, for example C(AuthenticationError), C(DeniedError),
      C(NotFoundError), C(ManifestError) (no such platform), C(TransportError) or C(InvalidReferenceError).
  returned: failure
  type: str
  sample: ManifestError
error_code:
  description: When the task failed because of the registry's answer, the registry's first error code, else V(null).
  returned: failure
  type: str
  sample: DENIED
http_status:
  description: When the task failed because of the registry's answer, its HTTP status, else V(null).
  returned: failure
  type: int
  sample: 403
"""

from ansible_collections.ocireg.registry.plugins.module_utils._images import (
    add_counts,
    by_digest,
    children_of,
    filtered_index,
    head_or_none,
    image_summary,
    manifests_to_write,
    preview,
)
from ansible_collections.ocireg.registry.plugins.module_utils._module import (
    make_client,
    parse_reference,
    registry_module,
    sdk_errors,
)
from ansible_collections.ocireg.registry.plugins.module_utils._sdk import (
    ManifestError,
    summarize,
)


def destination_reference(module, src, text):
    """``destination``; without tag or digest, the source's tag (or its digest)."""
    dst = parse_reference(module, text, "destination", want_tag_or_digest=None)
    if dst.tag is None and dst.digest is None:
        dst = dst.with_tag(src.tag) if src.tag else by_digest(dst, src.digest)
    return dst


class Plan(object):
    """What to write: the top manifest (raw bytes, media type) and the manifests before it."""

    def __init__(self, client, src, dst, platforms):
        self.client, self.src, self.dst = client, src, dst
        top = client.get_manifest(src)
        self.children = None  # None: all of the index's
        self.raw = None  # bytes of a new (filtered) index
        if platforms is not None and children_of(top):
            if len(platforms) == 1:
                top = client.get_manifest(by_digest(src, top.select(platforms[0]).digest))
            else:
                self.raw, digest, self.children = filtered_index(top, platforms)
                if not self.children:
                    top.select(platforms[0])  # raises the SDK's ManifestError listing what there is
                self.digest, self.media_type = digest, top.media_type
        elif platforms is not None:  # a single image: must be for one of the platforms
            _single_image_for(client, src, platforms)
        self.top = top
        if self.raw is None:
            self.digest, self.media_type = str(top.digest), top.media_type

    def manifests(self):
        return manifests_to_write(self.client, self.src, self.dst, self.top, self.children)

    def execute(self):
        counts = dict(blobs_copied=0, blobs_mounted=0, blobs_skipped=0, bytes_transferred=0)
        client, src, dst = self.client, self.src, self.dst
        if self.raw is None:
            return add_counts(counts, client.copy(by_digest(src, self.digest), dst, all_platforms=True))
        for child in self.children:
            add_counts(counts, client.copy(by_digest(src, child.digest), by_digest(dst, child.digest)))
        client.put_manifest(dst, self.raw, self.media_type)
        return counts


def _single_image_for(client, src, platforms):
    """Raise the SDK's ManifestError unless the single image ``src`` is for one of ``platforms``."""
    error = None
    for platform in platforms:
        try:
            summarize(client, src, platform=platform)
            return
        except ManifestError as exc:
            error = exc
    raise error


def main():
    module = registry_module(
        dict(
            source=dict(type="str", required=True),
            destination=dict(type="str", required=True),
            platforms=dict(type="list", elements="str", default=["all"]),
        ),
    )
    params = module.params
    src = parse_reference(module, params["source"], "source", want_tag_or_digest=True, default_tag="latest")
    dst = destination_reference(module, src, params["destination"])
    platforms = None if [p.lower() for p in params["platforms"]] in (["all"], []) else params["platforms"]
    with sdk_errors(module, dict(source=str(src), destination=str(dst))) as context:
        with make_client(module, dst, context) as client:
            src = by_digest(src, client.head_manifest(src).digest)
            plan = Plan(client, src, dst, platforms)
            before = head_or_none(client, dst)
            previous = before.digest if before is not None else None
            changed = previous != plan.digest
            counts = dict(blobs_copied=0, blobs_mounted=0, blobs_skipped=0, bytes_transferred=0)
            written = []
            if changed:
                manifests = plan.manifests()
                counts = preview(client, src, dst, manifests)
                written = [str(m.digest) for m in manifests[:-1]] + [plan.digest]
                if not module.check_mode:
                    counts = plan.execute()
            image = image_summary(client, by_digest(src, plan.digest) if plan.raw is None else src)
    names = image["platform_names"] if plan.raw is None else [str(c.platform) for c in plan.children]
    if plan.raw is not None:
        image.update(digest=plan.digest, size=len(plan.raw), platform_names=names,
                     platforms=[p for p in image["platforms"] if p["digest"] in set(c.digest for c in plan.children)])
    result = dict(
        changed=changed, source=str(src), destination=str(dst), digest=plan.digest, previous_digest=previous,
        media_type=plan.media_type, platforms=names, manifests=written, image=image, **counts
    )
    if module._diff:
        result["diff"] = dict(before=dict(destination=str(dst), digest=previous),
                              after=dict(destination=str(dst), digest=plan.digest))
    module.exit_json(**result)


if __name__ == "__main__":
    main()
