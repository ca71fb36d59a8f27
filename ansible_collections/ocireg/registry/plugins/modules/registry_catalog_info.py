#!/usr/bin/python
# -*- coding: utf-8 -*-

# Copyright (c) ocireg contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: registry_catalog_info
short_description: List the repositories of an OCI / Docker registry
version_added: 0.1.0
description:
  - Lists the repositories of a registry from its catalog (C(/v2/_catalog), every page), optionally
    filtered by regular expressions.
  - Self-hosted registries (CNCF distribution, Harbor, Nexus, Artifactory) serve the catalog. Most hosted
    ones do not, or only to administrators (Docker Hub, GHCR, Quay, GitLab, ECR, GCR/Artifact Registry,
    ACR without the catalog permission); the task then fails with a message that says so, and the
    hosting service's own API is the way to list repositories there.
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
  registry:
    description:
      - The registry host, with its port if any, for example V(registry.example.com) or V(127.0.0.1:5000).
    type: str
    required: true
    aliases:
      - name
  patterns:
    description:
      - Only return repositories whose name (without the registry host) matches one of these regular
        expressions, as O(match) says; all when empty. A pattern that matches no repository gives a warning.
    type: list
    elements: str
  excludes:
    description:
      - Leave out repositories whose name matches one of these regular expressions (as O(match) says).
    type: list
    elements: str
  match:
    description:
      - How the regular expressions must match a repository name - V(full) the whole name, V(prefix)
        from its start (V(team/) for every repository of a team), V(search) anywhere.
    type: str
    choices:
      - full
      - prefix
      - search
    default: full
  sort:
    description:
      - The order of RV(repositories) - V(version) (numbers in names compared as numbers), V(text),
        or V(none) (the registry's order).
    type: str
    choices:
      - version
      - text
      - none
    default: text
seealso:
  - module: ocireg.registry.registry_tag_info
"""

EXAMPLES = r"""
- name: List the repositories of a team
  ocireg.registry.registry_catalog_info:
    registry: registry.example.com
    patterns:
      - team/
    match: prefix
  delegate_to: localhost
  register: catalog

- name: List the tags of each of them
  ocireg.registry.registry_tag_info:
    repository: "registry.example.com/{{ item }}"
  loop: "{{ catalog.repositories }}"
  delegate_to: localhost
  register: team_tags
"""

RETURN = r"""
registry:
  description: The registry host asked.
  returned: always
  type: str
  sample: registry.example.com
repositories:
  description: The repository names (without the registry host) that passed the filters.
  returned: always
  type: list
  elements: str
  sample: ["team/app", "team/worker"]
total:
  description: How many repositories the catalog listed, before the filters.
  returned: always
  type: int
  sample: 12
error_type:
  description:
    - When the task failed, the name of the ocireg error, for example C(AuthenticationError), C(DeniedError),
      C(NotFoundError) or C(UnsupportedError) (a registry that does not serve its catalog), C(TransportError)
      or C(InvalidSelectionError).
  returned: failure
  type: str
  sample: DeniedError
error_code:
  description: When the task failed because of the registry's answer, the registry's first error code, else V(null).
  returned: failure
  type: str
  sample: UNSUPPORTED
http_status:
  description: When the task failed because of the registry's answer, its HTTP status, else V(null).
  returned: failure
  type: int
  sample: 404
"""

from ansible_collections.ocireg.registry.plugins.module_utils._errors import error_result, option_error
from ansible_collections.ocireg.registry.plugins.module_utils._module import (
    SELECTION_ARGUMENT_SPEC,
    make_client,
    registry_module,
    sdk_errors,
    warn_unmatched,
)
from ansible_collections.ocireg.registry.plugins.module_utils._sdk import (
    AuthenticationError,
    NotFoundError,
    RegistryError,
    retention,
)
from ansible_collections.ocireg.registry.plugins.module_utils._tags import filter_names

#: A registry that does not serve its catalog answers one of these.
REFUSALS = (401, 403, 404, 405)


def refused_message(registry, exc):
    return (
        "%s does not list its repositories to these credentials (%s). Hosted registries (Docker Hub, GHCR, "
        "Quay, GitLab, ECR, Artifact Registry, ACR without the catalog permission) do not serve /v2/_catalog, "
        "or only to administrators: list the repositories with the hosting service's own API, or name them "
        "in the playbook." % (registry, exc)
    )


def main():
    spec = dict(
        registry=dict(type="str", required=True, aliases=["name"]),
        sort=dict(type="str", default="text", choices=["version", "text", "none"]),
    )
    spec.update(SELECTION_ARGUMENT_SPEC)
    module = registry_module(spec)
    params = module.params
    registry = params["registry"].strip().rstrip("/")
    for prefix in ("https://", "http://"):
        if registry.startswith(prefix):
            registry = registry[len(prefix):]
            if prefix == "http://":
                params["plain_http"] = True
    if not registry or "/" in registry:
        option_error(module, "registry must be a host[:port] without a path, got %r" % params["registry"])
    result = dict(changed=False, registry=registry)
    with sdk_errors(module, result) as context:
        filter_names([], params["patterns"], params["excludes"], params["match"])  # bad patterns fail first
        with make_client(module, registry, context) as client:
            try:
                names = client.catalog(registry)
            except (AuthenticationError, NotFoundError, RegistryError) as exc:
                failed = error_result(exc, client, registry)
                status = failed["http_status"]
                if isinstance(exc, NotFoundError) or status in REFUSALS:
                    failed["msg"] = refused_message(registry, failed["msg"])
                result.update(failed)
                module.fail_json(**result)
            selection = filter_names(names, params["patterns"], params["excludes"], params["match"])
            warn_unmatched(module, selection, what="repository")
            found = retention.sort_tags(selection.delete_tags, params["sort"])
    result.update(repositories=found, total=len(names))
    module.exit_json(**result)


if __name__ == "__main__":
    main()
