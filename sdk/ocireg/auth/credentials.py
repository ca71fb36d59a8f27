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

import dataclasses
import hashlib
import unicodedata
from dataclasses import dataclass, field

from ..errors import AuthenticationError

__all__ = [
    "BasicCredentials",
    "Credentials",
    "IdentityToken",
    "RegistryToken",
    "credentials_kind",
    "sanitized",
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


def _bad(text: str) -> bool:
    """Whether ``text`` holds a control character (C0, DEL, C1) or a line/paragraph
    separator: anything that could end or split a header line."""
    return any(unicodedata.category(ch) in ("Cc", "Zl", "Zp") for ch in text)


def sanitized(creds: Credentials | None) -> Credentials | None:
    """``creds`` with surrounding whitespace stripped from its secret (a token or password
    read from a file or ``$(cat ...)`` often ends in a newline), or ``creds`` itself when
    nothing changes.

    :raises AuthenticationError: when a secret or user name still holds a control character;
        the message names the kind and source of the credential, never the secret. It is
        raised with no ``__cause__`` or ``__context__``.
    """
    if creds is None:
        return None
    if isinstance(creds, BasicCredentials):
        user, secret = creds.username, creds.password
    elif isinstance(creds, IdentityToken):
        user, secret = creds.username, creds.token
    else:
        user, secret = "", creds.token
    # Text only: a str subclass or bytes from a buggy provider is refused too.
    if not isinstance(secret, str) or not isinstance(user, str):
        problem = "is not text"
    else:
        stripped = secret.strip()
        problem = ""
        if _bad(stripped) or _bad(user):
            problem = "contains control characters"
        elif stripped != secret:
            key = "password" if isinstance(creds, BasicCredentials) else "token"
            return dataclasses.replace(creds, **{key: stripped})  # type: ignore[arg-type]
    if problem:
        where = f" from {creds.source}" if creds.source else ""
        raise AuthenticationError(f"the {creds.kind} credential{where} {problem}; not using it")
    return creds
