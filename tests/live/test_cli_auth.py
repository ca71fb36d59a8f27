"""Every ``ocireg`` command that talks to a registry, against the real registry in open mode
and in token mode with the credentials given each way a user can: on the command line
(``-u``/``--password-stdin``), in a docker ``config.json`` ``auths`` entry, and kept by a
credential helper (``credHelpers`` -> the real ``docker-credential-pass``), which
``ocireg login`` fills and ``ocireg logout`` empties. No run may print a password.
"""

from __future__ import annotations

import base64
import json
import os
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.fixtures.cli import ocireg
from tests.fixtures.images import Pusher
from tests.fixtures.passstore import PassStore, make_pass_store
from tests.fixtures.registry import Registry

pytestmark = pytest.mark.live

CREATED = "2024-02-03T04:05:06Z"


@dataclass
class Cli:
    """``ocireg`` with one way of giving credentials: ``password`` goes on stdin with
    ``-u alice --password-stdin``; ``env`` is the HOME/DOCKER_CONFIG (and helper) setup."""

    registry: Registry
    env: dict[str, str]
    password: str | None = None
    runs: list[tuple[str, ...]] = field(default_factory=list)

    def __call__(self, *args: str, code: int = 0) -> Any:
        stdin, flags = None, ()
        if self.password is not None:
            stdin, flags = self.password + "\n", ("-u", "alice", "--password-stdin")
        out = ocireg(*args, *flags, stdin=stdin, env=self.env)
        self.runs.append(args)
        assert out.returncode == code, (args, out.stderr)
        for secret in self.registry.users.values():
            assert secret not in out.stdout + out.stderr, args
        return out


def drive_every_command(cli: Cli, tmp_path: Path) -> dict[str, Any]:
    """ping, catalog, tags (plain, --details), digest, manifest, inspect, config, referrers,
    blob put/head/get, copy, delete, prune and auth explain, each checked against what was
    pushed with plain requests. Returns what ``auth explain --json`` said."""
    host = cli.registry.host
    name = f"cliauth/{uuid.uuid4().hex[:10]}"
    pusher = Pusher(cli.registry)
    image = pusher.image(name, "1.0", created=CREATED, labels={"via": "cli"})
    pusher.tag(image, "1.1")
    ref = f"{host}/{name}"

    assert json.loads(cli("ping", host, "--json").stdout)["status"] == 200
    assert name in cli("catalog", host).stdout.split()
    assert cli("tags", ref).stdout.split() == ["1.0", "1.1"]
    rows = json.loads(cli("tags", ref, "--details", "--json").stdout)["tags"]
    assert [(r["tag"], r["digest"], r["created"]) for r in rows] == [
        ("1.0", image.digest, CREATED),
        ("1.1", image.digest, CREATED),
    ]
    assert cli("digest", f"{ref}:1.0").stdout.strip() == image.digest
    assert cli("manifest", f"{ref}:1.0", "--raw").stdout.encode() == image.raw
    inspected = json.loads(cli("inspect", f"{ref}:1.0", "--json").stdout)
    assert (inspected["digest"], inspected["config"]["labels"]) == (image.digest, {"via": "cli"})
    assert json.loads(cli("config", f"{ref}:1.1").stdout)["created"] == CREATED
    assert json.loads(cli("referrers", f"{ref}:1.0", "--json").stdout)["referrers"] == []

    data = os.urandom(200_000)
    (tmp_path / "up.bin").write_bytes(data)
    put = cli("blob", "put", ref, str(tmp_path / "up.bin"), "--json")
    digest = json.loads(put.stdout)["digest"]
    assert cli("blob", "head", f"{ref}@{digest}").stdout.split() == [digest, str(len(data))]
    cli("blob", "get", f"{ref}@{digest}", "-o", str(tmp_path / "down.bin"))
    assert (tmp_path / "down.bin").read_bytes() == data

    copied = json.loads(cli("copy", f"{ref}:1.0", f"{ref}-copy:1.0", "--json").stdout)
    assert copied["digest"] == image.digest
    assert copied["blobs_mounted"] == len(image.blobs)  # one registry: mounted, not streamed
    cli("delete", f"{ref}-copy:1.0")
    assert pusher.tags(f"{name}-copy") == []
    pruned = json.loads(cli("prune", ref, "--match", r"1\.1", "--json").stdout)
    assert [p["tag"] for p in pruned["deleted"]] == ["1.1"]
    assert pusher.tags(name) == ["1.0"]
    assert pusher.exists(name, image.digest)

    explained: dict[str, Any] = json.loads(cli("auth", "explain", host, "--json").stdout)
    return explained


@pytest.fixture
def home(tmp_path: Path) -> dict[str, str]:
    """An empty HOME and docker config, so no credentials leak in from the machine."""
    return {"HOME": str(tmp_path), "DOCKER_CONFIG": str(tmp_path / ".docker")}


@pytest.fixture(scope="module")
def pass_store(tmp_path_factory: pytest.TempPathFactory) -> Any:
    with make_pass_store(tmp_path_factory.mktemp("pass")) as store:
        yield store


def config_file(home: dict[str, str]) -> Path:
    return Path(home["DOCKER_CONFIG"]) / "config.json"


def write_config(home: dict[str, str], doc: dict[str, Any]) -> None:
    config_file(home).parent.mkdir(parents=True, exist_ok=True)
    config_file(home).write_text(json.dumps(doc))


def test_every_command_in_open_mode(
    registry_open: Registry, home: dict[str, str], tmp_path: Path
) -> None:
    info = drive_every_command(Cli(registry_open, home), tmp_path)
    assert info["provider"] is None and info["kind"] == "anonymous"


def test_every_command_in_token_mode_with_credentials_from_flags(
    registry_token: Registry, home: dict[str, str], tmp_path: Path
) -> None:
    cli = Cli(registry_token, home, password=registry_token.credentials("alice")[1])
    info = drive_every_command(cli, tmp_path)
    assert (info["provider"], info["username"]) == ("explicit", "alice")
    # without them the registry refuses
    assert Cli(registry_token, home)("tags", f"{registry_token.host}/cliauth/x", code=4)


def test_every_command_in_token_mode_with_credentials_from_docker_config(
    registry_token: Registry, home: dict[str, str], tmp_path: Path
) -> None:
    host, (user, password) = registry_token.host, registry_token.credentials("alice")
    auth = base64.b64encode(f"{user}:{password}".encode()).decode()
    write_config(home, {"auths": {host: {"auth": auth}}})
    cli = Cli(registry_token, home)

    info = drive_every_command(cli, tmp_path)
    assert (info["provider"], info["username"]) == ("docker-config", "alice")
    assert info["source"].startswith(f"{config_file(home)} auths[")

    cli("logout", host)
    assert host not in json.loads(config_file(home).read_text()).get("auths", {})
    cli("tags", f"{host}/cliauth/x", code=4)


def test_login_into_a_credential_helper_then_every_command_then_logout(
    registry_token: Registry, home: dict[str, str], tmp_path: Path, pass_store: PassStore
) -> None:
    host, (user, password) = registry_token.host, registry_token.credentials("alice")
    write_config(home, {"credHelpers": {host: "pass"}})
    cli = Cli(registry_token, {**home, **pass_store.env})
    try:
        wrong = ocireg(
            *("login", host, "-u", user, "--password-stdin"),
            stdin="not-the-password\n",
            env=cli.env,
        )
        assert wrong.returncode == 4, wrong.stderr
        assert host not in pass_store.list()  # nothing stored for a refused login

        login = ocireg(
            *("login", host, "-u", user, "--password-stdin"), stdin=password + "\n", env=cli.env
        )
        assert login.returncode == 0, login.stderr
        assert "docker-credential-pass" in login.stderr
        assert pass_store.list()[host] == user
        assert pass_store.get(host)["Secret"] == password
        assert password not in config_file(home).read_text()  # the helper keeps it, not the file

        info = drive_every_command(cli, tmp_path)
        assert (info["provider"], info["username"]) == ("docker-config", user)
        helper = f"credHelpers[{host}] -> docker-credential-pass"
        assert info["source"] == f"{config_file(home)} {helper}"

        logout = cli("logout", host)
        assert f"Removed credentials for {host}" in logout.stderr
        assert host not in pass_store.list()
        cli("tags", f"{host}/cliauth/x", code=4)
    finally:
        pass_store.erase(host)


# -- copy between registries: credentials for each, never one for both ---------------------------


def test_copy_with_src_creds_sends_them_to_the_source_only(
    registry_basic: Registry, registry_open: Registry, home: dict[str, str]
) -> None:
    user, password = registry_basic.credentials("alice")
    name = f"cliauth/{uuid.uuid4().hex[:10]}"
    image = Pusher(registry_basic).image(name, "1.0")
    src, dst = f"{registry_basic.host}/{name}:1.0", f"{registry_open.host}/{name}:1.0"

    # -u/-p name no registry: between two registries they are refused before any request
    mixed = ocireg("copy", src, dst, "-u", user, "--password-stdin", stdin=password, env=home)
    assert mixed.returncode == 2, mixed.stderr
    assert "--src-creds" in mixed.stderr
    assert password not in mixed.stderr

    done = ocireg("copy", src, dst, "--src-creds", f"{user}:{password}", "--json", env=home)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["digest"] == image.digest
    assert Pusher(registry_open).tags(name) == ["1.0"]
    assert password not in done.stdout + done.stderr
