# -*- coding: utf-8 -*-

# Copyright (c) ocireg contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# PRIVATE to the ocireg.registry collection: this may change or go away without notice.
# Do not import it from other collections.

"""What every module of the collection shares: the connection argument spec, building the
SDK client from it, and turning SDK errors into ``fail_json`` results."""

from __future__ import annotations

import contextlib
import os

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.common.text.converters import to_native

from ansible_collections.ocireg.registry.plugins.module_utils._sdk import (
    Client,
    OciregError,
    Reference,
    RegistryError,
    RegistryToken,
    require_sdk,
)

# Keep in sync with plugins/doc_fragments/registry.py.
CONNECTION_ARGUMENT_SPEC = dict(
    username=dict(type="str"),
    password=dict(type="str", no_log=True),
    token=dict(type="str", no_log=True),
    config_path=dict(type="path", aliases=["docker_config"]),
    validate_certs=dict(type="bool", default=True),
    ca_path=dict(type="path"),
    client_cert=dict(type="path"),
    client_key=dict(type="path"),
    plain_http=dict(type="bool", default=False),
    timeout=dict(type="int", default=30),
)

CONNECTION_REQUIRED_TOGETHER = [["username", "password"]]
CONNECTION_MUTUALLY_EXCLUSIVE = [["token", "username"], ["token", "password"]]
CONNECTION_REQUIRED_BY = {"client_key": "client_cert"}


def registry_module(argument_spec, mutually_exclusive=None, required_one_of=None, supports_check_mode=True):
    """An ``AnsibleModule`` with the connection options added, the SDK required."""
    spec = dict(CONNECTION_ARGUMENT_SPEC)
    spec.update(argument_spec)
    module = AnsibleModule(
        argument_spec=spec,
        supports_check_mode=supports_check_mode,
        required_together=CONNECTION_REQUIRED_TOGETHER,
        mutually_exclusive=CONNECTION_MUTUALLY_EXCLUSIVE + list(mutually_exclusive or []),
        required_one_of=required_one_of,
        required_by=CONNECTION_REQUIRED_BY,
    )
    require_sdk(module)
    return module


def error_result(exc):
    """The keys a failed task returns for an SDK error: ``msg`` and what the registry said."""
    result = dict(
        msg=to_native(exc),
        error_type=type(exc).__name__,
        error_code=None,
        http_status=None,
    )
    if isinstance(exc, RegistryError):
        result.update(error_code=exc.code, http_status=exc.status)
    return result


@contextlib.contextmanager
def sdk_errors(module, result=None):
    """Fail ``module`` cleanly on expected errors.

    ``result`` (a dict the caller may keep filling in) is returned with the failure, so a
    task that stopped half-way still says what it did. SDK messages say what was asked of
    which registry and what came back, never a secret (and ``no_log`` option values are
    scrubbed from every result besides).
    """
    try:
        yield
    except (OciregError, ValueError) as exc:  # ValueError: bad regular expression, age, platform
        failed = dict(result or {})
        failed.update(error_result(exc))
        module.fail_json(**failed)


def parse_reference(module, text, option, want_tag_or_digest):
    """Parse ``text`` (the value of ``option``) as an image reference.

    With ``want_tag_or_digest=False`` the text must name a repository only.
    """
    try:
        ref = Reference.parse(text)
    except ValueError as exc:
        module.fail_json(msg="%s: %s" % (option, to_native(exc)), error_type=type(exc).__name__,
                         error_code=None, http_status=None)
    has_id = ref.tag is not None or ref.digest is not None
    if want_tag_or_digest and not has_id:
        module.fail_json(msg="%s must name a tag (repo:tag) or a digest (repo@sha256:...), got %r" % (option, text),
                         error_type="ValueError", error_code=None, http_status=None)
    if not want_tag_or_digest and has_id:
        module.fail_json(msg="%s must name a repository without tag or digest, got %r" % (option, text),
                         error_type="ValueError", error_code=None, http_status=None)
    return ref


def _docker_config_dir(module, path):
    """The SDK wants the directory of ``config.json``; accept either the file or its directory."""
    if path is None:
        return None
    if os.path.isdir(path):
        return path
    if os.path.basename(path) != "config.json":
        module.fail_json(
            msg="config_path must be a docker config.json file or the directory that holds it, got %s" % path,
            error_type="ValueError", error_code=None, http_status=None,
        )
    return os.path.dirname(path) or "."


def make_client(module, ref):
    """A :class:`ocireg.Client` for the registry of ``ref``, configured from the options."""
    params = module.params
    host = ref.domain
    credentials = None
    if params["token"]:
        credentials = {host: RegistryToken(params["token"], source="the token option")}
    elif params["username"]:
        credentials = {host: (params["username"], params["password"])}
    client_cert = params["client_cert"]
    if client_cert and params["client_key"]:
        client_cert = (client_cert, params["client_key"])
    # plain_http: the SDK speaks plain HTTP only to this host (never TLS), and sends it
    # credentials in clear because the user asked for it. validate_certs only turns
    # certificate checks off, never HTTPS itself.
    plain_http = params["plain_http"] or ref.scheme == "http"
    with sdk_errors(module):
        client = Client(
            credentials=credentials,
            docker_config=_docker_config_dir(module, params["config_path"]),
            plain_http=[host] if plain_http else (),
            ca_cert=params["ca_path"],
            client_cert=client_cert,
            verify_tls=params["validate_certs"],
            timeout=float(params["timeout"]),
        )
    return client
