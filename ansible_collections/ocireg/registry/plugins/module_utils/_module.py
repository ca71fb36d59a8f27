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

from ansible_collections.ocireg.registry.plugins.module_utils._errors import (
    error_result,
    option_error,
)
from ansible_collections.ocireg.registry.plugins.module_utils._sdk import (
    BasicCredentials,
    Client,
    OciregError,
    Reference,
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

#: Choosing names (tags, repositories) by regular expression; keep in sync with the docs of
#: the modules that use it (the SDK's ocireg.retention applies it).
SELECTION_ARGUMENT_SPEC = dict(
    patterns=dict(type="list", elements="str"),
    excludes=dict(type="list", elements="str"),
    match=dict(type="str", default="full", choices=["full", "prefix", "search"]),
)

#: How names are ordered (ocireg.retention.sort_tags).
SORT_ARGUMENT_SPEC = dict(sort=dict(type="str", default="version", choices=["version", "text", "none"]))

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


class ErrorContext(object):
    """What :func:`sdk_errors` knows when an error comes: the client and registry asked
    (to say which credential source answered a 401)."""

    def __init__(self):
        self.client = None
        self.registry = None


@contextlib.contextmanager
def sdk_errors(module, result=None):
    """Fail ``module`` cleanly on expected errors; yields an :class:`ErrorContext` that
    :func:`make_client` fills in.

    ``result`` (a dict the caller may keep filling in) is returned with the failure, so a
    task that stopped half-way still says what it did; pass only keys that stay true on
    failure. SDK messages say what was asked of which registry and what came back, never a
    secret (and ``no_log`` option values are scrubbed from every result besides).
    """
    context = ErrorContext()
    try:
        yield context
    except (OciregError, ValueError) as exc:  # ValueError: a bad option value the SDK refused
        failed = dict(result or {})
        failed.update(error_result(exc, context.client, context.registry))
        module.fail_json(**failed)


def parse_reference(module, text, option, want_tag_or_digest, default_tag=None):
    """Parse ``text`` (the value of ``option``) as an image reference.

    With ``want_tag_or_digest=False`` the text must name a repository only; with True it
    must name a tag or digest, unless ``default_tag`` is given (``latest``, as docker reads
    a reference without tag); with None either is accepted.
    """
    try:
        ref = Reference.parse(text)
    except ValueError as exc:
        module.fail_json(msg="%s: %s" % (option, to_native(exc)), error_type="InvalidReferenceError",
                         error_code=None, http_status=None)
    has_id = ref.tag is not None or ref.digest is not None
    if want_tag_or_digest is None:
        return ref
    if want_tag_or_digest and not has_id and default_tag:
        return ref.with_tag(default_tag)
    if want_tag_or_digest and not has_id:
        module.fail_json(msg="%s must name a tag (repo:tag) or a digest (repo@sha256:...), got %r" % (option, text),
                         error_type="InvalidReferenceError", error_code=None, http_status=None)
    if not want_tag_or_digest and has_id:
        module.fail_json(msg="%s must name a repository without tag or digest, got %r" % (option, text),
                         error_type="InvalidReferenceError", error_code=None, http_status=None)
    return ref


def _docker_config_dir(module, path):
    """The SDK wants the directory of ``config.json``; accept either the file or its
    directory, and fail when neither exists (rather than go on without credentials)."""
    if path is None:
        return None
    if os.path.isdir(path):
        if not os.path.isfile(os.path.join(path, "config.json")):
            option_error(module, "config_path %s is a directory without a config.json" % path)
        return path
    if not os.path.exists(path):
        option_error(module, "config_path %s does not exist on the host that runs the module" % path)
    if os.path.basename(path) != "config.json":
        option_error(module, "config_path must be a docker config.json file or the directory that holds it, got %s" % path)
    return os.path.dirname(path) or "."


def make_client(module, ref, context=None):
    """A :class:`ocireg.Client` for the registry of ``ref`` (a Reference, or a registry host),
    configured from the options; ``context`` (from :func:`sdk_errors`) learns it."""
    params = module.params
    host = ref if isinstance(ref, str) else ref.domain
    scheme = None if isinstance(ref, str) else ref.scheme
    credentials = None
    if params["token"]:
        credentials = {host: RegistryToken(params["token"], source="the token option")}
    elif params["username"]:
        credentials = {host: BasicCredentials(params["username"], params["password"],
                                              source="the username and password options")}
    client_cert = params["client_cert"]
    if client_cert and params["client_key"]:
        client_cert = (client_cert, params["client_key"])
    # plain_http: the SDK speaks plain HTTP only to this host (never TLS), and sends it
    # credentials in clear because the user asked for it. validate_certs only turns
    # certificate checks off, never HTTPS itself.
    plain_http = params["plain_http"] or scheme == "http"
    docker_config = _docker_config_dir(module, params["config_path"])
    with sdk_errors(module):
        client = Client(
            credentials=credentials,
            docker_config=docker_config,
            plain_http=[host] if plain_http else (),
            ca_cert=params["ca_path"],
            client_cert=client_cert,
            verify_tls=params["validate_certs"],
            timeout=float(params["timeout"]),
        )
    if context is not None:
        context.client, context.registry = client, host
    return client


def warn_unmatched(module, selection, what="tag"):
    """A warning for every pattern and exclude that matched no name: with full-match
    expressions (the default) ``^1\\.`` selects nothing, and an exclude that protects nothing
    is as silent."""
    mode = module.params.get("match", "full")
    hint = " (with match=full the expression must match the whole %s; see the match option)" % what
    for pattern in selection.unmatched_patterns:
        module.warn("pattern %r matched no %s%s" % (pattern, what, hint if mode == "full" else ""))
    for pattern in selection.unmatched_excludes:
        module.warn("exclude %r matched no %s, so it protects nothing%s" % (pattern, what, hint if mode == "full" else ""))
