"""The ACR plugin: a Microsoft Entra token exchanged for an ACR refresh token (credentials),
and ACR's ``/acr/v1/`` API for tag deletes and listings (:mod:`ocireg_azure.api`).

The flow of REGISTRY-FACTS 3.4 (and of ``az acr login`` and the ACR credential helpers):

1. an Entra (AAD) access token from ``DefaultAzureCredential`` (environment service principal,
   workload identity, managed identity, Azure CLI, ...), for the Azure Resource Manager
   audience of the registry's cloud;
2. ``POST https://<registry>/oauth2/exchange`` with
   ``grant_type=access_token&service=<registry>&tenant=<tenant>&access_token=<entra token>``,
   answered with ``{"refresh_token": ...}``;
3. that refresh token is an identity token for the user
   ``00000000-0000-0000-0000-000000000000``: ocireg's token auth trades it at the registry's
   token realm (``grant_type=refresh_token``) for scoped access tokens.

azure-identity is imported only when an ACR host is asked for credentials.
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
import os
import re
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ocireg.auth.credentials import Credentials, IdentityToken
from ocireg.errors import PluginError
from ocireg.hookspecs import hookimpl

if TYPE_CHECKING:
    import requests
    from azure.core.credentials import TokenCredential

    from ocireg.registry_api import CredentialLookup, RegistryAPI

__all__ = [
    "ACR_HOST",
    "ACR_USERNAME",
    "SCOPE_ENV",
    "AzureCredentials",
    "default_scope",
    "is_acr_host",
]

log = logging.getLogger("ocireg_azure")

#: ``<name>.azurecr.io`` and the sovereign clouds' suffixes.
ACR_HOST = re.compile(r"^[a-z0-9][a-z0-9-]*\.azurecr\.(io|cn|de|us)$")
#: The user name ACR expects with a refresh token used as a password.
ACR_USERNAME = "00000000-0000-0000-0000-000000000000"
#: Overrides the Entra scope, e.g. ``https://containerregistry.azure.net/.default`` for a
#: registry whose "Azure AD authentication as ARM" policy is disabled.
SCOPE_ENV = "OCIREG_AZURE_SCOPE"
#: The Azure Resource Manager audience of each cloud (what ``az acr login`` asks for).
_ARM_SCOPES = {
    "io": "https://management.azure.com/.default",
    "cn": "https://management.chinacloudapi.cn/.default",
    "us": "https://management.usgovcloudapi.net/.default",
    "de": "https://management.microsoftazure.de/.default",
}
#: How long "no Entra token could be had" is remembered before asking again.
NEGATIVE_TTL = 300.0
#: Used when the refresh token's lifetime cannot be read (ACR issues them for 3 hours).
DEFAULT_LIFETIME = 3 * 3600.0


def is_acr_host(registry: str) -> bool:
    return ACR_HOST.match(registry.lower()) is not None


def default_scope(registry: str) -> str:
    """The ARM ``.default`` scope of the cloud ``registry`` lives in."""
    match = ACR_HOST.match(registry.lower())
    return _ARM_SCOPES[match.group(1) if match else "io"]


@dataclass(frozen=True, slots=True)
class _Entry:
    credentials: Credentials | None
    refresh_at: float


class AzureCredentials:
    """Answers for ``*.azurecr.io`` (and ``.cn``, ``.de``, ``.us``) with an
    ``IdentityToken(<ACR refresh token>, username="00000000-...")``, and offers
    :class:`~ocireg_azure.api.AcrAPI` (tag deletes and listings via ``"acr-api"``) for them.

    :param credential: an azure-identity ``TokenCredential`` (default: a
        ``DefaultAzureCredential()`` made at the first ACR question).
    :param tenant_id: sent as ``tenant`` in the exchange (default ``$AZURE_TENANT_ID``; left
        out when unknown).
    :param scope: the Entra scope (default ``$OCIREG_AZURE_SCOPE``, else the ARM scope of
        the registry's cloud).
    :param exchange_base_url: where to POST ``/oauth2/exchange`` instead of
        ``https://<registry>``; for tests against a fake registry. Deliberately not an
        environment variable: it receives an Entra token.
    :param hosts: other registry hosts to treat as ACR, each with the origin its exchange
        and API are at (``{"127.0.0.1:5000": "http://127.0.0.1:5000"}``); for tests against
        a fake registry (plain http is taken for loopback only).
    :param session: a ``requests.Session`` for the exchange and the API.
    :param timeout: seconds for the exchange.
    :param max_wait: the most seconds one API call waits on rate limits (429).
    :param clock: seconds since the epoch; tests pass a fake one.

    Refresh tokens are cached per registry and exchanged again at half their lifetime (read
    from the token's ``exp``, else the 3 hours ACR documents), which the credentials also
    carry as ``expires_at``. No Entra token to be had (no identity configured, or it was
    refused): None, logged, remembered for five minutes. ACR refusing the exchange:
    :class:`ocireg.PluginError`.
    """

    name = "azure"

    def __init__(
        self,
        *,
        credential: TokenCredential | None = None,
        tenant_id: str | None = None,
        scope: str | None = None,
        exchange_base_url: str | None = None,
        hosts: Mapping[str, str] | None = None,
        session: requests.Session | None = None,
        timeout: float = 30.0,
        max_wait: float = 60.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._credential = credential
        self._own_credential = credential is None
        self._tenant_id = tenant_id
        self._scope = scope
        self._exchange_base_url = exchange_base_url.rstrip("/") if exchange_base_url else None
        self._hosts = {h.lower(): u.rstrip("/") for h, u in (hosts or {}).items()}
        self._session = session
        self._timeout = timeout
        self._max_wait = max_wait
        self._clock = clock
        self._lock = threading.Lock()
        self._cache: dict[str, _Entry] = {}

    def clear_cache(self) -> None:
        """Forget every refresh token, remembered failure and self-made Azure credential."""
        with self._lock:
            self._cache.clear()
            if self._own_credential:
                self._credential = None

    # Cloud plugins answer last: after the built-ins, and after plugins given to the Client.
    @hookimpl(trylast=True)
    def ocireg_get_credentials(self, registry: str, repository: str | None) -> Credentials | None:
        if self.api_origin(registry) is None:
            return None
        host = registry.lower()
        with self._lock:
            now = self._clock()
            entry = self._cache.get(host)
            if entry is None or now >= entry.refresh_at:
                entry = self._fetch(host, now)
                self._cache[host] = entry
            return entry.credentials

    def api_origin(self, registry: str) -> str | None:
        """Where ``registry``'s exchange and API are: ``https://<registry>`` for an ACR host,
        the origin given in ``hosts``, else None (not ACR)."""
        host = registry.lower()
        if host in self._hosts:
            return self._hosts[host]
        return f"https://{host}" if is_acr_host(host) else None

    @hookimpl
    def ocireg_registry_api(
        self, registry: str, credentials: CredentialLookup
    ) -> RegistryAPI | None:
        api_origin = self.api_origin(registry)
        if api_origin is None:
            return None
        from ocireg.webapi import WebAPI

        from .api import AcrAPI

        web = WebAPI(
            "Azure Container Registry API",
            api_origin,
            registry=registry,
            session=self._session,
            max_wait=self._max_wait,
        )
        return AcrAPI(credentials, web)

    # -- the flow ---------------------------------------------------------------------------

    def _azure_credential(self) -> TokenCredential:
        if self._credential is None:
            from azure.identity import DefaultAzureCredential

            self._credential = DefaultAzureCredential()
        return self._credential

    def _fetch(self, host: str, now: float) -> _Entry:
        from azure.core.exceptions import ClientAuthenticationError

        scope = self._scope or os.environ.get(SCOPE_ENV) or default_scope(host)
        credential = self._azure_credential()
        kind = type(credential).__name__
        try:
            entra_token = credential.get_token(scope).token
        except ClientAuthenticationError as exc:
            first_line = (exc.message or type(exc).__name__).splitlines()[0][:300]
            log.warning(
                "azure: no Entra token from %s for %s (%s); asking the registry anonymously",
                kind,
                host,
                first_line,
            )
            return _Entry(None, now + NEGATIVE_TTL)
        base = self._exchange_base_url or self.api_origin(host) or f"https://{host}"
        url = f"{base}/oauth2/exchange"
        refresh_token = self._exchange(url, host, entra_token)
        expires_at = _jwt_expiry(refresh_token, default=now + DEFAULT_LIFETIME)
        lifetime = expires_at - now
        credentials = IdentityToken(
            refresh_token,
            username=ACR_USERNAME,
            source=f"azure: Entra token from {kind} (scope {scope}) exchanged at {url}",
            # The Client's keychain asks again before the refresh token lapses.
            expires_at=expires_at,
        )
        return _Entry(credentials, now + max(0.0, lifetime) / 2)

    def _exchange(self, url: str, host: str, entra_token: str) -> str:
        form = {"grant_type": "access_token", "service": host, "access_token": entra_token}
        tenant = self._tenant_id or os.environ.get("AZURE_TENANT_ID")
        if tenant:
            form["tenant"] = tenant
        import requests  # only here: most processes never exchange an Entra token

        post = self._session.post if self._session is not None else requests.post
        try:
            response = post(url, data=form, timeout=self._timeout)
        except requests.RequestException as exc:
            raise PluginError(
                f"azure: token exchange at {url} failed: {type(exc).__name__}", plugin=self.name
            ) from None
        with response:
            if response.status_code != 200:
                raise PluginError(
                    f"azure: token exchange at {url} answered {response.status_code}"
                    f"{_acr_error(response)}",
                    plugin=self.name,
                )
            try:
                refresh_token = response.json().get("refresh_token")
            except (ValueError, AttributeError):
                refresh_token = None
        if not isinstance(refresh_token, str) or not refresh_token:
            raise PluginError(
                f"azure: token exchange at {url} returned no refresh_token", plugin=self.name
            )
        return refresh_token


def _acr_error(response: requests.Response) -> str:
    """``: CODE: message`` from ACR's ``{"errors": [...]}`` body, or nothing."""
    try:
        first = response.json()["errors"][0]
        return f": {first.get('code', '')}: {first.get('message', '')}"[:300]
    except (ValueError, KeyError, IndexError, TypeError, AttributeError):
        return ""


def _jwt_expiry(token: str, *, default: float) -> float:
    """The ``exp`` claim of a JWT, read without verifying it (only to schedule a refresh)."""
    try:
        payload = token.split(".")[1]
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        exp = claims["exp"]
    except (IndexError, ValueError, binascii.Error, KeyError, TypeError):
        return default
    return float(exp) if isinstance(exp, int | float) else default
