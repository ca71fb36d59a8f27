"""Safe tag deletion against a real distribution 2.8 registry (REGISTRY-FACTS 2.13-17).

Distribution 2.8 has no tag ``DELETE``, so every shared tag goes through the "untag" path
(move to a placeholder, delete that); lone tags are deleted by digest. Each test uses its
own repository, so tests do not see each other's tags.
"""

from __future__ import annotations

import dataclasses
import hashlib
import itertools
import json
import re

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request as WerkzeugRequest
from werkzeug import Response as WerkzeugResponse

from ocireg import (
    Client,
    DeletePlan,
    DeleteRefusedError,
    DeniedError,
    NotFoundError,
    Reference,
    UnsupportedError,
)
from ocireg.digest import Digest
from ocireg.errors import AuthenticationError
from tests.conftest import RegistryFactory
from tests.fixtures.clients import client_for
from tests.fixtures.images import OCI_CONFIG, OCI_MANIFEST, Pushed, Pusher
from tests.fixtures.registry import Registry

pytestmark = pytest.mark.live

_COUNTER = itertools.count()


def _repo(name: str) -> str:
    return f"del/{name}-{next(_COUNTER)}"


def _ref(registry: Registry, repo: str, tag: str | None = None, digest: str | None = None) -> str:
    return f"{registry.host}/{repo}" + (f":{tag}" if tag else "") + (f"@{digest}" if digest else "")


def _digests(client: Client, registry: Registry, repo: str) -> dict[str, str]:
    """tag -> digest of every tag of ``repo``."""
    return {t: d.digest for t, d in client.tag_descriptors(_ref(registry, repo)).items()}


def _assert_pulls(
    pusher: Pusher, client: Client, registry: Registry, tag: str, image: Pushed
) -> None:
    """The tag resolves (HEAD and GET) to the image, and every blob downloads intact."""
    ref = _ref(registry, image.repository, tag)
    assert client.head_manifest(ref).digest == image.digest
    assert client.get_manifest(ref).raw == image.raw
    for digest, data in image.blobs.items():
        url = f"{registry.url}/v2/{image.repository}/blobs/{digest}"
        resp = pusher._request("GET", url, image.repository)
        assert resp.status_code == 200, (tag, digest)
        assert "sha256:" + hashlib.sha256(resp.content).hexdigest() == digest
        assert resp.content == data


# -- shared tags ---------------------------------------------------------------------------


def test_deleting_one_of_four_tags_leaves_the_other_three_pulling(
    registry: Registry, client: Client
) -> None:
    pusher = Pusher(registry)
    repo = _repo("four")
    image = pusher.image(repo, "a")
    for tag in ("b", "c", "d"):
        pusher.tag(image, tag)

    plan = client.delete_tag(_ref(registry, repo, "b"))

    assert plan.action == "untag"
    assert plan.executed
    assert plan.tag == "b" and plan.digest == image.digest
    assert plan.shared_with == ("a", "c", "d")
    assert plan.reached_by == ()
    assert pusher.tags(repo) == ["a", "c", "d"]  # no placeholder tag left visible
    with pytest.raises(NotFoundError):
        client.head_manifest(_ref(registry, repo, "b"))
    assert plan.placeholder and not pusher.exists(repo, plan.placeholder)
    for tag in ("a", "c", "d"):
        _assert_pulls(pusher, client, registry, tag, image)


def test_untag_twice_in_one_client_reuses_the_probe(registry: Registry, client: Client) -> None:
    pusher = Pusher(registry)
    repo = _repo("twice")
    image = pusher.image(repo, "x")
    pusher.tag(image, "y")
    pusher.tag(image, "z")
    client.delete_tag(_ref(registry, repo, "x"))
    assert (registry.host, repo) in client.remote.capabilities.delete_verified
    assert client.remote.capabilities.tag_delete[registry.host] is False
    client.delete_tag(_ref(registry, repo, "y"))
    assert pusher.tags(repo) == ["z"]
    _assert_pulls(pusher, client, registry, "z", image)


def test_lone_tag_is_deleted_by_digest(registry: Registry, client: Client) -> None:
    pusher = Pusher(registry)
    repo = _repo("lone")
    image = pusher.image(repo, "only")
    other = pusher.image(repo, "other")

    plan = client.delete_tag(_ref(registry, repo, "only"))

    assert (plan.action, plan.executed) == ("delete-digest", True)
    assert plan.shared_with == () and plan.reached_by == ()
    assert not pusher.exists(repo, image.digest)  # the manifest went with its only tag
    assert pusher.tags(repo) == ["other"]
    _assert_pulls(pusher, client, registry, "other", other)


@pytest.mark.parametrize("shared", [True, False])
def test_dry_run_changes_nothing_and_reports_the_same_plan(
    registry: Registry, client: Client, shared: bool
) -> None:
    pusher = Pusher(registry)
    repo = _repo("dry")
    image = pusher.image(repo, "v1")
    if shared:
        pusher.tag(image, "stable")
    before = _digests(client, registry, repo)

    dry = client.delete_tag(_ref(registry, repo, "v1"), dry_run=True)

    assert not dry.executed
    assert _digests(client, registry, repo) == before
    assert dry.action == ("untag" if shared else "delete-digest")
    real = client.delete_tag(_ref(registry, repo, "v1"))
    assert real == dataclasses.replace(dry, executed=True)


def test_missing_tag_raises_not_found(registry: Registry, client: Client) -> None:
    pusher = Pusher(registry)
    repo = _repo("missing")
    pusher.image(repo, "present")
    with pytest.raises(NotFoundError):
        client.delete_tag(_ref(registry, repo, "absent"))
    with pytest.raises(NotFoundError):
        client.delete_tag(_ref(registry, repo, "absent"), dry_run=True)
    assert pusher.tags(repo) == ["present"]


def test_tag_at_digest_is_skipped_when_the_tag_moved(registry: Registry, client: Client) -> None:
    pusher = Pusher(registry)
    repo = _repo("moved")
    old = pusher.image(repo, "v1")
    new = pusher.image(repo, "latest")
    pusher.tag(new, "v1")
    plan = client.delete_tag(_ref(registry, repo, "v1", old.digest))
    assert (plan.action, plan.executed) == ("skip", False)
    assert _digests(client, registry, repo) == {"v1": new.digest, "latest": new.digest}


# -- index graph ---------------------------------------------------------------------------


def test_tag_on_an_index_child_is_untagged_and_the_child_kept(
    registry: Registry, client: Client
) -> None:
    pusher = Pusher(registry)
    repo = _repo("child")
    index = pusher.index(repo, "multi")
    child = index.children[0]
    pusher.tag(child, "amd64")

    plan = client.delete_tag(_ref(registry, repo, "amd64"))

    assert (plan.action, plan.executed) == ("untag", True)
    assert plan.shared_with == () and plan.reached_by == ("multi",)
    assert pusher.tags(repo) == ["multi"]
    assert client.head_manifest(_ref(registry, repo, "multi")).digest == index.digest
    for c in index.children:
        fetched = client.get_manifest(_ref(registry, repo, digest=c.digest))
        assert fetched.raw == c.raw
        for digest in c.blobs:
            url = f"{registry.url}/v2/{repo}/blobs/{digest}"
            assert pusher._request("HEAD", url, repo).status_code == 200


def test_lone_index_tag_deletes_the_index(registry: Registry, client: Client) -> None:
    pusher = Pusher(registry)
    repo = _repo("index")
    index = pusher.index(repo, "multi")

    plan = client.delete_tag(_ref(registry, repo, "multi"))

    assert (plan.action, plan.executed) == ("delete-digest", True)
    assert not pusher.exists(repo, index.digest)
    assert pusher.tags(repo) == []


def test_nested_index_reaches_its_grandchild(registry: Registry, client: Client) -> None:
    pusher = Pusher(registry)
    repo = _repo("nested")
    inner = pusher.index(repo, "inner")
    outer_raw = (
        '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json",'
        f'"manifests":[{{"mediaType":"{inner.media_type}","digest":"{inner.digest}",'
        f'"size":{inner.size}}}]}}'
    ).encode()
    pusher.manifest(repo, "outer", outer_raw, inner.media_type)
    grandchild = inner.children[1]
    pusher.tag(grandchild, "arm64")
    plan = client.delete_tag(_ref(registry, repo, "arm64"), dry_run=True)
    assert plan.reached_by == ("inner", "outer")


# -- digest references and force -----------------------------------------------------------


def test_digest_with_tags_is_refused_without_force_and_deleted_with_it(
    registry: Registry, client: Client
) -> None:
    pusher = Pusher(registry)
    repo = _repo("force")
    image = pusher.image(repo, "a")
    pusher.tag(image, "b")
    ref = _ref(registry, repo, digest=image.digest)

    dry = client.delete_tag(ref, dry_run=True)
    assert (dry.action, dry.shared_with, dry.executed) == ("refuse", ("a", "b"), False)
    with pytest.raises(DeleteRefusedError, match=r"tags a, b") as info:
        client.delete_tag(ref)
    assert info.value.plan == dry
    assert _digests(client, registry, repo) == {"a": image.digest, "b": image.digest}

    plan = client.delete_tag(ref, force=True)
    assert (plan.action, plan.executed) == ("delete-digest", True)
    assert plan.shared_with == ("a", "b")
    assert not pusher.exists(repo, image.digest)
    assert pusher.tags(repo) == []


def test_digest_of_an_index_child_is_refused_naming_the_index(
    registry: Registry, client: Client
) -> None:
    pusher = Pusher(registry)
    repo = _repo("childdigest")
    index = pusher.index(repo, "multi")
    ref = _ref(registry, repo, digest=index.children[0].digest)
    with pytest.raises(DeleteRefusedError, match="multi") as info:
        client.delete_tag(ref)
    assert info.value.plan.reached_by == ("multi",)
    assert pusher.exists(repo, index.children[0].digest)


def test_untagged_digest_is_deleted(registry: Registry, client: Client) -> None:
    pusher = Pusher(registry)
    repo = _repo("untagged")
    pusher.image(repo, "keep")
    loose = pusher.image(repo, None)
    plan = client.delete_tag(_ref(registry, repo, digest=loose.digest))
    assert (plan.action, plan.tag, plan.executed) == ("delete-digest", None, True)
    assert not pusher.exists(repo, loose.digest)
    assert pusher.tags(repo) == ["keep"]


# -- refusals change nothing ---------------------------------------------------------------


def _assert_delete_disabled(registry: Registry) -> None:
    pusher = Pusher(registry)
    repo = _repo("nodelete")
    shared = pusher.image(repo, "a")
    pusher.tag(shared, "b")
    pusher.image(repo, "lone")
    index = pusher.index(repo, "multi")
    pusher.tag(index.children[0], "child")
    with client_for(registry) as client:
        before = _digests(client, registry, repo)
        for tag in ("a", "lone", "child", "multi"):
            dry = client.delete_tag(_ref(registry, repo, tag), dry_run=True)
            assert dry.action == "refuse" and "disabled" in dry.reason, tag
            with pytest.raises(UnsupportedError, match=f"delete is disabled on {registry.host}"):
                client.delete_tag(_ref(registry, repo, tag))
        with pytest.raises(UnsupportedError):
            client.delete_tag(_ref(registry, repo, digest=shared.digest), force=True)
        assert _digests(client, registry, repo) == before
    # A fresh client (no cached answer) must refuse just as cleanly.
    with client_for(registry) as client:
        with pytest.raises(UnsupportedError):
            client.delete_tag(_ref(registry, repo, "b"))
        assert _digests(client, registry, repo) == before


def test_delete_disabled_is_a_clear_error_and_changes_nothing(
    registry_no_delete: Registry,
) -> None:
    _assert_delete_disabled(registry_no_delete)


def test_delete_disabled_with_token_auth(registry_factory: RegistryFactory) -> None:
    _assert_delete_disabled(registry_factory(mode="token", delete_enabled=False))


def test_puller_may_not_delete_and_nothing_changes(registry_token: Registry) -> None:
    pusher = Pusher(registry_token)
    repo = _repo("denied")
    image = pusher.image(repo, "a")
    pusher.tag(image, "b")
    pusher.image(repo, "lone")
    with client_for(registry_token, "puller") as client:
        before = _digests(client, registry_token, repo)
        for tag in ("a", "lone"):
            with pytest.raises((DeniedError, AuthenticationError)):
                client.delete_tag(_ref(registry_token, repo, tag))
        assert _digests(client, registry_token, repo) == before


def test_plan_to_dict_is_plain(registry_open: Registry) -> None:
    plan = DeletePlan(
        Reference.parse(f"{registry_open.host}/x:y"), "y", "sha256:" + "0" * 64, "untag", ("z",)
    )
    out = plan.to_dict()
    assert out["ref"] == f"{registry_open.host}/x:y"
    assert out["shared_with"] == ["z"] and out["action"] == "untag"


# -- registries with the OCI tag DELETE (a fake: distribution 2.8 has none) ----------------


class _FakeRegistry:
    """Just enough of a registry for deletion: manifests by digest, tags, and a tag
    ``DELETE`` that removes only the tag (the spec), or, like zot before 2024, takes the
    manifest and every tag on it along, or is refused as on distribution 2.x. With
    ``protect_tagged`` a manifest that has a tag may not be deleted (a retention policy)."""

    def __init__(
        self,
        server: HTTPServer,
        *,
        tag_delete: bool = True,
        tag_delete_takes_manifest: bool = False,
        protect_tagged: bool = False,
    ) -> None:
        self.manifests: dict[str, bytes] = {}
        self.tags: dict[str, str] = {}
        self.tag_delete = tag_delete
        self.greedy = tag_delete_takes_manifest
        self.protect_tagged = protect_tagged
        self.deletes: list[str] = []
        server.expect_request(re.compile(".*")).respond_with_handler(self.handle)

    def push(self, tag: str, raw: bytes) -> str:
        digest = str(Digest.of(raw))
        self.manifests[digest] = raw
        self.tags[tag] = digest
        return digest

    def handle(self, request: WerkzeugRequest) -> WerkzeugResponse:
        path = request.path
        if path == "/v2/":
            return WerkzeugResponse("{}")
        if path == "/v2/app/tags/list":
            return WerkzeugResponse(json.dumps({"name": "app", "tags": sorted(self.tags)}))
        if path.startswith("/v2/app/blobs/"):  # the empty config blob: always there
            return WerkzeugResponse(status=200, headers={"Content-Length": "2"})
        ref = path.removeprefix("/v2/app/manifests/")
        digest = ref if ref.startswith("sha256:") else self.tags.get(ref)
        if request.method == "DELETE":
            self.deletes.append(ref)
            if not self.tag_delete and not ref.startswith("sha256:"):
                return WerkzeugResponse(_error("DIGEST_INVALID"), status=400)
            if self.protect_tagged and digest in self.tags.values():
                return WerkzeugResponse(_error("DENIED"), status=403)
            if digest not in self.manifests:
                return WerkzeugResponse(_MANIFEST_UNKNOWN, status=404)
            if ref.startswith("sha256:") or self.greedy:
                del self.manifests[digest]
                self.tags = {t: d for t, d in self.tags.items() if d != digest}
            else:
                del self.tags[ref]
            return WerkzeugResponse(status=202)
        if request.method == "PUT":
            raw = request.get_data()
            digest = str(Digest.of(raw))
            self.manifests[digest] = raw
            if not ref.startswith("sha256:"):
                self.tags[ref] = digest
            return WerkzeugResponse(status=201, headers={"Docker-Content-Digest": digest})
        if digest not in self.manifests:
            return WerkzeugResponse(_MANIFEST_UNKNOWN, status=404)
        raw = self.manifests[digest]
        headers = {"Docker-Content-Digest": digest, "Content-Type": OCI_MANIFEST}
        return WerkzeugResponse(b"" if request.method == "HEAD" else raw, headers=headers)


def _error(code: str) -> str:
    return json.dumps({"errors": [{"code": code, "message": code.lower()}]})


_MANIFEST_UNKNOWN = _error("MANIFEST_UNKNOWN")


def _tiny_manifest(n: int) -> bytes:
    config = {"mediaType": OCI_CONFIG, "digest": str(Digest.of(str(n).encode())), "size": 1}
    return json.dumps(
        {"schemaVersion": 2, "mediaType": OCI_MANIFEST, "config": config, "layers": []}
    ).encode()


@pytest.mark.parametrize("greedy", [False, True], ids=["spec", "takes-manifest"])
def test_oci_tag_delete_removes_only_the_tag(httpserver: HTTPServer, greedy: bool) -> None:
    fake = _FakeRegistry(httpserver, tag_delete_takes_manifest=greedy)
    digest = fake.push("a", _tiny_manifest(1))
    fake.push("b", _tiny_manifest(1))
    fake.push("c", _tiny_manifest(1))
    ref = f"http://localhost:{httpserver.port}/app:b"
    with Client(load_entrypoints=False) as client:
        dry = client.delete_tag(ref, dry_run=True)
        assert (dry.action, dry.shared_with) == ("tag-delete", ("a", "c"))
        plan = client.delete_tag(ref)
        assert (plan.action, plan.executed) == ("tag-delete", True)
        assert client.remote.capabilities.tag_delete[f"localhost:{httpserver.port}"] is not greedy
    assert fake.tags == {"a": digest, "c": digest}  # restored when the registry took them
    assert digest in fake.manifests
    assert "b" in fake.deletes and digest not in fake.deletes  # never deleted by digest
    assert ("pushed back" in plan.reason) is greedy


def test_untag_puts_the_tag_back_when_the_last_delete_is_refused(httpserver: HTTPServer) -> None:
    fake = _FakeRegistry(httpserver, tag_delete=False, protect_tagged=True)
    digest = fake.push("a", _tiny_manifest(1))
    fake.push("b", _tiny_manifest(1))
    with Client(load_entrypoints=False) as client, pytest.raises(DeniedError):
        client.delete_tag(f"http://localhost:{httpserver.port}/app:b")
    # The probe (an untagged manifest) could be deleted, so the tag was moved; deleting
    # the placeholder it now held was denied, and the tag was put back.
    assert fake.tags == {"a": digest, "b": digest}
    assert len(fake.manifests) == 2  # the original and the orphaned placeholder


def test_oci_tag_delete_of_a_lone_tag_keeps_the_manifest(httpserver: HTTPServer) -> None:
    fake = _FakeRegistry(httpserver)
    digest = fake.push("only", _tiny_manifest(1))
    other = fake.push("other", _tiny_manifest(2))
    with Client(load_entrypoints=False) as client:
        plan = client.delete_tag(f"http://localhost:{httpserver.port}/app:only")
    assert (plan.action, plan.shared_with, plan.executed) == ("tag-delete", (), True)
    assert fake.tags == {"other": other}
    assert digest in fake.manifests  # exactly the tag went; the registry's GC decides the rest
    assert digest not in fake.deletes


def test_refused_tag_delete_falls_back_to_untag(httpserver: HTTPServer) -> None:
    fake = _FakeRegistry(httpserver)
    digest = fake.push("a", _tiny_manifest(1))
    fake.push("b", _tiny_manifest(1))
    with Client(load_entrypoints=False) as client:
        client.remote.capabilities.tag_delete[f"localhost:{httpserver.port}"] = True
        fake.tag_delete = False  # the registry changed its mind after the probe
        plan = client.delete_tag(f"http://localhost:{httpserver.port}/app:b")
        assert client.remote.capabilities.tag_delete[f"localhost:{httpserver.port}"] is False
    assert (plan.action, plan.executed) == ("untag", True)
    assert "DELETE by tag answered 400 DIGEST_INVALID" in plan.reason
    assert fake.tags == {"a": digest}
    assert set(fake.manifests) == {digest}  # the probe and the placeholder are both gone
