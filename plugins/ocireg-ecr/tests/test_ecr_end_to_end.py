"""ocireg's deletion engine on an ECR registry, end to end: ``ocireg.Client`` with this
plugin, ECR's API served by moto (``mock_aws``, in this process) and ECR's ``/v2/`` served on
loopback from the same moto state (:mod:`ecr_v2_server`); the plugin maps that loopback host
to the registry's account and region. The engine must delete through ``BatchDeleteImage``
and keep every image a kept tag needs."""

from __future__ import annotations

import base64
import hashlib
import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3.session
import pytest
from ecr_v2_server import EcrV2Server
from moto import mock_aws
from moto.ecr.models import ecr_backends
from ocireg_ecr import EcrCredentials, EcrRegistryAPI

from ocireg import retention
from ocireg.client import Client
from ocireg.errors import NotFoundError
from ocireg.mediatypes import OCI_INDEX, OCI_MANIFEST
from ocireg.reference import Reference

ACCOUNT = "123456789012"
REGION = "us-east-1"
VIA = "ecr-batch-delete-image"


@dataclass
class Registry:
    """One ECR registry on loopback: ``/v2/`` at ``server.host``, its API in moto."""

    server: EcrV2Server
    ecr: Any
    client: Client
    repo: Reference

    def image(self, seed: str, *tags: str, created: str = "2024-01-01T00:00:00Z") -> str:
        """Push an image (config and one layer) through ``/v2/`` under ``tags``."""
        fields = {"architecture": "amd64", "os": "linux", "created": created, "seed": seed}
        config = json.dumps(fields).encode()
        layer = f"layer of {seed}".encode()
        raw = json.dumps(
            {
                "schemaVersion": 2,
                "mediaType": OCI_MANIFEST,
                "config": self._blob(config, "application/vnd.oci.image.config.v1+json"),
                "layers": [self._blob(layer, "application/vnd.oci.image.layer.v1.tar")],
            }
        ).encode()
        return self._manifest(raw, OCI_MANIFEST, tags)

    def index(self, children: list[str], *tags: str) -> str:
        manifests = []
        for child in children:
            size = len(self.client.get_manifest(self.repo.with_digest(child)).raw)
            manifests.append({"mediaType": OCI_MANIFEST, "digest": child, "size": size})
        raw = json.dumps({"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": manifests})
        return self._manifest(raw.encode(), OCI_INDEX, tags)

    def _blob(self, data: bytes, media_type: str) -> dict[str, Any]:
        self.client.push_blob(self.repo, data)
        digest = "sha256:" + hashlib.sha256(data).hexdigest()
        return {"mediaType": media_type, "digest": digest, "size": len(data)}

    def _manifest(self, raw: bytes, media_type: str, tags: tuple[str, ...]) -> str:
        digest = "sha256:" + hashlib.sha256(raw).hexdigest()
        for ref in (*(self.repo.with_tag(t) for t in tags), self.repo.with_digest(digest)):
            self.client.put_manifest(ref, raw, media_type)
        return digest

    def state(self) -> dict[str, str]:
        """tag -> digest, as ``/v2/`` shows it."""
        return {
            tag: str(self.client.head_manifest(self.repo.with_tag(tag)).digest)
            for tag in self.client.tags(self.repo)
        }

    def exists(self, digest: str) -> bool:
        try:
            self.client.head_manifest(self.repo.with_digest(digest))
        except NotFoundError:
            return False
        return True

    def deletes_sent_to_v2(self) -> list[str]:
        return [path for method, path in self.server.log if method == "DELETE"]


@pytest.fixture
def registry() -> Iterator[Registry]:
    with mock_aws():
        session = boto3.session.Session(
            aws_access_key_id="AKIAEXAMPLEEXAMPLE00",
            aws_secret_access_key="fake-secret-key",
            region_name=REGION,
        )
        ecr = session.client("ecr")
        name = f"team/app-{uuid.uuid4().hex[:8]}"
        ecr.create_repository(repositoryName=name)
        token = ecr.get_authorization_token(registryIds=[ACCOUNT])["authorizationData"][0]
        password = base64.b64decode(token["authorizationToken"]).decode().partition(":")[2]
        with EcrV2Server(ecr, ACCOUNT, password=password) as server:
            plugin = EcrCredentials(session=session, hosts={server.host: (ACCOUNT, REGION)})
            # Only this plugin: what else is installed has no say in these tests.
            client = Client(plugins=[plugin], load_entrypoints=False, plain_http=[server.host])
            with client:
                yield Registry(server, ecr, client, Reference(server.host, name))


# -- the fixture itself -------------------------------------------------------------------


def test_v2_and_the_ecr_api_share_one_state(registry: Registry) -> None:
    digest = registry.image("one", "a", "b")
    assert registry.client.ping(registry.server.host).authenticated  # Basic AWS:<token>
    assert registry.state() == {"a": digest, "b": digest}

    api = registry.client.remote.native_api(registry.server.host)
    assert isinstance(api, EcrRegistryAPI)
    assert [(r.tag, r.digest) for r in api.list_tags(registry.repo)] == [
        ("a", digest),
        ("b", digest),
    ]
    api.delete_tag(registry.repo, "a")
    assert registry.state() == {"b": digest}  # gone from /v2/ too
    registry.client.delete_manifest(registry.repo, digest)  # /v2/ DELETE: BatchDeleteImage
    assert registry.client.tags(registry.repo) == []
    with pytest.raises(NotFoundError):
        api.delete_manifest(registry.repo, digest)


# -- the engine ---------------------------------------------------------------------------


@pytest.fixture
def populated(registry: Registry) -> dict[str, str]:
    """alone: a tag alone on its image; shared: shares its image with keep-b; pair-1 and
    pair-2: both chosen, on one image; keep-c alone and kept; multi: a kept index."""
    return {
        "alone": registry.image("alone", "alone"),
        "shared": registry.image("shared", "shared", "keep-b"),
        "pair": registry.image("pair", "pair-1", "pair-2"),
        "keep-c": registry.image("keep-c", "keep-c"),
        "child-1": registry.image("child-1"),
        "child-2": registry.image("child-2"),
    }


CHOSEN = ["alone", "shared", "pair-1", "pair-2", "missing"]


def check_invariant(registry: Registry, before: dict[str, str], digests: dict[str, str]) -> None:
    """Kept tags keep their images (and an index its children); chosen tags are gone and
    images left with no tag went with them."""
    after = registry.state()
    kept = {tag: digest for tag, digest in before.items() if tag not in CHOSEN}
    assert after == kept
    assert registry.exists(digests["child-1"]) and registry.exists(digests["child-2"])
    assert not registry.exists(digests["alone"]) and not registry.exists(digests["pair"])
    assert registry.exists(digests["shared"])


def test_plan_and_execute_delete_through_batch_delete_image(
    registry: Registry, populated: dict[str, str]
) -> None:
    multi = registry.index([populated["child-1"], populated["child-2"]], "multi")
    before = registry.state()
    assert before["multi"] == multi

    plan = registry.client.plan_tag_deletes(registry.repo, CHOSEN)

    assert sorted(p.tag or "" for p in plan.deletes) == ["alone", "pair-1", "pair-2", "shared"]
    assert {p.via for p in plan.deletes} == {VIA}
    assert {p.action for p in plan.deletes} == {"tag-delete"}
    assert all(d["via"] == VIA for d in (p.to_dict() for p in plan.deletes))
    assert plan.not_found == ("missing",)
    assert registry.state() == before  # planning changed nothing

    result = registry.client.execute_plan(plan)

    assert sorted(p.tag or "" for p in result.deleted) == ["alone", "pair-1", "pair-2", "shared"]
    assert result.not_done == [] and result.stopped is None
    check_invariant(registry, before, populated)
    assert registry.deletes_sent_to_v2() == []  # no probes, no /v2/ deletes


def test_delete_tags_keeps_what_kept_tags_need(
    registry: Registry, populated: dict[str, str]
) -> None:
    registry.index([populated["child-1"], populated["child-2"]], "multi")
    before = registry.state()

    preview = registry.client.delete_tags(registry.repo, CHOSEN, dry_run=True)
    assert registry.state() == before
    assert {p.via for p in preview.plan.deletes} == {VIA}

    result = registry.client.delete_tags(registry.repo, CHOSEN)

    assert result.executed
    assert {p.via for p in result.deleted} == {VIA}
    check_invariant(registry, before, populated)
    assert registry.deletes_sent_to_v2() == []


def test_engine_survives_a_tag_deleted_behind_its_back(
    registry: Registry, populated: dict[str, str]
) -> None:
    """A chosen tag deleted by someone else between plan and execution is reported as not
    found, and the rest goes ahead."""
    before = registry.state()
    plan = registry.client.plan_tag_deletes(registry.repo, ["alone", "pair-1"])
    registry.ecr.batch_delete_image(
        registryId=ACCOUNT, repositoryName=registry.repo.path, imageIds=[{"imageTag": "alone"}]
    )

    result = registry.client.execute_plan(plan)

    assert "alone" in result.not_found
    assert [p.tag for p in result.deleted] == ["pair-1"]
    assert registry.state() == {t: d for t, d in before.items() if t not in ("alone", "pair-1")}


# -- retention by push time -----------------------------------------------------------------


def pushed_ago(registry: Registry, digest: str, days: int) -> None:
    """Pretend ECR received ``digest`` ``days`` ago (moto stamps every push with now)."""
    repository = ecr_backends[ACCOUNT][REGION].repositories[registry.repo.path]
    (image,) = [i for i in repository.images if i.image_digest == digest]
    image.image_pushed_at = int((datetime.now(UTC) - timedelta(days=days)).timestamp())


def test_older_than_goes_by_push_time_from_describe_images(registry: Registry) -> None:
    # Built long ago, pushed today; built today, pushed a month ago.
    rebuilt = registry.image("rebuilt", "pushed-today", created="2001-01-01T00:00:00Z")
    stale = registry.image("stale", "pushed-long-ago", created=datetime.now(UTC).isoformat())
    pushed_ago(registry, stale, 30)

    graph = registry.client.snapshot(registry.repo)
    assert {t: (r.digest, r.pushed_at is not None) for t, r in graph.records.items()} == {
        "pushed-today": (rebuilt, True),
        "pushed-long-ago": (stale, True),
    }

    def deleted(age_from: str | None) -> list[str]:
        infos = retention.gather(
            registry.client,
            registry.repo,
            descriptors=graph.tags,
            records=graph.records,
            age_from=age_from,
        )
        chosen = retention.select(infos, older_than=timedelta(days=7), age_from=age_from)
        return [info.tag for info in chosen.delete]

    assert deleted(None) == ["pushed-long-ago"]  # push time where the listing gives it
    assert deleted("pushed") == ["pushed-long-ago"]
    assert deleted("created") == ["pushed-today"]  # the config's created

    registry.client.delete_tags(registry.repo, deleted(None))
    assert registry.state() == {"pushed-today": rebuilt}
