"""The ``ocireg`` command against real registries: output, exit codes, no secrets with -vv."""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import re
import struct
import subprocess
import termios
import uuid
from pathlib import Path

import pytest

from tests.fixtures.cli import OCIREG, cli_env, ocireg
from tests.fixtures.images import Pusher
from tests.fixtures.registry import Registry

pytestmark = pytest.mark.live


@pytest.fixture
def home(tmp_path: Path) -> dict[str, str]:
    """An empty HOME and docker config, so no credentials leak in from the machine."""
    return {"HOME": str(tmp_path), "DOCKER_CONFIG": str(tmp_path / ".docker")}


def repo() -> str:
    return f"cli/{uuid.uuid4().hex[:10]}"


def test_parse_prints_json_and_rejects_bad_input() -> None:
    out = ocireg("parse", "quay.io/org/app:1.0")
    assert out.returncode == 0
    assert json.loads(out.stdout)["canonical"] == "quay.io/org/app:1.0"
    bad = ocireg("parse", "quay.io/Org/app")
    assert bad.returncode == 2
    assert "must be lowercase" in bad.stderr
    assert "Traceback" not in bad.stderr


def test_tags_digest_and_inspect_in_open_mode(
    registry_open: Registry, home: dict[str, str]
) -> None:
    name = repo()
    pusher = Pusher(registry_open)
    image = pusher.image(name, "1.0", labels={"team": "platform"})
    pusher.tag(image, "1.1")
    pusher.tag(image, "2.0-rc1")
    ref = f"{registry_open.host}/{name}"

    tags = ocireg("tags", ref, "--exclude", ".*-rc.*", env=home)
    assert tags.returncode == 0, tags.stderr
    assert tags.stdout.split() == ["1.0", "1.1"]

    digest = ocireg("digest", f"{ref}:1.0", env=home)
    assert digest.stdout.strip() == image.digest

    inspect = ocireg("inspect", f"{ref}:1.0", "--json", env=home)
    data = json.loads(inspect.stdout)
    assert data["digest"] == image.digest
    assert data["config"]["labels"] == {"team": "platform"}
    assert len(data["layers"]) == 2

    raw = ocireg("manifest", f"{ref}:1.0", "--raw", env=home)
    assert raw.stdout.encode() == image.raw


def test_inspect_and_details_list_attestations_apart_from_platforms(
    registry_open: Registry, home: dict[str, str]
) -> None:
    """BuildKit's ``unknown/unknown`` attestation manifests are not platforms (ocireg.summary)."""
    name = repo()
    platforms = [("linux", "arm64", "v8"), ("linux", "amd64", None), ("unknown", "unknown", None)]
    index = Pusher(registry_open).index(name, "multi", platforms, created="2024-05-06T00:00:00Z")
    ref = f"{registry_open.host}/{name}"

    out = ocireg("inspect", f"{ref}:multi", "--json", env=home)
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert data["digest"] == index.digest
    assert [p["platform"] for p in data["platforms"]] == ["linux/arm64/v8", "linux/amd64"]
    assert [a["digest"] for a in data["attestations"]] == [index.children[2].digest]
    assert data["created"] == "2024-05-06T00:00:00Z" and data["config"] is None

    text = ocireg("inspect", f"{ref}:multi", env=home).stdout.splitlines()
    assert f"attestation: {index.children[2].digest}" in text
    assert f"platform: linux/amd64 {index.children[1].digest}" in text

    chosen = json.loads(ocireg("inspect", f"{ref}:multi", "--platform", "linux/arm64", "--json",
                               env=home).stdout)  # fmt: skip
    assert chosen["digest"] == index.children[0].digest
    assert chosen["index_digest"] == index.digest
    assert chosen["config"]["architecture"] == "arm64"

    details = ocireg("tags", ref, "--details", "--json", env=home)
    (row,) = json.loads(details.stdout)["tags"]
    assert row["platforms"] == ["linux/arm64/v8", "linux/amd64"]


def test_unknown_tag_is_exit_3_with_the_registry_code(
    registry_open: Registry, home: dict[str, str]
) -> None:
    out = ocireg("digest", f"{registry_open.host}/{repo()}:nope", env=home)
    assert out.returncode == 3
    assert "MANIFEST_UNKNOWN" in out.stderr or "NAME_UNKNOWN" in out.stderr
    assert out.stderr.count("\n") == 1
    assert "Traceback" not in out.stderr


def test_delete_one_of_four_tags_leaves_three_pulling(
    registry_open: Registry, home: dict[str, str]
) -> None:
    name = repo()
    pusher = Pusher(registry_open)
    image = pusher.image(name, "a")
    for tag in ("b", "c", "d"):
        pusher.tag(image, tag)
    ref = f"{registry_open.host}/{name}"

    dry = ocireg("delete", f"{ref}:a", "--dry-run", env=home)
    assert dry.returncode == 0, dry.stderr
    assert "would untag (" in dry.stdout  # the mechanism is named only when it says more
    assert pusher.tags(name) == ["a", "b", "c", "d"]

    done = ocireg("delete", f"{ref}:a", env=home)
    assert done.returncode == 0, done.stderr
    assert pusher.tags(name) == ["b", "c", "d"]
    for tag in ("b", "c", "d"):
        assert pusher.exists(name, tag)
    assert pusher.exists(name, image.digest)


def test_delete_disabled_is_exit_5_and_changes_nothing(
    registry_no_delete: Registry, home: dict[str, str]
) -> None:
    name = repo()
    pusher = Pusher(registry_no_delete)
    pusher.image(name, "only")
    out = ocireg("delete", f"{registry_no_delete.host}/{name}:only", env=home)
    assert out.returncode == 5, out.stderr
    assert "disabled" in out.stderr
    assert pusher.tags(name) == ["only"]


def test_token_mode_with_password_stdin_and_vv_leaks_no_secret(
    registry_token: Registry, home: dict[str, str]
) -> None:
    name = repo()
    Pusher(registry_token).image(name, "1.0")
    user, password = registry_token.credentials("alice")
    out = ocireg(
        "tags",
        f"{registry_token.host}/{name}",
        "-vv",
        "-u",
        user,
        "--password-stdin",
        stdin=password + "\n",
        env=home,
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["1.0"]
    assert "GET http://" in out.stderr  # -v traced the requests
    everything = out.stdout + out.stderr
    assert password not in everything
    assert "eyJ" not in everything  # no JWT
    assert "Bearer ***" in everything or "Basic ***" in everything


def test_wrong_password_is_exit_4(registry_basic: Registry, home: dict[str, str]) -> None:
    out = ocireg(
        "tags",
        f"{registry_basic.host}/{repo()}",
        "-u",
        "alice",
        "--password-stdin",
        stdin="not-the-password\n",
        env=home,
    )
    assert out.returncode == 4, out.stderr
    assert "not-the-password" not in out.stderr


def test_login_stores_in_config_and_auth_explain_names_it(
    registry_basic: Registry, home: dict[str, str]
) -> None:
    user, password = registry_basic.credentials("alice")
    login = ocireg(
        "login", registry_basic.host, "-u", user, "--password-stdin", stdin=password, env=home
    )
    assert login.returncode == 0, login.stderr
    config = json.loads((Path(home["DOCKER_CONFIG"]) / "config.json").read_text())
    assert registry_basic.host in config["auths"]

    explain = ocireg("auth", "explain", registry_basic.host, "--json", env=home)
    info = json.loads(explain.stdout)
    assert info["provider"] == "docker-config"
    assert info["username"] == user
    assert password not in explain.stdout

    name = repo()
    Pusher(registry_basic).image(name, "v1")
    tags = ocireg("tags", f"{registry_basic.host}/{name}", env=home)  # no password given
    assert tags.stdout.split() == ["v1"]

    logout = ocireg("logout", registry_basic.host, env=home)
    assert logout.returncode == 0
    again = ocireg("tags", f"{registry_basic.host}/{name}", env=home)
    assert again.returncode == 4


def test_catalog_ping_config_and_referrers(registry_open: Registry, home: dict[str, str]) -> None:
    name = repo()
    image = Pusher(registry_open).image(name, "1.0", created="2023-05-06T07:08:09Z")
    ref = f"{registry_open.host}/{name}"

    ping = ocireg("ping", registry_open.host, "--json", env=home)
    assert ping.returncode == 0, ping.stderr
    assert json.loads(ping.stdout)["status"] == 200

    catalog = ocireg("catalog", registry_open.host, env=home)
    assert name in catalog.stdout.split()

    config = ocireg("config", f"{ref}:1.0", env=home)
    assert json.loads(config.stdout)["created"] == "2023-05-06T07:08:09Z"

    details = ocireg("tags", ref, "--details", "--json", env=home)
    (row,) = json.loads(details.stdout)["tags"]
    assert row["digest"] == image.digest
    assert row["created"] == "2023-05-06T07:08:09Z"
    assert row["platforms"] == ["linux/amd64"]  # a single image's, from its config

    referrers = ocireg("referrers", f"{ref}:1.0", "--json", env=home)
    assert referrers.returncode == 0, referrers.stderr
    assert json.loads(referrers.stdout)["referrers"] == []


def test_blob_put_head_get_round_trip(
    registry_open: Registry, home: dict[str, str], tmp_path: Path
) -> None:
    name = repo()
    source = tmp_path / "layer.bin"
    source.write_bytes(os.urandom(300_000))
    ref = f"{registry_open.host}/{name}"

    put = ocireg("blob", "put", ref, str(source), "--json", env=home)
    assert put.returncode == 0, put.stderr
    digest = json.loads(put.stdout)["digest"]

    head = ocireg("blob", "head", f"{ref}@{digest}", env=home)
    assert head.stdout.split() == [digest, "300000"]

    out = tmp_path / "copy.bin"
    get = ocireg("blob", "get", f"{ref}@{digest}", "-o", str(out), env=home)
    assert get.returncode == 0, get.stderr
    assert out.read_bytes() == source.read_bytes()
    assert get.stderr == ""  # no progress bar on a pipe

    missing = ocireg("blob", "head", f"{ref}@sha256:{'0' * 64}", env=home)
    assert missing.returncode == 3
    assert "BLOB_UNKNOWN" in missing.stderr


def test_copy_and_prune(registry_open: Registry, home: dict[str, str]) -> None:
    name = repo()
    pusher = Pusher(registry_open)
    for i, day in enumerate(("01", "02", "03", "04")):
        pusher.image(name, f"build-{i}", created=f"2024-01-{day}T00:00:00Z")
    pusher.image(name, "release", created="2023-01-01T00:00:00Z")
    ref = f"{registry_open.host}/{name}"

    copied = ocireg("copy", f"{ref}:build-3", f"{ref}-mirror:build-3", "--json", env=home)
    assert copied.returncode == 0, copied.stderr
    assert json.loads(copied.stdout)["blobs_mounted"] > 0
    assert pusher.tags(f"{name}-mirror") == ["build-3"]

    dry = ocireg(
        "prune", ref, "--match", "build-.*", "--keep-latest", "2", "--dry-run", "--json", env=home
    )
    assert dry.returncode == 0, dry.stderr
    plan = json.loads(dry.stdout)
    assert sorted(p["tag"] for p in plan["deleted"]) == ["build-0", "build-1"]
    assert pusher.tags(name) == ["build-0", "build-1", "build-2", "build-3", "release"]

    real = ocireg("prune", ref, "--match", "build-.*", "--keep-latest", "2", env=home)
    assert real.returncode == 0, real.stderr
    assert pusher.tags(name) == ["build-2", "build-3", "release"]

    bad = ocireg("prune", ref, "--older-than", "soon", env=home)
    assert bad.returncode == 2
    assert "invalid age" in bad.stderr
    regex = ocireg("prune", ref, "--match", "build-(", env=home)
    assert regex.returncode == 2, regex.stderr  # InvalidSelectionError: the user's mistake
    assert "invalid" in regex.stderr and "regular expression" in regex.stderr
    assert pusher.tags(name) == ["build-2", "build-3", "release"]


# -- progress bars -----------------------------------------------------------------------------

#: tqdm's bar as it ends, e.g. "layer.bin: 100%|██████████| 3.00M/3.00M [00:00<00:00, 9.61MB/s]"
BAR = re.compile(r"100%\|[^|]*\| *([\d.]+[kMG]?B?)/\1 \[[\d:]+<[\d:]+, +[\d.]+ ?[kMG]?B/s\]")


def test_progress_bars_only_when_forced_or_on_a_terminal(
    registry_open: Registry, registry_no_delete: Registry, home: dict[str, str], tmp_path: Path
) -> None:
    name = repo()
    source = tmp_path / "layer.bin"
    source.write_bytes(os.urandom(3 * 1024 * 1024 + 5))
    ref = f"{registry_open.host}/{name}"
    forced = {**home, "OCIREG_PROGRESS": "1"}

    put = ocireg("blob", "put", ref, str(source), env=forced)
    assert put.returncode == 0, put.stderr
    assert BAR.search(put.stderr), put.stderr
    assert "layer.bin" in put.stderr and "3.00M/3.00M" in put.stderr
    digest = put.stdout.strip()

    out = tmp_path / "copy.bin"
    get = ocireg("blob", "get", f"{ref}@{digest}", "-o", str(out), env=forced)
    assert get.returncode == 0, get.stderr
    assert BAR.search(get.stderr) and "3.00M/3.00M" in get.stderr, get.stderr
    assert get.stdout.split() == [digest, str(3 * 1024 * 1024 + 5)]  # stdout stays clean

    # --json and --quiet win over OCIREG_PROGRESS=1; a pipe without it gets no bar
    for flags, env in ((["--json"], forced), (["-q"], forced), ([], home)):
        again = ocireg("blob", "get", f"{ref}@{digest}", "-o", str(out), *flags, env=env)
        assert again.returncode == 0, again.stderr
        assert again.stderr == ""

    # copy between registries streams the blobs: one bar for the whole copy
    image = Pusher(registry_open).image(name, "1.0", layers=2, layer_size=1024 * 1024)
    dst = f"{registry_no_delete.host}/{name}:1.0"
    copied = ocireg("copy", f"{ref}:1.0", dst, env=forced)
    assert copied.returncode == 0, copied.stderr
    assert BAR.search(copied.stderr) and "copy: " in copied.stderr, copied.stderr
    total = sum(len(b) for b in image.blobs.values())
    assert f"{total / 1024 / 1024:.2f}M/{total / 1024 / 1024:.2f}M" in copied.stderr
    # nothing to move: the fast check answers, and no bar is drawn
    noop = ocireg("copy", f"{ref}:1.0", dst, env=forced)
    assert noop.returncode == 0 and noop.stderr == ""
    plain = ocireg("copy", f"{ref}:1.0", f"{registry_no_delete.host}/{name}:1.1", env=home)
    assert plain.returncode == 0 and plain.stderr == ""


def test_a_terminal_gets_a_bar_without_asking(
    registry_open: Registry, home: dict[str, str], tmp_path: Path
) -> None:
    name = repo()
    digest = Pusher(registry_open).blob(name, os.urandom(2 * 1024 * 1024))
    out = tmp_path / "blob.bin"
    args = ["blob", "get", f"{registry_open.host}/{name}@{digest}", "-o", str(out)]
    primary, secondary = os.openpty()  # stderr is a terminal, stdout a pipe
    # 24 rows of 100 columns: a new pty has 0, which tqdm takes as no room for a bar
    fcntl.ioctl(secondary, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 100, 0, 0))
    try:
        proc = subprocess.run(
            [*OCIREG, *args],
            stdout=subprocess.PIPE,
            stderr=secondary,
            env=cli_env(home),
            timeout=60,
            check=False,
        )
        os.close(secondary)
        shown = b""
        with contextlib.suppress(OSError):  # EIO once the terminal has nothing more
            while chunk := os.read(primary, 65536):
                shown += chunk
    finally:
        os.close(primary)
    assert proc.returncode == 0, shown
    assert BAR.search(shown.decode()), shown
    assert proc.stdout.split() == [digest.encode(), str(2 * 1024 * 1024).encode()]
    quiet = ocireg(*args, "--quiet", env=home)
    assert quiet.returncode == 0 and quiet.stderr == ""


# -- TLS options -------------------------------------------------------------------------------


def test_insecure_talks_tls_without_verifying_and_never_http(
    registry_tls: Registry, home: dict[str, str]
) -> None:
    """``--insecure`` against a TLS registry whose CA we are not given: TLS, unverified, and
    not one request in plain http; without it, the unknown certificate is an error, not a
    fall back to http."""
    name = repo()
    Pusher(registry_tls).image(name, "1.0")

    ping = ocireg("ping", registry_tls.host, "--insecure", "--json", "-v", env=home)
    assert ping.returncode == 0, ping.stderr
    assert json.loads(ping.stdout)["url"].startswith("https://")
    assert f"https://{registry_tls.host}/v2/" in ping.stderr  # -v logs every request's URL
    assert "http://" not in ping.stderr
    tags = ocireg("tags", f"{registry_tls.host}/{name}", "--insecure", "-v", env=home)
    assert tags.stdout.split() == ["1.0"], tags.stderr
    assert "https://" in tags.stderr and "http://" not in tags.stderr

    refused = ocireg("tags", f"{registry_tls.host}/{name}", env=home)
    assert refused.returncode == 1
    assert "certificate is not trusted" in refused.stderr
    assert "--ca-cert PEM" in refused.stderr and "ca_cert" not in refused.stderr  # CLI terms
