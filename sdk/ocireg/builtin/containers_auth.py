"""containers ``auth.json`` (podman, skopeo, buildah), per containers-auth.json(5) and
REGISTRY-FACTS 3.2.

Files: ``$REGISTRY_AUTH_FILE`` alone when set; otherwise ``$XDG_RUNTIME_DIR/containers/auth.json``
(``/run/containers/<uid>/auth.json`` when ``XDG_RUNTIME_DIR`` is unset) then
``${XDG_CONFIG_HOME:-~/.config}/containers/auth.json`` (the docker config that containers/image
reads last is our own docker-config provider). Per file, ``credHelpers`` for the registry
wins; then keys from the most to the least specific: ``quay.io/ns/repo``, ``quay.io/ns``,
``quay.io``, matched exactly; then keys written with a scheme (``https://quay.io/v1/``),
matched by host. A namespaced key without a scheme (``quay.io/other``) never answers for
another namespace. Docker Hub is ``docker.io`` here, and ``index.docker.io`` and
``registry-1.docker.io`` keys mean it too. ``credsStore`` is not read by containers tools, so
not here either.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

from ..auth.credentials import Credentials
from ..hookspecs import hookimpl
from . import credential_helpers, docker_config

__all__ = ["ContainersAuthProvider", "auth_files", "candidate_keys"]

PLUGIN = "containers-auth"


def auth_files() -> list[Path]:
    """The files to read, in order (they need not exist)."""
    explicit = os.environ.get("REGISTRY_AUTH_FILE")
    if explicit:
        return [Path(explicit)]
    files = []
    runtime = os.environ.get("XDG_RUNTIME_DIR")
    if runtime:
        files.append(Path(runtime) / "containers" / "auth.json")
    elif sys.platform == "linux":
        files.append(Path(f"/run/containers/{os.getuid()}/auth.json"))
    config_home = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    files.append(Path(config_home) / "containers" / "auth.json")
    return files


def _normal_host(host: str) -> str:
    return "docker.io" if docker_config.hub_aliases(host) else host.lower()


def candidate_keys(registry: str, repository: str | None) -> list[str]:
    """The exact keys tried, most specific first (containers/image ``authKeyLookupOrder``):
    ``host/ns/repo``, ``host/ns``, ``host``. Docker Hub's official images are ``library/x``."""
    key = _normal_host(registry)
    if repository:
        key = f"{key}/{repository.strip('/')}"
    keys = [key]
    while "/" in key:
        key = key.rsplit("/", 1)[0]
        keys.append(key)
    return keys


def _normalized_key(key: str) -> str | None:
    """The registry a non-exact key stands for: keys with a scheme lose it and their path
    (``https://quay.io/v1/`` is ``quay.io``); plain keys keep their path, so a namespaced key
    is only ever an exact match."""
    for prefix in ("http://", "https://"):
        if key.startswith(prefix):
            return _normal_host(docker_config.host_of(key))
    return None if "/" in key else _normal_host(key)


class ContainersAuthProvider:
    name = PLUGIN

    @hookimpl(tryfirst=True)
    def ocireg_get_credentials(self, registry: str, repository: str | None) -> Credentials | None:
        for path in auth_files():
            doc = docker_config.load_config(path, plugin=PLUGIN)
            if doc is None:
                continue
            found = lookup(doc, registry, repository, str(path))
            if found is not None:
                return found
        return None


def lookup(
    doc: dict[str, Any], registry: str, repository: str | None, where: str
) -> Credentials | None:
    """Credentials for ``registry`` (and ``repository``) from one parsed ``auth.json``."""
    host = _normal_host(registry)
    helper_map = doc.get("credHelpers")
    if isinstance(helper_map, dict):
        suffix = next(
            (v for k, v in helper_map.items() if isinstance(k, str) and _normal_host(k) == host),
            None,
        )
        if suffix:
            # Helpers get the registry host only, never a namespace (containers-auth.json(5)).
            return credential_helpers.get(
                str(suffix),
                host,
                source=f"{where} credHelpers[{host}] -> docker-credential-{suffix}",
            )
    auths = doc.get("auths")
    if not isinstance(auths, dict):
        return None
    for key in candidate_keys(registry, repository):
        if key in auths:
            found = docker_config.entry_credentials(auths[key], f"{where} auths[{key!r}]", PLUGIN)
            if found is not None:
                return found
    for key, entry in auths.items():
        if isinstance(key, str) and _normalized_key(key) == host:
            found = docker_config.entry_credentials(entry, f"{where} auths[{key!r}]", PLUGIN)
            if found is not None:
                return found
    return None
