"""ocireg-ecr: Amazon ECR and ECR Public credentials for ocireg, and ECR's own API for tag
deletes and listings (:class:`EcrRegistryAPI`).

Installed, it registers itself through the ``ocireg`` entry-point group under the name
``ecr`` (block it with ``Client(blocked_plugins=("ecr",))``). Importing this package does not
import boto3; the first question about an ECR host does.
"""

from __future__ import annotations

from .api import EcrRegistryAPI
from .hosts import PRIVATE_HOST, PUBLIC_HOSTS, EcrRegistry, parse_host
from .provider import EcrCredentials, decode_authorization_token

__version__ = "0.1.0"

#: The instance the ``ocireg`` entry point registers (one token cache per process).
plugin = EcrCredentials()

__all__ = [
    "PRIVATE_HOST",
    "PUBLIC_HOSTS",
    "EcrCredentials",
    "EcrRegistry",
    "EcrRegistryAPI",
    "__version__",
    "decode_authorization_token",
    "parse_host",
    "plugin",
]
