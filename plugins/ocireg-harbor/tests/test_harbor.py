"""ocireg-harbor against a loopback fake of Harbor (registry side and v2.0 API)."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from harbor_fake import USER, HarborFake
from ocireg_fakes import Reply
from ocireg_fakes.cassettes import REPLAY_ORIGIN, use_cassette
from ocireg_harbor import Harbor, configured_hosts
from ocireg_harbor.api import HarborAPI

import ocireg
from ocireg import BasicCredentials, Reference
from ocireg.webapi import WebAPI

CASSETTES = Path(__file__).parent / "cassettes"
REPO = "library/team/app"


def make_api(hb: HarborFake, *, base: str | None = None, **kw: object) -> HarborAPI:
    web = WebAPI("Harbor API", base or hb.fake.url, registry=hb.fake.host, **kw)  # type: ignore[arg-type]
    creds = BasicCredentials(USER, hb.password)
    return HarborAPI(lambda r: creds, web, page_size=2)


def ref(hb: HarborFake, path: str = REPO) -> Reference:
    return Reference.parse(f"{hb.fake.host}/{path}")


def seed(hb: HarborFake) -> dict[str, str]:
    start = datetime(2024, 5, 1, tzinfo=UTC)
    ticks = iter(range(100))
    hb.fake.state.clock = lambda: start + timedelta(minutes=next(ticks))
    digests = {tag: hb.fake.state.push_image(REPO, tag) for tag in ("a", "c", "d", "e")}
    hb.fake.state.tag(REPO, "b", digests["a"])
    digests["b"] = digests["a"]
    hb.fake.state.push_image(REPO, None, content="untagged")
    return digests


def test_answers_only_for_named_hosts(harbor: HarborFake, monkeypatch: pytest.MonkeyPatch) -> None:
    none = lambda r: None  # noqa: E731
    plugin = Harbor()
    assert plugin.ocireg_registry_api(registry=harbor.fake.host, credentials=none) is None
    monkeypatch.setenv(
        "OCIREG_HARBOR_HOSTS", f"harbor.example, {harbor.fake.host}={harbor.fake.url}"
    )
    api = plugin.ocireg_registry_api(registry=harbor.fake.host, credentials=none)
    assert isinstance(api, HarborAPI) and (api.tag_delete, api.listing) == ("harbor-api",) * 2
    assert configured_hosts("harbor.example")["harbor.example"] == "https://harbor.example"
    assert not harbor.fake.requests  # deciding probed nothing


def test_lists_artifacts_over_pages(harbor: HarborFake) -> None:
    digests = seed(harbor)
    records = make_api(harbor).list_tags(ref(harbor))
    assert {r.tag: r.digest for r in records} == digests
    assert records[2].pushed_at == datetime(2024, 5, 1, 0, 1, tzinfo=UTC)  # "c"
    assert all(r.size and r.media_type for r in records)
    calls = harbor.fake.calls("GET", "/api/v2.0/projects/library/repositories/team%252Fapp/")
    assert len(calls) == 3


def test_delete_tag_and_errors(harbor: HarborFake, caplog: pytest.LogCaptureFixture) -> None:
    digests = seed(harbor)
    api = make_api(harbor)
    api.delete_tag(ref(harbor), "a")
    assert "a" not in harbor.fake.state.tags(REPO)
    assert harbor.fake.state.tags(REPO)["b"] == digests["a"]
    (call,) = harbor.fake.calls("DELETE")
    assert call.path.endswith("/repositories/team%252Fapp/artifacts/a/tags/a")
    with pytest.raises(ocireg.NotFoundError, match="NOT_FOUND: tag a not found"):
        api.delete_tag(ref(harbor), "a")
    caplog.set_level(logging.DEBUG)
    web = WebAPI("Harbor API", harbor.fake.url, registry=harbor.fake.host)
    wrong = HarborAPI(lambda r: BasicCredentials(USER, "harbor-wrong-secret"), web)
    with pytest.raises(ocireg.AuthenticationError, match="UNAUTHORIZED") as info:
        wrong.list_tags(ref(harbor))
    assert "harbor-wrong-secret" not in str(info.value) + caplog.text
    harbor.fake.fail(
        "GET", r"/api/.*", Reply.json(403, {"errors": [{"code": "FORBIDDEN", "message": "no"}]})
    )
    with pytest.raises(ocireg.DeniedError, match="FORBIDDEN"):
        api.list_tags(ref(harbor))


def test_rate_limit_and_untrusted_answers(harbor: HarborFake) -> None:
    seed(harbor)
    slept: list[float] = []
    api = make_api(harbor, sleep=slept.append, max_wait=5.0)
    harbor.fake.fail("GET", r"/api/.*", Reply(429, b"", {"Retry-After": "1"}))
    assert len(api.list_tags(ref(harbor))) == 5 and slept == [1.0]
    harbor.fake.fail("GET", r"/api/.*", Reply(429, b"", {"Retry-After": "30"}))
    with pytest.raises(ocireg.TooManyRequestsError):
        api.list_tags(ref(harbor))
    harbor.fake.fail("GET", r"/api/.*", Reply.json(200, [{"digest": "sha256:abc", "tags": []}]))
    with pytest.raises(ocireg.RegistryError, match="invalid digest"):
        api.list_tags(ref(harbor))


def _exchange(hb: HarborFake, cassette: Path, base: str) -> list[ocireg.TagRecord]:
    with use_cassette(cassette, live_origin=hb.fake.url, secrets=lambda: [hb.password]):
        api = make_api(hb, base=base)
        records = api.list_tags(ref(hb))
        api.delete_tag(ref(hb), "c")
    return records


def test_cassette_records_scrubbed_and_replays(harbor: HarborFake, tmp_path: Path) -> None:
    digests = seed(harbor)
    cassette = tmp_path / "harbor.yaml"
    recorded = _exchange(harbor, cassette, harbor.fake.url)
    text = cassette.read_text()
    assert harbor.password not in text and "Basic" not in text and harbor.fake.url not in text
    served = len(harbor.fake.requests)
    harbor.fake.state.tag(REPO, "c", digests["c"])
    assert _exchange(harbor, cassette, REPLAY_ORIGIN) == recorded
    assert len(harbor.fake.requests) == served


def test_committed_cassette_replays(harbor: HarborFake) -> None:
    """``cassettes/harbor_list_delete.yaml`` (recorded from the fake when missing)."""
    digests = seed(harbor)
    cassette = CASSETTES / "harbor_list_delete.yaml"
    base = harbor.fake.url if not cassette.exists() else REPLAY_ORIGIN
    assert {r.tag: r.digest for r in _exchange(harbor, cassette, base)} == digests


def test_engine_deletes_tags_through_the_harbor_api(harbor: HarborFake) -> None:
    digests = seed(harbor)
    plugin = Harbor(hosts={harbor.fake.host: harbor.fake.url})
    with ocireg.Client(
        credentials={harbor.fake.host: (USER, harbor.password)},
        plugins=[plugin],
        load_entrypoints=False,
    ) as client:
        plan = client.plan_tag_deletes(f"{harbor.fake.host}/{REPO}", ["a", "c"])
        assert plan.refused is None
        assert {(p.tag, p.action, getattr(p, "via", None)) for p in plan.deletes} == {
            ("a", "tag-delete", "harbor-api"),
            ("c", "tag-delete", "harbor-api"),
        }
        client.execute_plan(plan)
    assert harbor.fake.state.tags(REPO) == {t: digests[t] for t in ("b", "d", "e")}
    assert harbor.fake.state.resolve(REPO, "b") is not None
    assert not harbor.fake.calls("DELETE", "/v2/")
