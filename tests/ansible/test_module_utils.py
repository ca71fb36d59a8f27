"""The collection's deletion planning (``module_utils/_tags.py``, on the SDK's
``Client.snapshot``/``plan_tag_deletes``/``execute_plan``) in-process, against a small
fake registry that deletes like distribution 2.x (by digest only, taking every tag on the
digest along): orders and predictions the live registry tests cannot easily build (nested
indexes)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from typing import Any

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

pytest.importorskip("ansible.module_utils.basic")

from ansible_collections.ocireg.registry.plugins.module_utils import _tags
from ocireg import Client, Reference
from ocireg.digest import Digest
from ocireg.mediatypes import OCI_CONFIG, OCI_INDEX, OCI_MANIFEST


def _error(code: str) -> str:
    return json.dumps({"errors": [{"code": code, "message": code.lower()}]})


class FakeRegistry:
    """Tags -> manifest names, and index names -> the names they list; each name becomes a
    real manifest (an index of its children, else a tiny image). ``deleted`` lists the tags
    in the order they disappeared."""

    def __init__(
        self,
        server: HTTPServer,
        tags: Mapping[str, str],
        children: Mapping[str, tuple[str, ...]] | None = None,
    ) -> None:
        self.children = dict(children or {})
        self.manifests: dict[str, tuple[bytes, str]] = {}
        self.names: dict[str, str] = {}
        self.tags = {tag: self._build(name) for tag, name in tags.items()}
        self.deleted: list[str] = []
        self.repo = Reference.parse(f"http://localhost:{server.port}/team/app")
        server.expect_request(re.compile(".*")).respond_with_handler(self.handle)

    def _build(self, name: str) -> str:
        if name in self.names:
            return self.names[name]
        if name in self.children:
            entries = []
            for child in self.children[name]:
                digest = self._build(child)
                raw, media_type = self.manifests[digest]
                entries.append({"mediaType": media_type, "digest": digest, "size": len(raw)})
            doc: dict[str, Any] = {"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": entries}
        else:
            config = {"mediaType": OCI_CONFIG, "digest": str(Digest.of(name.encode())), "size": 1}
            doc = {"schemaVersion": 2, "mediaType": OCI_MANIFEST, "config": config, "layers": []}
        raw = json.dumps(doc).encode()
        digest = self.names[name] = str(Digest.of(raw))
        self.manifests[digest] = (raw, doc["mediaType"])
        return digest

    def digests(self, *names: str) -> list[str]:
        return sorted(self.names[n] for n in names)

    def handle(self, request: Request) -> Response:
        path, method = request.path, request.method
        if path == "/v2/":
            return Response("{}")
        if path == "/v2/team/app/tags/list":
            return Response(json.dumps({"name": "team/app", "tags": sorted(self.tags)}))
        if path.startswith("/v2/team/app/blobs/"):  # the placeholder's empty config
            return Response(status=200, headers={"Content-Length": "2"})
        if not path.startswith("/v2/team/app/manifests/"):
            return Response(_error("NAME_UNKNOWN"), status=404)  # no referrers API
        ref = path.removeprefix("/v2/team/app/manifests/")
        digest = ref if ref.startswith("sha256:") else self.tags.get(ref)
        if method == "DELETE":
            if not ref.startswith("sha256:"):
                return Response(_error("DIGEST_INVALID"), status=400)
            if digest not in self.manifests:
                return Response(_error("MANIFEST_UNKNOWN"), status=404)
            del self.manifests[digest]
            for tag in sorted(t for t, d in self.tags.items() if d == digest):
                del self.tags[tag]
                self.deleted.append(tag)
            return Response(status=202)
        if method == "PUT":
            raw = request.get_data()
            digest = str(Digest.of(raw))
            self.manifests[digest] = (raw, request.content_type or OCI_MANIFEST)
            if not ref.startswith("sha256:"):
                self.tags[ref] = digest
            return Response(status=201, headers={"Docker-Content-Digest": digest})
        if digest not in self.manifests:
            return Response(_error("MANIFEST_UNKNOWN"), status=404)
        raw, media_type = self.manifests[digest]
        headers = {
            "Docker-Content-Digest": digest,
            "Content-Type": media_type,
            "Content-Length": str(len(raw)),
        }
        return Response(b"" if method == "HEAD" else raw, headers=headers)


@pytest.fixture
def client() -> Iterator[Client]:
    with Client(load_entrypoints=False) as c:
        yield c


def _plan(
    fake: FakeRegistry, client: Client, chosen: list[str], shared_digest: str = "untag"
) -> Any:
    job = _tags.TagDeletion(client, fake.repo, list(fake.tags))
    assert job.plan(job.choose_explicit(chosen), shared_digest, False) is None
    return job


def test_nested_indexes_are_deleted_outermost_first(httpserver: HTTPServer, client: Client) -> None:
    fake = FakeRegistry(
        httpserver,
        tags={"c": "c", "i": "i", "o": "o", "keep": "k"},
        children={"o": ("i",), "i": ("c",)},
    )
    job = _plan(fake, client, ["c", "i", "o"])
    assert job.order == ["o", "i", "c"]
    assert sorted(job.removed) == fake.digests("c", "i", "o")
    progress: dict[str, Any] = {}
    job.execute(progress)
    assert fake.deleted == ["o", "i", "c"]
    assert progress["deleted"] == ["c", "i", "o"]
    assert progress["deleted_manifests"] == sorted(job.removed)  # prediction == outcome
    assert sorted(fake.tags) == ["keep"]


def test_a_kept_index_keeps_its_children(httpserver: HTTPServer, client: Client) -> None:
    fake = FakeRegistry(
        httpserver,
        tags={"c": "c", "i": "i", "o": "o"},
        children={"o": ("i",), "i": ("c",)},
    )
    job = _plan(fake, client, ["c", "i"])
    assert job.removed == []  # o stays and lists i, which lists c
    skip = _plan(fake, client, ["c", "i"], "skip")
    assert [s["tag"] for s in skip.kept_shared] == ["c", "i"]
    assert skip.order == []
    assert "o" in skip.kept_shared[0]["reason"]


def test_a_group_of_tags_on_one_image_takes_it_with_the_last(
    httpserver: HTTPServer, client: Client
) -> None:
    fake = FakeRegistry(httpserver, tags={"a": "x", "b": "x", "c": "x"})
    job = _plan(fake, client, ["b", "a"])
    assert job.order == ["a", "b"]
    assert job.removed == []  # c stays
    job = _plan(fake, client, ["a", "b", "c", "gone"])
    assert job.removed == fake.digests("x")
    assert job.not_found == ["gone"]
    progress: dict[str, Any] = {}
    job.execute(progress)
    assert progress["deleted_manifests"] == fake.digests("x")
    assert fake.tags == {}


def test_fallback_tags_are_never_selected(httpserver: HTTPServer, client: Client) -> None:
    fallback = "sha256-" + "ab" * 32
    fake = FakeRegistry(httpserver, tags={"v1": "1", fallback: "f"})
    job = _tags.TagDeletion(client, fake.repo, list(fake.tags))
    assert job.choose_selection([".*"], None, None, None).delete_tags == ["v1"]
    assert job.choose_explicit([fallback]) == [fallback]


@pytest.mark.parametrize(
    ("patterns", "excludes", "expected"),
    [
        ([], [], ["1.0", "1.0-rc1", "latest", "v2"]),
        (["1\\..*"], [], ["1.0", "1.0-rc1"]),
        (["1\\..*"], [".*-rc.*"], ["1.0"]),
        (["v"], [], []),  # a pattern must match the whole tag
    ],
    ids=["all", "pattern", "exclude", "full-match"],
)
def test_filter_tags(patterns: list[str], excludes: list[str], expected: list[str]) -> None:
    assert _tags.filter_tags(["1.0", "1.0-rc1", "latest", "v2"], patterns, excludes) == expected
