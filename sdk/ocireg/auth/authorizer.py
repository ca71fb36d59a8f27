"""The ``Authorization`` header of a registry request, from the registry's challenge.

Given the challenge a registry sent (on its ping or a 401), :class:`Authorizer` puts on a
request what that challenge asks for:

- ``Basic``: the :class:`~ocireg.auth.credentials.BasicCredentials` the lookup gives, if any;
- ``Bearer``: a :class:`~ocireg.auth.credentials.RegistryToken` as it is, else a token from the
  challenge's realm for the wanted scopes (distribution "Token Authentication
  Specification"), through the :class:`~ocireg.auth.token.TokenCache`, keyed by realm,
  service and a one-way fingerprint of the credential.

It refuses to send any credential (a password, an identity token, a ready registry token, or a
token obtained with one of them) over plain http off loopback unless the registry was named
insecure, and refuses realms that would leak them or reach the machine's own or private network
(:mod:`ocireg.auth.realm`, and a plain-http realm for credentials). Every credential is
:func:`~ocireg.auth.credentials.sanitized` before a header is built. Which credential to use
is not decided here: the ``credentials_for`` callable (the keychain) says.
"""

from __future__ import annotations

from collections.abc import Callable, Set

from ..errors import AuthenticationError
from ..hosts import is_loopback, realm_facts
from .challenge import Challenge
from .credentials import BasicCredentials, Credentials, RegistryToken, sanitized
from .realm import Resolver, check_realm, check_realm_addresses, system_resolver
from .token import Token, TokenCache, basic_header

__all__ = ["Authorizer", "TokenFetcher", "TokenKey"]

#: ``(realm, service, credential fingerprint)``: a token cache key.
TokenKey = tuple[str, str, str]
#: ``fetch(challenge, scopes, credentials, tls_host) -> Token``: asks the realm for a token;
#: ``tls_host`` is the host whose TLS settings verify the realm (the registry's own when the
#: realm is on the same host name).
TokenFetcher = Callable[[Challenge, tuple[str, ...], Credentials | None, str], Token]
#: Credentials whose fingerprint is remembered (by identity) before starting afresh.
_MAX_FINGERPRINTS = 64


class Authorizer:
    """Authorization for the requests of one transport.

    :param credentials_for: ``(registry, repository) -> Credentials | None``, asked per request.
    :param fetch: fetches a token from a realm (see :data:`TokenFetcher`).
    :param tokens: the token cache; replaceable (``authorizer.tokens = TokenCache()``).
    :param insecure: hosts (lower-cased) that may get credentials over plain http; read live,
        so adding to the set takes effect at once.
    :param allow_private_realms: accept token realms on loopback or private addresses for a
        registry that is not on one (link-local realms are refused always).
    :param resolver: resolves a realm's host name for that decision (``getaddrinfo``'s
        signature); asked right before a token request, never for a cached token.
    """

    def __init__(
        self,
        *,
        credentials_for: Callable[[str, str | None], Credentials | None],
        fetch: TokenFetcher,
        tokens: TokenCache,
        insecure: Set[str],
        allow_private_realms: bool = False,
        resolver: Resolver = system_resolver,
    ) -> None:
        self._credentials_for = credentials_for
        self.allow_private_realms = allow_private_realms
        self.resolver = resolver
        self._fetch = fetch
        self.tokens = tokens
        self.insecure = insecure
        #: The sanitized credential and its token cache key part, by the identity of the one
        #: the lookup gave (a sha256 per request else).
        self._fingerprints: dict[int, tuple[Credentials, Credentials, str]] = {}

    def authorize(
        self,
        registry: str,
        repository: str | None,
        challenge: Challenge | None,
        base_url: str,
        scopes: tuple[str, ...],
        headers: dict[str, str],
    ) -> tuple[TokenKey, Token] | None:
        """Add ``Authorization`` to ``headers`` (unless already there) as ``challenge`` asks;
        return the token cache key and token used, if a realm token was, so a 401 can drop it.
        """
        ch = challenge
        if ch is None or "Authorization" in headers:
            return None
        creds = self.clean(self._credentials_for(registry, repository))
        if ch.scheme == "basic":
            if isinstance(creds, BasicCredentials):
                self.check_plain_http(registry, base_url)
                headers["Authorization"] = basic_header(creds)
            return None
        if ch.scheme != "bearer":
            return None
        if creds is not None:
            self.check_plain_http(registry, base_url)
        if isinstance(creds, RegistryToken):
            headers["Authorization"] = f"Bearer {creds.token}"
            return None
        realm = ch.realm or ""
        check_realm(realm, base_url, allow_private=self.allow_private_realms)
        # The token request carries the credentials: the plain-http rule of the registry.
        realm_host, plain_http_realm, same_host = realm_facts(realm, base_url)
        if (
            creds is not None
            and plain_http_realm
            and realm_host not in self.insecure
            and registry.lower() not in self.insecure
        ):
            raise AuthenticationError(
                f"refusing to send credentials for {registry} to the plain-http token realm"
                f" {realm_host}; name the registry insecure to allow this"
            )
        # The realm is verified like the registry it serves (same CA bundle, client cert).
        tls_host = registry if same_host else realm_host
        key = (realm, ch.service or "", self.fingerprint(creds))

        def fetch() -> Token:
            check_realm_addresses(
                realm, base_url, resolver=self.resolver, allow_private=self.allow_private_realms
            )
            return self._fetch(ch, scopes, creds, tls_host)

        token = self.tokens.get(key, scopes, fetch)
        headers["Authorization"] = f"Bearer {token.value}"
        return key, token

    def check_plain_http(self, registry: str, base_url: str) -> None:
        """Refuse credentials for a registry spoken to over plain http, unless it is on
        loopback or was named insecure."""
        if (
            base_url.startswith("http://")
            and not is_loopback(registry)
            and registry.lower() not in self.insecure
        ):
            raise AuthenticationError(
                f"refusing to send credentials to {registry} over plain http; "
                "name it an insecure registry to allow this"
            )

    def clean(self, creds: Credentials | None) -> Credentials | None:
        """:func:`~ocireg.auth.credentials.sanitized` ``creds``, remembered by identity."""
        return self._known(creds)[0] if creds is not None else None

    def fingerprint(self, creds: Credentials | None) -> str:
        """The credential part of a token cache key (one-way; ``anonymous`` for None)."""
        return self._known(creds)[1] if creds is not None else "anonymous"

    def _known(self, creds: Credentials) -> tuple[Credentials, str]:
        known = self._fingerprints.get(id(creds))
        if known is not None and known[0] is creds:
            return known[1], known[2]
        clean = sanitized(creds)
        assert clean is not None
        value = clean.fingerprint
        if len(self._fingerprints) >= _MAX_FINGERPRINTS:
            # A credentials lookup that does not cache hands out a new object per request.
            self._fingerprints.clear()
        # Keeps both alive: ids stay unique. The clean one is remembered by its own id too.
        self._fingerprints[id(creds)] = (creds, clean, value)
        self._fingerprints[id(clean)] = (clean, clean, value)
        return clean, value
