"""Which installed plugins implement which hooks, remembered between processes.

Making the plugin manager imports pluggy and every installed plugin: about 15 ms with eight
installed, most of the first call of a new client (``benchmarks/compare.py --only
first-call``). Most calls need one hook at most: reading a manifest needs the Accept header,
which the built-in handlers make alone unless an installed plugin adds handlers. This index
records the hooks each installed entry point implements, so that a client can tell that
without importing anything.

An index is valid for one set of installed distributions. Its key is every ``sys.path``
entry with its modification time: installing, upgrading or removing a distribution adds or
removes a ``*.dist-info`` directory there, which changes the time (Python's own path finder
trusts directory listings by the same rule), plus the Python and ocireg versions. The file
keeps the last few keys (a console script and ``python -m`` see different ``sys.path[0]``).
Each entry also holds the modification time of the files the plugins' hooks are defined in:
editing a plugin installed in editable mode changes no directory on ``sys.path``.
A missing, unreadable, malformed or mismatched index means "unknown": the caller makes the
plugin manager, which writes a fresh entry. Nothing is written where the cache directory
(``$OCIREG_CACHE_DIR``, else ``$XDG_CACHE_HOME/ocireg``, else ``~/.cache/ocireg``) cannot
be written; the file is replaced atomically, so concurrent processes never read half of one.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
import threading
from collections.abc import Iterable, Mapping

__all__ = ["cache_dir", "installed_hooks", "remember"]

INDEX_FILE = "plugin-hooks.json"
#: Keys kept in the file, newest first.
MAX_KEYS = 8
#: A larger file is not read (nor trusted).
MAX_INDEX_BYTES = 1 << 20

_lock = threading.Lock()
_memo: tuple[list[object], dict[str, list[str]]] | None = None


def cache_dir() -> str:
    """Where ocireg keeps what it may forget (see the module docstring)."""
    explicit = os.environ.get("OCIREG_CACHE_DIR")
    if explicit:
        return explicit
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "ocireg")


def _key() -> list[object]:
    from . import __version__

    key: list[object] = [sys.version, __version__]
    for entry in sys.path:
        try:
            key.append([entry, os.stat(entry or ".").st_mtime_ns])
        except OSError:
            key.append([entry, None])
    return key


def _read() -> list[dict[str, object]]:
    try:
        with open(os.path.join(cache_dir(), INDEX_FILE), encoding="utf-8") as f:
            text = f.read(MAX_INDEX_BYTES + 1)
        if len(text) > MAX_INDEX_BYTES:
            return []
        data = json.loads(text)
    except (OSError, ValueError, RecursionError):
        return []
    entries = data.get("entries") if isinstance(data, dict) else None
    return [e for e in entries if isinstance(e, dict)] if isinstance(entries, list) else []


def _hooks(value: object) -> dict[str, list[str]] | None:
    if not isinstance(value, dict):
        return None
    for hooks in value.values():
        if not isinstance(hooks, list) or not all(isinstance(h, str) for h in hooks):
            return None
    return value


def installed_hooks() -> Mapping[str, list[str]] | None:
    """Entry-point name -> the hooks that plugin implements, for every installed ``ocireg``
    entry point; None when no valid index matches what is installed now."""
    global _memo
    key = _key()
    memo = _memo
    if memo is not None and memo[0] == key:
        return memo[1]
    for entry in _read():
        if entry.get("key") == key:
            hooks = _hooks(entry.get("hooks"))
            if hooks is None or not _unchanged(entry.get("files")):
                return None
            _memo = (key, hooks)
            return hooks
    return None


def _mtime(path: str) -> int | None:
    try:
        return os.stat(path).st_mtime_ns
    except OSError:
        return None


def _unchanged(files: object) -> bool:
    if not isinstance(files, dict):
        return False
    return all(isinstance(p, str) and _mtime(p) == t for p, t in files.items())


def remember(hooks: Mapping[str, list[str]], files: Iterable[str]) -> None:
    """Record ``hooks`` (as :func:`installed_hooks` gives them) for what is installed now;
    ``files``: where the plugins and their hooks are defined."""
    global _memo
    key = _key()
    recorded = {name: sorted(h) for name, h in hooks.items()}
    times = {path: _mtime(path) for path in sorted(set(files))}
    entries: list[dict[str, object]] = [{"key": key, "hooks": recorded, "files": times}]
    with _lock:
        entries += [e for e in _read() if e.get("key") != key][: MAX_KEYS - 1]
        directory = cache_dir()
        with contextlib.suppress(OSError):
            os.makedirs(directory, exist_ok=True)
            import tempfile  # only to write: it imports shutil, bz2 and lzma (~2 ms)

            fd, temporary = tempfile.mkstemp(prefix=".plugin-hooks.", dir=directory)
            try:
                with os.fdopen(fd, "w", encoding="utf-8") as f:
                    json.dump({"entries": entries}, f)
                os.replace(temporary, os.path.join(directory, INDEX_FILE))
            except OSError:
                with contextlib.suppress(OSError):
                    os.unlink(temporary)
                raise
        _memo = (key, recorded)
