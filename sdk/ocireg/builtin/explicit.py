"""Credentials given to the Client itself: the first provider asked."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping

from ..auth.credentials import BasicCredentials, Credentials
from ..hookspecs import hookimpl
from ..hosts import endpoint_for

ExplicitCredentials = (
    Credentials | tuple[str, str] | Mapping[str, "Credentials | tuple[str, str]"] | None
)


def _coerce(value: Credentials | tuple[str, str], source: str) -> Credentials:
    if isinstance(value, tuple):
        username, password = value
        return BasicCredentials(username, password, source=source)
    # Say where it came from in explain_credentials, unless the caller already did.
    return value if value.source else dataclasses.replace(value, source=source)


class ExplicitCredentialsProvider:
    """Answers with what the caller passed: one credential for every registry, or a mapping
    from registry host to credential (``docker.io`` and its aliases are one registry)."""

    name = "explicit"

    def __init__(self, credentials: ExplicitCredentials) -> None:
        self._all: Credentials | None = None
        self._by_registry: dict[str, Credentials] = {}
        if isinstance(credentials, Mapping):
            for registry, value in credentials.items():
                self._by_registry[endpoint_for(registry.lower())] = _coerce(
                    value, f"Client(credentials={{{registry!r}: ...}})"
                )
        elif credentials is not None:
            self._all = _coerce(credentials, "Client(credentials=...)")

    @hookimpl(tryfirst=True)
    def ocireg_get_credentials(self, registry: str, repository: str | None) -> Credentials | None:
        if self._all is not None:
            return self._all
        return self._by_registry.get(endpoint_for(registry.lower()))
