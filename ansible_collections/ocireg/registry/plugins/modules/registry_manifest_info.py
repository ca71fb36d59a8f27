#!/usr/bin/python
# -*- coding: utf-8 -*-

# Copyright (c) ocireg contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: registry_manifest_info
short_description: Inspect an image manifest in an OCI / Docker registry
version_added: 0.1.0
description:
  - Fetches the manifest of a tag or digest and returns its digest, media type and size, the
    parsed manifest, the platforms of a multi-platform index, and the config and layers of an
    image.
  - A tag or repository that does not exist is reported with RV(exists=false), not as a failure.
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
  reference:
    description:
      - The image, with its registry host and a tag or digest, for example
        V(127.0.0.1:5000/team/app:1.0), V(quay.io/org/app@sha256:...) or V(alpine:3.20).
      - Without tag or digest it means the tag C(latest), as for C(docker pull) and
        M(community.docker.docker_image_pull).
    type: str
    required: true
    aliases:
      - image
  platform:
    description:
      - When O(reference) is a multi-platform index, return the image for this platform
        (V(os/architecture[/variant]), for example V(linux/arm64)), chosen as C(docker pull --platform)
        chooses; the index's digest is in RV(index_digest).
      - When O(reference) is a single image, it must be for this platform.
      - The task fails, listing the available platforms, when none matches.
    type: str
seealso:
  - module: ocireg.registry.registry_tag_info
  - module: community.docker.docker_image_info
"""

EXAMPLES = r"""
- name: Look up an image
  ocireg.registry.registry_manifest_info:
    reference: registry.example.com/team/app:1.0
  delegate_to: localhost
  register: app

- name: Show its digest and when it was built
  ansible.builtin.debug:
    msg: "{{ app.digest }} built {{ app.config.created }}"
  when: app.exists and app.config is not none

- name: Find the arm64 image of a multi-platform tag
  ocireg.registry.registry_manifest_info:
    reference: registry.example.com/team/app:multi
    platform: linux/arm64
    username: "{{ registry_user }}"
    password: "{{ registry_password }}"
  delegate_to: localhost
  register: arm64

- name: Pin the deployment to that image by digest
  ansible.builtin.set_fact:
    app_image: "registry.example.com/team/app@{{ arm64.digest }}"

- name: Check whether a tag exists, without failing when it does not
  ocireg.registry.registry_manifest_info:
    reference: registry.example.com/team/app:not-pushed-yet
  delegate_to: localhost
  register: maybe

- name: Say so
  ansible.builtin.debug:
    msg: "{{ 'present' if maybe.exists else 'absent' }}"
"""

RETURN = r"""
reference:
  description: The reference as the SDK understood it, fully qualified (with C(:latest) added when it had no tag or digest).
  returned: always
  type: str
  sample: 127.0.0.1:5000/team/app:1.0
exists:
  description:
    - Whether the manifest exists. When V(false), the other keys are V(null) or empty.
  returned: always
  type: bool
  sample: true
digest:
  description: The manifest's digest (of the platform's image when O(platform) chose one from an index).
  returned: always
  type: str
  sample: sha256:0b4d1f3c9dd2d8a1a1b4c12a3b0b3d8ad6c2e6b0a3a5cb47df9a2d0d3d48e8e1
media_type:
  description: The manifest's media type.
  returned: always
  type: str
  sample: application/vnd.oci.image.manifest.v1+json
size:
  description: The manifest's size in bytes.
  returned: always
  type: int
  sample: 1024
index_digest:
  description: The digest of the index O(platform) chose the image from; V(null) otherwise.
  returned: always
  type: str
  sample: sha256:6c3c624b58dbbcd3c0dd82b4c53f04194d1247c6eebdaab7c610cf7d66709b3b
manifest:
  description: The manifest itself, parsed.
  returned: always
  type: dict
  sample:
    schemaVersion: 2
    mediaType: application/vnd.oci.image.manifest.v1+json
    config:
      mediaType: application/vnd.oci.image.config.v1+json
      digest: sha256:b5b2b2c507a0944348e0303114d8d93aaaa081732b86451d9bce1f432a537bc7
      size: 1470
    layers: []
platforms:
  description:
    - For an index, its children that are images (or that declare no platform), in index order;
      empty for an image.
    - Attestation manifests (platform C(unknown/unknown), as BuildKit writes them) are not
      platforms, and are listed in RV(attestations) instead.
  returned: always
  type: list
  elements: dict
  contains:
    os:
      description: The operating system, V(null) for a child without platform.
      type: str
      sample: linux
    architecture:
      description: The CPU architecture.
      type: str
      sample: arm64
    variant:
      description: The CPU variant, V(null) when none is given.
      type: str
      sample: v8
    platform:
      description: The platform as text, V(null) for a child without platform.
      type: str
      sample: linux/arm64/v8
    digest:
      description: The child manifest's digest.
      type: str
      sample: sha256:2b4d1f3c9dd2d8a1a1b4c12a3b0b3d8ad6c2e6b0a3a5cb47df9a2d0d3d48e8e1
    media_type:
      description: The child manifest's media type.
      type: str
      sample: application/vnd.oci.image.manifest.v1+json
    size:
      description: The child manifest's size in bytes.
      type: int
      sample: 1024
platform_names:
  description:
    - The platforms as text, C(os/architecture[/variant]) - of the entries of RV(platforms) for an index,
      or the one platform of a single image (from its config; empty when the config names none).
    - The same key as in the RV(ocireg.registry.registry_tag_info#module:tag_details) of M(ocireg.registry.registry_tag_info).
  returned: always
  type: list
  elements: str
  sample: ["linux/amd64", "linux/arm64/v8"]
attestations:
  description:
    - For an index, its attestation manifests (BuildKit's provenance and SBOM, platform
      C(unknown/unknown)), with the keys of RV(platforms); empty otherwise.
  returned: always
  type: list
  elements: dict
  sample:
    - os: unknown
      architecture: unknown
      variant: null
      platform: unknown/unknown
      digest: sha256:3c3c624b58dbbcd3c0dd82b4c53f04194d1247c6eebdaab7c610cf7d66709b3b
      media_type: application/vnd.oci.image.manifest.v1+json
      size: 566
config:
  description:
    - For an image, what its config says; V(null) for an index.
    - For an artifact whose config is not a JSON object, only RV(config.digest), RV(config.media_type)
      and RV(config.size) are set; the other keys are V(null) or empty.
  returned: always
  type: dict
  contains:
    digest:
      description: The config blob's digest.
      type: str
      sample: sha256:b5b2b2c507a0944348e0303114d8d93aaaa081732b86451d9bce1f432a537bc7
    media_type:
      description: The config blob's media type.
      type: str
      sample: application/vnd.oci.image.config.v1+json
    size:
      description: The config blob's size in bytes.
      type: int
      sample: 1470
    created:
      description: When the image was built (RFC 3339), if the config says.
      type: str
      sample: "2024-05-01T12:00:00Z"
    os:
      description: The operating system the image is for.
      type: str
      sample: linux
    architecture:
      description: The CPU architecture the image is for.
      type: str
      sample: amd64
    variant:
      description: The CPU variant, if any.
      type: str
      sample: v8
    labels:
      description: The image labels.
      type: dict
      sample: {"org.opencontainers.image.version": "1.0"}
    env:
      description: The environment variables, as C(NAME=value) strings.
      type: list
      elements: str
      sample: ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"]
    entrypoint:
      description: The entrypoint, if any.
      type: list
      elements: str
      sample: ["/docker-entrypoint.sh"]
    cmd:
      description: The default command, if any.
      type: list
      elements: str
      sample: ["nginx", "-g", "daemon off;"]
layers:
  description: For an image, its layers in order; empty for an index.
  returned: always
  type: list
  elements: dict
  contains:
    digest:
      description: The layer's digest.
      type: str
      sample: sha256:4f4fb700ef54461cfa02571ae0db9a0dc1e0cdb5577484a6d75e68dc38e8acc1
    size:
      description: The layer's size in bytes.
      type: int
      sample: 3623807
    media_type:
      description: The layer's media type.
      type: str
      sample: application/vnd.oci.image.layer.v1.tar+gzip
error_type:
  description:
    - When the task failed, the name of the ocireg error, for example C(AuthenticationError), C(DeniedError),
      C(TransportError), C(ManifestError) or C(InvalidReferenceError).
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
    make_client,
    parse_reference,
    registry_module,
    sdk_errors,
)
from ansible_collections.ocireg.registry.plugins.module_utils._sdk import (
    NotFoundError,
    summarize,
)

#: The keys of the SDK's image summary this module returns.
SUMMARY_KEYS = ("digest", "media_type", "size", "index_digest", "platforms", "attestations", "config", "layers")


def inspect(client, ref, platform, result):
    """Fill ``result`` from the SDK's image summary; ``exists`` stays false when there is
    no such manifest."""
    try:
        summary = summarize(client, ref, platform=platform)
    except NotFoundError:
        return
    data = summary.to_dict()
    result.update((key, data[key]) for key in SUMMARY_KEYS)
    result.update(exists=True, manifest=dict(summary.manifest.json), platform_names=summary.platform_names())


def main():
    module = registry_module(
        dict(
            reference=dict(type="str", required=True, aliases=["image"]),
            platform=dict(type="str"),
        ),
    )
    ref = parse_reference(module, module.params["reference"], "reference", want_tag_or_digest=True,
                          default_tag="latest")
    result = dict(
        exists=False,
        digest=None,
        media_type=None,
        size=None,
        index_digest=None,
        manifest=None,
        platforms=[],
        platform_names=[],
        attestations=[],
        config=None,
        layers=[],
    )
    with sdk_errors(module, dict(reference=str(ref))) as context:  # no half-filled keys on failure
        with make_client(module, ref, context) as client:
            inspect(client, ref, module.params["platform"] or None, result)
    module.exit_json(changed=False, reference=str(ref), **result)


if __name__ == "__main__":
    main()
