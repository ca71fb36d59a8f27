"""The ECR plugin object: credentials from ``ecr:GetAuthorizationToken`` through boto3,
cached, and ECR's own API for deletes and listings (:mod:`ocireg_ecr.api`).

ECR answers ``GetAuthorizationToken`` with ``authorizationData[].authorizationToken``, the
base64 of ``AWS:<password>``, valid for 12 hours (``expiresAt``). Like
amazon-ecr-credential-helper, a token is used for **half** its lifetime and then fetched
again, so a long copy never starts with a token about to expire. The credentials carry
``expires_at`` (``expiresAt``, or 12 hours when ECR leaves it out), so a long-lived Client
asks again before they expire.

boto3 is imported only when an ECR host is asked: ``import ocireg_ecr`` and questions about
other registries never load it; handing out the native API loads it only on its first call.
"""

from __future__ import annotations

import base64
import binascii
import logging
import re
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from ocireg.auth.credentials import BasicCredentials, Credentials
from ocireg.errors import PluginError
from ocireg.hookspecs import hookimpl

from .hosts import PRIVATE_HOST, PUBLIC_HOSTS, PUBLIC_REGION, EcrRegistry, parse_host

if TYPE_CHECKING:
    from ocireg.registry_api import CredentialLookup, RegistryAPI

__all__ = [
    "PRIVATE_HOST",
    "PUBLIC_HOSTS",
    "EcrCredentials",
    "EcrRegistry",
    "decode_authorization_token",
    "parse_host",
]

log = logging.getLogger("ocireg_ecr")

#: What ECR documents when ``expiresAt`` is missing.
DEFAULT_LIFETIME = 12 * 3600.0
#: How long "no AWS credentials" is remembered before boto3 is asked again.
NEGATIVE_TTL = 300.0


def decode_authorization_token(token: str) -> tuple[str, str]:
    """Split an ``authorizationToken`` (base64 of ``AWS:<password>``) into user and password."""
    try:
        user, sep, password = base64.b64decode(token, validate=True).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        sep = user = password = ""
    if not sep or not user or not password:
        raise PluginError(
            "ecr: the authorization token is not base64 'user:password'", plugin="ecr"
        )
    return user, password


@dataclass(frozen=True, slots=True)
class _Entry:
    credentials: Credentials | None
    refresh_at: float


class EcrCredentials:
    """Answers for private ECR hosts and ECR Public with ``BasicCredentials("AWS", ...)``,
    and offers :class:`~ocireg_ecr.api.EcrRegistryAPI` for private ECR hosts.

    :param session: a ``boto3.session.Session`` to use (default: a new one on first use, which
        reads the usual AWS configuration: environment, ``AWS_PROFILE``, shared files, SSO,
        instance and container roles).
    :param clock: seconds since the epoch; tests pass a fake one.
    :param endpoint_url: the ECR API endpoint for private registries (default: AWS's for the
        region), e.g. a VPC endpoint, or moto in tests.
    :param hosts: more registry hosts to treat as private ECR, each mapped to its
        ``(registry id, region)``: a proxy or mirror in front of ECR, or a loopback test
        registry (``{"127.0.0.1:5000": ("123456789012", "us-east-1")}``).

    Without AWS credentials the provider answers None (the registry is then asked
    anonymously, which ECR Public allows) and remembers that for five minutes. An AWS error
    for a private registry (``AccessDenied`` ...) raises :class:`ocireg.PluginError`; for ECR
    Public it is logged and the pull goes on anonymously.
    """

    name = "ecr"

    def __init__(
        self,
        *,
        session: Any = None,
        clock: Callable[[], float] = time.time,
        endpoint_url: str | None = None,
        hosts: Mapping[str, tuple[str, str]] | None = None,
    ) -> None:
        self._session: Any = session
        self._own_session = session is None
        self._clock = clock
        self._endpoint_url = endpoint_url
        self._hosts = {
            host.lower(): EcrRegistry(host.lower(), account, region)
            for host, (account, region) in (hosts or {}).items()
        }
        if any(
            not re.fullmatch(r"\d{12}", t.account or "") or not t.region
            for t in self._hosts.values()
        ):
            raise ValueError("hosts maps a host to (12-digit registry id, region)")
        self._lock = threading.Lock()
        self._cache: dict[str, _Entry] = {}

    def registry(self, registry: str) -> EcrRegistry | None:
        """The ECR registry ``registry`` names (a host given in ``hosts``, else
        :func:`parse_host`), or None when it is not ECR."""
        return self._hosts.get(registry.lower()) or parse_host(registry)

    def clear_cache(self) -> None:
        """Forget every cached token and remembered failure (and the boto3 session this
        provider made itself, so changed AWS settings are read again)."""
        with self._lock:
            self._cache.clear()
            if self._own_session:
                self._session = None

    # Cloud plugins answer last: after the built-ins, and after plugins given to the Client.
    @hookimpl(trylast=True)
    def ocireg_get_credentials(self, registry: str, repository: str | None) -> Credentials | None:
        target = self.registry(registry)
        if target is None:
            return None
        with self._lock:  # one fetch per host even when many threads ask at once
            now = self._clock()
            entry = self._cache.get(target.cache_key)
            if entry is None or now >= entry.refresh_at:
                entry = self._fetch(target, now)
                self._cache[target.cache_key] = entry
            return entry.credentials

    @hookimpl(trylast=True)
    def ocireg_registry_api(
        self, registry: str, credentials: CredentialLookup
    ) -> RegistryAPI | None:
        """:class:`~ocireg_ecr.api.EcrRegistryAPI` for private ECR hosts, None otherwise (ECR
        Public included: see the README). It signs with the AWS identity of this provider's
        boto3 session, not with ``credentials`` (ECR's API takes no registry token)."""
        target = self.registry(registry)
        if target is None or target.public:
            return None
        from .api import EcrRegistryAPI  # no boto3 here: the client is made on first use

        return EcrRegistryAPI(target, lambda: self.api_client(target))

    def api_client(self, target: EcrRegistry) -> Any:
        """A boto3 ``ecr`` client for ``target``'s region from this provider's session, with
        bounded timeouts and retries (boto3 clients are thread-safe; making one is not)."""
        from botocore.config import Config

        config = Config(
            use_fips_endpoint=target.fips,
            connect_timeout=10,
            read_timeout=60,
            retries={"mode": "standard", "total_max_attempts": 4},
            user_agent_extra="ocireg-ecr",
        )
        with self._lock:
            return self._boto_session().client(
                "ecr", region_name=target.region, config=config, **self._endpoint()
            )

    # -- AWS ------------------------------------------------------------------------------

    def _endpoint(self) -> dict[str, str]:
        return {"endpoint_url": self._endpoint_url} if self._endpoint_url else {}

    def _boto_session(self) -> Any:
        if self._session is None:
            import boto3.session

            self._session = boto3.session.Session()
        return self._session

    def _fetch(self, target: EcrRegistry, now: float) -> _Entry:
        from botocore.exceptions import BotoCoreError, ClientError

        session = self._boto_session()
        try:
            aws_credentials = session.get_credentials()
        except BotoCoreError as exc:  # a broken profile, an SSO session that expired ...
            return self._failed(target, now, f"{type(exc).__name__}: {exc}")
        if aws_credentials is None:
            return self._failed(target, now, "no AWS credentials found", missing=True)
        method = getattr(aws_credentials, "method", None) or "unknown"
        try:
            data = self._get_authorization_data(session, target)
        except ClientError as exc:
            error = exc.response.get("Error", {})
            reason = f"{error.get('Code', 'error')}: {error.get('Message', '')}".rstrip(": ")
            return self._failed(target, now, reason)
        except BotoCoreError as exc:
            return self._failed(target, now, f"{type(exc).__name__}: {exc}")
        user, password = decode_authorization_token(str(data["authorizationToken"]))
        expires = data.get("expiresAt")
        lifetime = expires.timestamp() - now if isinstance(expires, datetime) else DEFAULT_LIFETIME
        credentials = BasicCredentials(
            user,
            password,
            source=f"{self._describe(target)}, AWS credentials from {method}",
            # Tells the Client's keychain when to ask again (this provider's own cache
            # hands out a fresh token from half the lifetime on).
            expires_at=now + lifetime,
        )
        log.debug("ecr: token for %s valid for %.0f s", target.host, lifetime)
        # A token is fresh for half its lifetime; an already expired one serves this call only.
        return _Entry(credentials, now + max(0.0, lifetime) / 2)

    def _get_authorization_data(self, session: Any, target: EcrRegistry) -> dict[str, Any]:
        if target.public:
            client = session.client("ecr-public", region_name=PUBLIC_REGION)
            public_data: dict[str, Any] = client.get_authorization_token()["authorizationData"]
            return public_data
        from botocore.config import Config

        client = session.client(
            "ecr",
            region_name=target.region,
            config=Config(use_fips_endpoint=target.fips),
            **self._endpoint(),
        )
        response = client.get_authorization_token(registryIds=[target.account])
        private_data: dict[str, Any] = response["authorizationData"][0]
        return private_data

    def _failed(
        self, target: EcrRegistry, now: float, reason: str, *, missing: bool = False
    ) -> _Entry:
        what = f"{self._describe(target)} for {target.host} failed: {reason}"
        if missing or target.public:
            # No identity (or ECR Public, which serves anonymous pulls): not ours to answer.
            log.warning("%s; asking the registry anonymously", what)
            return _Entry(None, now + NEGATIVE_TTL)
        raise PluginError(what, plugin=self.name)

    @staticmethod
    def _describe(target: EcrRegistry) -> str:
        if target.public:
            return f"ecr-public GetAuthorizationToken ({PUBLIC_REGION})"
        fips = ", FIPS endpoint" if target.fips else ""
        return f"ecr GetAuthorizationToken (account {target.account}, {target.region}{fips})"
