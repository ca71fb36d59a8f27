"""ocireg-keyring: registry credentials kept in the system keyring.

Installed, it registers itself through the ``ocireg`` entry-point group under the name
``keyring``. Entries live under the keyring service ``ocireg:<registry>`` (see
:mod:`ocireg_keyring.provider` for the layout); :func:`store` and :func:`erase` write them, for
``ocireg login --keyring`` and ``ocireg logout``. Importing this package does not import
``keyring``.
"""

from __future__ import annotations

from .provider import (
    SERVICE_PREFIX,
    TOKEN_USERNAME,
    USERNAME_ENTRY,
    KeyringCredentials,
    erase,
    lookup,
    normalize_registry,
    service_name,
    store,
)

__version__ = "0.1.0"

#: The instance the ``ocireg`` entry point registers.
plugin = KeyringCredentials()

__all__ = [
    "SERVICE_PREFIX",
    "TOKEN_USERNAME",
    "USERNAME_ENTRY",
    "KeyringCredentials",
    "__version__",
    "erase",
    "lookup",
    "normalize_registry",
    "plugin",
    "service_name",
    "store",
]
