"""ocireg-example-plugin: a credential provider and a manifest handler for ocireg.

Installed, it is found through its entry point (``[project.entry-points.ocireg]`` in
``pyproject.toml``) by every ``ocireg.Client()``; nothing in the program changes.

* The credential provider reads a small JSON "vault" file named by ``$EXAMPLE_VAULT_FILE``::

      {"registry.example.invalid": {"username": "robot", "password": "s3cret"}}

  It answers only for the registries listed there and returns None for every other one, so
  the next provider is asked.
* The manifest handler reads "thing" manifests (``application/vnd.example.thing.v1+json``)
  into :class:`Thing` values: a name and the blobs (``parts``) that make up the thing.

This module is the plugin: ocireg registers the module itself, and pluggy finds the
functions marked with ``@hookimpl``. Importing it must stay cheap: ocireg imports it whenever
a Client is created.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from typing import Any, ClassVar

from ocireg import (
    BasicCredentials,
    Credentials,
    Descriptor,
    Digest,
    Manifest,
    ManifestError,
    PluginError,
    hookimpl,
)

__all__ = ["PLUGIN_NAME", "THING_MEDIA_TYPE", "VAULT_ENV", "Thing", "ThingHandler"]

#: The entry point's name; ocireg registers the plugin under it.
PLUGIN_NAME = "example"
#: The environment variable naming the vault file.
VAULT_ENV = "EXAMPLE_VAULT_FILE"
#: The manifest media type this plugin adds.
THING_MEDIA_TYPE = "application/vnd.example.thing.v1+json"


# -- the credential provider ---------------------------------------------------------------


@hookimpl
def ocireg_get_credentials(registry: str, repository: str | None) -> Credentials | None:
    """Credentials for ``registry`` from the vault, or None when it does not list it."""
    path = os.environ.get(VAULT_ENV)
    if not path:
        return None  # not configured: say nothing, let the next provider answer
    try:
        with open(path, encoding="utf-8") as fh:
            vault = json.load(fh)
    except FileNotFoundError:
        return None
    except (OSError, ValueError):
        # Name the file, never its content: it holds secrets.
        raise PluginError(
            f"vault file {path} is unreadable or not JSON", plugin=PLUGIN_NAME
        ) from None
    entry = vault.get(registry) if isinstance(vault, dict) else None
    if not isinstance(entry, dict):
        return None  # a registry we do not know
    username, password = entry.get("username"), entry.get("password")
    if not isinstance(username, str) or not isinstance(password, str):
        raise PluginError(
            f"vault file {path}: entry {registry!r} needs username and password", plugin=PLUGIN_NAME
        )
    # ``source`` is what explain_credentials shows: where it came from, never the secret.
    return BasicCredentials(username, password, source=f"vault {path} [{registry}]")


# -- the manifest handler ------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class Thing(Manifest):
    """A "thing" manifest: a name and the blobs it is made of."""

    name: str
    parts: tuple[Descriptor, ...] = ()

    def references(self) -> tuple[Descriptor, ...]:
        # What a copy must transfer before the manifest itself.
        return self.parts


class ThingHandler:
    """Reads ``application/vnd.example.thing.v1+json``: a JSON object with ``schemaVersion``
    2, that ``mediaType``, a string ``name`` and ``parts``, a list of descriptors."""

    media_types: ClassVar[tuple[str, ...]] = (THING_MEDIA_TYPE,)

    def parse(self, raw: bytes, media_type: str) -> Thing:
        # ocireg calls this with the exact bytes the registry sent; raise ManifestError (never
        # KeyError or TypeError) for anything unreadable.
        try:
            doc: Any = json.loads(raw)
        except ValueError:
            raise ManifestError("thing manifest is not JSON") from None
        if not isinstance(doc, dict):
            raise ManifestError("thing manifest is not a JSON object")
        name = doc.get("name")
        if not isinstance(name, str):
            raise ManifestError("thing manifest has no string 'name'")
        parts = doc.get("parts", [])
        if not isinstance(parts, list):
            raise ManifestError("thing manifest 'parts' is not a list")
        return Thing(
            raw=raw,
            media_type=media_type,
            digest=Digest.of(raw),  # the manifest digest is the sha256 of the raw bytes
            payload=raw,
            json=doc,
            name=name,
            parts=tuple(Descriptor.from_dict(p, where=f"parts[{i}]") for i, p in enumerate(parts)),
        )


@hookimpl
def ocireg_manifest_handlers() -> list[Any]:
    """The handlers this plugin adds: classes (created without arguments) or instances."""
    return [ThingHandler]
