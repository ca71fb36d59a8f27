# -*- coding: utf-8 -*-

# Copyright (c) ocireg contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations


class ModuleDocFragment(object):

    # The connection and authentication options every module and lookup of the collection
    # shares; modules add MODULE, lookups LOOKUP (where they run, what they need there).
    DOCUMENTATION = r"""
options:
  username:
    description:
      - User name to authenticate with, together with O(password).
      - When neither O(username) nor O(token) is given, credentials come from the ocireg SDK's
        providers, in this order; C(OCIREG_*) environment variables, the docker configuration
        (see O(config_path); credential helpers and C(credsStore) included), the containers
        C(auth.json), then installed provider plugins (keyring, cloud registries).
      - Without any credentials the registry is accessed anonymously.
    type: str
  password:
    description:
      - Password (or personal access token used as a password) for O(username).
      - It is never returned or logged; keep it in Ansible Vault or a lookup.
    type: str
  token:
    description:
      - A ready registry bearer token, sent as it is in an C(Authorization) header of the C(Bearer) scheme.
      - Mutually exclusive with O(username) and O(password).
    type: str
  config_path:
    description:
      - The docker configuration to read credentials from, either the C(config.json) file or
        the directory that holds it.
      - Defaults to C($DOCKER_CONFIG/config.json), else C(~/.docker/config.json), on the host
        that runs the module.
    type: path
    aliases:
      - docker_config
  validate_certs:
    description:
      - Whether to verify the registry's TLS certificate (and that of its token server).
      - Set to V(false) only for registries with self-signed certificates you cannot
        provide with O(ca_path).
    type: bool
    default: true
  ca_path:
    description:
      - A PEM bundle of CA certificates to verify the registry with.
    type: path
  client_cert:
    description:
      - A PEM client certificate for registries that require mutual TLS.
      - If the private key is in a separate file, give it with O(client_key).
    type: path
  client_key:
    description:
      - The PEM private key of O(client_cert).
    type: path
  plain_http:
    description:
      - Talk to the registry over plain HTTP instead of HTTPS. Credentials are then sent
        unencrypted, which the SDK otherwise refuses for hosts other than loopback addresses.
      - Loopback registries (C(localhost), C(127.0.0.1)) are tried with HTTPS first and then
        HTTP even without this option.
    type: bool
    default: false
  timeout:
    description:
      - Seconds to wait for the registry to connect and to answer each request.
    type: int
    default: 30
"""

    MODULE = r"""
options: {}
requirements:
  - python >= 3.11
  - ocireg >= 0.1.0 (the ocireg SDK), installed for the Python that runs the module
notes:
  - The module runs where the task runs. Use C(delegate_to) V(localhost) or
    C(connection) V(local), so that the SDK, its credential plugins and the docker configuration
    are those of the controller (or of the execution environment).
  - All modules of this collection are in the action group C(ocireg.registry.registry), so the
    connection options can be set once for a play with C(module_defaults).
"""

    # For the lookup plugins: the same options; they run on the controller.
    LOOKUP = r"""
options: {}
requirements:
  - python >= 3.11
  - ocireg >= 0.1.0 (the ocireg SDK), installed for the Python that runs Ansible on the controller
notes:
  - Lookups run on the controller, whatever host the task is for. The SDK, its credential plugins and
    the docker configuration are those of the controller (or of the execution environment), and the
    registry must be reachable from there.
  - Options are given as keyword arguments, for example C(lookup('ocireg.registry.digest', 'repo:tag', timeout=10)).
  - Connection options set with C(module_defaults) do not apply to lookups.
"""
