"""The ``ocireg_registry_api`` hook of ocireg-dockerhub: Docker Hub's API for Docker Hub."""

from __future__ import annotations

import os
from collections.abc import Iterable
from typing import TYPE_CHECKING

from ocireg.reference import DOCKER_HUB_ALIASES
from ocireg.webapi import HostedAPIPlugin

if TYPE_CHECKING:
    import requests

    from ocireg.registry_api import CredentialLookup, RegistryAPI
    from ocireg.webapi import WebAPI

__all__ = ["API_URL_ENV", "DockerHub"]

#: Where the Docker Hub API is (default ``https://hub.docker.com``); plain http is taken
#: for loopback only (a test server).
API_URL_ENV = "OCIREG_DOCKERHUB_API_URL"


class DockerHub(HostedAPIPlugin):
    """Offers :class:`~ocireg_dockerhub.api.DockerHubAPI` for Docker Hub's host names
    (``docker.io``, ``index.docker.io``, ``registry-1.docker.io``,
    ``registry.hub.docker.com``).

    :param hosts: other registry hosts to treat as Docker Hub (a test registry).
    :param api_url: the API's base URL (default ``$OCIREG_DOCKERHUB_API_URL``, else
        ``https://hub.docker.com``).
    :param session: a ``requests.Session`` for the API.
    :param max_wait: the most seconds one call waits on rate limits.
    """

    name = "dockerhub"
    vendor = "Docker Hub API"

    def __init__(
        self,
        *,
        hosts: Iterable[str] = (),
        api_url: str | None = None,
        session: requests.Session | None = None,
        max_wait: float = 60.0,
    ) -> None:
        super().__init__(session=session, max_wait=max_wait)
        self.hosts = DOCKER_HUB_ALIASES | {h.lower() for h in hosts}
        self.api_url = api_url

    def api_base(self, registry: str) -> str | None:
        if registry.lower() not in self.hosts:
            return None
        from .api import DEFAULT_API_URL

        return self.api_url or os.environ.get(API_URL_ENV) or DEFAULT_API_URL

    def make_api(self, credentials: CredentialLookup, web: WebAPI) -> RegistryAPI:
        from .api import DockerHubAPI

        return DockerHubAPI(credentials, web)
