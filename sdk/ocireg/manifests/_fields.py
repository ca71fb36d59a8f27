"""Typed access to fields of decoded JSON, raising :class:`ManifestError` with a JSON path.

A registry (or a proxy in front of it) can send anything. Every read of a manifest field goes
through these helpers so a wrong shape gives ``ManifestError: layers[2].size: expected an
integer, got 'abc'`` instead of a ``KeyError`` or ``TypeError`` from deep inside the code.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from ..errors import ManifestError

__all__ = [
    "EMPTY_MAP",
    "empty_map",
    "load_object",
    "opt_int",
    "opt_str",
    "opt_str_list",
    "opt_str_map",
    "req_int",
    "req_list",
    "req_object",
    "req_str",
]

#: A shared read-only empty mapping, the default for ``annotations``.
EMPTY_MAP: Mapping[str, str] = MappingProxyType({})


def empty_map() -> Mapping[str, str]:
    """``default_factory`` for ``annotations`` (dataclasses refuse a mapping as default)."""
    return EMPTY_MAP


def _path(where: str, key: str) -> str:
    return f"{where}.{key}" if where else key


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def load_object(raw: bytes, what: str = "manifest") -> dict[str, Any]:
    """Decode ``raw`` as a JSON object (RFC 8259 lets the encoding be UTF-8/16/32)."""
    if not isinstance(raw, bytes | bytearray | memoryview):
        raise ManifestError(f"{what}: expected bytes, got {type(raw).__name__}")
    try:
        doc = json.loads(bytes(raw))
    except (ValueError, UnicodeDecodeError) as exc:
        raise ManifestError(f"{what} is not valid JSON: {exc}") from exc
    if not isinstance(doc, dict):
        raise ManifestError(f"{what} must be a JSON object, got {type(doc).__name__}")
    return doc


def req_object(doc: Mapping[str, Any], key: str, where: str = "") -> Mapping[str, Any]:
    if key not in doc:
        raise ManifestError(f"{_path(where, key)}: required field is missing")
    value = doc[key]
    if not isinstance(value, dict):
        raise ManifestError(f"{_path(where, key)}: expected an object, got {_show(value)}")
    return value


def req_list(doc: Mapping[str, Any], key: str, where: str = "") -> list[Any]:
    if key not in doc:
        raise ManifestError(f"{_path(where, key)}: required field is missing")
    value = doc[key]
    if not isinstance(value, list):
        raise ManifestError(f"{_path(where, key)}: expected a list, got {_show(value)}")
    return value


def req_str(doc: Mapping[str, Any], key: str, where: str = "") -> str:
    if key not in doc:
        raise ManifestError(f"{_path(where, key)}: required field is missing")
    value = opt_str(doc, key, where)
    assert value is not None
    return value


def opt_str(doc: Mapping[str, Any], key: str, where: str = "") -> str | None:
    value = doc.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise ManifestError(f"{_path(where, key)}: expected a string, got {_show(value)}")
    return value


def req_int(doc: Mapping[str, Any], key: str, where: str = "") -> int:
    if key not in doc:
        raise ManifestError(f"{_path(where, key)}: required field is missing")
    value = opt_int(doc, key, where)
    assert value is not None
    return value


def opt_int(doc: Mapping[str, Any], key: str, where: str = "") -> int | None:
    value = doc.get(key)
    if value is None:
        return None
    # bool is an int in Python but never in JSON schema terms.
    if isinstance(value, bool) or not isinstance(value, int):
        raise ManifestError(f"{_path(where, key)}: expected an integer, got {_show(value)}")
    return value


def opt_str_list(doc: Mapping[str, Any], key: str, where: str = "") -> tuple[str, ...]:
    value = doc.get(key)
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ManifestError(f"{_path(where, key)}: expected a list of strings, got {_show(value)}")
    return tuple(value)


def opt_str_map(doc: Mapping[str, Any], key: str, where: str = "") -> Mapping[str, str]:
    """A string-to-string map such as ``annotations``, read-only; empty when absent."""
    value = doc.get(key)
    if value is None:
        return EMPTY_MAP
    if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
        raise ManifestError(
            f"{_path(where, key)}: expected an object of strings, got {_show(value)}"
        )
    return MappingProxyType(dict(value))
