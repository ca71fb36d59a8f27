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

import os
import sys
import threading
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any

from . import mediatypes
from .errors import PluginError

if TYPE_CHECKING:
    import pluggy

    from .auth.credentials import Credentials
    from .manifests import HandlerRegistry, Manifest, ManifestHandler
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

    from . import hookspecs
    from .builtin import manifest_handlers
    from .builtin.containers_auth import ContainersAuthProvider
    from .builtin.docker_config import DockerConfigProvider
    from .builtin.environment import EnvironmentProvider, GenericEnvironmentProvider
    from .builtin.explicit import ExplicitCredentialsProvider

    blocked = list(blocked)
    pm = _manager_class()(hookspecs.PROJECT)
    pm.add_hookspecs(hookspecs)
    for blocked_name in blocked:
        pm.set_blocked(blocked_name)
        for also in _BLOCKED_WITH.get(blocked_name, ()):
            pm.set_blocked(also)
    builtins: dict[str, Any] = {
        "explicit": credentials
        if isinstance(credentials, ExplicitCredentialsProvider)
        else ExplicitCredentialsProvider(credentials),
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
        skip = {name for _, name in extra if name}
        loaded = _load_entrypoints(pm, skip)
        if not skip and not blocked:  # every installed plugin loaded: the index can say
            _remember_hooks(pm, loaded)
    for plugin, plugin_name in reversed(extra):
        if id(plugin) not in late:
            _register(pm, plugin, plugin_name)
    for name in reversed(BUILTIN_NAMES):
        if pm.get_plugin(name) is builtins[name]:
            pm.unregister(name=name)
            _register(pm, builtins[name], name)
    return pm


def _manager_class() -> type[pluggy.PluginManager]:
    """pluggy's manager, passing over dunder names when it looks for hook implementations.

    ``register`` asks about every name ``dir(plugin)`` lists, each with
    ``inspect.getattr_static``; for a plugin object most are the thirty-odd dunders every
    object has, and asking about them was most of the time a client took to make its
    manager (``benchmarks/compare.py --only first-call``). No hook is a dunder."""
    global _MANAGER
    if _MANAGER is None:
        import pluggy

        class Manager(pluggy.PluginManager):
            def parse_hookimpl_opts(self, plugin: Any, name: str) -> Any:
                if name.startswith("__") and name.endswith("__"):
                    return None
                return super().parse_hookimpl_opts(plugin, name)

        _MANAGER = Manager
    return _MANAGER


_MANAGER: type[pluggy.PluginManager] | None = None


def _credentials_trylast(pm: pluggy.PluginManager, plugin: Any) -> bool:
    opts = pm.parse_hookimpl_opts(plugin, "ocireg_get_credentials")
    return bool(opts and opts.get("trylast"))


def _register(pm: pluggy.PluginManager, plugin: Any, name: str | None) -> None:
    import pluggy

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


def _remember_hooks(pm: pluggy.PluginManager, installed: Iterable[str]) -> None:
    """Record in the plugin index (:mod:`ocireg.plugin_index`) the hooks each installed
    plugin implements, unless the index already says so."""
    from . import plugin_index

    names = set(installed)
    hooks: dict[str, list[str]] = {name: [] for name in names}
    files = {_defined_in(pm.get_plugin(name)) for name in names}
    for hook_name in dir(pm.hook):
        caller = getattr(pm.hook, hook_name)
        if hook_name.startswith("ocireg_") and hasattr(caller, "get_hookimpls"):
            for impl in caller.get_hookimpls():
                if impl.plugin_name in names:
                    hooks[impl.plugin_name].append(hook_name)
                    files.add(
                        getattr(getattr(impl.function, "__code__", None), "co_filename", None)
                    )
    known = plugin_index.installed_hooks()
    if known is None or {n: sorted(h) for n, h in known.items()} != {
        n: sorted(h) for n, h in hooks.items()
    }:
        plugin_index.remember(hooks, (f for f in files if isinstance(f, str)))


def _defined_in(plugin: Any) -> str | None:
    """The file of the module a plugin is, or of the module its class is defined in."""
    module = plugin if hasattr(plugin, "__file__") else sys.modules.get(type(plugin).__module__)
    path = getattr(module, "__file__", None)
    return path if isinstance(path, str) else None


def _load_entrypoints(pm: pluggy.PluginManager, skip: set[str]) -> list[str]:
    """Register the ``ocireg`` entry points except blocked names and those in ``skip`` (a
    plugin of that name is passed to the Client), so that pluggy (last registered, first
    asked) asks them in alphabetical order.

    pluggy loads them in one pass over the installed distributions (a pass per plugin read
    every distribution's ``entry_points.txt`` again: about 5 ms each in a large virtualenv),
    in the order it finds them; they are then registered again, in reverse alphabetical
    order. When one fails, a pass per name finds which, to name it."""
    before = {name for name, _ in pm.list_name_plugin()}
    # Names to pass over that are not registered yet are blocked meanwhile (pluggy skips
    # registered and blocked names; blocking a registered one would unregister it).
    hidden = {name for name in skip if name not in before}
    for name in hidden:
        pm.set_blocked(name)
    try:
        pm.load_setuptools_entrypoints(ENTRY_POINT_GROUP)
    except Exception:
        for name in hidden:
            pm.unblock(name)
        _load_each(pm, skip)  # raises, naming the plugin that failed
        raise
    for name in hidden:
        pm.unblock(name)
    loaded = {n: p for n, p in pm.list_name_plugin() if n not in before and p is not None}
    for name in loaded:
        pm.unregister(name=name)
    for name in sorted(loaded, reverse=True):
        pm.register(loaded[name], name=name)
    return list(loaded)


def _load_each(pm: pluggy.PluginManager, skip: set[str]) -> None:
    """Register the ``ocireg`` entry points one name at a time, raising a
    :class:`~ocireg.errors.PluginError` naming the first that fails to load or register."""
    import importlib.metadata

    import pluggy

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


def collect_handlers(pm: pluggy.PluginManager) -> list[Any]:
    """Every manifest handler the ``ocireg_manifest_handlers`` implementations give."""
    handlers: list[Any] = []
    for batch in pm.hook.ocireg_manifest_handlers():
        handlers.extend(batch or [])
    return handlers


#: ``HandlerRegistry.builtin().accept_header()``, known without importing the handlers
#: (``tests/unit/test_plugin_index.py`` checks that the two agree).
BUILTIN_ACCEPT = ", ".join(
    (
        mediatypes.OCI_INDEX,
        mediatypes.OCI_MANIFEST,
        mediatypes.DOCKER_MANIFEST_LIST,
        mediatypes.DOCKER_MANIFEST,
        mediatypes.OCI_ARTIFACT_MANIFEST,
        f"{mediatypes.DOCKER_SCHEMA1_SIGNED};q=0.5",
        f"{mediatypes.DOCKER_SCHEMA1};q=0.5",
    )
)


def builtin_handlers_suffice(
    plugins: Iterable[Any], load_entrypoints: bool, blocked: Iterable[str]
) -> bool:
    """Whether a client with these plugin options has only the built-in manifest handlers,
    known without making its plugin manager: no plugin given, the built-in handlers not
    blocked, and no installed plugin (that is not blocked) implementing
    ``ocireg_manifest_handlers``, as the plugin index (:mod:`ocireg.plugin_index`) says."""
    blocked = set(blocked)
    if list(plugins) or "manifest-handlers" in blocked:
        return False
    if not load_entrypoints:
        return True
    from . import plugin_index

    hooks = plugin_index.installed_hooks()
    return hooks is not None and not any(
        "ocireg_manifest_handlers" in implemented
        for name, implemented in hooks.items()
        if name not in blocked
    )


if TYPE_CHECKING:
    _Handlers = HandlerRegistry
else:
    _Handlers = object  # the manifest modules are imported when the handlers are first used


class PluginHandlers(_Handlers):
    """The :class:`~ocireg.manifests.HandlerRegistry` of the handlers a plugin manager's
    plugins give, collected on first use: a client that reads no manifest (a tag list) never
    makes its plugin manager, nor imports the manifest types. Each public method of
    HandlerRegistry is here, collecting first (``tests/unit/test_startup.py`` checks that
    none is missed).

    :param manager: gives the plugin manager (made when first asked, by the Client).
    :param options: the manager's options (``plugins``, ``load_entrypoints``, ``blocked``,
        as :func:`get_plugin_manager` takes them); when they show that the built-in handlers
        are all there is (:func:`builtin_handlers_suffice`), no manager is made for them.
    """

    __slots__ = ("_builtin", "_lock", "_manager", "_options", "_registry")

    def __init__(
        self,
        manager: Callable[[], pluggy.PluginManager],
        options: Mapping[str, Any] | None = None,
    ) -> None:
        self._manager = manager
        self._options = options
        self._lock = threading.Lock()
        self._registry: HandlerRegistry | None = None
        self._builtin: bool | None = None

    def _builtin_only(self) -> bool:
        """Whether the built-in handlers are all there is (decided once)."""
        if self._builtin is None:
            options = self._options
            self._builtin = options is not None and builtin_handlers_suffice(
                options["plugins"], options["load_entrypoints"], options["blocked"]
            )
        return self._builtin

    def collect(self) -> None:
        """Collect the handlers now (once); a conflict is a ManifestError here."""
        self._collected()

    def _collected(self) -> HandlerRegistry:
        registry = self._registry
        if registry is not None:
            return registry
        with self._lock:
            if self._registry is None:
                from .manifests import HandlerRegistry, builtin_handlers

                if self._builtin_only():
                    # What the "manifest-handlers" built-in gives, without pluggy's import.
                    self._registry = HandlerRegistry(list(builtin_handlers()))
                else:
                    self._registry = HandlerRegistry(collect_handlers(self._manager()))
            return self._registry

    @property
    def media_types(self) -> tuple[str, ...]:
        return self._collected().media_types

    def __contains__(self, media_type: object) -> bool:
        return media_type in self._collected()

    def handler_for(self, media_type: str) -> ManifestHandler:
        return self._collected().handler_for(media_type)

    def accept_header(self) -> str:
        if self._registry is None and self._builtin_only():
            return BUILTIN_ACCEPT  # a HEAD needs no manifest type imported
        return self._collected().accept_header()

    def resolve_media_type(self, doc: Mapping[str, Any], content_type: str | None) -> str:
        return self._collected().resolve_media_type(doc, content_type)

    def parse(self, raw: bytes, content_type: str | None = None) -> Manifest:
        return self._collected().parse(raw, content_type)

    @classmethod
    def builtin(cls) -> HandlerRegistry:
        from .manifests import HandlerRegistry

        return HandlerRegistry.builtin()


class NativeAPIs:
    """``apis(registry)``: the :class:`~ocireg.registry_api.RegistryAPI` a plugin offers for
    ``registry`` through ``ocireg_registry_api``, or None; asked once per registry."""

    def __init__(
        self,
        pm: pluggy.PluginManager | Callable[[], pluggy.PluginManager],
        credentials: Callable[[str, str | None], Credentials | None],
    ) -> None:
        """``pm``: the plugin manager, or a callable giving it (asked on first use)."""
        self._pm = pm
        self._credentials = credentials
        self._known: dict[str, RegistryAPI | None] = {}

    def __call__(self, registry: str) -> RegistryAPI | None:
        if registry not in self._known:

            def lookup(repository: str | None) -> Credentials | None:
                return self._credentials(registry, repository)

            pm = self._pm() if callable(self._pm) else self._pm
            self._known[registry] = pm.hook.ocireg_registry_api(
                registry=registry, credentials=lookup
            )
        return self._known[registry]
