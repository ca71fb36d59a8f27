"""The built-in manifest handlers (OCI, Docker schema 2, legacy schema 1) as a hook."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..hookspecs import hookimpl

if TYPE_CHECKING:
    from ..manifests import ManifestHandler


@hookimpl
def ocireg_manifest_handlers() -> list[type[ManifestHandler]]:
    from ..manifests import builtin_handlers

    return list(builtin_handlers())
