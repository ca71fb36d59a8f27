"""The one-shot commands stay as quick as a Python peer's (benchmarks/bench_startup.py
measures the time): against a plain-http loopback registry, ``ocireg tags``, ``ping``,
``digest`` and ``manifest`` load no CA bundle and open no TLS connection; the commands that
need no hook (an open registry's tags, ping) make no plugin manager and read no entry
points, the others read them in one pass, and not at all once the plugin index knows that no
installed plugin adds manifest handlers; and no command imports what only other commands
need (requests and urllib3 included). A TLS registry on loopback is still spoken to with TLS."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import pytest

from tests.fixtures.cli import probe
from tests.fixtures.images import Pusher
from tests.fixtures.registry import Registry

pytestmark = pytest.mark.live


#: Modules only other commands need (copy, upload, delete, the progress bar...).
NOT_FOR_READING = {
    "ocireg.copy",
    "ocireg.upload",
    "ocireg.download",
    "ocireg.deletion",
    "ocireg.summary",
    "ocireg.cli._blob",
    "ocireg.cli._copy",
    "ocireg.cli._delete",
    "ocireg.cli._login",
    "tqdm",
    # The wire layer is http.client's: requests (~90 ms to import) is a plugin's business.
    "requests",
    "urllib3",
}


def run(*args: str, cache: str | None = None) -> tuple[dict[str, Any], str]:
    """``cache``: the plugin index's directory (default: the test session's)."""
    env = {"HOME": "/nonexistent", "DOCKER_CONFIG": "/nonexistent"}
    if cache is not None:
        env["OCIREG_CACHE_DIR"] = cache
    return probe(*args, env=env)


@pytest.fixture(scope="module")
def image(registry_open: Registry) -> str:
    """``host/repo:1.0`` of a small image on the open (plain-http) registry."""
    repo = f"startup/{uuid.uuid4().hex[:8]}"
    Pusher(registry_open).image(repo, "1.0", layers=1, layer_size=64)
    return f"{registry_open.host}/{repo}:1.0"


@pytest.mark.parametrize("plain_http", [False, True], ids=["loopback", "--plain-http"])
def test_tags_and_ping_of_an_open_plain_http_registry_load_nothing_they_do_not_need(
    image: str, plain_http: bool
) -> None:
    flags = ["--plain-http"] if plain_http else []
    repository, host = image.rsplit(":", 1)[0], image.split("/", 1)[0]
    for args, expected in ((["tags", repository], "1.0"), (["ping", host], "OK")):
        report, out = run(*args, *flags)
        assert expected in out
        assert report["ca_loads"] == 0
        assert report["tls_connections"] == 0
        # TLS first on loopback, as docker does, but only a ClientHello: never with --plain-http
        assert report["tls_probes"] == (0 if plain_http else 1)
        assert report["entry_point_scans"] == 0  # no hook needed: no plugin manager
        modules = set(report["modules"])
        assert "ocireg.cli._commands" in modules  # the probe really ran the command
        assert sorted(NOT_FOR_READING & modules) == []
        assert "pluggy" not in modules


@pytest.mark.parametrize("command", ["digest", "manifest"])
def test_digest_and_manifest_read_the_entry_points_once_then_never(
    image: str, command: str, tmp_path: Path
) -> None:
    # First run: no plugin index yet, so the manifest handlers are asked of every plugin
    # (one pass over the distributions), and the index is written.
    report, out = run(command, image, cache=str(tmp_path))
    assert out.strip()
    assert report["ca_loads"] == 0
    assert report["tls_connections"] == 0
    assert report["tls_probes"] == 1
    assert report["entry_point_scans"] == 1
    assert "pluggy" in report["modules"]
    assert sorted(NOT_FOR_READING & set(report["modules"])) == []
    assert (tmp_path / "plugin-hooks.json").exists()
    # Then the index says no installed plugin adds handlers: no scan, no pluggy, no plugin.
    again, out_again = run(command, image, cache=str(tmp_path))
    assert out_again == out
    assert again["entry_point_scans"] == 0
    modules = set(again["modules"])
    assert "pluggy" not in modules
    assert not {m for m in modules if m.startswith("ocireg_")}


def test_a_tls_registry_on_loopback_is_still_spoken_to_with_tls(registry_tls: Registry) -> None:
    report, out = run("ping", registry_tls.host, "--ca-cert", str(registry_tls.ca_cert))
    assert f"https://{registry_tls.host}: OK" in out
    assert report["tls_probes"] == 1
    assert report["tls_connections"] >= 1
    assert report["ca_loads"] >= 1
