"""ocireg-gcp: Google Container Registry and Artifact Registry credentials for ocireg.

Installed, it registers itself through the ``ocireg`` entry-point group under the name
``gcp``. A service-account JSON key named by ``$OCIREG_GCP_JSON_KEY_FILE`` wins; otherwise
Application Default Credentials give an OAuth2 access token. Importing this package does not
import google-auth.
"""

from __future__ import annotations

from .provider import (
    ACCESS_TOKEN_USERNAME,
    JSON_KEY_USERNAME,
    KEY_FILE_ENV,
    SCOPE,
    GcpCredentials,
    is_gcp_host,
)

__version__ = "0.1.0"

#: The instance the ``ocireg`` entry point registers.
plugin = GcpCredentials()

__all__ = [
    "ACCESS_TOKEN_USERNAME",
    "JSON_KEY_USERNAME",
    "KEY_FILE_ENV",
    "SCOPE",
    "GcpCredentials",
    "__version__",
    "is_gcp_host",
    "plugin",
]
