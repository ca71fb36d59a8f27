"""Credential values handed out by credential providers.

Three kinds, as docker's ``config.json`` knows them:

- :class:`BasicCredentials`: a user name and password (sent as Basic, or exchanged for a token);
- :class:`IdentityToken`: an OAuth2 refresh token (``identitytoken``, or a helper answering
  with user ``<token>``), exchanged at the token realm with ``grant_type=refresh_token``;
- :class:`RegistryToken`: a ready bearer token (``registrytoken``), sent as it is.

Their ``repr`` never shows the secret, so they are safe in logs and tracebacks.

Each may say when it stops being valid: ``expires_at``, seconds since the epoch (a
``time.time()`` wall-clock value, since that is what cloud APIs report: ECR's ``expiresAt``,
google-auth's ``expiry``, a JWT's ``exp``). ``None`` (the default) means "valid until the
provider says otherwise", as for passwords and credential helpers. The
:class:`~ocireg.auth.keychain.Keychain` asks the provider again shortly before a credential
expires; ``expires_at`` takes no part in equality or in the token cache key, since it does not
change what is sent.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

__all__ = [
    "BasicCredentials",
    "Credentials",
    "IdentityToken",
    "RegistryToken",
    "credentials_kind",
]


@dataclass(frozen=True, slots=True)
class BasicCredentials:
    username: str
    password: str = field(repr=False)
    #: where the credential came from, for ``explain_credentials`` (never the secret)
    source: str = field(default="", compare=False)
    #: when it expires, seconds since the epoch (``time.time()``); None: not known to expire
    expires_at: float | None = field(default=None, compare=False)
    kind = "basic"

    @property
    def fingerprint(self) -> str:
        return _fingerprint("basic", self.username, self.password)


@dataclass(frozen=True, slots=True)
class IdentityToken:
    token: str = field(repr=False)
    username: str = "<token>"
    source: str = field(default="", compare=False)
    #: when it expires, seconds since the epoch (``time.time()``); None: not known to expire
    expires_at: float | None = field(default=None, compare=False)
    kind = "identity-token"

    @property
    def fingerprint(self) -> str:
        return _fingerprint("identity", self.username, self.token)


@dataclass(frozen=True, slots=True)
class RegistryToken:
    token: str = field(repr=False)
    source: str = field(default="", compare=False)
    #: when it expires, seconds since the epoch (``time.time()``); None: not known to expire
    expires_at: float | None = field(default=None, compare=False)
    kind = "registry-token"

    @property
    def fingerprint(self) -> str:
        return _fingerprint("registry", "", self.token)


Credentials = BasicCredentials | IdentityToken | RegistryToken


def credentials_kind(creds: Credentials | None) -> str:
    """``anonymous``, ``basic``, ``identity-token`` or ``registry-token``."""
    if creds is None:
        return "anonymous"
    if isinstance(creds, IdentityToken):
        return "identity-token"
    return creds.kind


def _fingerprint(kind: str, user: str, secret: str) -> str:
    # A one-way key for caches, so two credentials never share a token and no secret is kept.
    return hashlib.sha256(f"{kind}\0{user}\0{secret}".encode()).hexdigest()[:16]
