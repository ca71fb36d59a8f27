"""Docker ``config.json`` credentials, with docker/cli's precedence (REGISTRY-FACTS 3.1).

For registry host H: ``credHelpers[H]`` if present, else ``credsStore`` if set, else the
``auths`` entries: the exact key H, else any key whose host part (scheme and path dropped)
is H. Docker Hub is stored under ``https://index.docker.io/v1/``. An entry that holds no
secret (Docker Desktop's ``{}`` placeholders) is not a credential.

The same logic serves ``DOCKER_AUTH_CONFIG`` (a whole config as JSON in the environment).

Writing, as ``docker login``/``docker logout`` do: :func:`store_login` and
:func:`erase_login` use the credential helper that config names for the registry
(``credHelpers``, else ``credsStore``) and otherwise the file's ``auths``. The file is
rewritten atomically with mode 0600 and every other key kept as it was; the whole
read-modify-write holds an exclusive lock (``fcntl.flock`` on ``config.json.lock`` beside
the file), so concurrent logins in several processes all keep their entry. A symlinked
``config.json`` (dotfiles managers) is updated where it points, the link kept; a config
directory that does not exist yet is created with mode 0700.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import json
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ..auth.credentials import BasicCredentials, Credentials, IdentityToken, RegistryToken
from ..errors import PluginError
from ..hookspecs import hookimpl
from ..reference import DOCKER_HUB_ALIASES, check_registry
from . import credential_helpers

__all__ = [
    "HUB_KEY",
    "DockerConfigProvider",
    "config_path",
    "erase_login",
    "helper_for",
    "hub_aliases",
    "load_config",
    "lookup",
    "server_key",
    "store_login",
]

HUB_KEY = "https://index.docker.io/v1/"


def hub_aliases(registry: str) -> bool:
    return registry.lower() in DOCKER_HUB_ALIASES


def server_key(registry: str) -> str:
    """The key docker uses for ``registry`` in ``auths`` and with helpers."""
    return HUB_KEY if hub_aliases(registry) else registry


def config_path(config_dir: str | os.PathLike[str] | None = None) -> Path:
    """``<config_dir>/config.json``, ``$DOCKER_CONFIG/config.json`` or ``~/.docker/config.json``."""
    if config_dir is not None:
        return Path(config_dir) / "config.json"
    env = os.environ.get("DOCKER_CONFIG")
    if env:
        return Path(env) / "config.json"
    return Path.home() / ".docker" / "config.json"


def load_config(path: Path, *, plugin: str = "docker-config") -> dict[str, Any] | None:
    """The parsed file, or None when it does not exist.

    :raises PluginError: (for ``plugin``) naming the file when it cannot be read or is not a
        JSON object; the message never quotes the file's content.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except (FileNotFoundError, NotADirectoryError):
        return None
    except UnicodeDecodeError:
        raise PluginError(f"{path} is not UTF-8 text", plugin=plugin) from None
    except OSError as exc:
        raise PluginError(f"cannot read {path}: {exc.strerror}", plugin=plugin) from None
    return parse_config(text, str(path), plugin=plugin)


def parse_config(text: str, where: str, *, plugin: str = "docker-config") -> dict[str, Any]:
    if not text.strip():
        return {}  # an empty file is an empty config (docker/cli reads it so)
    try:
        doc = json.loads(text)
    except ValueError as exc:
        raise PluginError(
            f"{where} is not valid JSON (line {getattr(exc, 'lineno', '?')})", plugin=plugin
        ) from None
    if not isinstance(doc, dict):
        raise PluginError(f"{where} is not a JSON object", plugin=plugin)
    return doc


def host_of(key: str) -> str:
    # docker/cli ConvertToHostname: drop the scheme and everything after the first '/'.
    for prefix in ("http://", "https://"):
        if key.startswith(prefix):
            key = key[len(prefix) :]
            break
    return key.split("/", 1)[0]


def entry_credentials(entry: Any, source: str, plugin: str = "docker-config") -> Credentials | None:
    """The credential an ``auths`` entry holds, or None for a placeholder (``{}``, or only
    ``email``/``serveraddress``: the secret is in a helper).

    ``registrytoken`` (a bearer token) wins, then ``identitytoken`` (a refresh token), then
    ``auth`` (base64 of ``user:password``, split at the first ``:``, trailing NULs trimmed
    from the password), then ``username``/``password``.

    :raises PluginError: (for ``plugin``) when ``auth`` is not base64 of ``user:password``;
        the message names ``source``, never the value.
    """
    if not isinstance(entry, dict):
        return None
    if isinstance(entry.get("registrytoken"), str) and entry["registrytoken"]:
        return RegistryToken(entry["registrytoken"], source=source)
    username = entry.get("username") or ""
    password = entry.get("password") or ""
    auth = entry.get("auth")
    if isinstance(auth, str) and auth.strip():
        try:
            decoded = base64.b64decode(auth.strip(), validate=False).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            raise PluginError(
                f"{source}: 'auth' is not base64 of user:password", plugin=plugin
            ) from None
        username, sep, password = decoded.partition(":")
        if not sep:
            raise PluginError(f"{source}: 'auth' has no ':' separator", plugin=plugin)
        password = password.rstrip("\x00")
    if isinstance(entry.get("identitytoken"), str) and entry["identitytoken"]:
        user = str(username) if username and isinstance(username, str) else "<token>"
        return IdentityToken(entry["identitytoken"], username=user, source=source)
    if not isinstance(username, str) or not isinstance(password, str):
        return None
    if not username or not password:
        return None  # a placeholder, not a credential
    return BasicCredentials(username, password, source=source)


def lookup(
    doc: dict[str, Any], registry: str, where: str, plugin: str = "docker-config"
) -> Credentials | None:
    """Credentials for ``registry`` from a parsed config, with docker's precedence."""
    key = server_key(registry)
    auths = doc.get("auths") or {}
    if not isinstance(auths, dict):
        auths = {}
    suffix, how = helper_for(doc, registry)
    if suffix:
        source = f"{where} {how} -> docker-credential-{suffix}"
        found = credential_helpers.get(str(suffix), key, source=source)
        if found is None:
            # Helpers store the key as given at login: try the config's own spelling too.
            for other in auths:
                if other != key and host_of(other) == host_of(key):
                    found = credential_helpers.get(str(suffix), other, source=source)
                    if found is not None:
                        break
        return found
    if key in auths:
        found = entry_credentials(auths[key], f"{where} auths[{key!r}]", plugin)
        if found is not None:
            return found
    wanted = host_of(key)
    for other, entry in auths.items():
        if other != key and host_of(other) == wanted:
            found = entry_credentials(entry, f"{where} auths[{other!r}]", plugin)
            if found is not None:
                return found
    return None


def helper_for(doc: dict[str, Any], registry: str) -> tuple[str | None, str]:
    """``(suffix, how)``: the credential helper a parsed config names for ``registry``
    (``credHelpers[registry]``, Docker Hub's aliases included, else ``credsStore``), and
    which key said so; ``(None, "")`` when the file's ``auths`` hold its credentials."""
    helpers_map = doc.get("credHelpers") or {}
    if not isinstance(helpers_map, dict):
        helpers_map = {}
    suffix = helpers_map.get(registry)
    if suffix is None and hub_aliases(registry):
        suffix = next(
            (helpers_map[k] for k in DOCKER_HUB_ALIASES | {HUB_KEY} if k in helpers_map), None
        )
    if suffix:
        return str(suffix), f"credHelpers[{registry}]"
    if doc.get("credsStore"):
        return str(doc["credsStore"]), "credsStore"
    return None, ""


def store_login(
    registry: str,
    username: str,
    secret: str,
    *,
    config_dir: str | os.PathLike[str] | None = None,
) -> str:
    """Store credentials for ``registry`` where ``docker login`` would; return where
    (``docker-credential-<suffix>`` or the path of ``config.json``).

    Nothing is checked against the registry: log in (``Client.ping``) first.

    :raises PluginError: the config cannot be read, or the helper failed.
    :raises OSError: the config cannot be written.
    """
    registry = check_registry(registry)
    path = config_path(config_dir)
    with _locked(path) as real:
        doc = load_config(real) or {}
        key = server_key(registry)
        suffix, _ = helper_for(doc, registry)
        if suffix:
            credential_helpers.store(suffix, key, username, secret)
            return f"docker-credential-{suffix}"
        auths = doc.get("auths")
        if not isinstance(auths, dict):
            auths = doc["auths"] = {}
        auths[key] = {"auth": base64.b64encode(f"{username}:{secret}".encode()).decode()}
        _write_config(real, doc)
    return str(path)


def erase_login(registry: str, *, config_dir: str | os.PathLike[str] | None = None) -> bool:
    """Remove the stored credentials of ``registry`` as ``docker logout`` does: ask the
    helper the config names to erase them, and drop every ``auths`` entry of that host.

    :returns: whether there was anything to remove (a helper always counts: it is not
        asked whether it held something).
    :raises PluginError: the config cannot be read, or the helper failed.
    :raises OSError: the config cannot be written.
    """
    registry = check_registry(registry)
    path = config_path(config_dir)
    if not os.path.lexists(path):
        return False  # no file, so no helper and no entry: create nothing
    with _locked(path) as real:
        doc = load_config(real) or {}
        key = server_key(registry)
        suffix, _ = helper_for(doc, registry)
        if suffix:
            credential_helpers.erase(suffix, key)
        auths = doc.get("auths")
        removed = []
        if isinstance(auths, dict):
            removed = [k for k in list(auths) if k == key or host_of(k) == host_of(key)]
            for k in removed:
                del auths[k]
        if removed:
            _write_config(real, doc)
    return bool(suffix or removed)


def _make_private_dir(directory: Path) -> None:
    """Create ``directory`` (and missing parents) with mode 0700: it will hold secrets. An
    existing directory is left as it is."""
    if directory.is_dir():
        return
    directory.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    try:
        directory.mkdir(mode=0o700)
    except FileExistsError:
        return  # another process made it first
    os.chmod(directory, 0o700)  # whatever the umask


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[Path]:
    """Hold an exclusive lock for a read-modify-write of ``path``; yield the file to read
    and write: ``path``, or where it points when it is a symlink (the link is kept, as
    docker/cli's ``configfile.Save`` does).

    The lock is ``fcntl.flock`` on a sibling ``<file>.lock`` that is never removed (removing
    a lock file lets two processes lock two different files). Not on platforms without
    ``fcntl``: there the rename alone keeps the file whole, but concurrent writers may lose
    an entry.
    """
    real = Path(os.path.realpath(path)) if path.is_symlink() else path
    _make_private_dir(real.parent)
    try:
        import fcntl
    except ImportError:  # pragma: no cover - not POSIX
        yield real
        return
    lock = real.with_name(real.name + ".lock")
    fd = os.open(lock, os.O_RDWR | os.O_CREAT | getattr(os, "O_CLOEXEC", 0), 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield real
    finally:
        os.close(fd)  # releases the lock


def _write_config(path: Path, doc: dict[str, Any]) -> None:
    """Replace ``path`` atomically with ``doc`` (tab-indented, as docker writes it), 0600.
    ``path`` is a regular file (or none yet): :func:`_locked` resolved any symlink."""
    _make_private_dir(path.parent)
    fd, tmp = tempfile.mkstemp(prefix=".config-", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(doc, fh, indent="\t")
            fh.write("\n")
        os.chmod(tmp, 0o600)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


class DockerConfigProvider:
    """Reads ``config.json`` (path fixed at creation, or found per docker's rules per call)."""

    name = "docker-config"

    def __init__(self, config_dir: str | os.PathLike[str] | None = None) -> None:
        self._config_dir = config_dir

    @hookimpl(tryfirst=True)
    def ocireg_get_credentials(self, registry: str, repository: str | None) -> Credentials | None:
        path = config_path(self._config_dir)
        doc = load_config(path)
        if doc is None:
            return None
        return lookup(doc, registry, str(path))
