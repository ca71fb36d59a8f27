"""ocireg-github: the GitHub Packages API for GHCR manifest deletes and tag listings.

GHCR's registry API cannot delete; this plugin offers
:class:`~ocireg_github.api.GitHubPackagesAPI` (``manifest_delete`` and ``listing`` via
``"github-api"``) through the ``ocireg_registry_api`` hook. Installed, it registers itself
through the ``ocireg`` entry-point group under the name ``github``.
"""

from __future__ import annotations

from .provider import API_URL_ENV, HOSTS, TOKEN_ENVS, GitHub, find_token

__version__ = "0.1.0"

#: The instance the ``ocireg`` entry point registers.
plugin = GitHub()

__all__ = ["API_URL_ENV", "HOSTS", "TOKEN_ENVS", "GitHub", "__version__", "find_token", "plugin"]
