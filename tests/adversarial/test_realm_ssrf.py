"""Attack 6: a registry names a token realm on this machine, a metadata service or the
private network. Decided on the URL (every IPv4 spelling, IPv4-mapped IPv6) and, for names,
on the answers of an injected fake resolver: nothing here resolves or connects."""

from __future__ import annotations

import socket
from typing import Any

import pytest

from ocireg import AuthenticationError, Challenge
from ocireg.auth.realm import check_realm, check_realm_addresses, parse_ip
from ocireg.auth.token import Token, TokenCache
from ocireg.transport import RegistryState, Transport

PUBLIC = "https://registry.example"


@pytest.mark.parametrize(
    ("host", "address"),
    [
        ("127.1", "127.0.0.1"),
        ("2130706433", "127.0.0.1"),
        ("0x7f000001", "127.0.0.1"),
        ("0x7f.1", "127.0.0.1"),
        ("0177.0.0.1", "127.0.0.1"),
        ("017700000001", "127.0.0.1"),
        ("[::ffff:127.0.0.1]", "127.0.0.1"),
        ("::ffff:7f00:1", "127.0.0.1"),
        ("169.254.169.254.", "169.254.169.254"),
        ("0xa9.0xfe.0xa9.0xfe", "169.254.169.254"),
        ("fe80::1%eth0", "fe80::1"),
        ("registry.example", None),
        ("1.2.3.4.5", None),
        ("256.1.1.1", None),
    ],
)
def test_parse_ip_reads_every_form(host: str, address: str | None) -> None:
    ip = parse_ip(host)
    assert (str(ip) if ip is not None else None) == address


@pytest.mark.parametrize(
    "realm",
    [
        "https://127.0.0.1/token",
        "https://127.1/token",
        "https://[::ffff:127.0.0.1]/token",
        "https://2130706433/token",
        "https://0x7f000001/token",
        "https://0177.0.0.1/token",
        "https://[::1]/token",
        "https://0.0.0.0/token",
        "https://localhost/token",
        "https://localhost./token",
        "https://10.0.0.8/token",
        "https://192.168.1.1/token",
        "https://172.16.0.1/token",
        "https://100.64.0.1/token",
        "https://[fc00::1]/token",
        "https://169.254.169.254/latest/meta-data",
        "https://[fe80::1]/token",
        "https://[::ffff:169.254.169.254]/token",
    ],
)
def test_loopback_private_and_link_local_realms_refused_for_a_public_registry(
    realm: str,
) -> None:
    with pytest.raises(AuthenticationError) as info:
        check_realm(realm, PUBLIC)
    assert "refusing" in str(info.value)


@pytest.mark.parametrize(
    ("realm", "registry", "allowed"),
    [
        ("https://169.254.169.254/t", "http://169.254.10.10:5000", False),
        ("http://169.254.169.254/t", "http://127.0.0.1:5000", False),
        ("http://127.0.0.1:5001/t", "http://127.0.0.1:5000", True),
        ("http://10.0.0.2/t", "http://127.0.0.1:5000", True),
        ("https://10.0.0.2/t", "https://10.0.0.1", True),
        ("https://127.0.0.1/t", "https://10.0.0.1", False),
        ("https://8.8.8.8/t", PUBLIC, True),
    ],
)
def test_realm_rules_by_where_the_registry_is(realm: str, registry: str, allowed: bool) -> None:
    if allowed:
        check_realm(realm, registry)
    else:
        with pytest.raises(AuthenticationError):
            check_realm(realm, registry)


def test_allow_private_realms_still_refuses_link_local() -> None:
    check_realm("https://10.1.2.3/t", PUBLIC, allow_private=True)
    check_realm("https://127.0.0.1/t", PUBLIC, allow_private=True)
    with pytest.raises(AuthenticationError):
        check_realm("https://169.254.169.254/t", PUBLIC, allow_private=True)


def fake_resolver(table: dict[str, list[str]]) -> Any:
    asked: list[str] = []

    def resolve(host: str, port: int, *args: Any, **kwargs: Any) -> list[tuple[Any, ...]]:
        asked.append(host)
        if host not in table:
            raise socket.gaierror(socket.EAI_NONAME, "unknown")
        return [
            (socket.AF_INET6 if ":" in a else socket.AF_INET, socket.SOCK_STREAM, 6, "", (a, port))
            for a in table[host]
        ]

    resolve.asked = asked  # type: ignore[attr-defined]
    return resolve


@pytest.mark.parametrize(
    ("answers", "allowed"),
    [
        (["93.184.216.34"], True),
        (["169.254.169.254"], False),
        (["127.0.0.1"], False),
        (["10.0.0.5"], False),
        (["93.184.216.34", "10.0.0.5"], False),
        (["::ffff:127.0.0.1"], False),
        (["fe80::1"], False),
    ],
    ids=["public", "metadata", "loopback", "private", "mixed", "mapped", "v6-link-local"],
)
def test_realm_names_decided_on_the_resolvers_answers(answers: list[str], allowed: bool) -> None:
    resolver = fake_resolver({"auth.example": answers, "registry.example": ["93.184.216.1"]})
    realm = "https://auth.example/token"
    if allowed:
        check_realm_addresses(realm, PUBLIC, resolver=resolver)
    else:
        with pytest.raises(AuthenticationError) as info:
            check_realm_addresses(realm, PUBLIC, resolver=resolver)
        assert "resolves to" in str(info.value)


def test_a_private_registry_may_use_a_private_realm_name() -> None:
    resolver = fake_resolver({"auth.corp": ["10.0.0.6"], "registry.corp": ["10.0.0.5"]})
    check_realm_addresses("https://auth.corp/t", "https://registry.corp", resolver=resolver)
    assert resolver.asked == ["auth.corp", "registry.corp"]
    resolver = fake_resolver({"auth.corp": ["169.254.169.254"], "registry.corp": ["10.0.0.5"]})
    with pytest.raises(AuthenticationError):
        check_realm_addresses("https://auth.corp/t", "https://registry.corp", resolver=resolver)


def test_the_transport_asks_its_resolver_before_fetching_a_token() -> None:
    """End to end through the Authorizer, with a fake fetcher: no socket is opened."""
    resolver = fake_resolver({"auth.example": ["169.254.169.254"]})
    transport = Transport(
        credentials_for=lambda r, p: None, token_cache=TokenCache(), resolver=resolver
    )
    challenge = Challenge("bearer", {"realm": "https://auth.example/token", "service": "s"})
    transport._states["registry.example"] = RegistryState(PUBLIC, challenge, pinged=True)
    fetched: list[Any] = []
    transport.authorizer._fetch = lambda *a: fetched.append(a) or Token("t", 1e12)  # type: ignore[method-assign,assignment]
    with pytest.raises(AuthenticationError):
        transport.authorizer.authorize("registry.example", "app", challenge, PUBLIC, (), {})
    assert fetched == [] and resolver.asked == ["auth.example"]
    # Allowed private realms: link-local still refused; a private one is fine.
    transport.authorizer.allow_private_realms = True
    transport.authorizer.resolver = fake_resolver({"auth.example": ["10.9.9.9"]})
    headers: dict[str, str] = {}
    transport.authorizer.authorize("registry.example", "app", challenge, PUBLIC, (), headers)
    assert headers == {"Authorization": "Bearer t"} and len(fetched) == 1
