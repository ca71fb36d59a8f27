#!/usr/bin/python
# -*- coding: utf-8 -*-

# Copyright (c) ocireg contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: registry_tag
short_description: Point a tag at an image in an OCI / Docker registry
version_added: 0.1.0
description:
  - Points the tag O(name) at the image that O(source) names, for example to promote a
    release candidate C(app:rc-42) to C(app:1.4), or to pin C(app:prod) to a digest.
  - O(source) may be in the same repository or in another repository of the same registry; then
    the image's blobs are mounted (the registry links them, no data moves). To copy between
    registries, use M(ocireg.registry.registry_image_copy).
  - The source is resolved to a digest first, and the tag is pointed at exactly that digest.
    An index (multi-platform image) is tagged as it is, so its digest stays the same.
  - Nothing is changed when the tag already points at that digest.
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
      - Sends only C(HEAD) and C(GET) requests and returns what the real run would, with a RV(msg)
        that says from which digest to which the tag would move.
  diff_mode:
    support: full
    details:
      - The tag's digest before and after.
  idempotent:
    support: full
    details:
      - A tag that already points at the source's digest is not changed.
options:
  name:
    description:
      - The tag to point, with its repository and registry host, for example
        V(registry.example.com/team/app:1.4).
    type: str
    required: true
    aliases:
      - tag
  source:
    description:
      - The image to point it at - a tag (V(rc-42)) or a digest (V(sha256:...)) in the repository of
        O(name), or a reference to another repository of the same registry
        (V(registry.example.com/team/builds:rc-42), V(registry.example.com/team/builds@sha256:...)).
      - A reference without tag or digest means its C(latest) tag.
    type: str
    required: true
seealso:
  - module: ocireg.registry.registry_image_copy
  - module: ocireg.registry.registry_manifest_info
  - module: community.docker.docker_image_tag
"""

EXAMPLES = r"""
- name: Promote the release candidate to 1.4
  ocireg.registry.registry_tag:
    name: registry.example.com/team/app:1.4
    source: rc-42
  delegate_to: localhost
  register: promoted

- name: Show where the tag points now, and where it pointed before
  ansible.builtin.debug:
    msg: "1.4 is {{ promoted.digest }} (was {{ promoted.previous_digest | default('new', true) }})"

- name: Pin prod to a build of another repository of the registry (its blobs are mounted)
  ocireg.registry.registry_tag:
    name: registry.example.com/team/app:prod
    source: "registry.example.com/team/builds@{{ promoted.digest }}"
  delegate_to: localhost
  check_mode: true
  diff: true
  register: pin

- name: Say what would move
  ansible.builtin.debug:
    msg: "{{ pin.msg }}"
"""

RETURN = r"""
name:
  description: The tag pointed, fully qualified.
  returned: always
  type: str
  sample: registry.example.com/team/app:1.4
source:
  description: The source, fully qualified, at the digest it was resolved to.
  returned: always
  type: str
  sample: registry.example.com/team/app@sha256:6c3c624b58dbbcd3c0dd82b4c53f04194d1247c6eebdaab7c610cf7d66709b3b
digest:
  description: The digest the tag points at (in check mode, would point at).
  returned: always
  type: str
  sample: sha256:6c3c624b58dbbcd3c0dd82b4c53f04194d1247c6eebdaab7c610cf7d66709b3b
previous_digest:
  description: The digest the tag pointed at before, V(null) when the tag did not exist.
  returned: always
  type: str
  sample: sha256:0b4d1f3c9dd2d8a1a1b4c12a3b0b3d8ad6c2e6b0a3a5cb47df9a2d0d3d48e8e1
msg:
  description: What was done (or, in check mode, would be done), in words.
  returned: always
  type: str
  sample: "moved registry.example.com/team/app:1.4 from sha256:0b4d... to sha256:6c3c..."
blobs_mounted:
  description:
    - Blobs mounted from the source repository (in check mode, that would be mounted); 0 within one
      repository and when nothing changed.
  returned: always
  type: int
  sample: 3
image:
  description: The SDK's image summary of the image the tag points at.
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
  description: The tag's digest before and after.
  returned: in diff mode
  type: dict
  contains:
    before:
      description: Before the task.
      type: dict
      sample: {"name": "registry.example.com/team/app:1.4", "digest": "sha256:0b4d..."}
    after:
      description: After the task.
      type: dict
      sample: {"name": "registry.example.com/team/app:1.4", "digest": "sha256:6c3c..."}
error_type:
  description:
    - When the task failed, the name of the ocireg error, for example C(AuthenticationError), C(DeniedError),
      C(NotFoundError) (no such source), C(TransportError) or C(InvalidReferenceError).
  returned: failure
  type: str
  sample: NotFoundError
error_code:
  description: When the task failed because of the registry's answer, the registry's first error code, else V(null).
  returned: failure
  type: str
  sample: MANIFEST_UNKNOWN
http_status:
  description: When the task failed because of the registry's answer, its HTTP status, else V(null).
  returned: failure
  type: int
  sample: 404
"""

import re

from ansible_collections.ocireg.registry.plugins.module_utils._errors import option_error
from ansible_collections.ocireg.registry.plugins.module_utils._images import (
    by_digest,
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

_TAG = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$")
_DIGEST = re.compile(r"^[a-z0-9]+(?:[+._-][a-z0-9]+)*:[A-Za-z0-9=_-]+$")


def source_reference(module, dst, text):
    """``source`` as a Reference: a tag or digest of ``dst``'s repository, or a reference."""
    if _TAG.match(text):
        return dst.with_tag(text)
    if _DIGEST.match(text):
        return by_digest(dst, text)
    src = parse_reference(module, text, "source", want_tag_or_digest=True, default_tag="latest")
    if src.domain != dst.domain:
        option_error(
            module,
            "source %s is in another registry than %s (%s, not %s): registry_tag points tags within one "
            "registry; use ocireg.registry.registry_image_copy to copy between registries"
            % (text, dst, src.domain, dst.domain),
        )
    return src


def point(client, src, dst):
    """Point ``dst`` at ``src`` (a digest reference); returns the blobs mounted."""
    if src.repository == dst.repository:
        manifest = client.get_manifest(src)
        client.put_manifest(dst, manifest.raw, manifest.media_type)
        return 0
    return client.copy(src, dst).blobs_mounted


def main():
    module = registry_module(
        dict(
            name=dict(type="str", required=True, aliases=["tag"]),
            source=dict(type="str", required=True),
        ),
    )
    dst = parse_reference(module, module.params["name"], "name", want_tag_or_digest=True, default_tag="latest")
    if dst.digest is not None:
        option_error(module, "name must name a tag (repo:tag), not a digest, got %r" % module.params["name"])
    src = source_reference(module, dst, module.params["source"])
    with sdk_errors(module, dict(name=str(dst))) as context:
        with make_client(module, dst, context) as client:
            digest = client.head_manifest(src).digest
            src = by_digest(src, digest)
            before = head_or_none(client, dst)
            previous = before.digest if before is not None else None
            changed = previous != digest
            mounted = 0
            if changed and module.check_mode and src.repository != dst.repository:
                top = client.get_manifest(src)
                mounted = preview(client, src, dst, manifests_to_write(client, src, dst, top))["blobs_mounted"]
            elif changed and not module.check_mode:
                mounted = point(client, src, dst)
            image = image_summary(client, src)
    verb = ("would move" if module.check_mode else "moved") if previous else (
        "would create" if module.check_mode else "created")
    if not changed:
        msg = "%s already points at %s" % (dst, digest)
    elif previous:
        msg = "%s %s from %s to %s" % (verb, dst, previous, digest)
    else:
        msg = "%s %s at %s" % (verb, dst, digest)
    result = dict(
        changed=changed, name=str(dst), source=str(src), digest=digest, previous_digest=previous,
        msg=msg, blobs_mounted=mounted, image=image,
    )
    if module._diff:
        result["diff"] = dict(before=dict(name=str(dst), digest=previous), after=dict(name=str(dst), digest=digest))
    module.exit_json(**result)


if __name__ == "__main__":
    main()
