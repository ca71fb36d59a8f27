"""The plugin index: a new client knows, without importing pluggy or any installed plugin,
that only the built-in manifest handlers exist, and the index is trusted only while nothing
installed (nor any plugin's file) has changed."""

from __future__ import annotations

import importlib.metadata
import json
import os
import sys
from pathlib import Path

import pytest

from ocireg import Client, plugin_index
from ocireg.manifests import HandlerRegistry
from ocireg.plugins import BUILTIN_ACCEPT


@pytest.fixture(autouse=True)
def cache(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    monkeypatch.setenv("OCIREG_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setattr(plugin_index, "_memo", None)
    return tmp_path / "cache"


def _index(cache: Path) -> dict[str, object]:
    data = json.loads((cache / plugin_index.INDEX_FILE).read_text())
    assert isinstance(data, dict)
    return data


def test_the_first_manager_writes_the_index_and_the_next_client_needs_none(cache: Path) -> None:
    with Client() as first:
        first.plugin_manager  # noqa: B018 - makes the manager: every installed plugin loads
    (entry,) = _index(cache)["entries"]  # type: ignore[misc]
    installed = {ep.name for ep in importlib.metadata.entry_points(group="ocireg")}
    assert set(entry["hooks"]) == installed
    with Client() as second:
        assert second.handlers.accept_header() == HandlerRegistry.builtin().accept_header()
        assert second._plugin_manager is None  # the index answered


def test_without_an_index_the_manager_is_made(cache: Path) -> None:
    with Client() as client:
        client.handlers.accept_header()
        assert client._plugin_manager is not None
    assert (cache / plugin_index.INDEX_FILE).exists()


def test_an_installed_handler_plugin_in_the_index_makes_the_manager(cache: Path) -> None:
    plugin_index.remember({"someone": ["ocireg_manifest_handlers"]}, [])
    with Client() as client:
        client.handlers.accept_header()
        assert client._plugin_manager is not None
    with Client(blocked_plugins=["someone"]) as blocked:
        blocked.handlers.accept_header()
        assert blocked._plugin_manager is None


def test_a_change_on_sys_path_invalidates_the_index(
    cache: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    plugin_index.remember({"quiet": ["ocireg_get_credentials"]}, [])
    assert plugin_index.installed_hooks() == {"quiet": ["ocireg_get_credentials"]}
    site = tmp_path / "site"
    site.mkdir()
    monkeypatch.setattr(sys, "path", [*sys.path, str(site)])
    assert plugin_index.installed_hooks() is None  # a new directory on sys.path
    # Remembered with that directory on sys.path, the index holds until an install there
    # changes the directory's time.
    os.utime(site, ns=(1, 1))
    plugin_index.remember({"quiet": ["ocireg_get_credentials"]}, [])
    monkeypatch.setattr(plugin_index, "_memo", None)
    assert plugin_index.installed_hooks() == {"quiet": ["ocireg_get_credentials"]}
    (site / "new_plugin-1.0.dist-info").mkdir()
    os.utime(site, ns=(2, 2))  # what the install did, made certain on coarse clocks
    assert plugin_index.installed_hooks() is None


def test_an_edited_plugin_file_invalidates_the_index(cache: Path, tmp_path: Path) -> None:
    source = tmp_path / "plugin.py"
    source.write_text("# hooks\n")
    plugin_index.remember({"mine": []}, [str(source)])
    plugin_index._memo = None
    assert plugin_index.installed_hooks() == {"mine": []}
    plugin_index._memo = None
    os.utime(source, ns=(2, 2))
    assert plugin_index.installed_hooks() is None


@pytest.mark.parametrize("text", ["{", "[]", '{"entries": 3}', '{"entries": [{"key": 1}]}'])
def test_a_damaged_index_means_unknown(cache: Path, text: str) -> None:
    cache.mkdir()
    (cache / plugin_index.INDEX_FILE).write_text(text)
    assert plugin_index.installed_hooks() is None
    with Client() as client:
        assert client.handlers.accept_header()  # the manager is made, and rewrites it
    assert _index(cache)["entries"]


def test_an_unwritable_cache_is_no_error(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    monkeypatch.setenv("OCIREG_CACHE_DIR", str(blocker / "cache"))  # under a file: no mkdir
    with Client() as client:
        assert client.handlers.accept_header() == HandlerRegistry.builtin().accept_header()
    assert plugin_index.installed_hooks() is not None  # remembered in this process at least


def test_the_built_in_accept_header_needs_no_handler_imported() -> None:
    assert HandlerRegistry.builtin().accept_header() == BUILTIN_ACCEPT
    with Client(load_entrypoints=False) as client:
        assert client.handlers.accept_header() == BUILTIN_ACCEPT
        assert client.handlers._registry is None  # type: ignore[attr-defined]
        assert "application/vnd.oci.image.manifest.v1+json" in client.handlers
        assert client.handlers._registry is not None  # type: ignore[attr-defined]
