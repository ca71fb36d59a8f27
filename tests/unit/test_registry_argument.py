"""A registry argument is ``host[:port]`` and nothing more: ``reference.check_registry`` and
every ``ocireg`` command that takes a registry (ping, catalog, login, logout, auth explain)
refuse a path, a query, a fragment, user information or a scheme with a usage error, before
any request."""

from __future__ import annotations

import pytest

from ocireg import cli
from ocireg.errors import InvalidReferenceError
from ocireg.reference import check_registry


@pytest.mark.parametrize(
    ("text", "host"),
    [
        ("quay.io", "quay.io"),
        ("quay.io/", "quay.io"),
        ("127.0.0.1:5000", "127.0.0.1:5000"),
        ("[::1]:5000", "[::1]:5000"),
        ("localhost", "localhost"),
        ("myregistry", "myregistry"),  # a single-label host, not a Docker Hub namespace
        ("Registry.Example", "Registry.Example"),
        ("index.docker.io", "docker.io"),
        ("docker.io", "docker.io"),
    ],
)
def test_check_registry_accepts_hosts(text: str, host: str) -> None:
    assert check_registry(text) == host


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("host/../x", "without a path"),
        ("host/v2", "without a path"),
        ("quay.io//", "without a path"),
        ("user@host", "user information"),
        ("user:pw@host:5000", "user information"),
        ("host?x", "no query"),
        ("host#frag", "fragment"),
        ("https://quay.io", "without a scheme"),
        ("http://127.0.0.1:5000", "without a scheme"),
        ("", "nothing was given"),
        ("a_b.io", "'_' is not allowed"),
        ("host:port", "invalid domain"),
        ("ho st", "invalid domain"),
        ("host\x1b]52;c;eA==\x07", "invalid domain"),
    ],
    ids=lambda v: v.encode("unicode_escape").decode() if isinstance(v, str) else v,
)
def test_check_registry_refuses_anything_more_than_a_host(text: str, reason: str) -> None:
    with pytest.raises(InvalidReferenceError) as err:
        check_registry(text)
    assert reason in err.value.reason
    assert err.value.text == text


@pytest.mark.parametrize(
    "argv",
    [
        ["ping", "host/../x"],
        ["catalog", "user@host"],
        ["login", "host?x", "-u", "alice", "-p", "pw"],
        ["logout", "host#x"],
        ["auth", "explain", "https://host"],
    ],
    ids=["ping", "catalog", "login", "logout", "auth-explain"],
)
def test_every_registry_argument_is_checked(
    argv: list[str],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import ocireg.client

    def no_client(*args: object, **kwargs: object) -> None:
        raise AssertionError("no client may be made for a bad registry argument")

    monkeypatch.setattr(ocireg.client, "Client", no_client)
    assert cli.main(argv) == cli.EXIT_USAGE
    err = capsys.readouterr().err
    assert err.startswith(f"ocireg: registry {argv[-1] if argv[0] != 'login' else argv[1]!r}: ")
    assert len(err.splitlines()) == 1
