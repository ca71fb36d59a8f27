"""ocireg-azure's ACR API (``/acr/v1/``, via ``acr-api``) against a loopback fake ACR: the
token exchange from the registry's challenge, paged listings, tag deletes, locks, errors,
a cassette, and the deletion engine end to end."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from acr_fake import ADMIN_USER, AcrFake, acr_time
from azure.core.credentials import AccessToken
from ocireg_azure import ACR_USERNAME, AzureCredentials
from ocireg_azure.api import AcrAPI, LockedError
from ocireg_fakes import OCI_MANIFEST, Reply
from ocireg_fakes.cassettes import REPLAY_ORIGIN, use_cassette
from ocireg_fakes.state import OCI_CONFIG, OCI_LAYER

import ocireg
from ocireg import BasicCredentials, IdentityToken, Reference
from ocireg.auth.credentials import Credentials
from ocireg.webapi import WebAPI, parse_time

CASSETTES = Path(__file__).parent / "cassettes"
REPO = "team/app"
START = datetime(2024, 5, 1, tzinfo=UTC)


class EntraCredential:
    """An azure-identity style TokenCredential handing out one Entra token."""

    def __init__(self, token: str) -> None:
        self.token = token

    def get_token(self, *scopes: str, **kwargs: Any) -> AccessToken:
        return AccessToken(self.token, 2_000_000_000)


def refresh(acr: AcrFake) -> IdentityToken:
    return IdentityToken(acr.refresh_token, username=ACR_USERNAME)


def make_api(
    acr: AcrFake, creds: Credentials | None = None, *, base: str | None = None, **kw: Any
) -> AcrAPI:
    web = WebAPI("Azure Container Registry API", base or acr.fake.url, registry=acr.fake.host, **kw)
    given = creds if creds is not None else refresh(acr)
    return AcrAPI(lambda repository: given, web, page_size=2)


def ref(acr: AcrFake) -> Reference:
    return Reference.parse(f"{acr.fake.host}/{REPO}")


def seed(acr: AcrFake) -> dict[str, str]:
    """Tags a..e (b on a's image), pushed a minute apart, and one untagged image."""
    ticks = iter(range(100))
    acr.fake.state.clock = lambda: START + timedelta(minutes=next(ticks))
    digests = {tag: acr.fake.state.push_image(REPO, tag) for tag in ("a", "c", "d", "e")}
    acr.fake.state.tag(REPO, "b", digests["a"])
    digests["b"] = digests["a"]
    acr.fake.state.push_image(REPO, None, content="untagged")
    return digests


def acr_calls(acr: AcrFake, method: str, suffix: str = "") -> list[str]:
    return [r.path for r in acr.fake.calls(method, "/acr/v1/") if r.path.endswith(suffix)]


# -- the hook ------------------------------------------------------------------------------


def test_offers_the_api_for_acr_hosts_only(acr: AcrFake) -> None:
    none = lambda repository: None  # noqa: E731
    plugin = AzureCredentials()
    for host in ("myregistry.azurecr.io", "Other.AzureCR.cn", "gov.azurecr.us"):
        api = plugin.ocireg_registry_api(registry=host, credentials=none)
        assert isinstance(api, AcrAPI) and (api.tag_delete, api.listing) == ("acr-api",) * 2
        assert api.manifest_delete is None
        assert api.describe() == (
            "Azure Container Registry API: tag deletes via acr-api, tag listings via acr-api"
        )
    assert plugin.ocireg_registry_api(registry="docker.io", credentials=none) is None
    assert plugin.ocireg_registry_api(registry=acr.fake.host, credentials=none) is None
    test_plugin = AzureCredentials(hosts={acr.fake.host: acr.fake.url})
    assert isinstance(
        test_plugin.ocireg_registry_api(registry=acr.fake.host, credentials=none), AcrAPI
    )
    assert not acr.fake.requests  # deciding sent nothing


# -- listings ------------------------------------------------------------------------------


def test_lists_every_page_with_digests_times_sizes_and_types(acr: AcrFake) -> None:
    digests = seed(acr)
    # "d" was created early and moved onto a's image later: its push time is the move.
    acr.created[(REPO, "d")] = START - timedelta(days=30)
    acr.fake.state.tag(REPO, "d", digests["a"])
    digests["d"] = digests["a"]
    records = make_api(acr).list_tags(ref(acr))
    assert {r.tag: r.digest for r in records} == digests
    by_tag = {r.tag: r for r in records}
    assert by_tag["c"].pushed_at == START + timedelta(minutes=1)
    assert by_tag["d"].pushed_at == START + timedelta(minutes=6)  # lastUpdateTime, not created
    assert all(r.media_type == OCI_MANIFEST for r in records)
    assert by_tag["a"].size == acr.fake.state.repositories[REPO].manifests[digests["a"]].size > 0
    # 5 tags and 5 manifests, 2 a page: 3 pages each, after one 401 that named the realm.
    assert len(acr_calls(acr, "GET", "/_tags")) == 1 + 3
    assert len(acr_calls(acr, "GET", "/_manifests")) == 3
    (token_call,) = acr.fake.calls("POST", "/oauth2/token")
    assert b"scope=repository%3Ateam%2Fapp%3Ametadata_read" in token_call.body
    assert b"grant_type=refresh_token" in token_call.body


def test_admin_user_gets_its_token_with_basic_auth(acr: AcrFake) -> None:
    digests = seed(acr)
    admin = BasicCredentials(ADMIN_USER, acr.admin_password)
    assert {r.tag: r.digest for r in make_api(acr, admin).list_tags(ref(acr))} == digests
    assert acr.fake.calls("GET", "/oauth2/token") and not acr.fake.calls("POST", "/oauth2/")


def test_acr_times_parse() -> None:
    when = datetime(2018, 9, 6, 6, 17, 21, 85653, tzinfo=UTC)
    assert acr_time(when) == "2018-09-06T06:17:21.0856530Z"
    assert parse_time("2018-09-06T06:17:21.0856539Z") == when


# -- deletes -------------------------------------------------------------------------------


def test_tag_delete_leaves_other_tags_and_the_image(acr: AcrFake) -> None:
    digests = seed(acr)
    api = make_api(acr)
    api.delete_tag(ref(acr), "a")
    assert acr.fake.state.tags(REPO) == {t: digests[t] for t in ("b", "c", "d", "e")}
    assert acr.fake.state.resolve(REPO, digests["a"]) is not None  # the image stays
    assert acr_calls(acr, "DELETE") == ["/acr/v1/team/app/_tags/a"] * 2  # 401, then with a token
    (token_call,) = acr.fake.calls("POST", "/oauth2/token")
    assert b"scope=repository%3Ateam%2Fapp%3Adelete" in token_call.body
    api.delete_tag(ref(acr), "c")  # the cached token: no new exchange
    assert len(acr.fake.calls("POST", "/oauth2/token")) == 1
    with pytest.raises(ocireg.NotFoundError, match="TAG_UNKNOWN"):
        api.delete_tag(ref(acr), "a")
    with pytest.raises(ValueError, match="not a tag"):
        api.delete_tag(ref(acr), "../x")


@pytest.mark.parametrize(
    ("kind", "key", "flag", "named"),
    [
        ("tag", "team/app:c", "deleteEnabled", "tag team/app:c (deleteEnabled: false)"),
        ("manifest", "team/app@{c}", "writeEnabled", "manifest team/app@{c} (writeEnabled: false)"),
        ("repository", "team/app", "deleteEnabled", "repository team/app (deleteEnabled: false)"),
    ],
)
def test_a_lock_refuses_the_delete_and_is_named(
    acr: AcrFake, kind: str, key: str, flag: str, named: str
) -> None:
    digests = seed(acr)
    acr.lock(kind, key.format(c=digests["c"]), **{flag: False})
    with pytest.raises(LockedError) as info:
        make_api(acr).delete_tag(ref(acr), "c")
    assert info.value.locks == (named.format(c=digests["c"]),)
    assert isinstance(info.value, ocireg.DeniedError)
    assert not isinstance(info.value, ocireg.NotFoundError)
    assert "locked: " + named.format(c=digests["c"]) in str(info.value)
    assert "az acr repository update" in str(info.value) and info.value.status == 405
    assert acr.fake.state.tags(REPO)["c"] == digests["c"]


def test_a_lock_whose_attributes_cannot_be_read_is_still_a_lock(acr: AcrFake) -> None:
    seed(acr)
    acr.lock("tag", "team/app:c", writeEnabled=False)
    acr.withheld.add("metadata_read")
    acr.lock_status = 403
    with pytest.raises(LockedError, match="ACR says the operation is disallowed") as info:
        make_api(acr).delete_tag(ref(acr), "c")
    assert info.value.locks == () and info.value.status == 403
    assert "c" in acr.fake.state.tags(REPO)


def test_other_refusals_are_no_lock(acr: AcrFake) -> None:
    seed(acr)
    api = make_api(acr)
    denied = Reply.error(403, "DENIED", "requested access to the resource is denied")
    acr.fake.fail("DELETE", r"/acr/v1/.*", denied)
    with pytest.raises(ocireg.DeniedError, match="requested access") as info:
        api.delete_tag(ref(acr), "c")
    assert not isinstance(info.value, LockedError)
    acr.lock("tag", "team/app:c", deleteEnabled=False)
    acr.withheld.add("delete")  # a 401 is about the credentials, even where a lock is too
    with pytest.raises(ocireg.DeniedError, match="may not delete") as info:
        api.delete_tag(ref(acr), "c")
    assert not isinstance(info.value, LockedError) and "c" in acr.fake.state.tags(REPO)


# -- auth and untrusted answers ------------------------------------------------------------


def test_without_credentials_401(acr: AcrFake) -> None:
    seed(acr)
    web = WebAPI("Azure Container Registry API", acr.fake.url, registry=acr.fake.host)
    anonymous = AcrAPI(lambda repository: None, web)
    with pytest.raises(ocireg.AuthenticationError, match="no credentials for") as info:
        anonymous.delete_tag(ref(acr), "a")
    assert info.value.status == 401 and "anonymous access" in str(info.value)
    assert "a" in acr.fake.state.tags(REPO)
    assert not acr.tokens  # no token was issued


def test_refused_credentials_and_missing_permission(
    acr: AcrFake, caplog: pytest.LogCaptureFixture
) -> None:
    seed(acr)
    caplog.set_level(logging.DEBUG)
    wrong = IdentityToken("acr-refresh-wrong-secret", username=ACR_USERNAME)
    with pytest.raises(ocireg.AuthenticationError, match="refused") as info:
        make_api(acr, wrong).list_tags(ref(acr))
    assert info.value.status == 401 and info.value.__cause__ is None
    assert "wrong-secret" not in str(info.value) + caplog.text
    acr.withheld.add("delete")
    with pytest.raises(ocireg.DeniedError, match="may not delete team/app") as denied:
        make_api(acr).delete_tag(ref(acr), "a")
    assert denied.value.status == 401
    assert "a" in acr.fake.state.tags(REPO)
    assert all(secret not in caplog.text for secret in acr.secrets())


def test_a_realm_elsewhere_gets_no_credentials(acr: AcrFake) -> None:
    seed(acr)
    elsewhere = 'Bearer realm="http://127.0.0.2:9/oauth2/token",service="acrfake.azurecr.io"'
    acr.fake.fail("GET", r"/acr/v1/.*", Reply(401, b"", {"WWW-Authenticate": elsewhere}))
    with pytest.raises(ocireg.AuthenticationError, match="not the registry's origin"):
        make_api(acr).list_tags(ref(acr))
    assert not acr.fake.calls("POST", "/oauth2/") and not acr.tokens


def test_rate_limits_and_untrusted_answers(acr: AcrFake) -> None:
    digests = seed(acr)
    slept: list[float] = []
    api = make_api(acr, sleep=slept.append, max_wait=5.0)
    acr.fake.fail("GET", r"/acr/v1/.*/_tags", Reply(429, b"", {"Retry-After": "1"}))
    assert {r.tag: r.digest for r in api.list_tags(ref(acr))} == digests
    assert slept == [1.0]
    acr.fake.fail("DELETE", r"/acr/v1/.*", Reply(429, b"", {"Retry-After": "30"}))
    with pytest.raises(ocireg.TooManyRequestsError) as info:
        api.delete_tag(ref(acr), "a")
    assert info.value.retry_after == 30.0 and "a" in acr.fake.state.tags(REPO)
    bad = {"imageName": REPO, "tags": [{"name": "x", "digest": "sha256:abc"}]}
    acr.fake.fail("GET", r"/acr/v1/.*/_tags", Reply.json(200, bad))
    with pytest.raises(ocireg.RegistryError, match="invalid digest"):
        api.list_tags(ref(acr))
    away = {"Link": '<http://127.0.0.2:9/acr/v1/team/app/_tags?last=a&n=2>; rel="next"'}
    acr.fake.fail("GET", r"/acr/v1/.*/_tags", Reply.json(200, {"tags": []}, away))
    with pytest.raises(ocireg.RegistryError, match="refusing to follow"):
        api.list_tags(ref(acr))
    with pytest.raises(ocireg.NotFoundError, match="NAME_UNKNOWN"):
        api.list_tags(Reference.parse(f"{acr.fake.host}/team/nothing"))


# -- cassette ------------------------------------------------------------------------------


def _exchange(acr: AcrFake, cassette: Path, base: str) -> list[ocireg.TagRecord]:
    with use_cassette(cassette, live_origin=acr.fake.url, secrets=acr.secrets):
        api = make_api(acr, base=base)
        records = api.list_tags(ref(acr))
        api.delete_tag(ref(acr), "c")
    return records


def test_cassette_records_scrubbed_and_replays(acr: AcrFake, tmp_path: Path) -> None:
    digests = seed(acr)
    cassette = tmp_path / "acr.yaml"
    recorded = _exchange(acr, cassette, acr.fake.url)
    text = cassette.read_text()
    assert all(secret not in text for secret in acr.secrets())
    assert "Bearer" not in text.replace('Bearer realm="', "") and acr.fake.url not in text
    assert "<redacted>" in text and acr.fake.host not in text
    served = len(acr.fake.requests)
    acr.fake.state.tag(REPO, "c", digests["c"])
    assert _exchange(acr, cassette, REPLAY_ORIGIN) == recorded
    assert len(acr.fake.requests) == served


def test_committed_cassette_replays(acr: AcrFake) -> None:
    """``cassettes/acr_list_delete.yaml`` (recorded from the fake when missing)."""
    digests = seed(acr)
    cassette = CASSETTES / "acr_list_delete.yaml"
    base = acr.fake.url if not cassette.exists() else REPLAY_ORIGIN
    assert {r.tag: r.digest for r in _exchange(acr, cassette, base)} == digests
    assert base != REPLAY_ORIGIN or not acr.fake.requests  # replayed: the fake saw nothing


# -- the deletion engine, end to end -------------------------------------------------------


def engine_client(acr: AcrFake) -> ocireg.Client:
    """The whole chain: an Entra token, exchanged at the fake for an ACR refresh token (the
    credential provider), traded at the fake's realm for access tokens (the API)."""
    plugin = AzureCredentials(
        credential=EntraCredential(acr.entra_token), hosts={acr.fake.host: acr.fake.url}
    )
    return ocireg.Client(plugins=[plugin], load_entrypoints=False)


def test_engine_deletes_tags_through_the_acr_api(acr: AcrFake) -> None:
    digests = seed(acr)
    with engine_client(acr) as client:
        assert client.explain_credentials(acr.fake.host)["provider"] == "azure"
        plan = client.plan_tag_deletes(f"{acr.fake.host}/{REPO}", ["a", "c"])
        assert plan.refused is None
        assert {(p.tag, p.action, p.via) for p in plan.deletes} == {
            ("a", "tag-delete", "acr-api"),
            ("c", "tag-delete", "acr-api"),
        }
        result = client.execute_plan(plan)
    assert {step.tag for step in result.deleted} == {"a", "c"}
    assert acr.fake.state.tags(REPO) == {t: digests[t] for t in ("b", "d", "e")}
    for tag in ("b", "d", "e"):  # kept tags keep their images
        assert acr.fake.state.resolve(REPO, tag) is not None
    assert not acr.fake.calls("DELETE", "/v2/")
    assert sorted(set(acr_calls(acr, "DELETE"))) == [
        "/acr/v1/team/app/_tags/a",
        "/acr/v1/team/app/_tags/c",
    ]
    assert len(acr.fake.calls("POST", "/oauth2/exchange")) == 1


def test_engine_stops_at_a_locked_tag(acr: AcrFake) -> None:
    digests = seed(acr)
    acr.lock("tag", "team/app:c", deleteEnabled=False, writeEnabled=False)
    with engine_client(acr) as client:
        plan = client.plan_tag_deletes(f"{acr.fake.host}/{REPO}", ["c"])
        with pytest.raises(LockedError, match=r"locked: tag team/app:c \(deleteEnabled: false"):
            client.execute_plan(plan)
    assert acr.fake.state.tags(REPO)["c"] == digests["c"]


def test_engine_believes_the_listing_instead_of_a_head_per_tag(acr: AcrFake) -> None:
    """Images the listing sizes above the placeholder bound, with their media type from the
    manifest listing: planning sends no ``HEAD`` per tag."""
    state = acr.fake.state
    config = state.put_blob(b"{}")
    digests = {}
    for n, tag in enumerate(("a", "b", "c")):
        layer = {"mediaType": OCI_LAYER, "digest": f"sha256:{n:064x}", "size": 100_000}
        manifest = {
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "config": {"mediaType": OCI_CONFIG, "digest": config, "size": 2},
            "layers": [layer],
        }
        digests[tag] = state.put_manifest(REPO, json.dumps(manifest).encode(), OCI_MANIFEST, tag)
    with engine_client(acr) as client:
        plan = client.plan_tag_deletes(f"{acr.fake.host}/{REPO}", ["b"])
        assert not acr.fake.calls("HEAD", "/v2/")
        assert [(p.tag, p.via) for p in plan.deletes] == [("b", "acr-api")]
        client.execute_plan(plan)
    assert state.tags(REPO) == {t: digests[t] for t in ("a", "c")}
