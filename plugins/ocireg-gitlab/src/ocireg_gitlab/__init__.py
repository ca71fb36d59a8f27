"""ocireg-gitlab: GitLab's container registry API for tag deletes and tag listings.

Offers :class:`~ocireg_gitlab.api.GitLabRegistryAPI` (``tag_delete`` and ``listing`` via
``"gitlab-api"``) through the ``ocireg_registry_api`` hook. Installed, it registers itself
through the ``ocireg`` entry-point group under the name ``gitlab``.
"""

from __future__ import annotations

from .provider import DEFAULT_HOSTS, HOSTS_ENV, TOKEN_ENVS, GitLab, configured_hosts, find_token

__version__ = "0.1.0"

#: The instance the ``ocireg`` entry point registers.
plugin = GitLab()

__all__ = [
    "DEFAULT_HOSTS",
    "HOSTS_ENV",
    "TOKEN_ENVS",
    "GitLab",
    "__version__",
    "configured_hosts",
    "find_token",
    "plugin",
]
