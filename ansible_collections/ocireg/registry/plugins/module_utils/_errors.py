# -*- coding: utf-8 -*-

# Copyright (c) ocireg contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# PRIVATE to the ocireg.registry collection: this may change or go away without notice.
# Do not import it from other collections.

"""SDK errors in Ansible's terms: the keys of a failed result and a message that names the
module options (``ca_path``, ``validate_certs``, ``username``...), not the SDK's keyword
arguments.

* ``error_type`` is always the name of an ocireg exception class (``AuthenticationError``,
  ``TransportError``, ``InvalidSelectionError``...), or ``InvalidOptionError`` for an option
  the module rejects itself; never a bare Python name such as ``ValueError``.
* ``http_status`` is set whenever an HTTP status was involved, token-server refusals too.
* A connection failure says whether the connection was refused, the name did not resolve,
  the TLS handshake failed or the registry did not answer in time, and the URL tried.
* An authentication failure says which credential source answered for the registry (or
  that none did), never the secret (``Client.explain_credentials``).
"""

from __future__ import annotations

import re
import ssl

from ansible.module_utils.common.text.converters import to_native

from ansible_collections.ocireg.registry.plugins.module_utils._sdk import (
    AuthenticationError,
    OciregError,
    RegistryError,
    TransportError,
)

#: error_type of options the module itself rejects (no ocireg exception involved).
INVALID_OPTION = "InvalidOptionError"

_STATUS_IN_AUTH_MESSAGE = re.compile(r"(?:: |\(|answered )(\d{3})\b")


def option_error(module, msg):
    """Fail ``module`` for an option value it cannot use."""
    module.fail_json(msg=msg, error_type=INVALID_OPTION, error_code=None, http_status=None)


def _chain(exc):
    """``exc`` and every exception behind it (causes, contexts, urllib3's ``reason``, and
    exceptions passed as arguments, as requests wraps urllib3's)."""
    seen, stack, out = set(), [exc], []
    while stack:
        item = stack.pop()
        if item is None or id(item) in seen or not isinstance(item, BaseException):
            continue
        seen.add(id(item))
        out.append(item)
        stack.extend([item.__cause__, item.__context__, getattr(item, "reason", None)])
        stack.extend(arg for arg in getattr(item, "args", ()) if isinstance(arg, BaseException))
    return out


def connection_problem(exc):
    """``(kind, text)`` for a transport failure: kind is the SDK's ``TransportError.kind``
    when it is ``tls``, ``refused``, ``dns`` or ``timeout``, else ``connection``."""
    kind = getattr(exc, "kind", None)
    chain = _chain(exc)
    names = [type(item).__name__ for item in chain]
    if kind == "tls":
        tls = next((i for i in chain if isinstance(i, ssl.SSLError) or type(i).__name__ == "SSLError"), None)
        detail = getattr(tls, "verify_message", None) or getattr(tls, "reason", None)
        detail = detail if isinstance(detail, str) else None
        return "tls", (
            "TLS handshake failed%s: the registry's certificate is not trusted or does not "
            "match. Set ca_path to the CA bundle that signed it, or validate_certs=false "
            "(only for test registries)" % (" (%s)" % detail if detail else "")
        )
    if kind == "refused":
        return "refused", "connection refused: nothing listens there (wrong host or port, or the registry is down)"
    if kind == "dns":
        return "dns", "DNS lookup failed: the registry host name does not resolve"
    if kind == "timeout" and any("ReadTimeout" in n for n in names):
        return "timeout", "timed out waiting for the registry to answer (see the timeout option)"
    if kind == "timeout":
        return "timeout", "connection timed out (see the timeout option)"
    return "connection", "connection failed (%s)" % (names[-1] if names else "unknown")


def _transport_message(exc):
    text = to_native(exc)
    marker = " failed: "
    where = text.find(marker)
    prefix = text[: where + len(marker)] if where >= 0 else text + ": "
    return prefix + connection_problem(exc)[1]


def _auth_status(exc):
    match = _STATUS_IN_AUTH_MESSAGE.search(to_native(exc))
    return int(match.group(1)) if match else 401


def describe_credentials(client, registry):
    """Which credential source answers for ``registry`` (never the secret), as a dict, or
    None when even asking fails."""
    if client is None or registry is None:
        return None
    try:
        found = dict(client.explain_credentials(registry))
    except Exception:  # pylint: disable=broad-except  # a failing provider: nothing to add
        return None
    if found.get("provider") == "explicit":
        found["source"] = (
            "the token option" if found.get("kind") == "registry-token" else "the username and password options"
        )
    return dict(
        registry=found.get("registry"),
        provider=found.get("provider"),
        kind=found.get("kind"),
        username=found.get("username"),
        source=found.get("source") or None,
        asked=list(found.get("asked") or []),
    )


def _credentials_sentence(found):
    if found is None:
        return ""
    if found["provider"] is None:
        return (
            " No credential source had credentials for %s (asked: %s), so the request was anonymous:"
            " set username and password, or token, or config_path to a docker config.json that has them."
            % (found["registry"], ", ".join(found["asked"]) or "none")
        )
    who = " for user %s" % found["username"] if found["username"] else ""
    return " The credentials (%s%s) came from %s (provider %s)." % (
        found["kind"], who, found["source"] or "an unnamed source", found["provider"],
    )


def error_result(exc, client=None, registry=None):
    """The keys a failed task returns for an SDK error."""
    result = dict(msg=to_native(exc), error_type=type(exc).__name__, error_code=None, http_status=None)
    if not isinstance(exc, OciregError):
        result["error_type"] = INVALID_OPTION
    if isinstance(exc, RegistryError):
        result.update(error_code=exc.code, http_status=exc.status)
    if isinstance(exc, TransportError):
        result["msg"] = _transport_message(exc)
    if isinstance(exc, AuthenticationError) or result["http_status"] == 401:
        status = getattr(exc, "status", None)
        result["http_status"] = result["http_status"] or status or _auth_status(exc)
        result["error_code"] = result["error_code"] or getattr(exc, "code", None)
        found = describe_credentials(client, registry)
        result["msg"] += _credentials_sentence(found)
        result["credential_source"] = found
    return result
