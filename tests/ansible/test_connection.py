"""Credentials, secrets, error reporting and the missing-SDK message, through real playbooks."""

from __future__ import annotations

import base64
import json
import secrets
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.ansible.conftest import PlaybookRunner, task
from tests.fixtures.images import Pusher
from tests.fixtures.registry import Registry

pytestmark = pytest.mark.live


def _docker_config(directory: Path, host: str, user: str, password: str) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    auth = base64.b64encode(f"{user}:{password}".encode()).decode()
    path = directory / "config.json"
    path.write_text(json.dumps({"auths": {host: {"auth": auth}}}))
    return path


def test_credentials_from_docker_config(
    registry_token: Registry, playbook: PlaybookRunner, tmp_path: Path
) -> None:
    """No password in the playbook: DOCKER_CONFIG's config.json, or config_path (a file or
    a directory), supplies it; an empty config means anonymous, which the registry refuses."""
    registry = registry_token
    Pusher(registry).image("cred/app", "1.0")
    user, password = registry.credentials("alice")
    env_dir = tmp_path / "from-env"
    _docker_config(env_dir, registry.host, user, password)
    option_file = _docker_config(tmp_path / "from-option", registry.host, user, password)
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "config.json").write_text("{}")
    name = f"{registry.host}/cred/app"
    run = playbook(
        [
            task("registry_tag_info", "from_env", repository=name),
            task("registry_tag_info", "from_file", repository=name, config_path=str(option_file)),
            task("registry_manifest_info", "from_dir", reference=f"{name}:1.0",
                 config_path=str(option_file.parent)),
            task("registry_tag_info", "anonymous", repository=name, config_path=str(empty),
                 ignore_errors=True),
            task("registry_tag_info", "missing", repository=name,
                 config_path=str(tmp_path / "nowhere" / "config.json"), ignore_errors=True),
            task("registry_tag_info", "no_json", repository=name,
                 config_path=str(tmp_path / "nowhere"), ignore_errors=True),
        ],
        save=["from_env", "from_file", "from_dir", "anonymous", "missing", "no_json"],
        env={"DOCKER_CONFIG": str(env_dir)},
    )  # fmt: skip
    assert run["from_env"]["tags"] == ["1.0"]
    assert run["from_file"]["tags"] == ["1.0"]
    assert run["from_dir"]["exists"] is True
    anonymous = run["anonymous"]
    assert anonymous["failed"] is True
    assert anonymous["error_type"] in ("AuthenticationError", "DeniedError"), anonymous
    assert "cred/app" in anonymous["msg"] and "Traceback" not in anonymous["msg"]
    # a 401 says which credential source answered: here none did
    assert anonymous["http_status"] == 401
    assert "No credential source had credentials for " + registry.host in anonymous["msg"]
    assert anonymous["credential_source"]["provider"] is None
    assert "docker-config" in anonymous["credential_source"]["asked"]
    assert "exists" not in anonymous and "tags" not in anonymous  # no leftover result keys
    # a config_path that is not there fails instead of going on without credentials
    missing = run["missing"]
    assert missing["failed"] is True and missing["error_type"] == "InvalidOptionError"
    assert "does not exist" in missing["msg"] and "nowhere" in missing["msg"]
    assert run["no_json"]["failed"] is True and "does not exist" in run["no_json"]["msg"]


def test_password_never_appears_in_output(
    registry_token: Registry, playbook: PlaybookRunner
) -> None:
    """At -vvv, with the password (and a wrong one, and a token) given as module options,
    no secret is in the output or in the registered results; registry errors carry the
    registry's error code."""
    registry = registry_token
    pusher = Pusher(registry)
    pusher.image("secret/app", "1.0")
    pusher.image("secret/app", "2.0")
    user, password = registry.credentials("alice")
    puller, puller_password = registry.credentials("puller")
    wrong = f"wrong-{secrets.token_hex(12)}"
    token = f"token-{secrets.token_hex(12)}"
    name = f"{registry.host}/secret/app"
    alice = {"username": user, "password": password}
    run = playbook(
        [
            task("registry_tag_info", "info", repository=name, details=True, **alice),
            task("registry_manifest_info", "manifest", reference=f"{name}:1.0", **alice),
            task("registry_tag_delete", "delete", repository=name, tags=["2.0"], diff=True,
                 **alice),
            task("registry_tag_info", "wrong", repository=name, username=user, password=wrong,
                 ignore_errors=True),
            task("registry_tag_info", "bad_token", repository=name, token=token,
                 ignore_errors=True),
            task("registry_tag_delete", "denied", repository=name, tags=["1.0"],
                 username=puller, password=puller_password, ignore_errors=True),
        ],
        save=["info", "manifest", "delete", "wrong", "bad_token", "denied"],
        verbosity=3,
    )  # fmt: skip
    assert run["info"]["tags"] == ["1.0", "2.0"]
    assert run["manifest"]["exists"] is True
    assert run["delete"]["deleted"] == ["2.0"]
    assert run["wrong"]["failed"] is True
    assert run["wrong"]["error_type"] == "AuthenticationError"
    assert run["wrong"]["http_status"] == 401  # the token server's refusal
    assert run["wrong"]["error_code"] == "UNAUTHORIZED"
    assert "came from the username and password options (provider explicit)" in run["wrong"]["msg"]
    assert run["wrong"]["credential_source"]["username"] == user
    assert run["bad_token"]["failed"] is True
    denied = run["denied"]
    assert denied["failed"] is True
    # the registry's code when its body had one (the SDK may answer a bare 401 without)
    assert denied["error_code"] in ("DENIED", "UNAUTHORIZED", None), denied["msg"]
    assert denied["http_status"] in (401, 403)
    assert pusher.tags("secret/app") == ["1.0"]

    saved = json.dumps(run.results)
    for secret in (password, wrong, token, puller_password):
        assert secret not in run.output
        assert secret not in saved
    assert "<localhost> EXEC" in run.output  # -vvv really was verbose
    assert "VALUE_SPECIFIED_IN_NO_LOG_PARAMETER" in run.output  # the censored invocation


def test_errors_are_reported_cleanly(registry_open: Registry, playbook: PlaybookRunner) -> None:
    registry = registry_open
    pusher = Pusher(registry)
    index = pusher.index("errors/app", "multi")
    name = f"{registry.host}/errors/app"
    run = playbook(
        [
            task("registry_tag_info", "plain", repository=name, plain_http=True),
            task("registry_tag_info", "missing_repo", repository=f"{registry.host}/errors/none"),
            task("registry_manifest_info", "platform", reference=f"{name}:multi",
                 platform="linux/s390x", ignore_errors=True),
            task("registry_manifest_info", "index", reference=f"{name}@{index.digest}"),
            task("registry_tag_info", "regex", repository=name, patterns=["("],
                 ignore_errors=True),
            task("registry_manifest_info", "no_tag", reference=name, ignore_errors=True),
            task("registry_tag_delete", "tag_in_repo", repository=f"{name}:multi",
                 tags=["multi"], ignore_errors=True),
            task("registry_tag_delete", "both", repository=name, tags=["multi"],
                 patterns=["m.*"], ignore_errors=True),
            task("registry_tag_delete", "age", repository=name, older_than="soon",
                 ignore_errors=True),
        ],
        save=["plain", "missing_repo", "platform", "index", "regex", "no_tag", "tag_in_repo",
              "both", "age"],
    )  # fmt: skip
    r: dict[str, Any] = run.results
    assert r["plain"]["tags"] == ["multi"]
    assert r["missing_repo"] == {**r["missing_repo"], "exists": False, "tags": []}
    assert r["platform"]["failed"] is True
    assert "available: linux/amd64, linux/arm64/v8" in r["platform"]["msg"]
    assert r["index"]["platforms"][1]["platform"] == "linux/arm64/v8"
    assert r["index"]["platforms"][1]["digest"] == index.children[1].digest
    assert r["index"]["config"] is None and r["index"]["layers"] == []
    assert r["index"]["attestations"] == []  # none in this index (see tests/live/test_summary.py)
    assert "regular expression" in r["regex"]["msg"]
    # no tag means latest, as docker and community.docker read it
    assert r["no_tag"]["reference"] == name + ":latest" and r["no_tag"]["exists"] is False
    assert r["regex"]["error_type"] == "InvalidSelectionError"
    assert "exists" not in r["regex"] and "tags" not in r["regex"]
    assert r["tag_in_repo"]["error_type"] == "InvalidReferenceError"
    assert r["age"]["error_type"] == "InvalidSelectionError"
    for key in ("platform", "regex", "tag_in_repo", "age"):
        assert r[key]["error_type"] != "ValueError", key
    assert "without tag or digest" in r["tag_in_repo"]["msg"]
    assert "mutually exclusive" in r["both"]["msg"]
    assert "invalid age" in r["age"]["msg"]
    for key in ("platform", "regex", "tag_in_repo", "both", "age"):
        assert r[key]["failed"] is True, key
        assert "Traceback" not in r[key]["msg"], key
    assert pusher.tags("errors/app") == ["multi"]


def test_missing_sdk_gives_the_standard_message(
    registry_open: Registry, playbook: PlaybookRunner, tmp_path: Path
) -> None:
    """A target Python without ocireg: a bare venv (no pip, no SDK)."""
    bare = tmp_path / "bare-venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(bare)], check=True)
    python = bare / "bin" / "python"
    probe = subprocess.run([str(python), "-c", "import ocireg"], capture_output=True, check=False)
    assert probe.returncode != 0, "the bare venv must not see the SDK"
    run = playbook(
        [task("registry_tag_info", "info", repository=f"{registry_open.host}/x/y",
              ignore_errors=True)],
        save=["info"],
        interpreter=str(python),
    )  # fmt: skip
    info = run["info"]
    assert info["failed"] is True
    assert "Failed to import the required Python library (ocireg)" in info["msg"]
    assert str(python) in info["msg"]


def test_tls_options(registry_tls: Registry, playbook: PlaybookRunner) -> None:
    """ca_path trusts the registry's CA; without it the certificate is refused, unless
    validate_certs is false."""
    registry = registry_tls
    assert registry.ca_cert is not None
    Pusher(registry).image("tls/app", "1.0")
    name = f"{registry.host}/tls/app"
    run = playbook(
        [
            task("registry_tag_info", "with_ca", repository=name, ca_path=str(registry.ca_cert)),
            task("registry_tag_info", "untrusted", repository=name, ignore_errors=True),
            task("registry_tag_info", "unverified", repository=name, validate_certs=False),
        ],
        save=["with_ca", "untrusted", "unverified"],
    )
    assert run["with_ca"]["tags"] == ["1.0"]
    assert run["untrusted"]["failed"] is True
    assert run["untrusted"]["error_type"] == "TransportError"
    untrusted = run["untrusted"]["msg"]
    assert "certificate" in untrusted.lower()
    # in the module's terms, with the URL tried
    assert "ca_path" in untrusted and "validate_certs=false" in untrusted, untrusted
    assert "ca_cert" not in untrusted and "insecure" not in untrusted, untrusted
    assert f"https://{registry.host}/v2/" in untrusted
    assert run["unverified"]["tags"] == ["1.0"]
