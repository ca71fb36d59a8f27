"""The ``ocireg_registry_api`` hook of ocireg-gitlab: GitLab's container registry API."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import TYPE_CHECKING

from ocireg.auth.credentials import BasicCredentials
from ocireg.webapi import HostedAPIPlugin

if TYPE_CHECKING:
    import requests

    from ocireg.registry_api import CredentialLookup, RegistryAPI
    from ocireg.webapi import WebAPI

__all__ = ["DEFAULT_HOSTS", "HOSTS_ENV", "TOKEN_ENVS", "GitLab", "configured_hosts", "find_token"]

#: Registry host -> GitLab URL; the API is ``<GitLab URL>/api/v4``.
DEFAULT_HOSTS = {"registry.gitlab.com": "https://gitlab.com"}
#: More registries: ``registry.example.com=https://gitlab.example.com,...``.
HOSTS_ENV = "OCIREG_GITLAB_HOSTS"
#: Where the ``PRIVATE-TOKEN`` is looked for first, in this order.
TOKEN_ENVS = ("OCIREG_GITLAB_TOKEN", "GITLAB_TOKEN")


def configured_hosts(text: str | None) -> dict[str, str]:
    """``host=url`` pairs, comma separated (blank entries ignored)."""
    out: dict[str, str] = {}
    for entry in (text or "").split(","):
        host, sep, url = entry.strip().partition("=")
        if sep and host.strip() and url.strip():
            out[host.strip().lower()] = url.strip().rstrip("/")
    return out


def find_token(credentials: CredentialLookup) -> str | None:
    """The first of :data:`TOKEN_ENVS` set, else the registry password from the chain."""
    for name in TOKEN_ENVS:
        value = os.environ.get(name, "").strip()
        if value:
            return value
    creds = credentials(None)
    return creds.password if isinstance(creds, BasicCredentials) and creds.password else None


class GitLab(HostedAPIPlugin):
    """Offers :class:`~ocireg_gitlab.api.GitLabRegistryAPI` for ``registry.gitlab.com`` and
    the registries named in ``$OCIREG_GITLAB_HOSTS`` or ``hosts``.

    :param hosts: registry host -> GitLab URL (``{"registry.example.com":
        "https://gitlab.example.com"}``), added to the defaults and the environment's.
    :param session: a ``requests.Session`` for the API.
    :param max_wait: the most seconds one call waits on rate limits.
    """

    name = "gitlab"
    vendor = "GitLab API"

    def __init__(
        self,
        *,
        hosts: Mapping[str, str] | None = None,
        session: requests.Session | None = None,
        max_wait: float = 60.0,
    ) -> None:
        super().__init__(session=session, max_wait=max_wait)
        self.hosts = {h.lower(): u.rstrip("/") for h, u in (hosts or {}).items()}

    def gitlab_url(self, registry: str) -> str | None:
        host = registry.lower()
        return (
            self.hosts.get(host)
            or configured_hosts(os.environ.get(HOSTS_ENV)).get(host)
            or DEFAULT_HOSTS.get(host)
        )

    def api_base(self, registry: str) -> str | None:
        gitlab = self.gitlab_url(registry)
        return None if gitlab is None else f"{gitlab}/api/v4"

    def make_api(self, credentials: CredentialLookup, web: WebAPI) -> RegistryAPI:
        from .api import GitLabRegistryAPI

        return GitLabRegistryAPI(lambda: find_token(credentials), web)
