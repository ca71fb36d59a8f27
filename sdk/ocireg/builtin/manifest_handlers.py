"""The built-in manifest handlers (OCI, Docker schema 2, legacy schema 1) as a hook."""

from __future__ import annotations

from typing import Any

from ..hookspecs import hookimpl


@hookimpl
def ocireg_manifest_handlers() -> list[Any]:
    from ..manifests import builtin_handlers

    return list(builtin_handlers())
