"""What ``ocireg login``/``logout`` write, through the SDK's ``docker_config.store_login`` and
``erase_login``: docker's keys, every other key of the file kept, mode 0600, and the
credential helper the file names for the host used instead of the file."""

from __future__ import annotations

import base64
import json
import stat
from pathlib import Path
from typing import Any

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


# -- concurrency, symlinks, modes ---------------------------------------------------------------


def _login_in_a_process(config_dir: str, index: int) -> None:
    store_login(f"r{index}.example:5000", f"user{index}", f"pw{index}", config_dir=config_dir)


def test_concurrent_logins_in_many_processes_keep_every_entry(tmp_path: Path) -> None:
    """Twelve processes log in to twelve registries at once: the read-modify-write of
    config.json is locked, so none of them writes over another's entry."""
    import multiprocessing

    ctx = multiprocessing.get_context("fork")
    for _round in range(3):  # an unlocked version loses entries in nearly every round
        config_dir = tmp_path / f"round{_round}"
        procs = [
            ctx.Process(target=_login_in_a_process, args=(str(config_dir), i)) for i in range(12)
        ]
        for proc in procs:
            proc.start()
        for proc in procs:
            proc.join(timeout=60)
            assert proc.exitcode == 0
        auths = _read(config_dir / "config.json")["auths"]
        assert isinstance(auths, dict)
        assert sorted(auths) == sorted(f"r{i}.example:5000" for i in range(12))
        assert auths["r7.example:5000"] == {"auth": base64.b64encode(b"user7:pw7").decode()}


def test_a_symlinked_config_is_updated_where_it_points(tmp_path: Path) -> None:
    dotfiles = tmp_path / "dotfiles"
    dotfiles.mkdir()
    real = dotfiles / "docker-config.json"
    real.write_text(json.dumps({"auths": {"old:1": {"auth": "x"}}, "detachKeys": "ctrl-q"}))
    config_dir = tmp_path / ".docker"
    config_dir.mkdir()
    link = config_dir / "config.json"
    link.symlink_to(real)

    store_login("r.example", "alice", "pw", config_dir=config_dir)
    assert link.is_symlink() and link.resolve() == real  # still the link
    doc = _read(real)
    assert doc["detachKeys"] == "ctrl-q"
    assert sorted(doc["auths"]) == ["old:1", "r.example"]  # type: ignore[arg-type]
    assert stat.S_IMODE(real.stat().st_mode) == 0o600

    assert erase_login("r.example", config_dir=config_dir) is True
    assert link.is_symlink()
    assert sorted(_read(real)["auths"]) == ["old:1"]  # type: ignore[arg-type]
    # the temporary file went beside the target, and nothing was left in either directory
    assert sorted(p.name for p in config_dir.iterdir()) == ["config.json"]
    assert sorted(p.name for p in dotfiles.iterdir()) == [
        "docker-config.json",
        "docker-config.json.lock",
    ]


def test_a_dangling_config_link_creates_its_target(tmp_path: Path) -> None:
    target = tmp_path / "elsewhere" / "config.json"
    (tmp_path / ".docker").mkdir()
    (tmp_path / ".docker" / "config.json").symlink_to(target)
    store_login("r.example", "alice", "pw", config_dir=tmp_path / ".docker")
    assert (tmp_path / ".docker" / "config.json").is_symlink()
    assert list(_read(target)["auths"]) == ["r.example"]  # type: ignore[arg-type]
    assert stat.S_IMODE(target.parent.stat().st_mode) == 0o700


def test_a_new_config_directory_is_private(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    old = os.umask(0o022)
    try:
        store_login("r.example", "alice", "pw", config_dir=tmp_path / "home" / ".docker")
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "home" / ".docker").stat().st_mode) == 0o700
    config = tmp_path / "home" / ".docker" / "config.json"
    assert stat.S_IMODE(config.stat().st_mode) == 0o600
    # an existing directory keeps its mode: it is the user's
    shared = tmp_path / "shared"
    shared.mkdir(mode=0o755)
    shared.chmod(0o755)
    store_login("r.example", "alice", "pw", config_dir=shared)
    assert stat.S_IMODE(shared.stat().st_mode) == 0o755
    assert stat.S_IMODE((shared / "config.json").stat().st_mode) == 0o600


def test_logout_without_a_config_creates_nothing(tmp_path: Path) -> None:
    assert erase_login("r.example", config_dir=tmp_path / "none") is False
    assert not (tmp_path / "none").exists()


@pytest.mark.parametrize("bad", ["r.example/v2", "user@r.example", "r.example?x", "https://r.x"])
def test_store_login_refuses_what_is_not_a_registry(tmp_path: Path, bad: str) -> None:
    from ocireg.errors import InvalidReferenceError

    with pytest.raises(InvalidReferenceError):
        store_login(bad, "alice", "pw", config_dir=tmp_path)
    assert list(tmp_path.iterdir()) == []


# -- the CLI: no warning for a password that came from stdin --------------------------------------


@pytest.fixture
def open_registry() -> Any:
    from pytest_httpserver import HTTPServer

    server = HTTPServer(host="127.0.0.1")
    server.expect_request("/v2/").respond_with_json({})
    server.start()
    yield server
    server.clear()
    server.stop()


@pytest.mark.parametrize(
    ("how", "warned"), [("stdin", False), ("argv", True)], ids=["password-stdin", "dash-p"]
)
def test_login_warns_only_about_a_password_on_the_command_line(
    open_registry: Any,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    how: str,
    warned: bool,
) -> None:
    import io

    from ocireg import cli

    host = f"127.0.0.1:{open_registry.port}"
    flags = ["--password-stdin"] if how == "stdin" else ["-p", "s3cret"]
    monkeypatch.setattr("sys.stdin", io.StringIO("s3cret\n"))
    monkeypatch.setattr(cli, "_setup_logging", lambda verbose: None)
    code = cli.main(
        ["login", host, "-u", "alice", *flags, "--plain-http", "--config", str(tmp_path)]
    )
    err = capsys.readouterr().err
    assert code == 0, err
    assert ("visible to other users" in err) is warned
    assert err.count("warning") == int(warned)  # once at most
    auth = _read(tmp_path / "config.json")["auths"][host]  # type: ignore[index]
    assert auth == {"auth": base64.b64encode(b"alice:s3cret").decode()}


def test_password_from_both_places_is_a_usage_error(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    import io

    from ocireg import cli

    monkeypatch.setattr("sys.stdin", io.StringIO("s3cret\n"))
    code = cli.main(
        ["login", "r.example", "-u", "a", "-p", "x", "--password-stdin", "--config", str(tmp_path)]
    )
    assert code == cli.EXIT_USAGE
    assert "not both" in capsys.readouterr().err
