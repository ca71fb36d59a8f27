"""The ``ocireg_registry_api`` hook of ocireg-github: the GitHub Packages API for GHCR."""

from __future__ import annotations

import os
from collections.abc import Iterable
from typing import TYPE_CHECKING

from ocireg.auth.credentials import BasicCredentials, RegistryToken
from ocireg.webapi import HostedAPIPlugin

if TYPE_CHECKING:
    import requests

    from ocireg.registry_api import CredentialLookup, RegistryAPI
    from ocireg.webapi import WebAPI

__all__ = ["API_URL_ENV", "HOSTS", "TOKEN_ENVS", "GitHub", "find_token"]

#: The GitHub REST API base (default ``https://api.github.com``; GitHub Enterprise Server:
#: ``https://<host>/api/v3``). Plain http is taken for loopback only (a test server).
API_URL_ENV = "OCIREG_GITHUB_API_URL"
#: Where a token for the packages API is looked for first, in this order.
TOKEN_ENVS = ("OCIREG_GITHUB_TOKEN", "GITHUB_TOKEN", "GH_TOKEN")
HOSTS = frozenset({"ghcr.io"})


def find_token(credentials: CredentialLookup) -> tuple[str | None, str]:
    """A token for the packages API and where it came from (never the token): the first
    of :data:`TOKEN_ENVS` set, else the password (a personal access token) the client's
    credential chain has for the registry."""
    for name in TOKEN_ENVS:
        value = os.environ.get(name, "").strip()
        if value:
            return value, f"${name}"
    creds = credentials(None)
    if isinstance(creds, BasicCredentials) and creds.password:
        return creds.password, f"the registry password of {creds.username!r}"
    if isinstance(creds, RegistryToken):
        return creds.token, "the registry token"
    return None, "nowhere"


class GitHub(HostedAPIPlugin):
    """Offers :class:`~ocireg_github.api.GitHubPackagesAPI` for ``ghcr.io``.

    :param hosts: other registry hosts to treat as GHCR (a test registry).
    :param api_url: the API base URL (default ``$OCIREG_GITHUB_API_URL``, else
        ``https://api.github.com``).
    :param session: a ``requests.Session`` for the API.
    :param max_wait: the most seconds one call waits on rate limits.
    """

    name = "github"
    vendor = "GitHub Packages API"

    def __init__(
        self,
        *,
        hosts: Iterable[str] = (),
        api_url: str | None = None,
        session: requests.Session | None = None,
        max_wait: float = 60.0,
    ) -> None:
        super().__init__(session=session, max_wait=max_wait)
        self.hosts = HOSTS | {h.lower() for h in hosts}
        self.api_url = api_url

    def api_base(self, registry: str) -> str | None:
        if registry.lower() not in self.hosts:
            return None
        from .api import DEFAULT_API_URL

        return self.api_url or os.environ.get(API_URL_ENV) or DEFAULT_API_URL

    def make_api(self, credentials: CredentialLookup, web: WebAPI) -> RegistryAPI:
        from .api import GitHubPackagesAPI

        return GitHubPackagesAPI(lambda: find_token(credentials)[0], web)
