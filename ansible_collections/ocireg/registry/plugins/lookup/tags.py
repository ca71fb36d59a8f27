# -*- coding: utf-8 -*-

# Copyright (c) ocireg contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
name: tags
short_description: The tags of a repository in an OCI / Docker registry
version_added: 0.1.0
author:
  - ocireg maintainers (@ocireg)
description:
  - Returns the tags of the repositories given, filtered and sorted as M(ocireg.registry.registry_tag_info)
    does it, for example to find the newest release in a template.
  - Runs on the controller, not on the managed host - see the notes.
  - A repository that does not exist has no tags.
  - Use C(query) (or C(wantlist=true)) to get a list; C(lookup) joins the tags with commas.
extends_documentation_fragment:
  - ocireg.registry.registry
  - ocireg.registry.registry.LOOKUP
options:
  _terms:
    description: Repositories with their registry host, without tag, for example V(registry.example.com/team/app).
    type: list
    elements: str
    required: true
  patterns:
    description: Only tags that match one of these regular expressions (as O(match) says); all when empty.
    type: list
    elements: str
  excludes:
    description: Leave out tags that match one of these regular expressions.
    type: list
    elements: str
  match:
    description: How the expressions must match a tag - V(full) the whole tag, V(prefix) from its start, V(search) anywhere.
    type: str
    choices:
      - full
      - prefix
      - search
    default: full
  sort:
    description:
      - V(version) compares the numbers in tags as numbers (C(1.2) before C(1.10)), V(text) is plain string order,
        V(none) the registry's order. See O(ocireg.registry.registry_tag_info#module:sort).
    type: str
    choices:
      - version
      - text
      - none
    default: version
seealso:
  - module: ocireg.registry.registry_tag_info
  - plugin: ocireg.registry.digest
    plugin_type: lookup
"""

EXAMPLES = r"""
- name: Deploy the newest 1.x release
  ansible.builtin.set_fact:
    app_version: "{{ query('ocireg.registry.tags', 'registry.example.com/team/app', patterns=['1[.].*'], sort='version') | last }}"
"""

RETURN = r"""
_raw:
  description: The tags of every repository given, in the order of O(sort), repository after repository.
  type: list
  elements: str
  sample: ["1.2", "1.9", "1.10"]
"""

from ansible.plugins.lookup import LookupBase
from ansible.utils.display import Display

from ansible_collections.ocireg.registry.plugins.module_utils._module import (
    make_client,
    parse_reference,
    sdk_errors,
    warn_unmatched,
)
from ansible_collections.ocireg.registry.plugins.module_utils._sdk import retention
from ansible_collections.ocireg.registry.plugins.module_utils._tags import filter_names, list_tags
from ansible_collections.ocireg.registry.plugins.plugin_utils._lookup import OptionsAdapter

display = Display()


class LookupModule(LookupBase):

    def run(self, terms, variables=None, **kwargs):
        self.set_options(var_options=variables, direct=kwargs)
        adapter = OptionsAdapter(self, extra=("patterns", "excludes", "match", "sort"))
        params = adapter.params
        found = []
        for term in terms:
            repo = parse_reference(adapter, term, "term", want_tag_or_digest=False)
            with sdk_errors(adapter) as context:
                filter_names([], params["patterns"], params["excludes"], params["match"])
                with make_client(adapter, repo, context) as client:
                    exists, tags = list_tags(client, repo)
                    selection = filter_names(tags, params["patterns"], params["excludes"], params["match"])
                    if exists:
                        warn_unmatched(adapter, selection)
                    found.extend(retention.sort_tags(selection.delete_tags, params["sort"]))
        for text in adapter.warnings:
            display.warning(text)
        return found
