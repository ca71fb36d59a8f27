"""The ``ocireg_registry_api`` hook of ocireg-harbor: Harbor's API for named Harbor hosts."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import TYPE_CHECKING

from ocireg.webapi import HostedAPIPlugin

if TYPE_CHECKING:
    import requests

    from ocireg.registry_api import CredentialLookup, RegistryAPI
    from ocireg.webapi import WebAPI

__all__ = ["HOSTS_ENV", "Harbor", "configured_hosts"]

#: The registries that are Harbor: ``harbor.example.com,other.example:8443`` (API at
#: ``https://<host>``), or ``host=https://api-base`` to name the API's origin.
HOSTS_ENV = "OCIREG_HARBOR_HOSTS"


def configured_hosts(text: str | None) -> dict[str, str]:
    """Host -> API origin, from ``host[=url]`` entries separated by commas."""
    out: dict[str, str] = {}
    for entry in (text or "").split(","):
        host, _, url = (part.strip() for part in entry.partition("="))
        if host:
            out[host.lower()] = (url or f"https://{host}").rstrip("/")
    return out


class Harbor(HostedAPIPlugin):
    """Offers :class:`~ocireg_harbor.api.HarborAPI` for the registries named in
    ``$OCIREG_HARBOR_HOSTS`` or ``hosts``; nothing is probed, so no other host is answered.

    :param hosts: registry host -> Harbor origin (``{"harbor.example": "https://harbor.example"}``).
    :param session: a ``requests.Session`` for the API.
    :param max_wait: the most seconds one call waits on rate limits.
    """

    name = "harbor"
    vendor = "Harbor API"

    def __init__(
        self,
        *,
        hosts: Mapping[str, str] | None = None,
        session: requests.Session | None = None,
        max_wait: float = 60.0,
    ) -> None:
        super().__init__(session=session, max_wait=max_wait)
        self.hosts = {h.lower(): u.rstrip("/") for h, u in (hosts or {}).items()}

    def api_origin(self, registry: str) -> str | None:
        host = registry.lower()
        return self.hosts.get(host) or configured_hosts(os.environ.get(HOSTS_ENV)).get(host)

    def api_base(self, registry: str) -> str | None:
        return self.api_origin(registry)

    def make_api(self, credentials: CredentialLookup, web: WebAPI) -> RegistryAPI:
        from .api import HarborAPI

        return HarborAPI(credentials, web)
