"""Token scopes (Docker token authentication, "Token Scope Documentation").

A scope is ``type:name:actions``, e.g. ``repository:library/alpine:pull,push`` or
``registry:catalog:*``. The name may itself hold ``:`` (a registry with a port in a path is not
allowed, but be tolerant), so the actions are split off at the *last* colon.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable

__all__ = ["CATALOG_SCOPE", "merge_scopes", "repository_scope", "scope_covers"]

CATALOG_SCOPE = "registry:catalog:*"
_ACTION_ORDER = {"pull": 0, "push": 1, "delete": 2, "*": 3}


def repository_scope(path: str, *actions: str) -> str:
    return _repository_scope(path, actions)


# Scopes are built and compared on every request, from a handful of distinct values: the
# pure functions here are cached (their results are immutable strings and tuples).
@functools.lru_cache(maxsize=1024)
def _repository_scope(path: str, actions: tuple[str, ...]) -> str:
    acts = actions or ("pull",)
    return f"repository:{path}:{','.join(_sorted_actions(set(acts)))}"


def _split(scope: str) -> tuple[str, set[str]]:
    resource, _, actions = scope.rpartition(":")
    if not resource:
        return scope, set()
    return resource, {a for a in actions.split(",") if a}


def _sorted_actions(actions: set[str]) -> list[str]:
    return sorted(actions, key=lambda a: (_ACTION_ORDER.get(a, 9), a))


def merge_scopes(scopes: Iterable[str]) -> tuple[str, ...]:
    """Merge actions per resource, keeping first-seen order of resources.

    ``repository:a:pull`` + ``repository:a:push`` -> ``repository:a:pull,push``.
    """
    if isinstance(scopes, tuple):
        return _merge_cached(scopes)
    return _merge(scopes)


@functools.lru_cache(maxsize=1024)
def _merge_cached(scopes: tuple[str, ...]) -> tuple[str, ...]:
    return _merge(scopes)


def _merge(scopes: Iterable[str]) -> tuple[str, ...]:
    merged: dict[str, set[str]] = {}
    for scope in scopes:
        resource, actions = _split(scope)
        merged.setdefault(resource, set()).update(actions)
    return tuple(
        f"{resource}:{','.join(_sorted_actions(actions))}" if actions else resource
        for resource, actions in merged.items()
    )


def scope_covers(held: Iterable[str], wanted: Iterable[str]) -> bool:
    """Whether a token asked for ``held`` scopes was asked for everything in ``wanted``."""
    if isinstance(held, tuple) and isinstance(wanted, tuple):
        return _covers_cached(held, wanted)
    return _covers(held, wanted)


@functools.lru_cache(maxsize=1024)
def _covers_cached(held: tuple[str, ...], wanted: tuple[str, ...]) -> bool:
    return _covers(held, wanted)


def _covers(held: Iterable[str], wanted: Iterable[str]) -> bool:
    have: dict[str, set[str]] = {}
    for scope in held:
        resource, actions = _split(scope)
        have.setdefault(resource, set()).update(actions)
    for scope in wanted:
        resource, actions = _split(scope)
        got = have.get(resource)
        if got is None:
            return False
        if "*" not in got and not actions <= got:
            return False
    return True
