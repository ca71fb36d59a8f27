# -*- coding: utf-8 -*-

# Copyright (c) ocireg contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# PRIVATE to the ocireg.registry collection: this may change or go away without notice.
# Do not import it from other collections.

"""Guarded import of the ocireg SDK, which the modules use and never vendor.

The SDK is imported in the Python that runs the module (``ansible_python_interpreter``);
when it is missing or too old, :func:`require_sdk` fails the module with Ansible's standard
``missing_required_lib`` message. The SDK names the modules use are re-exported here, with
stand-ins when the import failed, so that the modules and ``_module.py`` import cleanly (the
``import`` and ``validate-modules`` sanity tests load them without the SDK).
"""

from __future__ import annotations

import traceback

from ansible.module_utils.basic import missing_required_lib
from ansible.module_utils.compat.version import LooseVersion

__all__ = [
    "AuthenticationError",
    "BasicCredentials",
    "BatchResult",
    "Client",
    "ManifestError",
    "NotFoundError",
    "OciregError",
    "Reference",
    "RegistryError",
    "RegistryToken",
    "SDK_IMPORT_ERROR",
    "SharedDigestError",
    "TransportError",
    "UnsupportedError",
    "is_fallback_tag",
    "require_sdk",
    "retention",
    "summarize",
    "summarize_tags",
]

SDK_DISTRIBUTION = "ocireg"
MIN_SDK_VERSION = "0.1.0"

try:
    import ocireg
    from ocireg import (
        AuthenticationError,
        BasicCredentials,
        BatchResult,
        Client,
        ManifestError,
        NotFoundError,
        OciregError,
        Reference,
        RegistryError,
        RegistryToken,
        SharedDigestError,
        TransportError,
        UnsupportedError,
        retention,
    )
    from ocireg.referrers import is_fallback_tag
    from ocireg.summary import summarize, summarize_tags
except ImportError:
    ocireg = None
    SDK_IMPORT_ERROR = traceback.format_exc()

    class OciregError(Exception):  # type: ignore[no-redef]
        """Stand-in so that ``except`` clauses work when the SDK is missing."""

    class RegistryError(OciregError):  # type: ignore[no-redef]
        pass

    class NotFoundError(RegistryError):  # type: ignore[no-redef]
        pass

    class UnsupportedError(RegistryError):  # type: ignore[no-redef]
        pass

    class SharedDigestError(OciregError):  # type: ignore[no-redef]
        pass

    class AuthenticationError(OciregError):  # type: ignore[no-redef]
        pass

    class ManifestError(OciregError):  # type: ignore[no-redef]
        pass

    class TransportError(OciregError):  # type: ignore[no-redef]
        pass

    BasicCredentials = BatchResult = Client = Reference = RegistryToken = None
    retention = is_fallback_tag = summarize = summarize_tags = None
else:
    SDK_IMPORT_ERROR = None


def require_sdk(module):
    """Fail ``module`` unless a recent enough ocireg SDK could be imported."""
    if SDK_IMPORT_ERROR is not None:
        module.fail_json(msg=missing_required_lib(SDK_DISTRIBUTION), exception=SDK_IMPORT_ERROR)
    version = getattr(ocireg, "__version__", "0")
    if LooseVersion(version) < LooseVersion(MIN_SDK_VERSION):
        module.fail_json(
            msg="%s >= %s is required on the target, but %s is installed for %s"
            % (SDK_DISTRIBUTION, MIN_SDK_VERSION, version, module._name)
        )
