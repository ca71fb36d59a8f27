"""ocireg-azure: Azure Container Registry credentials for ocireg, from Microsoft Entra ID,
and ACR's own API for tag deletes and listings (:class:`~ocireg_azure.api.AcrAPI`, via
``"acr-api"``, through the ``ocireg_registry_api`` hook).

Installed, it registers itself through the ``ocireg`` entry-point group under the name
``azure``. Importing this package does not import azure-identity; the first question about an
ACR host does.
"""

from __future__ import annotations

from .provider import (
    ACR_HOST,
    ACR_USERNAME,
    SCOPE_ENV,
    AzureCredentials,
    default_scope,
    is_acr_host,
)

__version__ = "0.1.0"

#: The instance the ``ocireg`` entry point registers (one token cache per process).
plugin = AzureCredentials()

__all__ = [
    "ACR_HOST",
    "ACR_USERNAME",
    "SCOPE_ENV",
    "AzureCredentials",
    "__version__",
    "default_scope",
    "is_acr_host",
    "plugin",
]
