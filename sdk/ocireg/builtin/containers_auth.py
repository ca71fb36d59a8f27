"""containers ``auth.json`` (podman, skopeo, buildah), per containers-auth.json(5) and
REGISTRY-FACTS 3.2.

Files: ``$REGISTRY_AUTH_FILE`` alone when set; otherwise ``$XDG_RUNTIME_DIR/containers/auth.json``
then ``${XDG_CONFIG_HOME:-~/.config}/containers/auth.json`` (the docker config that
containers/image reads last is our own docker-config provider). Per file, ``credHelpers``
for the registry wins; then keys from the most to the least specific: ``quay.io/ns/repo``,
``quay.io/ns``, ``quay.io``; then keys with a scheme or path, matched by host. Docker Hub is
``docker.io`` here. ``credsStore`` is not read by containers tools, so not here either.
"""

from __future__ import annotations

import os
from pathlib import Path

from ..auth.credentials import Credentials
from ..hookspecs import hookimpl
from . import docker_config, helpers

__all__ = ["ContainersAuthProvider", "auth_files"]


def auth_files() -> list[Path]:
    explicit = os.environ.get("REGISTRY_AUTH_FILE")
    if explicit:
        return [Path(explicit)]
    files = []
    runtime = os.environ.get("XDG_RUNTIME_DIR")
    if runtime:
        files.append(Path(runtime) / "containers" / "auth.json")
    config_home = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    files.append(Path(config_home) / "containers" / "auth.json")
    return files


def _candidates(registry: str, repository: str | None) -> list[str]:
    host = "docker.io" if docker_config.hub_aliases(registry) else registry
    keys = []
    if repository:
        parts = repository.split("/")
        if host == "docker.io" and parts[0] == "library" and len(parts) == 2:
            keys.append(f"{host}/{repository}")
            parts = parts[1:]
        keys.extend(f"{host}/{'/'.join(parts[:i])}" for i in range(len(parts), 0, -1))
    keys.append(host)
    return keys


class ContainersAuthProvider:
    name = "containers-auth"

    @hookimpl(tryfirst=True)
    def ocireg_get_credentials(self, registry: str, repository: str | None) -> Credentials | None:
        for path in auth_files():
            doc = docker_config.load_config(path)
            if doc is None:
                continue
            found = self._lookup(doc, registry, repository, str(path))
            if found is not None:
                return found
        return None

    def _lookup(
        self, doc: dict[str, object], registry: str, repository: str | None, where: str
    ) -> Credentials | None:
        host = "docker.io" if docker_config.hub_aliases(registry) else registry
        helper_map = doc.get("credHelpers")
        if isinstance(helper_map, dict) and helper_map.get(host):
            return helpers.get(str(helper_map[host]), host, source=f"{where} credHelpers[{host}]")
        auths = doc.get("auths")
        if not isinstance(auths, dict):
            return None
        for key in _candidates(registry, repository):
            if key in auths:
                found = docker_config.entry_credentials(auths[key], f"{where} auths[{key!r}]")
                if found is not None:
                    return found
        for key, entry in auths.items():
            if docker_config.host_of(key) in (
                host,
                "index.docker.io" if host == "docker.io" else host,
            ):
                found = docker_config.entry_credentials(entry, f"{where} auths[{key!r}]")
                if found is not None:
                    return found
        return None
