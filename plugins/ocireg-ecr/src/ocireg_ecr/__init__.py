"""ocireg-ecr: Amazon ECR and ECR Public credentials for ocireg, and ECR's own API for tag
deletes and listings (:class:`EcrRegistryAPI`).

Installed, it registers itself through the ``ocireg`` entry-point group under the name
``ecr`` (block it with ``Client(blocked_plugins=("ecr",))``). Importing this package does not
import boto3; the first question about an ECR host does.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .hosts import PRIVATE_HOST, PUBLIC_HOSTS, EcrRegistry, parse_host
from .provider import EcrCredentials, decode_authorization_token

__version__ = "0.1.0"

if TYPE_CHECKING:
    from .api import EcrRegistryAPI

#: The instance the ``ocireg`` entry point registers (one token cache per process).
plugin = EcrCredentials()


def __getattr__(name: str) -> Any:
    # The API module is imported when asked for: a client loading its plugins does not need it.
    if name == "EcrRegistryAPI":
        from .api import EcrRegistryAPI

        return EcrRegistryAPI
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


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
