"""ocireg-ecr: host recognition, GetAuthorizationToken through boto3 (moto and botocore's
Stubber), the half-life cache, failures, the entry point and the provider order."""

from __future__ import annotations

import base64
import logging
import os
import subprocess
import sys
import textwrap
from datetime import UTC, datetime
from typing import Any

import boto3.session
import ocireg_ecr
import pytest
from botocore.stub import Stubber
from moto import mock_aws
from ocireg_ecr import EcrCredentials, EcrRegistry, parse_host
from ocireg_ecr.provider import NEGATIVE_TTL

from ocireg.auth.credentials import BasicCredentials
from ocireg.builtin.environment import env_prefix
from ocireg.client import Client
from ocireg.errors import PluginError
from ocireg.hookspecs import hookimpl
from ocireg.plugins import CREDENTIAL_ORDER

HOST = "123456789012.dkr.ecr.us-east-1.amazonaws.com"
T0 = 1_700_000_000.0
HOURS = 3600.0


def token(password: str) -> str:
    return base64.b64encode(f"AWS:{password}".encode()).decode()


class FakeClock:
    def __init__(self, now: float = T0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


class StubSession:
    """Hands out botocore clients with a Stubber attached (so every request and response is
    checked against the real service model) and records how the provider asked for them."""

    def __init__(self) -> None:
        self._real = boto3.session.Session(
            aws_access_key_id="AKIAEXAMPLEEXAMPLE00",
            aws_secret_access_key="fake-secret-key",
            region_name="us-east-1",
        )
        self._clients: dict[str, Any] = {}
        self.asked: list[tuple[str, dict[str, Any]]] = []

    def stub(self, service: str) -> Stubber:
        client = self._real.client(service, region_name="us-east-1")
        self._clients[service] = client
        stubber = Stubber(client)
        stubber.activate()
        return stubber

    def get_credentials(self) -> Any:
        return self._real.get_credentials()

    def client(self, service: str, **kwargs: Any) -> Any:
        self.asked.append((service, kwargs))
        return self._clients[service]


class RecordingSession(boto3.session.Session):
    """A real boto3 session (moto answers its calls) that records the clients asked for."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.asked: list[tuple[str, dict[str, Any]]] = []
        self.credential_lookups = 0

    def client(self, service_name: str, **kwargs: Any) -> Any:
        self.asked.append((service_name, kwargs))
        return super().client(service_name, **kwargs)

    def get_credentials(self) -> Any:
        self.credential_lookups += 1
        return super().get_credentials()


def ask(provider: EcrCredentials, registry: str) -> Any:
    return provider.ocireg_get_credentials(registry=registry, repository="team/app")


def private_response(password: str, expires: float) -> dict[str, Any]:
    return {
        "authorizationData": [
            {
                "authorizationToken": token(password),
                "expiresAt": datetime.fromtimestamp(expires, UTC),
                "proxyEndpoint": f"https://{HOST}",
            }
        ]
    }


# -- hosts --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("host", "expected"),
    [
        (HOST, EcrRegistry(HOST, "123456789012", "us-east-1")),
        (
            "123456789012.dkr.ecr-fips.us-gov-west-1.amazonaws.com",
            EcrRegistry(
                "123456789012.dkr.ecr-fips.us-gov-west-1.amazonaws.com",
                "123456789012",
                "us-gov-west-1",
                fips=True,
            ),
        ),
        (
            "210987654321.dkr.ecr.cn-north-1.amazonaws.com.cn",
            EcrRegistry(
                "210987654321.dkr.ecr.cn-north-1.amazonaws.com.cn", "210987654321", "cn-north-1"
            ),
        ),
        (
            "123456789012.dkr-ecr.eu-west-1.on.aws",
            EcrRegistry("123456789012.dkr-ecr.eu-west-1.on.aws", "123456789012", "eu-west-1"),
        ),
        (
            "123456789012.dkr.ecr.eusc-de-east-1.amazonaws.eu",
            EcrRegistry(
                "123456789012.dkr.ecr.eusc-de-east-1.amazonaws.eu", "123456789012", "eusc-de-east-1"
            ),
        ),
        (
            "123456789012.DKR.ECR.US-EAST-1.AMAZONAWS.COM",
            EcrRegistry(HOST, "123456789012", "us-east-1"),
        ),
        ("public.ecr.aws", EcrRegistry("public.ecr.aws", None, "us-east-1")),
        ("ecr-public.aws.com", EcrRegistry("ecr-public.aws.com", None, "us-east-1")),
        ("quay.io", None),
        ("docker.io", None),
        ("gcr.io", None),
        ("myreg.azurecr.io", None),
        ("127.0.0.1:5000", None),
        ("12345678901.dkr.ecr.us-east-1.amazonaws.com", None),  # 11 digits
        (f"{HOST}.example.com", None),
        (f"{HOST}:443", None),
        ("123456789012.dkr.ecr.us-east-1.amazonaws.org", None),
    ],
    ids=lambda v: v if isinstance(v, str) else None,
)
def test_parse_host(host: str, expected: EcrRegistry | None) -> None:
    assert parse_host(host) == expected


def test_unrecognised_hosts_answer_none_without_asking_aws() -> None:
    class Untouchable:
        def __getattr__(self, name: str) -> Any:
            raise AssertionError(f"boto3 asked for {name} for a host that is not ECR")

    provider = EcrCredentials(session=Untouchable())
    for host in ("quay.io", "docker.io", "ghcr.io", "gcr.io", "localhost:5000"):
        assert ask(provider, host) is None


def test_other_hosts_never_import_boto3() -> None:
    code = textwrap.dedent(
        """
        import sys
        import ocireg_ecr
        from ocireg.client import Client

        client = Client()
        assert "ecr" in dict(client.plugin_manager.list_name_plugin())
        for host in ("quay.io", "ghcr.io", "127.0.0.1:5000"):
            assert ocireg_ecr.plugin.ocireg_get_credentials(registry=host, repository=None) is None
        assert client.explain_credentials("quay.io")["provider"] is None
        loaded = sorted(m for m in sys.modules if m.split(".")[0] in ("boto3", "botocore"))
        print(loaded)
        sys.exit(1 if loaded else 0)
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, env=os.environ
    )
    assert done.returncode == 0, done.stdout + done.stderr


# -- GetAuthorizationToken ----------------------------------------------------------------


@mock_aws
def test_private_registry_through_moto() -> None:
    session = RecordingSession()
    provider = EcrCredentials(session=session)

    found = ask(provider, "111122223333.dkr.ecr.eu-west-1.amazonaws.com")

    # moto answers with AWS:<registryId>-auth-token: the account went out as registryIds.
    assert found == BasicCredentials("AWS", "111122223333-auth-token")
    service, kwargs = session.asked[0]
    assert (service, kwargs["region_name"]) == ("ecr", "eu-west-1")
    assert kwargs["config"].use_fips_endpoint is False
    assert "account 111122223333, eu-west-1" in found.source
    assert "AWS credentials from env" in found.source
    assert "auth-token" not in found.source and "auth-token" not in repr(found)


@mock_aws
def test_an_already_expired_token_serves_one_call_only() -> None:
    # moto's tokens expire in 2015: each question fetches again rather than reuse one.
    session = RecordingSession()
    provider = EcrCredentials(session=session)
    assert ask(provider, HOST) == ask(provider, HOST)
    assert len(session.asked) == 2


def test_token_is_refreshed_at_half_its_lifetime() -> None:
    clock = FakeClock()
    session = StubSession()
    stubber = session.stub("ecr")
    expected = {"registryIds": ["123456789012"]}
    stubber.add_response(
        "get_authorization_token", private_response("one", T0 + 12 * HOURS), expected
    )
    stubber.add_response(
        "get_authorization_token", private_response("two", T0 + 18 * HOURS), expected
    )
    provider = EcrCredentials(session=session, clock=clock)

    assert ask(provider, HOST).password == "one"
    clock.now = T0 + 6 * HOURS - 1  # still in the first half: cached, no call
    assert ask(provider, HOST).password == "one"
    assert len(session.asked) == 1
    clock.now = T0 + 6 * HOURS  # half-life reached: fetched again
    assert ask(provider, HOST).password == "two"
    clock.now = T0 + 12 * HOURS - 1  # the second token lives 12 h from T0 + 6 h
    assert ask(provider, HOST).password == "two"
    stubber.assert_no_pending_responses()
    assert len(session.asked) == 2


def test_credentials_carry_their_expiry() -> None:
    # The Client's keychain asks again before expires_at (ECR's expiresAt, wall clock).
    session = StubSession()
    stubber = session.stub("ecr")
    stubber.add_response("get_authorization_token", private_response("one", T0 + 12 * HOURS))
    without_expiry = private_response("two", 0)
    del without_expiry["authorizationData"][0]["expiresAt"]
    stubber.add_response("get_authorization_token", without_expiry)
    clock = FakeClock()
    provider = EcrCredentials(session=session, clock=clock)

    found = ask(provider, HOST)
    assert (found.password, found.expires_at) == ("one", T0 + 12 * HOURS)
    provider.clear_cache()
    clock.now = T0 + HOURS
    found = ask(provider, HOST)  # no expiresAt: the documented 12 hours from now
    assert (found.password, found.expires_at) == ("two", T0 + 13 * HOURS)
    stubber.assert_no_pending_responses()


def test_tokens_are_cached_per_host() -> None:
    session = StubSession()
    stubber = session.stub("ecr")
    other = "123456789012.dkr.ecr.us-west-2.amazonaws.com"
    stubber.add_response("get_authorization_token", private_response("east", T0 + 12 * HOURS))
    stubber.add_response("get_authorization_token", private_response("west", T0 + 12 * HOURS))
    provider = EcrCredentials(session=session, clock=FakeClock())
    assert [ask(provider, h).password for h in (HOST, other, HOST, other)] == [
        "east",
        "west",
        "east",
        "west",
    ]
    assert [kwargs["region_name"] for _, kwargs in session.asked] == ["us-east-1", "us-west-2"]


def test_fips_host_uses_the_fips_endpoint() -> None:
    session = StubSession()
    session.stub("ecr").add_response(
        "get_authorization_token", private_response("fips", T0 + 12 * HOURS)
    )
    provider = EcrCredentials(session=session, clock=FakeClock())
    found = ask(provider, "123456789012.dkr.ecr-fips.us-east-2.amazonaws.com")
    assert found.password == "fips"
    _, kwargs = session.asked[0]
    assert kwargs["region_name"] == "us-east-2"
    assert kwargs["config"].use_fips_endpoint is True
    assert "FIPS endpoint" in found.source


def test_ecr_public_uses_the_ecr_public_api_in_us_east_1() -> None:
    session = StubSession()
    session.stub("ecr-public").add_response(
        "get_authorization_token",
        {
            "authorizationData": {
                "authorizationToken": token("public-secret"),
                "expiresAt": datetime.fromtimestamp(T0 + 12 * HOURS, UTC),
            }
        },
        {},
    )
    provider = EcrCredentials(session=session, clock=FakeClock())

    found = ask(provider, "public.ecr.aws")
    assert found == BasicCredentials("AWS", "public-secret")
    assert ask(provider, "ecr-public.aws.com") is found  # one token for both names
    assert session.asked == [("ecr-public", {"region_name": "us-east-1"})]
    assert found.source.startswith("ecr-public GetAuthorizationToken (us-east-1)")


# -- failures -----------------------------------------------------------------------------


def test_no_aws_credentials_answers_none_and_remembers(caplog: pytest.LogCaptureFixture) -> None:
    clock = FakeClock()
    session = RecordingSession()  # the isolated environment has no AWS credentials at all
    provider = EcrCredentials(session=session, clock=clock)

    with caplog.at_level(logging.WARNING, logger="ocireg_ecr"):
        assert ask(provider, HOST) is None
    assert "no AWS credentials found" in caplog.text
    clock.now += NEGATIVE_TTL - 1
    assert ask(provider, "public.ecr.aws") is None
    assert ask(provider, HOST) is None
    assert session.credential_lookups == 2  # once per host, then remembered
    assert session.asked == []
    clock.now += 1
    assert ask(provider, HOST) is None
    assert session.credential_lookups == 3


def test_access_denied_raises_plugin_error() -> None:
    session = StubSession()
    session.stub("ecr").add_client_error(
        "get_authorization_token",
        service_error_code="AccessDeniedException",
        service_message="User: arn:aws:iam::123456789012:user/ci is not authorized",
    )
    provider = EcrCredentials(session=session, clock=FakeClock())
    with pytest.raises(PluginError, match="AccessDeniedException: User: arn") as info:
        ask(provider, HOST)
    assert info.value.plugin == "ecr"
    assert HOST in str(info.value)


def test_ecr_public_errors_fall_back_to_anonymous(caplog: pytest.LogCaptureFixture) -> None:
    session = StubSession()
    session.stub("ecr-public").add_client_error(
        "get_authorization_token", service_error_code="AccessDeniedException"
    )
    provider = EcrCredentials(session=session, clock=FakeClock())
    with caplog.at_level(logging.WARNING, logger="ocireg_ecr"):
        assert ask(provider, "public.ecr.aws") is None
    assert "AccessDeniedException" in caplog.text


@pytest.mark.parametrize(
    "bad",
    [
        "not base64!",
        base64.b64encode(b"no-colon").decode(),
        base64.b64encode(b"AWS:").decode(),
        base64.b64encode(b"\xff\xfe:x").decode(),
    ],
    ids=["not-base64", "no-colon", "empty-password", "not-utf8"],
)
def test_malformed_tokens_raise_plugin_error(bad: str) -> None:
    with pytest.raises(PluginError, match="not base64 'user:password'"):
        ocireg_ecr.decode_authorization_token(bad)


# -- entry point and order ----------------------------------------------------------------


def test_loads_through_its_entry_point() -> None:
    client = Client()
    plugins = dict(client.plugin_manager.list_name_plugin())
    assert plugins["ecr"] is ocireg_ecr.plugin
    blocked = Client(blocked_plugins=("ecr",)).plugin_manager
    assert blocked.get_plugin("ecr") is None  # pluggy lists a blocked name with None
    assert Client(blocked_plugins=("ecr",)).explain_credentials(HOST)["provider"] is None


@mock_aws
def test_answers_after_the_builtin_providers() -> None:
    explained = Client().explain_credentials(HOST)
    assert explained["provider"] == "ecr"
    assert explained["asked"][: len(CREDENTIAL_ORDER)] == list(CREDENTIAL_ORDER)
    assert explained["asked"][-1] == "ecr"
    assert (explained["kind"], explained["username"]) == ("basic", "AWS")
    assert "auth-token" not in explained["source"]


@mock_aws
def test_explicit_and_environment_credentials_win(monkeypatch: pytest.MonkeyPatch) -> None:
    explicit = Client(credentials={HOST: ("me", "pw")})
    assert explicit.explain_credentials(HOST)["provider"] == "explicit"
    assert explicit.plugin_manager.hook.ocireg_get_credentials(
        registry=HOST, repository=None
    ) == BasicCredentials("me", "pw")

    # The generic pair names no registry: asked after the plugin, it does not win here ...
    monkeypatch.setenv("OCIREG_USERNAME", "ci")
    monkeypatch.setenv("OCIREG_PASSWORD", "ci-secret")
    assert Client().explain_credentials(HOST)["provider"] == "ecr"
    # ... the variables of this registry do.
    prefix = env_prefix(HOST)
    monkeypatch.setenv(f"{prefix}_USERNAME", "ci")
    monkeypatch.setenv(f"{prefix}_PASSWORD", "ci-secret")
    assert Client().explain_credentials(HOST)["provider"] == "environment"


@mock_aws
def test_plugins_given_to_the_client_answer_before_it() -> None:
    class Mine:
        name = "mine"

        @hookimpl
        def ocireg_get_credentials(self, registry: str, repository: str | None) -> Any:
            return BasicCredentials("mine", "x", source="mine") if registry == HOST else None

    client = Client(plugins=[Mine()])
    assert client.explain_credentials(HOST)["provider"] == "mine"
    # moto serves only the private ECR API: ECR Public is left to the Stubber tests above.
    assert (
        client.explain_credentials(HOST.replace("123456789012", "111122223333"))["provider"]
        == "ecr"
    )
