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
  - ocireg.registry.registry.MODULE
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
      - Only return tags that match one of these regular expressions; all tags when empty.
      - By default (O(match=full)) a pattern must match the whole tag (V(v1.*) matches C(v1.2) but
        not C(rv1.2), and V(^v1) matches no tag); see O(match).
      - A pattern that matches no tag gives a warning.
    type: list
    elements: str
  excludes:
    description:
      - Leave out tags that match one of these regular expressions (as O(match) says).
      - An exclude that matches no tag gives a warning.
    type: list
    elements: str
  match:
    description:
      - How the regular expressions of O(patterns) and O(excludes) must match a tag.
      - V(full) (GitLab's convention) - the whole tag, as with C(re.fullmatch).
      - V(prefix) - from the start of the tag, as with C(re.match); V(v1\\.) matches C(v1.2) and C(v1.10).
      - V(search) - anywhere in the tag, as with C(re.search); V(rc) matches C(1.0-rc1).
    type: str
    choices:
      - full
      - prefix
      - search
    default: full
  sort:
    description:
      - The order of RV(tags) and RV(tag_details).
      - V(version) compares the runs of digits in a tag as numbers and the other runs as text, so
        C(1.2) comes before C(1.10) and C(b9) before C(b10); a tag that is the start of another
        comes first (C(1.0) before C(1.0-rc1)); a leading C(v) is text, so C(v1) comes after C(2).
        This is no semantic-version precedence (C(1.0-rc1) comes after C(1.0)).
      - V(text) is plain string order (C(1.10) before C(1.2)).
      - V(none) keeps the registry's order (lexical on most registries).
    type: str
    choices:
      - version
      - text
      - none
    default: version
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

- name: Find the newest 1.x release, in version order (1.10 after 1.9)
  ocireg.registry.registry_tag_info:
    repository: registry.example.com/team/app
    patterns:
      - 'v1\.'
    match: prefix
    sort: version
  delegate_to: localhost
  register: v1

- name: Show it
  ansible.builtin.debug:
    msg: "{{ v1.tags | last | default('none') }}"

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
  description: The tags that passed the filters, in the order O(sort) says.
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
        - For a multi-platform index, its children that are images, with the same keys as
          RV(ocireg.registry.registry_manifest_info#module:platforms) (C(os), C(architecture),
          C(variant), C(platform), C(digest), C(media_type), C(size)); empty for a single image.
        - Attestations (C(unknown/unknown)) are left out.
      type: list
      elements: dict
      sample:
        - os: linux
          architecture: arm64
          variant: v8
          platform: linux/arm64/v8
          digest: sha256:2b4d1f3c9dd2d8a1a1b4c12a3b0b3d8ad6c2e6b0a3a5cb47df9a2d0d3d48e8e1
          media_type: application/vnd.oci.image.manifest.v1+json
          size: 1024
    platform_names:
      description:
        - The platforms as text, C(os/architecture[/variant]) - of the children of an index
          (attestations left out), or the one platform of a single image (from its config).
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
      elements: dict
      sample: []
    platform_names:
      description: As in RV(tag_details).
      type: list
      elements: str
      sample: ["linux/amd64"]
    created:
      description: As in RV(tag_details).
      type: str
      sample: "2024-05-01T12:00:00Z"
error_type:
  description:
    - When the task failed, the name of the ocireg error, for example C(AuthenticationError), C(DeniedError),
      C(TransportError) or C(InvalidSelectionError); C(InvalidOptionError) for an option value the module
      rejected itself.
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
credential_source:
  description:
    - When the registry refused the credentials or asked for some (HTTP 401), which credential source
      answered for the registry, never the secret; V(null) when that could not be told.
  returned: when authentication failed
  type: dict
  contains:
    registry:
      description: The registry host.
      type: str
      sample: registry.example.com
    provider:
      description: The ocireg credential provider that answered, V(null) when none had credentials (anonymous).
      type: str
      sample: docker-config
    kind:
      description: The kind of credential, V(basic), V(identity-token), V(registry-token) or V(anonymous).
      type: str
      sample: basic
    username:
      description: The user name, when the credential has one.
      type: str
      sample: ci
    source:
      description: Where the provider found it, for example the docker C(config.json) path or V(the username and password options).
      type: str
      sample: /home/ci/.docker/config.json
    asked:
      description: The providers asked, in order.
      type: list
      elements: str
      sample: ["explicit", "environment", "docker-config", "containers-auth"]
"""

from ansible_collections.ocireg.registry.plugins.module_utils._module import (
    SELECTION_ARGUMENT_SPEC,
    SORT_ARGUMENT_SPEC,
    make_client,
    parse_reference,
    registry_module,
    sdk_errors,
    warn_unmatched,
)
from ansible_collections.ocireg.registry.plugins.module_utils._sdk import retention
from ansible_collections.ocireg.registry.plugins.module_utils._tags import (
    filter_names,
    list_tags,
    tag_details,
)


def main():
    spec = dict(
        repository=dict(type="str", required=True, aliases=["name"]),
        details=dict(type="bool", default=False),
    )
    spec.update(SELECTION_ARGUMENT_SPEC)
    spec.update(SORT_ARGUMENT_SPEC)
    module = registry_module(spec)
    params = module.params
    repo = parse_reference(module, params["repository"], "repository", want_tag_or_digest=False)
    result = dict(changed=False, repository=repo.repository)
    with sdk_errors(module, result) as context:
        filter_names([], params["patterns"], params["excludes"], params["match"])  # bad patterns fail first
        with make_client(module, repo, context) as client:
            exists, tags = list_tags(client, repo)
            selection = filter_names(tags, params["patterns"], params["excludes"], params["match"])
            if exists:
                warn_unmatched(module, selection)
            tags = retention.sort_tags(selection.delete_tags, params["sort"])
            found = dict(exists=exists, tags=tags)
            if params["details"]:
                rows, images = tag_details(client, repo, tags)
                found.update(tag_details=rows, images=images)
    result.update(found)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
