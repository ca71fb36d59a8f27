"""The plugin manager: hook specs, built-in providers registered by name, entry points.

Each :class:`~ocireg.Client` owns one manager (no global state), so tests and programs choose
exactly the plugins they want. Blocking a name (``blocked=("docker-config",)``) keeps that
plugin, built-in or installed, from being registered. A plugin passed to the Client whose
``name`` is a built-in's replaces that built-in (mark its hook ``tryfirst``, as the built-ins
do, to keep the built-in's place in the order); one whose name is an installed plugin's
replaces the installed one.

Credential order is policy, not an accident of registration. pluggy calls ``tryfirst``
implementations before the plain ones and ``trylast`` ones after them; within a group it
calls the last registered first, except among ``trylast`` ones, where the first registered
goes first. The manager registers so that the answer comes in this order::

    explicit (given to the Client) > environment (OCIREG_<HOST>_*, DOCKER_AUTH_CONFIG)
    > docker-config > containers-auth
    > plugins passed to the Client, in the order given
    > installed plugins (entry points), in a fixed order (by name)
    > environment-generic (OCIREG_USERNAME/_PASSWORD, OCIREG_TOKEN: no registry named)

The built-ins of :data:`CREDENTIAL_ORDER` are ``tryfirst`` and registered last, so a
plugin's ``tryfirst`` moves it ahead of the other plugins but never ahead of them;
``trylast`` moves it behind the plain plugins. Within each of these groups, the plugins
passed to the Client come before the installed ones. To put a plugin before a built-in
source, block that built-in. The built-ins of :data:`CREDENTIAL_LAST` are ``trylast`` and
registered after every plugin: variables that name no registry would go to every registry,
so they answer only where no source that knows the host did. Blocking ``environment``
blocks ``environment-generic`` too (no credential comes from the environment then).

A plugin answers only for the hosts it recognises and returns None otherwise.
"""

from __future__ import annotations

import importlib.metadata
import os
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

import pluggy

from . import hookspecs
from .errors import PluginError

if TYPE_CHECKING:
    from .auth.credentials import Credentials
    from .registry_api import RegistryAPI

ENTRY_POINT_GROUP = "ocireg"
#: The built-in credential providers asked before any plugin, in the order they are asked.
CREDENTIAL_ORDER = ("explicit", "environment", "docker-config", "containers-auth")
#: The built-in credential providers asked after every plugin, in the order they are asked.
CREDENTIAL_LAST = ("environment-generic",)
#: Every built-in plugin name (blockable like any other).
BUILTIN_NAMES = (*CREDENTIAL_ORDER, *CREDENTIAL_LAST, "manifest-handlers")
#: Blocking the key blocks these too.
_BLOCKED_WITH = {"environment": ("environment-generic",)}


def get_plugin_manager(
    *,
    plugins: Iterable[Any] = (),
    load_entrypoints: bool = True,
    blocked: Iterable[str] = (),
    credentials: Any = None,
    docker_config_dir: str | os.PathLike[str] | None = None,
) -> pluggy.PluginManager:
    """A manager with the specs, the built-ins, the given plugins and (optionally) the
    ``ocireg`` entry points; names in ``blocked`` are never registered.

    :raises PluginError: naming the plugin when an installed one fails to load, or a plugin
        does not match the hook specifications.
    """
    from .builtin import manifest_handlers
    from .builtin.containers_auth import ContainersAuthProvider
    from .builtin.docker_config import DockerConfigProvider
    from .builtin.environment import EnvironmentProvider, GenericEnvironmentProvider
    from .builtin.explicit import ExplicitCredentialsProvider

    pm = pluggy.PluginManager(hookspecs.PROJECT)
    pm.add_hookspecs(hookspecs)
    for blocked_name in blocked:
        pm.set_blocked(blocked_name)
        for also in _BLOCKED_WITH.get(blocked_name, ()):
            pm.set_blocked(also)
    builtins: dict[str, Any] = {
        "explicit": ExplicitCredentialsProvider(credentials),
        "environment": EnvironmentProvider(),
        "docker-config": DockerConfigProvider(docker_config_dir),
        "containers-auth": ContainersAuthProvider(),
        "environment-generic": GenericEnvironmentProvider(),
        "manifest-handlers": manifest_handlers,
    }
    extra: list[tuple[Any, str | None]] = []
    for plugin in plugins:
        plugin_name: str | None = getattr(plugin, "name", None)
        if not isinstance(plugin_name, str) or not plugin_name:
            plugin_name = None
        if plugin_name in builtins:
            builtins[plugin_name] = plugin  # a replacement keeps the built-in's place
        else:
            extra.append((plugin, plugin_name))
    # The built-in names are taken first so that no installed plugin can register under one;
    # the built-ins are registered again at the end: the tryfirst ones to be asked first, the
    # trylast ones (CREDENTIAL_LAST) to be asked last. Plugins given to the
    # Client go around the installed ones so that, in each group, they are asked before them
    # and in the order given: pluggy asks plain and tryfirst implementations last registered
    # first, but trylast ones first registered first.
    for name, plugin in builtins.items():
        _register(pm, plugin, name)
    late = {id(plugin) for plugin, _ in extra if _credentials_trylast(pm, plugin)}
    for plugin, plugin_name in extra:
        if id(plugin) in late:
            _register(pm, plugin, plugin_name)
    if load_entrypoints:
        _load_entrypoints(pm, {name for _, name in extra if name})
    for plugin, plugin_name in reversed(extra):
        if id(plugin) not in late:
            _register(pm, plugin, plugin_name)
    for name in reversed(BUILTIN_NAMES):
        if pm.get_plugin(name) is builtins[name]:
            pm.unregister(name=name)
            _register(pm, builtins[name], name)
    return pm


def _credentials_trylast(pm: pluggy.PluginManager, plugin: Any) -> bool:
    opts = pm.parse_hookimpl_opts(plugin, "ocireg_get_credentials")
    return bool(opts and opts.get("trylast"))


def _register(pm: pluggy.PluginManager, plugin: Any, name: str | None) -> None:
    if name is not None and pm.is_blocked(name):
        return
    try:
        pm.register(plugin, name=name)
    except pluggy.PluginValidationError as exc:
        raise PluginError(
            f"plugin {name or plugin!r} does not match the ocireg hooks: {exc}",
            plugin=name or repr(plugin),
        ) from None
    except ValueError as exc:  # the same object or name twice
        raise PluginError(
            f"plugin {name or plugin!r}: {exc}", plugin=name or repr(plugin)
        ) from None


def _load_entrypoints(pm: pluggy.PluginManager, skip: set[str]) -> None:
    """Register the ``ocireg`` entry points except blocked names and those in ``skip`` (a
    plugin of that name is passed to the Client). Registered in reverse alphabetical order,
    so that pluggy (last registered, first asked) asks them in alphabetical order."""
    names = sorted(
        {ep.name for ep in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP)} - skip,
        reverse=True,
    )
    for name in names:
        if pm.is_blocked(name) or pm.get_plugin(name) is not None:
            continue
        try:
            pm.load_setuptools_entrypoints(ENTRY_POINT_GROUP, name=name)
        except pluggy.PluginValidationError as exc:
            raise PluginError(
                f"installed plugin {name!r} does not match the ocireg hooks: {exc}", plugin=name
            ) from None
        except Exception as exc:
            raise PluginError(
                f"installed plugin {name!r} (entry point group {ENTRY_POINT_GROUP!r}) failed to"
                f" load: {type(exc).__name__}: {exc}",
                plugin=name,
            ) from exc


class NativeAPIs:
    """``apis(registry)``: the :class:`~ocireg.registry_api.RegistryAPI` a plugin offers for
    ``registry`` through ``ocireg_registry_api``, or None; asked once per registry."""

    def __init__(
        self,
        pm: pluggy.PluginManager,
        credentials: Callable[[str, str | None], Credentials | None],
    ) -> None:
        self._pm = pm
        self._credentials = credentials
        self._known: dict[str, RegistryAPI | None] = {}

    def __call__(self, registry: str) -> RegistryAPI | None:
        if registry not in self._known:

            def lookup(repository: str | None) -> Credentials | None:
                return self._credentials(registry, repository)

            self._known[registry] = self._pm.hook.ocireg_registry_api(
                registry=registry, credentials=lookup
            )
        return self._known[registry]
