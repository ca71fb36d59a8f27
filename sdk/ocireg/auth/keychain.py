"""The keychain: which credentials to use for a registry, asked of the credential providers.

:class:`Keychain` asks the ``ocireg_get_credentials`` implementations of a plugin manager in
pluggy's ``firstresult`` order (the policy written down in :mod:`ocireg.plugins`: explicit >
environment > docker-config > containers-auth > plugins; go-containerregistry's
``authn.MultiKeychain`` is the same idea), and

- caches each answer per ``(registry, repository)``: credential helpers are subprocesses and
  cloud providers make network calls, and every request asks;
- keeps an answer only as long as the provider allows: a credential whose ``expires_at`` is set
  (a cloud token that lives 1 to 12 hours) is asked for again :data:`EXPIRY_MARGIN` seconds
  before it expires, so a long-lived client never sends a dead token; one without
  ``expires_at`` (a password, a helper's answer) and "no credentials" are kept for the
  keychain's life, or until :meth:`Keychain.forget`;
- names the provider that answered (:meth:`Keychain.explain`, never the secret) and the one
  that failed (:class:`~ocireg.errors.PluginError`, without the original exception's text or
  traceback, which may hold the secret: neither ``__cause__`` nor ``__context__`` is set).

Why not ``pm.hook.ocireg_get_credentials(...)``: pluggy's ``firstresult`` call returns only the
value, not which implementation gave it, and an exception raised by an implementation comes out
as it is, with nothing naming the plugin (a hook wrapper sees the outcome but not which
implementation produced it). So the keychain walks the public ``hook.get_hookimpls()`` list
itself, in reverse, which is exactly the order pluggy's own call uses (tryfirst, then plain,
then trylast; last registered first within a group), and skips hook wrappers as pluggy's call
does for plain implementations. Hook-call monitoring (``add_hookcall_monitoring``) does not see
these calls.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, cast

import pluggy

from ..errors import InvalidReferenceError, PluginError
from ..reference import normalize_registry
from .credentials import Credentials

__all__ = ["EXPIRY_MARGIN", "Keychain"]

log = logging.getLogger("ocireg.auth")

#: An expiring credential is asked for again this many seconds before its ``expires_at``.
EXPIRY_MARGIN = 60.0
HOOK_NAME = "ocireg_get_credentials"

_Key = tuple[str, str | None]


@dataclass(frozen=True, slots=True)
class _Answer:
    provider: str | None
    credentials: Credentials | None
    asked: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class _Entry:
    credentials: Credentials | None
    #: on the keychain's clock; ``inf``: kept until forgotten
    refresh_at: float


class Keychain:
    """Credentials per registry (and repository) from the providers of ``plugin_manager``.

    :param plugin_manager: a manager from :func:`ocireg.plugins.get_plugin_manager`.
    :param clock: a monotonic clock (seconds) for the cache; tests pass a fake one. A
        credential's ``expires_at`` (wall clock) is converted to it when the answer comes.

    Thread-safe: concurrent lookups of one ``(registry, repository)`` wait for a single round
    of questions instead of each running the providers.
    """

    def __init__(
        self,
        plugin_manager: pluggy.PluginManager,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._pm = plugin_manager
        self._clock = clock
        self._cache: dict[_Key, _Entry] = {}
        self._locks: dict[_Key, threading.Lock] = {}
        self._guard = threading.Lock()
        #: bumped by forget(), so an answer asked for before it is not stored after it
        self._generation = 0

    def lookup(self, registry: str, repository: str | None) -> Credentials | None:
        """The credential for ``registry`` (a reference's domain, as the transport passes it)
        and ``repository`` (its path, or None); None means anonymous.

        :raises PluginError: naming the provider, when one fails.
        """
        key = (registry, repository)
        with self._guard:
            entry = self._cache.get(key)
            if entry is not None and self._clock() < entry.refresh_at:
                return entry.credentials
            lock = self._locks.get(key)
            if lock is None:
                lock = self._locks[key] = threading.Lock()
            generation = self._generation
        with lock:
            with self._guard:  # another thread may have asked while we waited
                entry = self._cache.get(key)
                if entry is not None and self._clock() < entry.refresh_at:
                    return entry.credentials
            answer = self._ask(registry, repository)
            entry = _Entry(answer.credentials, self._refresh_at(answer.credentials))
            with self._guard:
                if generation == self._generation:
                    self._cache[key] = entry
            if log.isEnabledFor(logging.DEBUG):
                log.debug(
                    "credentials for %s%s: %s",
                    registry,
                    f"/{repository}" if repository else "",
                    answer.provider or "anonymous (no provider answered)",
                )
            return answer.credentials

    def explain(self, registry: str, repository: str | None = None) -> dict[str, Any]:
        """Which provider answers for ``registry``, with what kind of credential, and from
        where; never the secret.

        Returns ``registry`` (normalised: ``index.docker.io`` -> ``docker.io``), ``provider``
        (the plugin name, or None), ``kind`` (``basic``, ``identity-token``,
        ``registry-token`` or ``anonymous``), ``username`` (or None), ``source`` (where the
        provider found it) and ``asked`` (the providers asked, in order). The providers are
        asked afresh (what they would answer now), without reading or changing the cache.

        :raises PluginError: naming the provider, when one fails.
        """
        registry = normalize_registry(registry)
        answer = self._ask(registry, repository)
        found = answer.credentials
        if found is not None:
            return {
                "registry": registry,
                "provider": answer.provider,
                "kind": found.kind,
                "username": getattr(found, "username", None),
                "source": found.source,
                "asked": list(answer.asked),
            }
        return {
            "registry": registry,
            "provider": None,
            "kind": "anonymous",
            "username": None,
            "source": "",
            "asked": list(answer.asked),
        }

    def forget(self, registry: str | None = None) -> None:
        """Drop the cached answers for ``registry`` (every repository of it; ``docker.io``
        and its aliases alike), or all of them; they are asked for again on next use."""
        with self._guard:
            self._generation += 1
            if registry is None:
                self._cache.clear()
                return
            wanted = _host_key(registry)
            for key in [k for k in self._cache if _host_key(k[0]) == wanted]:
                del self._cache[key]

    # -- internals ---------------------------------------------------------------------------

    def _refresh_at(self, creds: Credentials | None) -> float:
        expires_at = getattr(creds, "expires_at", None)
        if expires_at is None:
            return math.inf
        try:
            remaining = float(expires_at) - time.time()
        except (TypeError, ValueError):
            remaining = 0.0  # a provider's bad value: use the answer once, ask again next time
        if math.isnan(remaining):
            remaining = 0.0
        return self._clock() + remaining - EXPIRY_MARGIN

    def _ask(self, registry: str, repository: str | None) -> _Answer:
        """Ask the providers in pluggy's ``firstresult`` order (see the module docstring)."""
        hook = getattr(self._pm.hook, HOOK_NAME)
        values = {"registry": registry, "repository": repository}
        asked: list[str] = []
        for impl in reversed(hook.get_hookimpls()):
            if impl.hookwrapper or impl.wrapper:
                continue
            asked.append(impl.plugin_name)
            failure: str | None = None
            try:
                found = cast(
                    "Credentials | None",
                    impl.function(**{name: values[name] for name in impl.argnames}),
                )
            except PluginError:
                raise  # the provider's own, naming itself without secrets (hookspecs says so)
            except Exception as exc:
                failure = type(exc).__name__
            if failure is not None:
                # Raised outside the except block: a provider's bug must not leak its message
                # or locals (secrets) through __cause__ or __context__.
                raise PluginError(
                    f"credential provider {impl.plugin_name} failed for {registry}: {failure}",
                    plugin=impl.plugin_name,
                ) from None
            if found is not None:
                return _Answer(impl.plugin_name, found, tuple(asked))
        return _Answer(None, None, tuple(asked))


def _host_key(registry: str) -> str:
    try:
        return normalize_registry(registry).lower()
    except InvalidReferenceError:
        return registry.lower()
