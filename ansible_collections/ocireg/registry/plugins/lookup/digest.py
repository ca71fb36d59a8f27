# -*- coding: utf-8 -*-

# Copyright (c) ocireg contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
name: digest
short_description: The digest of an image in an OCI / Docker registry
version_added: 0.1.0
author:
  - ocireg maintainers (@ocireg)
description:
  - Returns the manifest digest of each image reference given, from a C(HEAD) request (which Docker Hub
    does not count against its pull limit), to pin deployments to digests.
  - With O(platform), the digest of that platform's image of a multi-platform index (a C(GET) of the index).
  - Runs on the controller, not on the managed host - see the notes.
  - A reference without tag or digest means its C(latest) tag. An image that does not exist fails the lookup,
    unless O(default) is given.
extends_documentation_fragment:
  - ocireg.registry.registry
  - ocireg.registry.registry.LOOKUP
options:
  _terms:
    description: Image references with their registry host and a tag, for example V(registry.example.com/team/app:1.4).
    type: list
    elements: str
    required: true
  platform:
    description:
      - For a multi-platform index, the digest of the image for this platform (V(os/architecture[/variant]),
        for example V(linux/arm64)) instead of the index's own. A single image must be for this platform.
    type: str
  default:
    description:
      - Returned for an image that does not exist, instead of failing. Unset - fail.
    type: str
seealso:
  - module: ocireg.registry.registry_manifest_info
  - plugin: ocireg.registry.tags
    plugin_type: lookup
"""

EXAMPLES = r"""
- name: Pin the deployment to the digest of the arm64 image
  ansible.builtin.set_fact:
    app_image: "registry.example.com/team/app@{{ lookup('ocireg.registry.digest', 'registry.example.com/team/app:multi', platform='linux/arm64') }}"

- name: Show the digest of an image that may not exist
  ansible.builtin.debug:
    msg: "{{ lookup('ocireg.registry.digest', 'registry.example.com/team/app:not-yet', default='absent') }}"
"""

RETURN = r"""
_raw:
  description: One digest per reference given (or O(default) for an image that does not exist).
  type: list
  elements: str
  sample: ["sha256:6c3c624b58dbbcd3c0dd82b4c53f04194d1247c6eebdaab7c610cf7d66709b3b"]
"""

from ansible.plugins.lookup import LookupBase

from ansible_collections.ocireg.registry.plugins.module_utils._module import (
    make_client,
    parse_reference,
    sdk_errors,
)
from ansible_collections.ocireg.registry.plugins.module_utils._sdk import NotFoundError
from ansible_collections.ocireg.registry.plugins.plugin_utils._lookup import OptionsAdapter


class LookupModule(LookupBase):

    def run(self, terms, variables=None, **kwargs):
        self.set_options(var_options=variables, direct=kwargs)
        adapter = OptionsAdapter(self, extra=("platform", "default"))
        platform, default = adapter.params["platform"], adapter.params["default"]
        digests = []
        for term in terms:
            ref = parse_reference(adapter, term, "term", want_tag_or_digest=True, default_tag="latest")
            with sdk_errors(adapter) as context:
                with make_client(adapter, ref, context) as client:
                    try:
                        if platform:
                            digests.append(str(client.get_manifest(ref, platform=platform).digest))
                        else:
                            digests.append(client.head_manifest(ref).digest)
                    except NotFoundError:
                        if default is None:
                            raise
                        digests.append(default)
        return digests
