#!/usr/bin/python
# -*- coding: utf-8 -*-

# Copyright (c) ocireg contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: registry_tag_info
short_description: List the tags of a repository in an OCI / Docker registry
version_added: 0.1.0
description:
  - Lists the tags of one repository, optionally filtered by regular expressions.
  - With O(details=true) also returns, for every tag, the digest, media type, platforms and
    creation time of its image, fetched concurrently and once per distinct digest.
  - Never changes anything on the registry.
author:
  - ocireg maintainers (@ocireg)
extends_documentation_fragment:
  - ocireg.registry.registry
  - ocireg.registry.attributes
  - ocireg.registry.attributes.INFO_MODULE
  - ocireg.registry.attributes.ACTIONGROUP_REGISTRY
options:
  repository:
    description:
      - The repository, with its registry host, without tag or digest.
      - For example V(quay.io/org/app), V(127.0.0.1:5000/team/app), or V(alpine) for
        C(docker.io/library/alpine), as the docker CLI reads names.
    type: str
    required: true
    aliases:
      - name
  patterns:
    description:
      - Only return tags that match one of these regular expressions.
      - A pattern must match the whole tag (V(v1.*) matches C(v1.2) but not C(rv1.2)).
      - All tags when empty.
    type: list
    elements: str
    default: []
  excludes:
    description:
      - Leave out tags that match one of these regular expressions (whole tag).
    type: list
    elements: str
    default: []
  details:
    description:
      - Also return RV(tag_details) and RV(images), which cost a C(HEAD) request per tag and
        a manifest and config request per distinct image.
    type: bool
    default: false
seealso:
  - module: ocireg.registry.registry_manifest_info
  - module: ocireg.registry.registry_tag_delete
  - module: community.docker.docker_image_info
"""

EXAMPLES = r"""
- name: List the tags of a repository
  ocireg.registry.registry_tag_info:
    repository: registry.example.com/team/app
  delegate_to: localhost
  register: app_tags

- name: Show them
  ansible.builtin.debug:
    msg: "{{ app_tags.tags }}"

- name: Find the release tags and the images they point at
  ocireg.registry.registry_tag_info:
    repository: registry.example.com/team/app
    username: "{{ registry_user }}"
    password: "{{ registry_password }}"
    patterns:
      - 'v[0-9]+\.[0-9]+\.[0-9]+'
    excludes:
      - '.*-rc[0-9]*'
    details: true
  delegate_to: localhost
  register: releases

- name: Show the tags of the newest release image
  ansible.builtin.debug:
    msg: "{{ (releases.images | first).tags }}"
  when: releases.images | length > 0

- name: Set the connection options once for every module of the collection
  module_defaults:
    group/ocireg.registry.registry:
      username: "{{ registry_user }}"
      password: "{{ registry_password }}"
      timeout: 60
  delegate_to: localhost
  block:
    - name: List the tags of the first repository
      ocireg.registry.registry_tag_info:
        repository: registry.example.com/team/app
      register: app_tags

    - name: List the tags of the second one
      ocireg.registry.registry_tag_info:
        repository: registry.example.com/team/worker
      register: worker_tags
"""

RETURN = r"""
repository:
  description: The repository, fully qualified.
  returned: always
  type: str
  sample: 127.0.0.1:5000/team/app
exists:
  description: Whether the registry knows the repository. A missing repository has no tags and is no error.
  returned: always
  type: bool
  sample: true
tags:
  description: The tags that passed the filters, sorted.
  returned: always
  type: list
  elements: str
  sample: ["1.0", "1.1", "latest"]
tag_details:
  description: One entry per tag in RV(tags).
  returned: when O(details=true)
  type: list
  elements: dict
  contains:
    tag:
      description: The tag.
      type: str
      sample: "1.1"
    digest:
      description: The digest of the manifest the tag points at.
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
    platforms:
      description:
        - The platforms of a multi-platform index (C(unknown/unknown) attestations left out),
          or the one platform of a single image.
      type: list
      elements: str
      sample: ["linux/amd64", "linux/arm64/v8"]
    created:
      description:
        - The C(created) time of the image config, as written there (RFC 3339).
        - For an index, that of its C(linux/amd64) image (else its first one that is not an attestation).
        - V(null) for artifacts without an image config.
      type: str
      sample: "2024-05-01T12:00:00Z"
images:
  description:
    - The tags grouped by the manifest they point at, newest image first.
    - Each entry has the keys of RV(tag_details) except C(tag), plus C(tags).
  returned: when O(details=true)
  type: list
  elements: dict
  contains:
    digest:
      description: The manifest digest.
      type: str
      sample: sha256:6c3c624b58dbbcd3c0dd82b4c53f04194d1247c6eebdaab7c610cf7d66709b3b
    tags:
      description: The tags (of RV(tags)) on this manifest, sorted.
      type: list
      elements: str
      sample: ["1.1", "latest"]
    media_type:
      description: The manifest's media type.
      type: str
      sample: application/vnd.oci.image.manifest.v1+json
    size:
      description: The manifest's size in bytes.
      type: int
      sample: 1024
    platforms:
      description: As in RV(tag_details).
      type: list
      elements: str
      sample: ["linux/amd64"]
    created:
      description: As in RV(tag_details).
      type: str
      sample: "2024-05-01T12:00:00Z"
error_type:
  description: When the task failed, the kind of error, for example C(AuthenticationError), C(DeniedError) or C(UnsupportedError).
  returned: failure
  type: str
  sample: DeniedError
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

from ansible_collections.ocireg.registry.plugins.module_utils._module import (
    make_client,
    parse_reference,
    registry_module,
    sdk_errors,
)
from ansible_collections.ocireg.registry.plugins.module_utils._tags import (
    filter_tags,
    list_tags,
    tag_details,
)


def main():
    module = registry_module(
        dict(
            repository=dict(type="str", required=True, aliases=["name"]),
            patterns=dict(type="list", elements="str", default=[]),
            excludes=dict(type="list", elements="str", default=[]),
            details=dict(type="bool", default=False),
        ),
    )
    params = module.params
    repo = parse_reference(module, params["repository"], "repository", want_tag_or_digest=False)
    result = dict(changed=False, repository=repo.repository, exists=False, tags=[])
    with sdk_errors(module, result):
        tags = filter_tags([], params["patterns"], params["excludes"])  # check the patterns first
        with make_client(module, repo) as client:
            exists, tags = list_tags(client, repo)
            tags = filter_tags(tags, params["patterns"], params["excludes"])
            result.update(exists=exists, tags=tags)
            if params["details"]:
                rows, images = tag_details(client, repo, tags)
                result.update(tag_details=rows, images=images)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
