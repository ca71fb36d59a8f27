"""Registry credentials in the system keyring, through the Python ``keyring`` library.

Layout of the entries, one keyring *service* per registry::

    service  ocireg:<registry>   user <username>    password <password or identity token>
    service  ocireg:<registry>   user @username     password <username>   (written by store())

``<registry>`` is the host as ocireg names it, lower-cased (``quay.io``,
``127.0.0.1:5000``); every Docker Hub alias (``index.docker.io``, ``registry-1.docker.io``)
is ``docker.io``. The ``@username`` entry tells which user the secret belongs to, because
most keyring backends cannot list the users of a service. Entries made by other tools without
it (``keyring set ocireg:quay.io alice``) are still found on backends that answer
``get_credential(service, None)`` (macOS Keychain, Windows Credential Manager, Secret
Service). A user of ``<token>`` marks an identity token, as in docker's credential helpers.

``keyring`` is imported at the first question, never by ``import ocireg_keyring``.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ocireg.auth.credentials import BasicCredentials, Credentials, IdentityToken
from ocireg.hookspecs import hookimpl

if TYPE_CHECKING:
    from keyring.backend import KeyringBackend

__all__ = [
    "SERVICE_PREFIX",
    "TOKEN_USERNAME",
    "USERNAME_ENTRY",
    "KeyringCredentials",
    "erase",
    "lookup",
    "normalize_registry",
    "service_name",
    "store",
]

log = logging.getLogger("ocireg_keyring")

SERVICE_PREFIX = "ocireg:"
#: The user name under which :func:`store` records the registry user name.
USERNAME_ENTRY = "@username"
#: docker's marker for an identity (refresh) token instead of a password.
TOKEN_USERNAME = "<token>"
#: How long a lookup (found or not) is trusted before the keyring is read again; store() and
#: erase() in this process invalidate at once.
DEFAULT_TTL = 300.0

_HUB = "docker.io"
_HUB_ALIASES = frozenset(
    {_HUB, "index.docker.io", "registry-1.docker.io", "registry.hub.docker.com"}
)

_generation_lock = threading.Lock()
_generation = 0  # bumped by store() and erase(): cached lookups made before are stale


def normalize_registry(registry: str) -> str:
    """``https://Index.Docker.IO/v1/`` -> ``docker.io``; ``Quay.io`` -> ``quay.io``."""
    host = registry.strip().lower()
    for scheme in ("https://", "http://"):
        host = host.removeprefix(scheme)
    host = host.split("/", 1)[0]
    if not host:
        raise ValueError(f"not a registry name: {registry!r}")
    return _HUB if host in _HUB_ALIASES else host


def service_name(registry: str) -> str:
    """The keyring service that holds ``registry``'s credentials: ``ocireg:<registry>``."""
    return SERVICE_PREFIX + normalize_registry(registry)


def _keyring(backend: KeyringBackend | None) -> KeyringBackend:
    if backend is not None:
        return backend
    import keyring

    return keyring.get_keyring()


def _bump() -> None:
    global _generation
    with _generation_lock:
        _generation += 1


def _delete(kr: KeyringBackend, service: str, username: str) -> bool:
    from keyring.errors import PasswordDeleteError

    try:
        kr.delete_password(service, username)
    except PasswordDeleteError:
        return False
    return True


def lookup(registry: str, *, backend: KeyringBackend | None = None) -> tuple[str, str] | None:
    """``(username, secret)`` stored for ``registry``, or None. Keyring errors propagate."""
    kr = _keyring(backend)
    service = service_name(registry)
    username = kr.get_password(service, USERNAME_ENTRY)
    if username:
        secret = kr.get_password(service, username)
        if secret:
            return username, secret
    credential = kr.get_credential(service, None)
    if (
        credential is not None
        and credential.username not in ("", USERNAME_ENTRY)
        and credential.password
    ):
        return credential.username, credential.password
    return None


def store(
    registry: str, username: str, password: str, *, backend: KeyringBackend | None = None
) -> str:
    """Keep ``username`` and ``password`` (or an identity token, with user ``<token>``) for
    ``registry``; replaces what was stored before. Returns the service name used.

    For ``ocireg login --keyring``.
    """
    if not username or not password:
        raise ValueError("a user name and a password are both needed")
    if username == USERNAME_ENTRY:
        raise ValueError(f"{USERNAME_ENTRY!r} is reserved by ocireg-keyring")
    kr = _keyring(backend)
    service = service_name(registry)
    previous = kr.get_password(service, USERNAME_ENTRY)
    kr.set_password(service, username, password)
    kr.set_password(service, USERNAME_ENTRY, username)
    if previous and previous != username:
        _delete(kr, service, previous)  # leave no stale secret behind
    _bump()
    return service


def erase(registry: str, *, backend: KeyringBackend | None = None) -> bool:
    """Remove ``registry``'s entries (for ``ocireg logout``); False if there were none."""
    kr = _keyring(backend)
    service = service_name(registry)
    username = kr.get_password(service, USERNAME_ENTRY)
    if not username:
        credential = kr.get_credential(service, None)
        if credential is not None and credential.username != USERNAME_ENTRY:
            username = credential.username
    erased = False
    for user in (username, USERNAME_ENTRY):
        if user and _delete(kr, service, user):
            erased = True
    _bump()
    return erased


@dataclass(frozen=True, slots=True)
class _Entry:
    credentials: Credentials | None
    expires: float
    generation: int


class KeyringCredentials:
    """Answers for every registry that has an ``ocireg:<registry>`` entry in the keyring.

    :param backend: a ``keyring.backend.KeyringBackend`` to read (default: the one the
        ``keyring`` library chooses, honouring ``PYTHON_KEYRING_BACKEND`` and its config).
    :param ttl: seconds a lookup is trusted (entries changed by other programs show up after).
    :param clock: a monotonic clock; tests pass a fake one.

    A keyring that is missing (``NoKeyringError``: a server with no Secret Service), locked
    or broken never breaks a pull: the provider answers None and logs why.
    """

    name = "keyring"

    def __init__(
        self,
        *,
        backend: KeyringBackend | None = None,
        ttl: float = DEFAULT_TTL,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._backend = backend
        self._ttl = ttl
        self._clock = clock
        self._lock = threading.Lock()
        self._cache: dict[str, _Entry] = {}

    def clear_cache(self) -> None:
        with self._lock:
            self._cache.clear()

    @hookimpl
    def ocireg_get_credentials(self, registry: str, repository: str | None) -> Credentials | None:
        try:
            key = normalize_registry(registry)
        except ValueError:
            return None
        with self._lock:
            generation, now = _generation, self._clock()
            entry = self._cache.get(key)
            if entry is None or entry.generation != generation or now >= entry.expires:
                entry = _Entry(self._read(key), now + self._ttl, generation)
                self._cache[key] = entry
            return entry.credentials

    def _read(self, registry: str) -> Credentials | None:
        from keyring.errors import NoKeyringError

        service = service_name(registry)
        try:
            kr = _keyring(self._backend)
            found = lookup(registry, backend=kr)
        except NoKeyringError:
            log.debug("keyring: no keyring backend available; %s not looked up", service)
            return None
        except Exception as exc:  # a locked or broken keyring must not break the pull
            log.warning("keyring: reading %s failed: %s", service, _describe_error(exc))
            return None
        if found is None:
            return None
        username, secret = found
        source = f"keyring ({_backend_name(kr)}): service {service}, user {username}"
        if username == TOKEN_USERNAME:
            return IdentityToken(secret, source=source)
        return BasicCredentials(username, secret, source=source)


def _backend_name(kr: Any) -> str:
    name = getattr(type(kr), "name", None)
    return name if isinstance(name, str) else type(kr).__name__


def _describe_error(exc: Exception) -> str:
    # keyring's messages name the service or the backend, never the secret.
    return f"{type(exc).__name__}: {exc}"[:300]
