"""What ``ocireg login``/``logout`` write, through the SDK's ``docker_config.store_login`` and
``erase_login``: docker's keys, every other key of the file kept, mode 0600, and the
credential helper the file names for the host used instead of the file."""

from __future__ import annotations

import base64
import json
import stat
from pathlib import Path

import pytest

from ocireg.builtin import credential_helpers
from ocireg.builtin.docker_config import HUB_KEY, erase_login, store_login


def _read(path: Path) -> dict[str, object]:
    data: dict[str, object] = json.loads(path.read_text())
    return data


@pytest.mark.parametrize(
    ("registry", "key"),
    [("127.0.0.1:5000", "127.0.0.1:5000"), ("index.docker.io", HUB_KEY), ("docker.io", HUB_KEY)],
    ids=["host", "hub-alias", "hub"],
)
def test_store_login_writes_auths_and_keeps_the_rest(
    tmp_path: Path, registry: str, key: str
) -> None:
    config = tmp_path / "config.json"
    config.write_text(json.dumps({"proxies": {"default": {}}, "auths": {"other:1": {"auth": "x"}}}))
    where = store_login(registry, "alice", "s3cret", config_dir=tmp_path)
    assert where == str(config)
    doc = _read(config)
    assert doc["proxies"] == {"default": {}}
    assert doc["auths"] == {
        "other:1": {"auth": "x"},
        key: {"auth": base64.b64encode(b"alice:s3cret").decode()},
    }
    assert stat.S_IMODE(config.stat().st_mode) == 0o600


def test_store_login_creates_the_directory(tmp_path: Path) -> None:
    where = store_login("127.0.0.1:5000", "alice", "pw", config_dir=tmp_path / "new")
    assert Path(where) == tmp_path / "new" / "config.json"
    assert list(_read(Path(where))["auths"]) == ["127.0.0.1:5000"]  # type: ignore[arg-type]


def test_erase_login_removes_every_entry_of_the_host(tmp_path: Path) -> None:
    config = tmp_path / "config.json"
    auths = {"r.example": {"auth": "a"}, "https://r.example/v1/": {"auth": "b"}, "s:1": {}}
    config.write_text(json.dumps({"auths": auths, "experimental": "enabled"}))
    assert erase_login("r.example", config_dir=tmp_path) is True
    assert _read(config) == {"auths": {"s:1": {}}, "experimental": "enabled"}
    assert erase_login("r.example", config_dir=tmp_path) is False  # nothing left
    assert erase_login("r.example", config_dir=tmp_path / "none") is False  # no file


@pytest.mark.parametrize(
    "doc",
    [{"credHelpers": {"r.example": "rec"}}, {"credsStore": "rec"}],
    ids=["credHelpers", "credsStore"],
)
def test_a_helper_named_by_the_config_gets_the_secret(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, doc: dict[str, object]
) -> None:
    calls: list[tuple[str, ...]] = []
    monkeypatch.setattr(credential_helpers, "store", lambda *a: calls.append(("store", *a)))
    monkeypatch.setattr(credential_helpers, "erase", lambda *a: calls.append(("erase", *a)))
    config = tmp_path / "config.json"
    config.write_text(json.dumps(doc))
    assert store_login("r.example", "alice", "pw", config_dir=tmp_path) == "docker-credential-rec"
    assert erase_login("r.example", config_dir=tmp_path) is True
    assert calls == [("store", "rec", "r.example", "alice", "pw"), ("erase", "rec", "r.example")]
    assert _read(config) == doc  # the file itself is not touched
