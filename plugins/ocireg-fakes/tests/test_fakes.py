"""The fake registry serves what ocireg's engine uses, from one state."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import requests
from ocireg_fakes import FakeRegistry, RegistryState, Reply, Request

import ocireg

Start = Callable[..., FakeRegistry]


def client() -> ocireg.Client:
    return ocireg.Client(load_entrypoints=False)


def test_engine_deletes_through_v2_with_placeholders(fake_registry: Start) -> None:
    fake = fake_registry(v2_delete="digest")
    shared = fake.state.push_image("team/app", "a", content="shared")
    fake.state.tag("team/app", "b", shared)
    alone = fake.state.push_image("team/app", "c")

    with client() as c:
        result = c.delete_tags(f"{fake.host}/team/app", ["a", "c"])

    assert result.tags == ["a", "c"]
    assert [p.action for p in result.plan.deletes] == ["untag", "delete-digest"]
    assert fake.state.tags("team/app") == {"b": shared}
    assert fake.state.resolve("team/app", alone) is None
    # The untag moved "a" onto a placeholder pushed through /v2/ uploads, then deleted it.
    assert fake.calls("PUT", "/v2/team/app/manifests/a")
    assert len(fake.state.repositories["team/app"].manifests) == 1


def test_tag_list_pages_and_vendor_changes_show_on_v2(fake_registry: Start) -> None:
    fake = fake_registry()
    for tag in ("1", "2", "3"):
        fake.state.push_image("app", tag)
    first = requests.get(f"{fake.url}/v2/app/tags/list?n=2", timeout=5)
    assert first.json()["tags"] == ["1", "2"]
    assert first.headers["Link"] == '</v2/app/tags/list?n=2&last=2>; rel="next"'

    def untag(req: Request, state: RegistryState, m: object) -> Reply:
        return Reply(204) if state.delete_tag("app", "2") else Reply(404)

    fake.route("DELETE", r"/vendor/app/2", untag)
    assert requests.delete(f"{fake.url}/vendor/app/2", timeout=5).status_code == 204
    with client() as c:
        assert c.tags(f"{fake.host}/app") == ["1", "3"]


def test_unsupported_delete_and_faults(fake_registry: Start) -> None:
    fake = fake_registry(v2_delete="unsupported")
    digest = fake.state.push_image("app", "1")
    with client() as c, pytest.raises(ocireg.UnsupportedError):
        c.delete_manifest(f"{fake.host}/app", digest)
    fake.fail("GET", r"/v2/app/tags/list", Reply(429, b"", {"Retry-After": "7"}), times=2)
    assert requests.get(f"{fake.url}/v2/app/tags/list", timeout=5).status_code == 429
    assert requests.get(f"{fake.url}/v2/app/tags/list", timeout=5).status_code == 429
    assert requests.get(f"{fake.url}/v2/app/tags/list", timeout=5).json()["tags"] == ["1"]
    assert fake.state.tags("app") == {"1": digest}


def test_oci_tag_delete_mode_keeps_the_manifest(fake_registry: Start) -> None:
    fake = fake_registry(v2_delete="any")
    digest = fake.state.push_image("app", "1")
    fake.state.tag("app", "2", digest)
    assert requests.delete(f"{fake.url}/v2/app/manifests/1", timeout=5).status_code == 202
    assert fake.state.tags("app") == {"2": digest}
    assert requests.head(f"{fake.url}/v2/app/manifests/{digest}", timeout=5).status_code == 200
