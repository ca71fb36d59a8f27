# -*- coding: utf-8 -*-

# Copyright (c) ocireg contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# PRIVATE to the ocireg.registry collection: this may change or go away without notice.
# Do not import it from other collections.

"""What the lookup plugins share with the modules: the client built from the same options
(``module_utils._module.make_client``) and the same error messages, raised as
``AnsibleLookupError`` instead of ``fail_json``. Lookups run on the controller."""

from __future__ import annotations

from ansible.errors import AnsibleLookupError

from ansible_collections.ocireg.registry.plugins.module_utils._sdk import SDK_IMPORT_ERROR

#: The options of the doc fragment ocireg.registry.registry.LOOKUP.
CONNECTION_OPTIONS = (
    "username", "password", "token", "config_path", "validate_certs", "ca_path", "client_cert",
    "client_key", "plain_http", "timeout",
)


class LookupFailure(AnsibleLookupError):
    """A lookup failed; ``result`` has the keys a module's failed result would."""

    def __init__(self, result):
        super(LookupFailure, self).__init__(result.get("msg", "lookup failed"))
        self.result = result


class OptionsAdapter(object):
    """Looks enough like an ``AnsibleModule`` for ``make_client``, ``parse_reference`` and
    ``sdk_errors``: ``params``, ``fail_json`` (raises), ``warn``, ``check_mode``."""

    check_mode = False
    _diff = False
    _name = "lookup"

    def __init__(self, plugin, extra=()):
        if SDK_IMPORT_ERROR is not None:
            raise AnsibleLookupError(
                "the ocireg SDK is missing on the controller (lookups run there): pip install ocireg "
                "for the Python that runs Ansible"
            )
        self.params = dict((name, plugin.get_option(name)) for name in CONNECTION_OPTIONS + tuple(extra))
        self.warnings = []
        if self.params["username"] and not self.params["password"]:
            raise AnsibleLookupError("username and password go together")
        if self.params["token"] and (self.params["username"] or self.params["password"]):
            raise AnsibleLookupError("token is mutually exclusive with username and password")

    def fail_json(self, **result):
        raise LookupFailure(result)

    def warn(self, text):
        self.warnings.append(text)
