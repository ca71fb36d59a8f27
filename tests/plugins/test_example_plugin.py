"""The worked example of docs/plugins.md, installed and used as a user would.

``tests/plugins/example_plugin`` is a real distribution (``ocireg-example-plugin``) with an
``ocireg`` entry point. The ``example_plugin`` fixture installs it with pip (unless it is
installed already) into a directory of its own that is put on ``sys.path`` for this module
only, so the Clients of the other test modules never see it. Then, with no change to ocireg
or to the program:

* ``Client()`` registers it, its credential provider answers for the registry listed in its
  vault file, and ``Client(blocked_plugins=["example"])`` does not;
* its manifest handler's media type is in the ``Accept`` header, and a manifest of that type
  is pushed with ``put_manifest`` and read back by ``get_manifest`` as the plugin's type.
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.metadata
import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from ocireg import (
    AuthenticationError,
    BasicCredentials,
    Client,
    Credentials,
    ImageManifest,
    ManifestError,
    PluginError,
    RegistryError,
    hookimpl,
)
from ocireg.auth.token import TOKENS
from ocireg.builtin import credential_helpers
from tests.fixtures.images import Pusher
from tests.fixtures.registry import Registry

DISTRIBUTION = Path(__file__).parent / "example_plugin"
MODULE = "ocireg_example_plugin"
THING = "application/vnd.example.thing.v1+json"
BUILTIN_ORDER = ["explicit", "environment", "docker-config", "containers-auth"]


# -- installing the distribution ------------------------------------------------------------


def _installed() -> bool:
    return any(
        ep.name == "example" and ep.value == MODULE
        for ep in importlib.metadata.entry_points(group="ocireg")
    )


def _can_build_offline() -> bool:
    """setuptools < 70.1 needs the ``wheel`` package to build a wheel."""
    try:
        version = importlib.metadata.version("setuptools")
    except importlib.metadata.PackageNotFoundError:
        return False
    major, minor = (int(part) for part in re.findall(r"\d+", version)[:2])
    return (major, minor) >= (70, 1) or importlib.util.find_spec("wheel") is not None


@pytest.fixture(scope="module")
def example_plugin(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ModuleType]:
    """The example plugin, installed from ``tests/plugins/example_plugin`` by pip.

    Built from a copy, so no ``build/`` or ``*.egg-info`` lands in the work tree; without
    build isolation when the venv's setuptools can build alone, else pip fetches setuptools
    and wheel into an isolated build environment (network or the local package index).
    """
    if _installed():
        yield importlib.import_module(MODULE)
        return
    base = tmp_path_factory.mktemp("example-plugin")
    source, site = base / "source", base / "site"
    shutil.copytree(
        DISTRIBUTION,
        source,
        ignore=shutil.ignore_patterns("build", "*.egg-info", "__pycache__"),
    )
    command = [sys.executable, "-m", "pip", "install", "--no-deps", "--disable-pip-version-check"]
    command += ["--quiet", "--target", str(site), str(source)]
    if _can_build_offline():
        command.insert(4, "--no-build-isolation")
    proc = subprocess.run(command, capture_output=True, text=True, timeout=600, check=False)
    if proc.returncode != 0:
        pytest.fail(f"pip could not install the example plugin:\n{proc.stdout}\n{proc.stderr}")
    sys.path.insert(0, str(site))
    importlib.invalidate_caches()
    try:
        assert _installed(), "the entry point is not visible after installation"
        yield importlib.import_module(MODULE)
    finally:
        sys.path.remove(str(site))
        sys.modules.pop(MODULE, None)
        importlib.invalidate_caches()


@pytest.fixture(autouse=True)
def isolated(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    """No credential from the caller's environment or HOME; caches emptied."""
    for name in list(os.environ):
        if name.startswith(("OCIREG_", "DOCKER_", "XDG_")) or name in (
            "REGISTRY_AUTH_FILE",
            "EXAMPLE_VAULT_FILE",
        ):
            monkeypatch.delenv(name)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    (tmp_path / "run").mkdir()
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(tmp_path / "run"))
    credential_helpers.clear_helper_cache()
    TOKENS.clear()
    yield
    TOKENS.clear()


@pytest.fixture
def vault(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The example plugin's vault file (empty), named by ``$EXAMPLE_VAULT_FILE``."""
    path = tmp_path / "vault.json"
    path.write_text("{}")
    monkeypatch.setenv("EXAMPLE_VAULT_FILE", str(path))
    return path


def fill(vault: Path, registry: Registry) -> None:
    user, secret = registry.credentials("alice")
    vault.write_text(json.dumps({registry.host: {"username": user, "password": secret}}))


def asked(client: Client) -> list[str]:
    impls = client.plugin_manager.hook.ocireg_get_credentials.get_hookimpls()
    return [impl.plugin_name for impl in reversed(impls)]


# -- discovery and blocking -----------------------------------------------------------------


def test_installed_plugin_is_registered_by_its_entry_point(example_plugin: ModuleType) -> None:
    with Client() as client:
        pm = client.plugin_manager
        assert pm.get_plugin("example") is example_plugin
        dists = {dist.project_name for _, dist in pm.list_plugin_distinfo()}
        assert "ocireg-example-plugin" in dists
        # after the built-ins, whatever else is installed
        assert asked(client)[:4] == BUILTIN_ORDER
        assert "example" in asked(client)[4:]
        assert THING in client.handlers.media_types
        assert THING in client.handlers.accept_header().split(", ")


def test_blocked_plugin_is_not_registered(example_plugin: ModuleType) -> None:
    with Client(blocked_plugins=["example"]) as client:
        assert client.plugin_manager.get_plugin("example") is None
        assert "example" not in asked(client)
        assert THING not in client.handlers.accept_header()
        with pytest.raises(ManifestError, match="unsupported manifest media type"):
            client.handlers.handler_for(THING)


def test_no_entry_points_no_plugin(example_plugin: ModuleType) -> None:
    with Client(load_entrypoints=False) as client:
        assert client.plugin_manager.get_plugin("example") is None


# -- the credential provider ----------------------------------------------------------------


@pytest.mark.live
def test_provider_authenticates_against_the_real_registry(
    example_plugin: ModuleType, registry_basic: Registry, vault: Path
) -> None:
    pushed = Pusher(registry_basic).image("plugin/app", "v1")
    fill(vault, registry_basic)
    with Client() as client:
        assert client.tags(f"{registry_basic.host}/plugin/app") == ["v1"]
        manifest = client.get_manifest(f"{registry_basic.host}/plugin/app:v1")
        assert str(manifest.digest) == pushed.digest
        info = client.explain_credentials(registry_basic.host)
        assert info["provider"] == "example"
        assert (info["kind"], info["username"]) == ("basic", "alice")
        assert info["source"] == f"vault {vault} [{registry_basic.host}]"
        assert info["asked"][:4] == BUILTIN_ORDER
        assert registry_basic.users["alice"] not in repr(info)
    TOKENS.clear()
    with Client(blocked_plugins=["example"]) as client:
        assert client.explain_credentials(registry_basic.host)["provider"] is None
        with pytest.raises(AuthenticationError):
            client.tags(f"{registry_basic.host}/plugin/app")


def test_provider_answers_only_for_hosts_it_knows(example_plugin: ModuleType, vault: Path) -> None:
    vault.write_text(json.dumps({"registry.example.invalid": {"username": "u", "password": "p"}}))
    with Client() as client:
        assert client.explain_credentials("registry.example.invalid")["provider"] == "example"
        assert client.explain_credentials("quay.io")["provider"] != "example"


def test_builtin_sources_come_before_the_plugin(
    example_plugin: ModuleType, vault: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    vault.write_text(json.dumps({"registry.example.invalid": {"username": "u", "password": "p"}}))
    monkeypatch.setenv("OCIREG_REGISTRY_EXAMPLE_INVALID_USERNAME", "from-env")
    monkeypatch.setenv("OCIREG_REGISTRY_EXAMPLE_INVALID_PASSWORD", "pw")
    with Client() as client:
        info = client.explain_credentials("registry.example.invalid")
        assert (info["provider"], info["username"]) == ("environment", "from-env")


def test_plugins_given_to_the_client_come_before_installed_ones(
    example_plugin: ModuleType, vault: Path
) -> None:
    class Given:
        name = "given"

        @hookimpl
        def ocireg_get_credentials(
            self, registry: str, repository: str | None
        ) -> Credentials | None:
            return BasicCredentials("given", "pw", source="given plugin")

    class GivenLast(Given):
        name = "given-last"

        @hookimpl(trylast=True)
        def ocireg_get_credentials(
            self, registry: str, repository: str | None
        ) -> Credentials | None:
            return None

    vault.write_text(json.dumps({"registry.example.invalid": {"username": "u", "password": "p"}}))
    with Client(plugins=[GivenLast(), Given()]) as client:
        order = asked(client)
        # plain plugins: the given one first; trylast goes behind both
        assert order.index("given") < order.index("example") < order.index("given-last")
        assert client.explain_credentials("registry.example.invalid")["provider"] == "given"


def test_a_given_plugin_replaces_the_installed_one_of_that_name(
    example_plugin: ModuleType, vault: Path
) -> None:
    class Replacement:
        name = "example"

        @hookimpl
        def ocireg_get_credentials(self, registry: str, repository: str | None) -> None:
            return None

    replacement = Replacement()
    vault.write_text(json.dumps({"registry.example.invalid": {"username": "u", "password": "p"}}))
    with Client(plugins=[replacement]) as client:
        assert client.plugin_manager.get_plugin("example") is replacement
        assert client.explain_credentials("registry.example.invalid")["provider"] is None


def test_unreadable_vault_is_a_plugin_error_naming_the_file(
    example_plugin: ModuleType, vault: Path
) -> None:
    vault.write_text('{"registry.example.invalid": {"password": "vault-secret"')
    with Client() as client, pytest.raises(PluginError) as err:
        client.credentials_for("registry.example.invalid")
    assert err.value.plugin == "example"
    assert str(vault) in str(err.value)
    assert "vault-secret" not in str(err.value)


# -- the manifest handler -------------------------------------------------------------------


def thing_manifest(name: str = "demo") -> bytes:
    part = b"a part of the thing"
    doc = {
        "schemaVersion": 2,
        "mediaType": THING,
        "name": name,
        "parts": [
            {
                "mediaType": "application/octet-stream",
                "digest": "sha256:" + hashlib.sha256(part).hexdigest(),
                "size": len(part),
            }
        ],
    }
    return json.dumps(doc, indent=2).encode()


def fake_registry(httpserver: HTTPServer) -> dict[str, tuple[str, bytes]]:
    """A registry that stores manifests of any media type, as OCI 1.1 registries such as
    zot do, and serves them only to a client that accepts their type."""
    stored: dict[str, tuple[str, bytes]] = {}
    manifest_path = re.compile(r"/v2/(?P<name>.+)/manifests/(?P<ref>[^/]+)")

    def handle(request: Request) -> Response:
        if request.path == "/v2/":
            return Response("{}", content_type="application/json")
        m = manifest_path.fullmatch(request.path)
        if m is None:
            return Response(status=404)
        name, ref = m["name"], m["ref"]
        if request.method == "PUT":
            body = request.get_data()
            digest = "sha256:" + hashlib.sha256(body).hexdigest()
            entry = (request.headers.get("Content-Type", ""), body)
            stored[f"{name}@{digest}"] = stored[f"{name}:{ref}"] = entry
            return Response(
                status=201,
                headers={
                    "Location": f"/v2/{name}/manifests/{digest}",
                    "Docker-Content-Digest": digest,
                },
            )
        key = f"{name}@{ref}" if ref.startswith("sha256:") else f"{name}:{ref}"
        content_type, body = stored.get(key, ("", b""))
        if not body or content_type not in request.headers.get("Accept", ""):
            error = {"errors": [{"code": "MANIFEST_UNKNOWN", "message": "manifest unknown"}]}
            return Response(json.dumps(error), status=404, content_type="application/json")
        return Response(
            body,
            headers={
                "Content-Type": content_type,
                "Docker-Content-Digest": "sha256:" + hashlib.sha256(body).hexdigest(),
            },
        )

    httpserver.expect_request(re.compile(r"^/v2/.*")).respond_with_handler(handle)
    return stored


def test_plugin_manifest_round_trip(example_plugin: ModuleType, httpserver: HTTPServer) -> None:
    stored = fake_registry(httpserver)
    raw = thing_manifest()
    ref = f"http://{httpserver.host}:{httpserver.port}/things/demo:1"
    with Client() as client:
        digest = client.put_manifest(ref, raw, THING)
        assert stored["things/demo:1"] == (THING, raw)
        thing: Any = client.get_manifest(ref)
        assert isinstance(thing, example_plugin.Thing)
        assert (thing.media_type, thing.name, thing.raw) == (THING, "demo", raw)
        assert thing.digest == digest
        assert [p.size for p in thing.references()] == [len(b"a part of the thing")]
        by_digest: Any = client.get_manifest(f"{ref.rsplit(':', 1)[0]}@{digest}")
        assert by_digest == thing
        assert client.head_manifest(ref).media_type == THING
    with Client(blocked_plugins=["example"]) as client:
        # without the plugin the type is unknown: refused before anything is sent...
        with pytest.raises(ManifestError, match="unsupported manifest media type"):
            client.put_manifest(ref, raw, THING)
        # ... and not in Accept, so the registry does not hand it out
        with pytest.raises(RegistryError) as err:
            client.get_manifest(ref)
        assert err.value.code == "MANIFEST_UNKNOWN"


def test_plugin_handler_rejects_bad_bytes_cleanly(example_plugin: ModuleType) -> None:
    with Client() as client:
        with pytest.raises(ManifestError, match="no string 'name'"):
            client.handlers.parse(json.dumps({"mediaType": THING}).encode(), THING)
        with pytest.raises(ManifestError, match=r"parts\[0\]"):
            client.handlers.parse(
                json.dumps({"mediaType": THING, "name": "x", "parts": [{}]}).encode(), THING
            )


@pytest.mark.live
def test_real_registry_with_the_plugin_loaded(
    example_plugin: ModuleType, registry_open: Registry
) -> None:
    """distribution 2.8.2 stores only the media types it knows (REGISTRY-FACTS 1): the
    plugin's type is refused with MANIFEST_INVALID, while ordinary images, pulled with the
    plugin's type added to Accept, are unaffected."""
    pushed = Pusher(registry_open).image("plugin/image", "v1")
    with Client() as client:
        assert THING in client.handlers.accept_header()
        manifest = client.get_manifest(f"{registry_open.host}/plugin/image:v1")
        assert isinstance(manifest, ImageManifest)
        assert str(manifest.digest) == pushed.digest
        with pytest.raises(RegistryError) as err:
            client.put_manifest(f"{registry_open.host}/plugin/thing:1", thing_manifest(), THING)
        assert (err.value.status, err.value.code) == (400, "MANIFEST_INVALID")


# -- the documentation shows this very code --------------------------------------------------


def test_docs_excerpts_are_copied_from_the_example() -> None:
    """Each block of docs/plugins.md that starts ``# from <path>`` is that file's text."""
    root = Path(__file__).parents[2]
    doc = (root / "docs" / "plugins.md").read_text()
    blocks = re.findall(r"```(?:python|toml)\n# from (\S+)\n(.*?)```", doc, re.DOTALL)
    assert len(blocks) >= 5
    for path, text in blocks:
        assert text in (root / path).read_text(), f"docs/plugins.md excerpt drifted from {path}"
