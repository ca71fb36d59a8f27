"""The plugin manager: hook specs, built-in providers registered by name, entry points.

Each :class:`~ocireg.Client` owns one manager (no global state), so tests and programs choose
exactly the plugins they want. Blocking a name (``blocked=("docker-config",)``) keeps that
plugin, built-in or installed, from being registered.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import pluggy

from . import hookspecs

ENTRY_POINT_GROUP = "ocireg"


def get_plugin_manager(
    *,
    plugins: Iterable[Any] = (),
    load_entrypoints: bool = True,
    blocked: Iterable[str] = (),
) -> pluggy.PluginManager:
    """A manager with the specs, the given plugins, the built-ins and (optionally) the
    ``ocireg`` entry points; names in ``blocked`` are never registered."""
    pm = pluggy.PluginManager(hookspecs.PROJECT)
    pm.add_hookspecs(hookspecs)
    for name in blocked:
        pm.set_blocked(name)
    for plugin in plugins:
        name: str | None = getattr(plugin, "name", None)
        if not pm.is_blocked(name or ""):
            pm.register(plugin, name=name)
    from .builtin import manifest_handlers

    if not pm.is_blocked("manifest-handlers"):
        pm.register(manifest_handlers, name="manifest-handlers")
    if load_entrypoints:
        pm.load_setuptools_entrypoints(ENTRY_POINT_GROUP)
    return pm
