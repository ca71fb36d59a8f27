"""ocireg-github against a loopback fake of GHCR (registry side and packages API)."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from github_fake import GitHubFake
from ocireg_fakes import Reply
from ocireg_fakes.cassettes import REPLAY_ORIGIN, use_cassette
from ocireg_github import GitHub, find_token
from ocireg_github.api import GitHubPackagesAPI

import ocireg
from ocireg import BasicCredentials, Reference
from ocireg.webapi import WebAPI

CASSETTES = Path(__file__).parent / "cassettes"
REPO = "team/app"
USER_REPO = "alice/tools/cli"


def make_api(gh: GitHubFake, *, base: str | None = None, **kw: object) -> GitHubPackagesAPI:
    web = WebAPI("GitHub Packages API", base or gh.fake.url, registry=gh.fake.host, **kw)  # type: ignore[arg-type]
    return GitHubPackagesAPI(lambda: gh.token, web, page_size=2)


def ref(gh: GitHubFake, path: str = REPO) -> Reference:
    return Reference.parse(f"{gh.fake.host}/{path}")


def seed(gh: GitHubFake, path: str = REPO) -> dict[str, str]:
    """Tags a..e a minute apart; ``a`` and ``b`` share an image; one untagged version."""
    start = datetime(2024, 5, 1, tzinfo=UTC)
    ticks = iter(range(100))
    gh.fake.state.clock = lambda: start + timedelta(minutes=next(ticks))
    digests = {tag: gh.fake.state.push_image(path, tag) for tag in ("a", "c", "d", "e")}
    gh.fake.state.tag(path, "b", digests["a"])
    digests["b"] = digests["a"]
    gh.fake.state.push_image(path, None, content="untagged")
    return digests


# -- the hook ----------------------------------------------------------------------------------


def test_answers_for_ghcr_only(ghcr: GitHubFake) -> None:
    plugin = GitHub(hosts=[ghcr.fake.host], api_url=ghcr.fake.url)
    for host in ("ghcr.io", ghcr.fake.host):
        api = plugin.ocireg_registry_api(registry=host, credentials=lambda r: None)
        assert isinstance(api, GitHubPackagesAPI)
        assert (api.manifest_delete, api.listing, api.tag_delete) == (
            "github-api",
            "github-api",
            None,
        )
        assert "manifest deletes via github-api" in api.describe()
    assert plugin.ocireg_registry_api(registry="docker.io", credentials=lambda r: None) is None


def test_token_from_environment_then_the_chain(monkeypatch: pytest.MonkeyPatch) -> None:
    chain = lambda r: BasicCredentials("alice", "ghp_from_chain")  # noqa: E731
    assert find_token(chain) == ("ghp_from_chain", "the registry password of 'alice'")
    monkeypatch.setenv("GH_TOKEN", "ghp_gh")
    assert find_token(chain)[0] == "ghp_gh"
    monkeypatch.setenv("GITHUB_TOKEN", "ghp_github")
    assert find_token(chain) == ("ghp_github", "$GITHUB_TOKEN")
    assert find_token(lambda r: None)[0] == "ghp_github"


# -- the API client ----------------------------------------------------------------------------


def test_lists_tags_over_pages_for_orgs_and_users(ghcr: GitHubFake) -> None:
    digests = seed(ghcr)
    records = make_api(ghcr).list_tags(ref(ghcr))
    assert {r.tag: r.digest for r in records} == digests
    assert [r.tag for r in records] == ["a", "b", "c", "d", "e"]
    assert records[2].pushed_at == datetime(2024, 5, 1, 0, 1, tzinfo=UTC)  # "c"
    assert len(ghcr.fake.calls("GET", "/orgs/team/packages/container/app/versions")) == 3

    user_digests = seed(ghcr, USER_REPO)
    api = make_api(ghcr)
    assert {r.tag: r.digest for r in api.list_tags(ref(ghcr, USER_REPO))} == user_digests
    # The nested package name is one URL-encoded segment; /orgs/ answered 404 once.
    assert ghcr.fake.calls("GET", "/users/alice/packages/container/tools%2Fcli/versions")
    assert len(ghcr.fake.calls("GET", "/orgs/alice/")) == 1
    api.list_tags(ref(ghcr, USER_REPO))
    assert len(ghcr.fake.calls("GET", "/orgs/alice/")) == 1


def test_delete_manifest_removes_the_version_with_its_tags(ghcr: GitHubFake) -> None:
    digests = seed(ghcr)
    api = make_api(ghcr)
    api.delete_manifest(ref(ghcr), digests["a"])
    assert ghcr.fake.state.tags(REPO) == {t: digests[t] for t in ("c", "d", "e")}
    assert ghcr.fake.state.resolve(REPO, digests["a"]) is None
    (delete,) = ghcr.fake.calls("DELETE")
    assert delete.path.startswith("/orgs/team/packages/container/app/versions/")
    assert delete.header("x-github-api-version") == "2022-11-28"
    with pytest.raises(ocireg.NotFoundError, match="no package version"):
        api.delete_manifest(ref(ghcr), digests["a"])
    with pytest.raises(ocireg.RegistryError, match="invalid digest"):
        api.delete_manifest(ref(ghcr), "sha256:../../x")


def test_errors_map_to_ocireg_errors(ghcr: GitHubFake, caplog: pytest.LogCaptureFixture) -> None:
    seed(ghcr)
    caplog.set_level(logging.DEBUG)
    web = WebAPI("GitHub Packages API", ghcr.fake.url, registry=ghcr.fake.host)
    wrong = GitHubPackagesAPI(lambda: "ghp_wrong_secret", web)
    with pytest.raises(ocireg.AuthenticationError, match="Bad credentials") as info:
        wrong.list_tags(ref(ghcr))
    assert "ghp_wrong_secret" not in str(info.value) + caplog.text
    assert info.value.__cause__ is None
    none = GitHubPackagesAPI(lambda: None, web)
    with pytest.raises(ocireg.AuthenticationError, match="GITHUB_TOKEN"):
        none.list_tags(ref(ghcr))
    api = make_api(ghcr)
    with pytest.raises(ocireg.NotFoundError):
        api.list_tags(ref(ghcr, "nobody/app"))
    ghcr.fake.fail("GET", r"/orgs/.*", Reply.json(500, {"message": "Server Error"}))
    with pytest.raises(ocireg.RegistryError, match="500 Server Error"):
        api.list_tags(ref(ghcr))


def test_rate_limits_wait_for_the_reset_or_fail_clearly(ghcr: GitHubFake) -> None:
    seed(ghcr)
    slept: list[float] = []
    api = make_api(ghcr, sleep=slept.append, max_wait=30.0, clock=lambda: 1_700_000_000.0)
    primary = {"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": "1700000005"}
    ghcr.fake.fail(
        "GET", r"/orgs/.*", Reply.json(403, {"message": "API rate limit exceeded"}, primary)
    )
    ghcr.fake.fail(
        "GET", r"/orgs/.*", Reply.json(429, {"message": "secondary"}, {"Retry-After": "2"})
    )
    assert len(api.list_tags(ref(ghcr))) == 5
    assert slept == [5.0, 2.0]
    ghcr.fake.fail(
        "GET", r"/orgs/.*", Reply.json(429, {"message": "slow down"}, {"Retry-After": "600"})
    )
    with pytest.raises(ocireg.TooManyRequestsError, match="slow down") as info:
        api.list_tags(ref(ghcr))
    assert info.value.retry_after == 600.0


def test_untrusted_answers_are_refused(ghcr: GitHubFake) -> None:
    seed(ghcr)
    api = make_api(ghcr)
    bad = [{"id": 1, "name": "latest", "metadata": {"container": {"tags": ["x"]}}}]
    ghcr.fake.fail("GET", r"/orgs/.*", Reply.json(200, bad))
    with pytest.raises(ocireg.RegistryError, match="invalid digest"):
        api.list_tags(ref(ghcr))
    away = {"Link": '<https://elsewhere.test/next>; rel="next"'}
    ghcr.fake.fail("GET", r"/orgs/.*", Reply.json(200, [], away))
    with pytest.raises(ocireg.RegistryError, match="refusing to follow"):
        api.list_tags(ref(ghcr))


# -- a recorded exchange -----------------------------------------------------------------------


def _exchange(gh: GitHubFake, cassette: Path, base: str, digest: str) -> list[ocireg.TagRecord]:
    with use_cassette(cassette, live_origin=gh.fake.url, secrets=lambda: [gh.token]):
        api = make_api(gh, base=base)
        records = api.list_tags(ref(gh))
        api.delete_manifest(ref(gh), digest)
    return records


def test_cassette_records_scrubbed_and_replays(ghcr: GitHubFake, tmp_path: Path) -> None:
    digests = seed(ghcr)
    cassette = tmp_path / "ghcr.yaml"
    recorded = _exchange(ghcr, cassette, ghcr.fake.url, digests["c"])
    text = cassette.read_text()
    assert ghcr.token not in text and "Bearer" not in text and ghcr.fake.url not in text
    served = len(ghcr.fake.requests)
    assert _exchange(ghcr, cassette, REPLAY_ORIGIN, digests["c"]) == recorded
    assert len(ghcr.fake.requests) == served


def test_committed_cassette_replays(ghcr: GitHubFake) -> None:
    """``cassettes/ghcr_list_delete.yaml`` (recorded from the fake when missing)."""
    digests = seed(ghcr)
    cassette = CASSETTES / "ghcr_list_delete.yaml"
    base = ghcr.fake.url if not cassette.exists() else REPLAY_ORIGIN
    records = _exchange(ghcr, cassette, base, digests["c"])
    assert {r.tag: r.digest for r in records} == digests


# -- end to end, through the deletion engine -----------------------------------------------------


def test_engine_deletes_versions_and_untags_shared_images(
    ghcr: GitHubFake, monkeypatch: pytest.MonkeyPatch
) -> None:
    digests = seed(ghcr)
    monkeypatch.setenv("GITHUB_TOKEN", ghcr.token)
    plugin = GitHub(hosts=[ghcr.fake.host], api_url=ghcr.fake.url)
    with ocireg.Client(plugins=[plugin], load_entrypoints=False) as client:
        plan = client.plan_tag_deletes(f"{ghcr.fake.host}/{REPO}", ["a", "c"])
        assert plan.refused is None
        steps = {p.tag: (p.action, getattr(p, "via", None)) for p in plan.deletes}
        assert steps == {"a": ("untag", "untag+github-api"), "c": ("delete-digest", "github-api")}
        client.execute_plan(plan)
    assert ghcr.fake.state.tags(REPO) == {t: digests[t] for t in ("b", "d", "e")}
    assert ghcr.fake.state.resolve(REPO, "b") is not None  # the kept tag keeps its image
    assert ghcr.fake.state.resolve(REPO, digests["c"]) is None
    assert not ghcr.fake.calls("DELETE", "/v2/")
