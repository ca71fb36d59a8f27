from __future__ import annotations

import pytest

from ocireg import Challenge, parse_challenges

CASES = [
    (
        'Bearer realm="https://auth.docker.io/token",service="registry.docker.io",'
        'scope="repository:library/alpine:pull,push"',
        [
            Challenge(
                "bearer",
                {
                    "realm": "https://auth.docker.io/token",
                    "service": "registry.docker.io",
                    "scope": "repository:library/alpine:pull,push",
                },
            )
        ],
    ),
    ('Basic realm="Registry Realm"', [Challenge("basic", {"realm": "Registry Realm"})]),
    (
        'Basic realm="a", Bearer realm="https://t/token", error="insufficient_scope"',
        [
            Challenge("basic", {"realm": "a"}),
            Challenge("bearer", {"realm": "https://t/token", "error": "insufficient_scope"}),
        ],
    ),
    ('BEARER REALM="x" , Service=reg', [Challenge("bearer", {"realm": "x", "service": "reg"})]),
    (
        r'Basic realm="say \"hi\", then \\ go"',
        [Challenge("basic", {"realm": 'say "hi", then \\ go'})],
    ),
    ("Negotiate YIIB3wYGKwYBBQUCoIIB==", [Challenge("negotiate", {}, "YIIB3wYGKwYBBQUCoIIB==")]),
    (
        "Negotiate abc=, Basic realm=x",
        [Challenge("negotiate", {}, "abc="), Challenge("basic", {"realm": "x"})],
    ),
    (
        'Bearer realm="https://nvcr.io/proxy_auth"',
        [Challenge("bearer", {"realm": "https://nvcr.io/proxy_auth"})],
    ),
    ("Basic", [Challenge("basic", {})]),
    ("Bearer, Basic realm=y", [Challenge("bearer", {}), Challenge("basic", {"realm": "y"})]),
    ("", []),
    (None, []),
    # A quoted value never closed is dropped (docker's parser does), not used truncated.
    ('Bearer realm="unterminated', [Challenge("bearer", {})]),
    (
        'Bearer service="s",realm="https://a/token',
        [Challenge("bearer", {"service": "s"})],
    ),
    (
        'Bearer realm = "spaced" ,scope="a:b:c"',
        [Challenge("bearer", {"realm": "spaced", "scope": "a:b:c"})],
    ),
]


@pytest.mark.parametrize(
    ("header", "expected"),
    CASES,
    ids=[
        "docker-hub",
        "basic",
        "two-challenges-comma-in-quoted",
        "case-insensitive",
        "escaped-quotes",
        "token68",
        "token68-then-params",
        "no-service-no-scope",
        "bare-scheme",
        "bare-scheme-then-another",
        "empty",
        "none",
        "unterminated-quote",
        "unterminated-realm-after-service",
        "spaces-around-equals",
    ],
)
def test_parse_challenges(header: str | None, expected: list[Challenge]) -> None:
    assert parse_challenges(header) == expected


def test_missing_parameters_read_as_none() -> None:
    (challenge,) = parse_challenges('Bearer realm="https://gcr.io/v2/token"')
    assert challenge.service is None
    assert challenge.scope is None
    assert challenge.realm == "https://gcr.io/v2/token"


def test_first_occurrence_of_a_repeated_parameter_wins() -> None:
    (challenge,) = parse_challenges('Bearer realm="a", realm="b"')
    assert challenge.realm == "a"
