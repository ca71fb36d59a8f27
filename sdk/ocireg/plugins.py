"""The plugin manager: hook specs, built-in providers registered by name, entry points.

Each :class:`~ocireg.Client` owns one manager (no global state), so tests and programs choose
exactly the plugins they want. Blocking a name (``blocked=("docker-config",)``) keeps that
plugin, built-in or installed, from being registered.

Credential order is policy, not an accident of registration. pluggy calls ``tryfirst``
implementations before the others and, within each group, the last registered first. The
built-in providers are all ``tryfirst`` and registered here in reverse, so they answer in
this order::

    explicit (given to the Client) > environment > docker-config > containers-auth
    > plugins passed to the Client > installed plugins (entry points)

A plugin answers only for the hosts it recognises and returns None otherwise.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from typing import Any

import pluggy

from . import hookspecs

ENTRY_POINT_GROUP = "ocireg"
#: The built-in credential providers, in the order they are asked.
CREDENTIAL_ORDER = ("explicit", "environment", "docker-config", "containers-auth")


def get_plugin_manager(
    *,
    plugins: Iterable[Any] = (),
    load_entrypoints: bool = True,
    blocked: Iterable[str] = (),
    credentials: Any = None,
    docker_config_dir: str | os.PathLike[str] | None = None,
) -> pluggy.PluginManager:
    """A manager with the specs, the built-ins, the given plugins and (optionally) the
    ``ocireg`` entry points; names in ``blocked`` are never registered."""
    from .builtin import manifest_handlers
    from .builtin.containers_auth import ContainersAuthProvider
    from .builtin.docker_config import DockerConfigProvider
    from .builtin.environment import EnvironmentProvider
    from .builtin.explicit import ExplicitCredentialsProvider

    pm = pluggy.PluginManager(hookspecs.PROJECT)
    pm.add_hookspecs(hookspecs)
    for blocked_name in blocked:
        pm.set_blocked(blocked_name)
    builtins: dict[str, Any] = {
        "explicit": ExplicitCredentialsProvider(credentials),
        "environment": EnvironmentProvider(),
        "docker-config": DockerConfigProvider(docker_config_dir),
        "containers-auth": ContainersAuthProvider(),
    }
    for builtin in reversed(CREDENTIAL_ORDER):
        if not pm.is_blocked(builtin):
            pm.register(builtins[builtin], name=builtin)
    if not pm.is_blocked("manifest-handlers"):
        pm.register(manifest_handlers, name="manifest-handlers")
    for plugin in plugins:
        plugin_name: str | None = getattr(plugin, "name", None)
        if not pm.is_blocked(plugin_name or ""):
            pm.register(plugin, name=plugin_name)
    if load_entrypoints:
        pm.load_setuptools_entrypoints(ENTRY_POINT_GROUP)
    return pm
