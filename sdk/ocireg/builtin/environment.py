"""Credentials from environment variables, for CI jobs and containers.

Two providers, asked at two places in the order (``ocireg.plugins``):

``environment`` (early, right after the Client's own credentials): the variables of one
registry, with the host upper-cased and every character other than A-Z and 0-9 replaced by
``_``::

    OCIREG_QUAY_IO_USERNAME / OCIREG_QUAY_IO_PASSWORD      quay.io
    OCIREG_127_0_0_1_5000_TOKEN                            127.0.0.1:5000
    OCIREG_DOCKER_IO_USERNAME ...                          Docker Hub (any of its aliases)

then ``DOCKER_AUTH_CONFIG``: the JSON text of a whole docker ``config.json``, read with the
same rules as the file (credential helpers included).

``environment-generic`` (last, after docker ``config.json``, containers ``auth.json`` and
every plugin): ``OCIREG_USERNAME`` / ``OCIREG_PASSWORD``, ``OCIREG_TOKEN`` or
``OCIREG_IDENTITY_TOKEN``, which name no registry. They would go to every registry a program
talks to, so they answer only where no source that knows the host does: a ``copy`` from a
public registry with a CI password in ``OCIREG_PASSWORD`` does not send it to the source if
``config.json`` or a plugin has the source's own credentials.

``..._TOKEN`` is a ready bearer token sent as it is; ``..._IDENTITY_TOKEN`` is an OAuth2
refresh token exchanged at the registry's token realm.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping

from ..auth.credentials import BasicCredentials, Credentials, IdentityToken, RegistryToken
from ..hookspecs import hookimpl
from . import docker_config

__all__ = ["GENERIC_PREFIX", "EnvironmentProvider", "GenericEnvironmentProvider", "env_prefix"]

#: The prefix of the variables that name no registry.
GENERIC_PREFIX = "OCIREG"


def env_prefix(registry: str) -> str:
    host = "docker.io" if docker_config.hub_aliases(registry) else registry
    return "OCIREG_" + re.sub(r"[^A-Z0-9]", "_", host.upper())


def _from(env: Mapping[str, str], prefix: str) -> Credentials | None:
    token = env.get(f"{prefix}_TOKEN")
    if token:
        return RegistryToken(token, source=f"environment {prefix}_TOKEN")
    identity = env.get(f"{prefix}_IDENTITY_TOKEN")
    if identity:
        return IdentityToken(identity, source=f"environment {prefix}_IDENTITY_TOKEN")
    user, password = env.get(f"{prefix}_USERNAME"), env.get(f"{prefix}_PASSWORD")
    if user and password:
        return BasicCredentials(user, password, source=f"environment {prefix}_USERNAME/_PASSWORD")
    return None


class EnvironmentProvider:
    """``OCIREG_<HOST>_*``, then ``DOCKER_AUTH_CONFIG``: variables that name the registry."""

    name = "environment"

    def __init__(self, environ: Mapping[str, str] | None = None) -> None:
        self._environ = environ

    @hookimpl(tryfirst=True)
    def ocireg_get_credentials(self, registry: str, repository: str | None) -> Credentials | None:
        env = self._environ if self._environ is not None else os.environ
        found = _from(env, env_prefix(registry))
        if found is not None:
            return found
        text = env.get("DOCKER_AUTH_CONFIG")
        if text:
            doc = docker_config.parse_config(text, "DOCKER_AUTH_CONFIG", plugin=self.name)
            return docker_config.lookup(doc, registry, "DOCKER_AUTH_CONFIG", self.name)
        return None


class GenericEnvironmentProvider:
    """``OCIREG_USERNAME``/``OCIREG_PASSWORD``, ``OCIREG_TOKEN``, ``OCIREG_IDENTITY_TOKEN``:
    for any registry, asked after every other source (``trylast``, registered last)."""

    name = "environment-generic"

    def __init__(self, environ: Mapping[str, str] | None = None) -> None:
        self._environ = environ

    @hookimpl(trylast=True)
    def ocireg_get_credentials(self, registry: str, repository: str | None) -> Credentials | None:
        env = self._environ if self._environ is not None else os.environ
        return _from(env, GENERIC_PREFIX)
