"""ocireg-dockerhub against a loopback fake of Docker Hub (registry side and Hub API)."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from dockerhub_fake import USER, HubFake
from ocireg_dockerhub import DockerHub
from ocireg_dockerhub.api import DockerHubAPI
from ocireg_fakes import Reply, digest_of
from ocireg_fakes.cassettes import REDACTED, REPLAY_ORIGIN, use_cassette

import ocireg
from ocireg import BasicCredentials, Reference
from ocireg.registry_api import RegistryAPI
from ocireg.webapi import WebAPI

CASSETTES = Path(__file__).parent / "cassettes"
REPO = "team/app"


def lookup_for(hub: HubFake, password: str | None = None):  # type: ignore[no-untyped-def]
    creds = BasicCredentials(USER, password or hub.password)
    return lambda repository: creds


def make_api(
    hub: HubFake, *, base: str | None = None, creds: bool = True, **kw: object
) -> DockerHubAPI:
    web = WebAPI("Docker Hub API", base or hub.url, registry=hub.fake.host, **kw)  # type: ignore[arg-type]
    return DockerHubAPI(lookup_for(hub) if creds else (lambda r: None), web, page_size=2)


def ref(hub: HubFake) -> Reference:
    return Reference.parse(f"{hub.fake.host}/{REPO}")


def seed(hub: HubFake) -> dict[str, str]:
    """Five tags, pushed a minute apart; ``a`` and ``b`` share an image."""
    start = datetime(2024, 5, 1, tzinfo=UTC)
    ticks = iter(range(100))
    hub.fake.state.clock = lambda: start + timedelta(minutes=next(ticks))
    digests = {tag: hub.fake.state.push_image(REPO, tag) for tag in ("a", "c", "d", "e")}
    hub.fake.state.tag(REPO, "b", digests["a"])
    digests["b"] = digests["a"]
    return digests


# -- the hook ----------------------------------------------------------------------------------


def test_answers_for_docker_hub_hosts_only(hub: HubFake) -> None:
    plugin = DockerHub(hosts=[hub.fake.host], api_url=hub.url)
    for host in ("docker.io", "registry-1.docker.io", "index.docker.io", hub.fake.host):
        api = plugin.ocireg_registry_api(registry=host, credentials=lambda r: None)
        assert isinstance(api, DockerHubAPI)
        assert (api.tag_delete, api.listing, api.manifest_delete) == ("hub-api", "hub-api", None)
        assert "tag deletes via hub-api" in api.describe()
    assert plugin.ocireg_registry_api(registry="quay.io", credentials=lambda r: None) is None


def test_plain_http_off_loopback_is_refused() -> None:
    plugin = DockerHub(api_url="http://hub.example.test")
    with pytest.raises(ocireg.PluginError, match="plain http"):
        plugin.ocireg_registry_api(registry="docker.io", credentials=lambda r: None)


def test_client_wires_the_plugin(hub: HubFake) -> None:
    plugin = DockerHub(hosts=[hub.fake.host], api_url=hub.url)
    with ocireg.Client(plugins=[plugin], load_entrypoints=False) as client:
        api = client.remote.native_api(hub.fake.host)
        assert isinstance(api, RegistryAPI) and api.tag_delete == "hub-api"
        assert client.remote.native_api("quay.io") is None


# -- the API client ----------------------------------------------------------------------------


def test_lists_every_page_with_digests_and_push_times(hub: HubFake) -> None:
    digests = seed(hub)
    records = make_api(hub).list_tags(ref(hub))
    assert [r.tag for r in records] == ["a", "b", "c", "d", "e"]
    assert {r.tag: r.digest for r in records} == digests
    assert all(r.pushed_at and r.pushed_at.year == 2024 and r.size for r in records)
    assert records[0].media_type == "application/vnd.oci.image.manifest.v1+json"
    assert len(hub.fake.calls("GET", f"/v2/repositories/{REPO}/tags")) == 3  # 2 + 2 + 1
    assert len(hub.fake.calls("POST", "/v2/users/login")) == 1


def test_public_listing_needs_no_credentials(hub: HubFake) -> None:
    seed(hub)
    assert len(make_api(hub, creds=False).list_tags(ref(hub))) == 5
    assert not hub.fake.calls("POST", "/v2/users/login")


def test_delete_tag_removes_only_that_tag(hub: HubFake) -> None:
    digests = seed(hub)
    api = make_api(hub)
    api.delete_tag(ref(hub), "a")
    api.delete_tag(ref(hub), "c")
    tags = hub.fake.state.tags(REPO)
    assert "a" not in tags and "c" not in tags and tags["b"] == digests["a"]
    # The image of "c" stays, untagged (Hub semantics), and /v2/ no longer knows the tag.
    assert hub.fake.state.resolve(REPO, digests["c"]) is not None
    assert hub.fake.state.resolve(REPO, "c") is None
    assert len(hub.fake.calls("POST", "/v2/users/login")) == 1
    deletes = hub.fake.calls("DELETE")
    assert [d.path for d in deletes] == [
        f"/v2/repositories/{REPO}/tags/a/",
        f"/v2/repositories/{REPO}/tags/c/",
    ]
    assert all((d.header("authorization") or "").startswith("Bearer ") for d in deletes)


def test_errors_map_to_ocireg_errors(hub: HubFake) -> None:
    seed(hub)
    api = make_api(hub)
    with pytest.raises(ocireg.NotFoundError, match="tag not found"):
        api.delete_tag(ref(hub), "nope")
    with pytest.raises(ocireg.NotFoundError):
        api.list_tags(Reference.parse(f"{hub.fake.host}/team/missing"))
    with pytest.raises(ocireg.NotFoundError):
        api.list_tags(Reference.parse(f"{hub.fake.host}/a/b/c"))
    hub.fake.fail("GET", r"/v2/repositories/.*", Reply.json(403, {"detail": "no access"}))
    with pytest.raises(ocireg.DeniedError, match="no access"):
        api.list_tags(ref(hub))
    hub.fake.fail("GET", r"/v2/repositories/.*", Reply.json(503, {"message": "down"}))
    with pytest.raises(ocireg.RegistryError, match="503 down") as info:
        api.list_tags(ref(hub))
    assert info.value.temporary


def test_without_credentials_a_delete_says_what_is_missing(hub: HubFake) -> None:
    seed(hub)
    with pytest.raises(ocireg.AuthenticationError, match="personal access token"):
        make_api(hub, creds=False).delete_tag(ref(hub), "a")
    assert "a" in hub.fake.state.tags(REPO)


def test_a_refused_password_leaks_nowhere(hub: HubFake, caplog: pytest.LogCaptureFixture) -> None:
    seed(hub)
    caplog.set_level(logging.DEBUG)
    web = WebAPI("Docker Hub API", hub.url, registry=hub.fake.host)
    api = DockerHubAPI(lookup_for(hub, "wrong-secret-value"), web)
    with pytest.raises(ocireg.AuthenticationError) as info:
        api.delete_tag(ref(hub), "a")
    assert "Incorrect authentication credentials" in str(info.value)
    assert info.value.__cause__ is None
    assert "wrong-secret-value" not in str(info.value) + caplog.text


def test_rate_limit_waits_as_asked_then_gives_up(hub: HubFake) -> None:
    seed(hub)
    slept: list[float] = []
    api = make_api(hub, sleep=slept.append, max_wait=10.0)
    hub.fake.fail("GET", r"/v2/repositories/.*", Reply(429, b"", {"Retry-After": "3"}), times=2)
    assert len(api.list_tags(ref(hub))) == 5
    assert slept == [3.0, 3.0]
    # X-RateLimit-Reset far ahead: a clear error at once, naming the wait.
    reset = int(datetime.now(UTC).timestamp()) + 3600
    hub.fake.fail(
        "DELETE", r"/v2/repositories/.*", Reply(429, b"", {"X-RateLimit-Reset": str(reset)})
    )
    with pytest.raises(ocireg.TooManyRequestsError, match="asked to wait") as info:
        api.delete_tag(ref(hub), "a")
    assert info.value.retry_after is not None and info.value.retry_after > 3000
    assert slept == [3.0, 3.0]


def test_untrusted_listings_are_refused(hub: HubFake) -> None:
    seed(hub)
    api = make_api(hub)
    bad = {"count": 1, "next": None, "results": [{"name": "x", "digest": "sha256:../../etc"}]}
    hub.fake.fail("GET", r"/v2/repositories/.*", Reply.json(200, bad))
    with pytest.raises(ocireg.RegistryError, match="invalid digest"):
        api.list_tags(ref(hub))
    elsewhere = {"count": 9, "next": "http://127.0.0.2:1/v2/x", "results": []}
    hub.fake.fail("GET", r"/v2/repositories/.*", Reply.json(200, elsewhere))
    with pytest.raises(ocireg.RegistryError, match="refusing to follow"):
        api.list_tags(ref(hub))
    hub.fake.fail("GET", r"/v2/repositories/.*", Reply(200, b"x" * (17 * 1024 * 1024)))
    with pytest.raises(ocireg.RegistryError, match="over"):
        api.list_tags(ref(hub))
    no_digest = {"count": 1, "next": None, "results": [{"name": "old", "digest": None}]}
    hub.fake.fail("GET", r"/v2/repositories/.*", Reply.json(200, no_digest))
    with pytest.raises(ocireg.RegistryError, match="no digest"):
        api.list_tags(ref(hub))


# -- a recorded exchange -----------------------------------------------------------------------


def _exchange(hub: HubFake, cassette: Path, base: str) -> list[ocireg.TagRecord]:
    with use_cassette(cassette, live_origin=hub.url, secrets=lambda: [hub.password, *hub.tokens]):
        api = make_api(hub, base=base)
        records = api.list_tags(ref(hub))
        api.delete_tag(ref(hub), "c")
    return records


def test_cassette_records_scrubbed_and_replays(hub: HubFake, tmp_path: Path) -> None:
    digests = seed(hub)
    cassette = tmp_path / "hub.yaml"
    recorded = _exchange(hub, cassette, hub.url)
    text = cassette.read_text()
    assert hub.password not in text and not any(t in text for t in hub.tokens)
    assert "Bearer" not in text and REDACTED in text and hub.url not in text
    served = len(hub.fake.requests)
    hub.fake.state.tag(REPO, "c", digests["c"])  # what the replay "deletes" is back
    replayed = _exchange(hub, cassette, REPLAY_ORIGIN)
    assert replayed == recorded and len(hub.fake.requests) == served


def test_committed_cassette_replays(hub: HubFake) -> None:
    """``cassettes/hub_list_delete.yaml`` (recorded from the fake when missing)."""
    digests = seed(hub)
    cassette = CASSETTES / "hub_list_delete.yaml"
    base = hub.url if not cassette.exists() else REPLAY_ORIGIN
    records = _exchange(hub, cassette, base)
    assert {r.tag: r.digest for r in records} == digests
    assert records[0].pushed_at == datetime(2024, 5, 1, tzinfo=UTC)
    assert digest_of(b"") not in {r.digest for r in records}


# -- end to end, through the deletion engine -----------------------------------------------------


def test_engine_deletes_tags_through_the_hub_api(hub: HubFake) -> None:
    digests = seed(hub)
    plugin = DockerHub(hosts=[hub.fake.host], api_url=hub.url)
    with ocireg.Client(
        credentials={hub.fake.host: (USER, hub.password)}, plugins=[plugin], load_entrypoints=False
    ) as client:
        plan = client.plan_tag_deletes(f"{hub.fake.host}/{REPO}", ["a", "c"])
        assert plan.refused is None
        assert [(p.tag, p.action) for p in plan.deletes] == [
            ("a", "tag-delete"),
            ("c", "tag-delete"),
        ]
        assert {getattr(p, "via", None) for p in plan.deletes} == {"hub-api"}
        client.execute_plan(plan)
    assert hub.fake.state.tags(REPO) == {t: digests[t] for t in ("b", "d", "e")}
    assert hub.fake.state.resolve(REPO, "b") is not None  # the kept tag keeps its image
    assert not hub.fake.calls("DELETE", "/v2/team/")  # no /v2/ deletes, no probes
