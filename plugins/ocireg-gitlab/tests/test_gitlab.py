"""ocireg-gitlab against a loopback fake of GitLab (registry side and GitLab API)."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from gitlab_fake import GitLabFake
from ocireg_fakes import Reply
from ocireg_fakes.cassettes import REPLAY_ORIGIN, use_cassette
from ocireg_gitlab import GitLab, configured_hosts, find_token
from ocireg_gitlab.api import GitLabRegistryAPI

import ocireg
from ocireg import BasicCredentials, Reference
from ocireg.webapi import WebAPI

CASSETTES = Path(__file__).parent / "cassettes"
REPO = "group/project/app"


def make_api(gl: GitLabFake, *, base: str | None = None, **kw: object) -> GitLabRegistryAPI:
    root = (base or gl.fake.url) + "/api/v4"
    web = WebAPI("GitLab API", root, registry=gl.fake.host, **kw)  # type: ignore[arg-type]
    return GitLabRegistryAPI(lambda: gl.token, web, page_size=2)


def ref(gl: GitLabFake, path: str = REPO) -> Reference:
    return Reference.parse(f"{gl.fake.host}/{path}")


def seed(gl: GitLabFake, path: str = REPO) -> dict[str, str]:
    start = datetime(2024, 5, 1, tzinfo=UTC)
    ticks = iter(range(100))
    gl.fake.state.clock = lambda: start + timedelta(minutes=next(ticks))
    digests = {tag: gl.fake.state.push_image(path, tag) for tag in ("a", "c", "d", "e")}
    gl.fake.state.tag(path, "b", digests["a"])
    digests["b"] = digests["a"]
    return digests


def test_answers_for_configured_gitlab_registries(
    gitlab: GitLabFake, monkeypatch: pytest.MonkeyPatch
) -> None:
    plugin = GitLab()
    none = lambda r: None  # noqa: E731
    api = plugin.ocireg_registry_api(registry="registry.gitlab.com", credentials=none)
    assert isinstance(api, GitLabRegistryAPI)
    assert (api.tag_delete, api.listing) == ("gitlab-api", "gitlab-api")
    assert plugin.ocireg_registry_api(registry="registry.example.com", credentials=none) is None
    monkeypatch.setenv(
        "OCIREG_GITLAB_HOSTS",
        f" registry.example.com=https://gitlab.example.com/ ,{gitlab.fake.host}={gitlab.fake.url}",
    )
    assert plugin.gitlab_url("registry.example.com") == "https://gitlab.example.com"
    assert isinstance(
        plugin.ocireg_registry_api(registry=gitlab.fake.host, credentials=none), GitLabRegistryAPI
    )
    assert configured_hosts("bad,=x,a=") == {}


def test_token_from_environment_then_the_chain(monkeypatch: pytest.MonkeyPatch) -> None:
    chain = lambda r: BasicCredentials("me", "glpat-chain")  # noqa: E731
    assert find_token(chain) == "glpat-chain"
    monkeypatch.setenv("GITLAB_TOKEN", "glpat-env")
    assert find_token(chain) == "glpat-env"
    monkeypatch.setenv("OCIREG_GITLAB_TOKEN", "glpat-ocireg")
    assert find_token(lambda r: None) == "glpat-ocireg"


def test_finds_the_repository_and_lists_tags_with_details(gitlab: GitLabFake) -> None:
    digests = seed(gitlab)
    api = make_api(gitlab)
    records = api.list_tags(ref(gitlab))
    assert {r.tag: r.digest for r in records} == digests
    assert records[0].pushed_at == datetime(2024, 5, 1, tzinfo=UTC)
    assert all(r.size for r in records)
    # group/project/app is not a project; group/project is, and has that repository.
    assert gitlab.fake.calls("GET", "/api/v4/projects/group%2Fproject%2Fapp/")
    assert len(gitlab.fake.calls("GET", "/api/v4/projects/group%2Fproject/registry")) == 1
    assert len(gitlab.fake.calls("GET", "/api/v4/projects/7/registry/repositories/100/tags?")) == 0
    assert len([c for c in gitlab.fake.calls("GET") if c.path.endswith("/tags")]) == 3
    api.list_tags(ref(gitlab))
    assert len(gitlab.fake.calls("GET", "/api/v4/projects/group%2Fproject/registry")) == 1


def test_delete_tag_removes_only_that_tag(gitlab: GitLabFake) -> None:
    digests = seed(gitlab)
    api = make_api(gitlab)
    api.delete_tag(ref(gitlab), "a")
    assert gitlab.fake.state.tags(REPO)["b"] == digests["a"] and "a" not in gitlab.fake.state.tags(
        REPO
    )
    (call,) = gitlab.fake.calls("DELETE")
    assert call.path == "/api/v4/projects/7/registry/repositories/100/tags/a"
    with pytest.raises(ocireg.NotFoundError, match="Tag Not Found"):
        api.delete_tag(ref(gitlab), "a")
    with pytest.raises(ocireg.NotFoundError, match="no project has"):
        api.list_tags(ref(gitlab, "group/other/app"))


def test_errors_rate_limits_and_secrets(
    gitlab: GitLabFake, caplog: pytest.LogCaptureFixture
) -> None:
    seed(gitlab)
    caplog.set_level(logging.DEBUG)
    web = WebAPI("GitLab API", gitlab.fake.url + "/api/v4", registry=gitlab.fake.host)
    with pytest.raises(ocireg.AuthenticationError, match="401 Unauthorized") as info:
        GitLabRegistryAPI(lambda: "glpat-wrong-secret", web).list_tags(ref(gitlab))
    assert "glpat-wrong-secret" not in str(info.value) + caplog.text
    with pytest.raises(ocireg.AuthenticationError, match="OCIREG_GITLAB_TOKEN"):
        GitLabRegistryAPI(lambda: None, web).list_tags(ref(gitlab))
    slept: list[float] = []
    api = make_api(gitlab, sleep=slept.append, max_wait=20.0, clock=lambda: 1_700_000_000.0)
    gitlab.fake.fail(
        "GET",
        r".*/tags",
        Reply.json(429, {"message": "Retry later"}, {"RateLimit-Reset": "1700000004"}),
    )
    assert len(api.list_tags(ref(gitlab))) == 5
    assert slept == [4.0]
    gitlab.fake.fail(
        "DELETE", r".*", Reply.json(429, {"message": "Retry later"}, {"Retry-After": "99"})
    )
    with pytest.raises(ocireg.TooManyRequestsError, match="Retry later"):
        api.delete_tag(ref(gitlab), "c")
    gitlab.fake.fail("GET", r".*/tags/c", Reply.json(200, {"name": "c", "digest": "md5:x"}))
    with pytest.raises(ocireg.RegistryError, match="invalid digest"):
        api.list_tags(ref(gitlab))
    gitlab.fake.fail("GET", r".*/tags", Reply.json(502, {"message": "502 Bad Gateway"}))
    with pytest.raises(ocireg.RegistryError, match="502") as err:
        api.list_tags(ref(gitlab))
    assert err.value.temporary


def _exchange(gl: GitLabFake, cassette: Path, base: str) -> list[ocireg.TagRecord]:
    with use_cassette(cassette, live_origin=gl.fake.url, secrets=lambda: [gl.token]):
        api = make_api(gl, base=base)
        records = api.list_tags(ref(gl))
        api.delete_tag(ref(gl), "c")
    return records


def test_cassette_records_scrubbed_and_replays(gitlab: GitLabFake, tmp_path: Path) -> None:
    digests = seed(gitlab)
    cassette = tmp_path / "gitlab.yaml"
    recorded = _exchange(gitlab, cassette, gitlab.fake.url)
    text = cassette.read_text()
    assert gitlab.token not in text and "private-token" not in text.lower()
    assert gitlab.fake.url not in text
    served = len(gitlab.fake.requests)
    gitlab.fake.state.tag(REPO, "c", digests["c"])
    assert _exchange(gitlab, cassette, REPLAY_ORIGIN) == recorded
    assert len(gitlab.fake.requests) == served


def test_committed_cassette_replays(gitlab: GitLabFake) -> None:
    """``cassettes/gitlab_list_delete.yaml`` (recorded from the fake when missing)."""
    digests = seed(gitlab)
    cassette = CASSETTES / "gitlab_list_delete.yaml"
    base = gitlab.fake.url if not cassette.exists() else REPLAY_ORIGIN
    assert {r.tag: r.digest for r in _exchange(gitlab, cassette, base)} == digests


def test_engine_deletes_tags_through_the_gitlab_api(
    gitlab: GitLabFake, monkeypatch: pytest.MonkeyPatch
) -> None:
    digests = seed(gitlab)
    monkeypatch.setenv("OCIREG_GITLAB_TOKEN", gitlab.token)
    plugin = GitLab(hosts={gitlab.fake.host: gitlab.fake.url})
    with ocireg.Client(plugins=[plugin], load_entrypoints=False) as client:
        plan = client.plan_tag_deletes(f"{gitlab.fake.host}/{REPO}", ["a", "c"])
        assert plan.refused is None
        assert {(p.tag, p.action, getattr(p, "via", None)) for p in plan.deletes} == {
            ("a", "tag-delete", "gitlab-api"),
            ("c", "tag-delete", "gitlab-api"),
        }
        client.execute_plan(plan)
    assert gitlab.fake.state.tags(REPO) == {t: digests[t] for t in ("b", "d", "e")}
    assert gitlab.fake.state.resolve(REPO, "b") is not None
    assert not gitlab.fake.calls("DELETE", "/v2/")
