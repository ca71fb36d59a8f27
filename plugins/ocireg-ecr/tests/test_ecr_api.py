"""ocireg-ecr's native API: BatchDeleteImage and DescribeImages against moto (``mock_aws``)
and, for what moto does not emulate (pages, ``failures`` other than ImageNotFound, AWS error
codes), against botocore's Stubber, which checks requests and answers against ECR's model."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import textwrap
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import boto3.session
import pytest
from botocore.stub import Stubber
from moto import mock_aws
from ocireg_ecr import EcrCredentials, EcrRegistry, EcrRegistryAPI

from ocireg.client import Client
from ocireg.errors import (
    AuthenticationError,
    DeniedError,
    InvalidDigestError,
    InvalidReferenceError,
    NotFoundError,
    OciregError,
    RegistryError,
    StillReferencedError,
    TooManyRequestsError,
    TransportError,
)
from ocireg.mediatypes import OCI_MANIFEST
from ocireg.reference import Reference
from ocireg.registry_api import TagRecord

ACCOUNT = "123456789012"
HOST = f"{ACCOUNT}.dkr.ecr.us-east-1.amazonaws.com"
REPO = Reference(HOST, "team/app")
SECRET = "fake-secret-key-do-not-print"


def manifest(seed: str) -> tuple[str, str]:
    """A small OCI image manifest (text) and its digest."""
    config = {"mediaType": "application/vnd.oci.image.config.v1+json", "size": 2}
    config["digest"] = "sha256:" + hashlib.sha256(seed.encode()).hexdigest()
    text = json.dumps(
        {"schemaVersion": 2, "mediaType": OCI_MANIFEST, "config": config, "layers": []}
    )
    return text, "sha256:" + hashlib.sha256(text.encode()).hexdigest()


class Ecr:
    """The repository ``team/app`` in moto, and the plugin's API for its registry."""

    def __init__(self) -> None:
        self.client = boto3.session.Session(region_name="us-east-1").client("ecr")
        self.client.create_repository(repositoryName=REPO.path)
        self.made = 0

        def factory() -> Any:
            self.made += 1
            return plugin.api_client(EcrRegistry(HOST, ACCOUNT, "us-east-1"))

        plugin = EcrCredentials()
        self.api = EcrRegistryAPI(EcrRegistry(HOST, ACCOUNT, "us-east-1"), factory)

    def push(self, seed: str, *tags: str) -> str:
        text, digest = manifest(seed)
        for tag in tags:
            self.client.put_image(
                repositoryName=REPO.path,
                imageManifest=text,
                imageManifestMediaType=OCI_MANIFEST,
                imageTag=tag,
                imageDigest=digest,
            )
        return digest

    def images(self) -> dict[str, list[str]]:
        """digest -> sorted tags, as ECR's ListImages sees them (untagged: [])."""
        found: dict[str, list[str]] = {}
        for image_id in self.client.list_images(repositoryName=REPO.path)["imageIds"]:
            tags = found.setdefault(image_id["imageDigest"], [])
            if image_id.get("imageTag"):
                tags.append(image_id["imageTag"])
        return {digest: sorted(tags) for digest, tags in found.items()}


@pytest.fixture
def ecr() -> Iterator[Ecr]:
    with mock_aws():
        yield Ecr()


def stubbed(service: str = "ecr") -> tuple[Any, Stubber]:
    client = boto3.session.Session(
        aws_access_key_id="AKIAEXAMPLEEXAMPLE00",
        aws_secret_access_key=SECRET,
        region_name="us-east-1",
    ).client(service)
    stubber = Stubber(client)
    stubber.activate()
    return client, stubber


def stub_api(**kwargs: Any) -> tuple[EcrRegistryAPI, Stubber]:
    client, stubber = stubbed()
    return EcrRegistryAPI(
        EcrRegistry(HOST, ACCOUNT, "us-east-1"), lambda: client, **kwargs
    ), stubber


def detail(digest: str, *tags: str, pushed: float = 1_700_000_000) -> dict[str, Any]:
    return {
        "registryId": ACCOUNT,
        "repositoryName": REPO.path,
        "imageDigest": digest,
        "imageTags": list(tags),
        "imagePushedAt": datetime.fromtimestamp(pushed, UTC),
        "imageSizeInBytes": 1234,
        "imageManifestMediaType": OCI_MANIFEST,
    }


def digest_of(seed: str) -> str:
    return manifest(seed)[1]


# -- the hook -----------------------------------------------------------------------------


def test_answers_for_private_ecr_hosts_only() -> None:
    class Untouchable:
        def __getattr__(self, name: str) -> Any:
            raise AssertionError(f"the hook asked boto3 for {name} while deciding")

    plugin = EcrCredentials(session=Untouchable(), hosts={"127.0.0.1:5000": (ACCOUNT, "eu-west-1")})
    api = plugin.ocireg_registry_api(registry=HOST, credentials=lambda repository: None)
    assert isinstance(api, EcrRegistryAPI)
    assert (api.tag_delete, api.manifest_delete, api.listing) == (
        "ecr-batch-delete-image",
        "ecr-batch-delete-image",
        "ecr-describe-images",
    )
    assert api.target == EcrRegistry(HOST, ACCOUNT, "us-east-1")
    assert "tag deletes via ecr-batch-delete-image" in api.describe()
    mapped = plugin.ocireg_registry_api(registry="127.0.0.1:5000", credentials=lambda r: None)
    assert isinstance(mapped, EcrRegistryAPI)
    assert mapped.target == EcrRegistry("127.0.0.1:5000", ACCOUNT, "eu-west-1")
    for other in ("public.ecr.aws", "ecr-public.aws.com", "quay.io", "127.0.0.1:5001"):
        assert plugin.ocireg_registry_api(registry=other, credentials=lambda r: None) is None


@pytest.mark.parametrize("bad", [("12345", "us-east-1"), (ACCOUNT, "")])
def test_hosts_are_checked(bad: tuple[str, str]) -> None:
    with pytest.raises(ValueError, match="12-digit registry id"):
        EcrCredentials(hosts={"127.0.0.1:5000": bad})


def test_handing_out_the_api_does_not_import_boto3() -> None:
    code = textwrap.dedent(
        f"""
        import sys
        from ocireg.client import Client

        client = Client()
        api = client.remote.native_api({HOST!r})
        assert type(api).__name__ == "EcrRegistryAPI", api
        assert client.remote.native_api("quay.io") is None
        loaded = sorted(m for m in sys.modules if m.split(".")[0] in ("boto3", "botocore"))
        print(loaded)
        sys.exit(1 if loaded else 0)
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, env=os.environ
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_client_asks_the_entry_point_plugin_and_blocking_it_turns_it_off() -> None:
    assert isinstance(Client().remote.native_api(HOST), EcrRegistryAPI)
    assert Client(blocked_plugins=("ecr",)).remote.native_api(HOST) is None
    given = EcrCredentials(hosts={"127.0.0.1:5000": (ACCOUNT, "us-east-1")})
    client = Client(plugins=[given])
    assert isinstance(client.remote.native_api("127.0.0.1:5000"), EcrRegistryAPI)
    assert client.remote.native_api("127.0.0.1:5000") is client.remote.native_api("127.0.0.1:5000")


# -- BatchDeleteImage through moto --------------------------------------------------------


def test_deleting_one_of_two_tags_keeps_the_other(ecr: Ecr) -> None:
    shared = ecr.push("one", "old", "keep")
    other = ecr.push("two", "other")

    ecr.api.delete_tag(REPO, "old")

    assert ecr.images() == {shared: ["keep"], other: ["other"]}


def test_deleting_the_last_tag_removes_the_image(ecr: Ecr) -> None:
    gone = ecr.push("one", "only")
    kept = ecr.push("two", "other")

    ecr.api.delete_tag(REPO, "only")

    assert ecr.images() == {kept: ["other"]}
    with pytest.raises(NotFoundError):
        ecr.api.delete_manifest(REPO, gone)


def test_deleting_a_manifest_removes_every_tag_on_it(ecr: Ecr) -> None:
    gone = ecr.push("one", "a", "b")
    kept = ecr.push("two", "c")

    ecr.api.delete_manifest(REPO, gone)

    assert ecr.images() == {kept: ["c"]}


def test_missing_tags_manifests_and_repositories_are_not_found(ecr: Ecr) -> None:
    ecr.push("one", "a")
    with pytest.raises(NotFoundError, match="ImageNotFound") as info:
        ecr.api.delete_tag(REPO, "nope")
    assert (info.value.status, info.value.code) == (404, "ImageNotFound")
    assert HOST in str(info.value) and "team/app:nope" in str(info.value)
    with pytest.raises(NotFoundError):
        ecr.api.delete_manifest(REPO, digest_of("never pushed"))
    with pytest.raises(NotFoundError, match="RepositoryNotFoundException"):
        ecr.api.delete_tag(Reference(HOST, "team/nothing"), "a")
    with pytest.raises(NotFoundError, match="RepositoryNotFoundException"):
        ecr.api.list_tags(Reference(HOST, "team/nothing"))
    # Another account's registry with a repository of that name: ECR is asked with that
    # registryId (moto checks it in DescribeImages; the Stubber tests check every request).
    other = EcrRegistry(HOST.replace(ACCOUNT, "111122223333"), "111122223333", "us-east-1")
    elsewhere = EcrRegistryAPI(other, lambda: ecr.client)
    with pytest.raises(NotFoundError):
        elsewhere.list_tags(Reference(other.host, REPO.path))
    assert ecr.images() == {digest_of("one"): ["a"]}


def test_arguments_are_checked_before_anything_is_sent(ecr: Ecr) -> None:
    ecr.push("one", "a")
    with pytest.raises(InvalidDigestError):
        ecr.api.delete_manifest(REPO, "sha256:not-hex")
    with pytest.raises(InvalidReferenceError):
        ecr.api.delete_tag(REPO, "-bad tag")
    with pytest.raises(ValueError, match="is not on"):
        ecr.api.delete_tag(Reference("quay.io", "team/app"), "a")
    assert ecr.made == 0  # no client was even made
    assert ecr.images() == {digest_of("one"): ["a"]}


def test_concurrent_deletes_share_one_client(ecr: Ecr) -> None:
    digests = {f"t{i}": ecr.push(f"seed{i}", f"t{i}", f"keep{i}") for i in range(8)}
    errors: list[BaseException] = []

    def delete(tag: str) -> None:
        try:
            ecr.api.delete_tag(REPO, tag)
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=delete, args=(tag,)) for tag in digests]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert ecr.made == 1
    assert ecr.images() == {digest: [f"keep{tag[1:]}"] for tag, digest in digests.items()}


# -- DescribeImages -----------------------------------------------------------------------


def test_list_tags_reads_tags_digests_and_push_times(ecr: Ecr) -> None:
    before = datetime.now(UTC).replace(microsecond=0)
    shared = ecr.push("one", "b", "a")
    alone = ecr.push("two", "c")
    text, untagged = manifest("untagged")
    ecr.client.put_image(
        repositoryName=REPO.path,
        imageManifest=text,
        imageDigest=untagged,
        imageManifestMediaType=OCI_MANIFEST,
    )

    records = ecr.api.list_tags(REPO)

    assert [(r.tag, r.digest) for r in records] == [("a", shared), ("b", shared), ("c", alone)]
    for record in records:
        assert record.media_type == OCI_MANIFEST
        assert record.pushed_at is not None and record.pushed_at.tzinfo is UTC
        assert before <= record.pushed_at <= datetime.now(UTC)
        assert record.size == 2  # moto reports the config's size


def test_every_page_is_read_and_the_filter_asks_for_tagged_images() -> None:
    api, stubber = stub_api(page_size=2)
    base = {"registryId": ACCOUNT, "repositoryName": REPO.path, "maxResults": 2}
    wanted = {"tagStatus": "TAGGED", "imageStatus": "ANY"}
    pages = [
        ([detail(digest_of("1"), "v1", "latest"), detail(digest_of("2"), "v2")], "page-2"),
        ([detail(digest_of("3"), "v3"), detail(digest_of("4"), "v4")], "page-3"),
        ([detail(digest_of("5"), "v5", pushed=1_600_000_000)], None),
    ]
    token = None
    for details, next_token in pages:
        answer: dict[str, Any] = {"imageDetails": details}
        if next_token:
            answer["nextToken"] = next_token
        expected = {**base, "filter": wanted, **({"nextToken": token} if token else {})}
        stubber.add_response("describe_images", answer, expected)
        token = next_token

    records = api.list_tags(REPO)

    stubber.assert_no_pending_responses()
    assert [r.tag for r in records] == ["latest", "v1", "v2", "v3", "v4", "v5"]
    assert records[0] == TagRecord(
        "latest", digest_of("1"), datetime.fromtimestamp(1_700_000_000, UTC), 1234, OCI_MANIFEST
    )
    assert records[-1].pushed_at == datetime(2020, 9, 13, 12, 26, 40, tzinfo=UTC)


def test_the_number_of_pages_is_bounded() -> None:
    api, stubber = stub_api(page_size=1, max_pages=3)
    for n in range(3):
        stubber.add_response(
            "describe_images",
            {"imageDetails": [detail(digest_of(str(n)), f"t{n}")], "nextToken": f"p{n}"},
        )
    with pytest.raises(RegistryError, match="more than 3 pages") as info:
        api.list_tags(REPO)
    assert info.value.code == "TooManyPages"
    stubber.assert_no_pending_responses()


@pytest.mark.parametrize(
    ("image", "problem"),
    [
        ({"imageDigest": "sha256:1234", "imageTags": ["a"]}, "invalid digest"),
        ({"imageTags": ["a"]}, "invalid digest"),
        ({"imageDigest": digest_of("x"), "imageTags": ["../../etc"]}, "invalid reference"),
    ],
    ids=["short-digest", "no-digest", "bad-tag"],
)
def test_answers_that_would_go_into_urls_are_checked(image: dict[str, Any], problem: str) -> None:
    api, stubber = stub_api()
    stubber.add_response("describe_images", {"imageDetails": [image]})
    with pytest.raises(RegistryError, match=problem) as info:
        api.list_tags(REPO)
    assert info.value.code == "InvalidAnswer"


def test_a_tag_on_two_images_fails_the_listing() -> None:
    api, stubber = stub_api(page_size=1)
    stubber.add_response(
        "describe_images", {"imageDetails": [detail(digest_of("1"), "moved")], "nextToken": "p"}
    )
    stubber.add_response("describe_images", {"imageDetails": [detail(digest_of("2"), "moved")]})
    with pytest.raises(RegistryError, match="changed while it was listed"):
        api.list_tags(REPO)


# -- failures and AWS errors ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "expected", "status"),
    [
        ("ImageNotFound", NotFoundError, 404),
        ("ImageTagDoesNotMatchDigest", RegistryError, 409),
        ("ImageReferencedByManifestList", StillReferencedError, 409),
        ("InvalidImageTag", RegistryError, 400),
        ("UpstreamAccessDenied", DeniedError, 403),
        ("UpstreamTooManyRequests", TooManyRequestsError, 429),
        ("UpstreamUnavailable", RegistryError, 503),
        ("SomethingNew", RegistryError, 400),
    ],
)
def test_failures_map_to_ocireg_errors(
    code: str, expected: type[RegistryError], status: int
) -> None:
    api, stubber = stub_api()
    stubber.add_response(
        "batch_delete_image",
        {
            "failures": [
                {
                    "imageId": {"imageTag": "old"},
                    "failureCode": code,
                    "failureReason": f"reason of {code}",
                }
            ],
        },
        {"registryId": ACCOUNT, "repositoryName": REPO.path, "imageIds": [{"imageTag": "old"}]},
    )
    with pytest.raises(RegistryError) as info:
        api.delete_tag(REPO, "old")
    assert type(info.value) is expected
    assert (info.value.status, info.value.code, info.value.registry) == (status, code, HOST)
    assert (
        str(info.value) == f"ecr BatchDeleteImage team/app:old on {HOST}: {code}: reason of {code}"
    )
    assert info.value.temporary is (status >= 500 or status == 429)


def test_an_answer_that_deletes_nothing_is_an_error() -> None:
    api, stubber = stub_api()
    stubber.add_response("batch_delete_image", {})
    with pytest.raises(RegistryError, match="NothingDeleted"):
        api.delete_manifest(REPO, digest_of("x"))


@pytest.mark.parametrize(
    ("code", "status", "expected"),
    [
        ("AccessDeniedException", 400, DeniedError),
        ("RepositoryNotFoundException", 400, NotFoundError),
        ("ThrottlingException", 400, TooManyRequestsError),
        ("ServerException", 500, RegistryError),
        ("LimitExceededException", 400, RegistryError),
        ("SomeForbidden", 403, DeniedError),
        ("UnrecognizedClientException", 400, AuthenticationError),
        ("ExpiredTokenException", 400, AuthenticationError),
    ],
)
def test_aws_errors_map_to_ocireg_errors(
    code: str, status: int, expected: type[OciregError]
) -> None:
    api, stubber = stub_api()
    stubber.add_client_error(
        "batch_delete_image",
        service_error_code=code,
        service_message=f"User: arn:aws:iam::{ACCOUNT}:user/ci is not allowed ({code})",
        http_status_code=status,
    )
    with pytest.raises(OciregError) as info:
        api.delete_tag(REPO, "old")
    assert type(info.value) is expected
    assert f"team/app:old on {HOST}" in str(info.value)
    assert info.value.__cause__ is None and info.value.__suppress_context__
    if isinstance(info.value, RegistryError):
        assert info.value.code == code
        assert info.value.operation == "ecr BatchDeleteImage"


def test_no_aws_credentials_is_an_authentication_error() -> None:
    # The isolated environment holds no AWS credentials and no metadata service.
    api = EcrCredentials(hosts={"127.0.0.1:9": (ACCOUNT, "us-east-1")}).ocireg_registry_api(
        registry="127.0.0.1:9", credentials=lambda r: None
    )
    assert api is not None
    with pytest.raises(AuthenticationError, match="no usable AWS credentials"):
        api.list_tags(Reference("127.0.0.1:9", "team/app"))


def test_an_unreachable_endpoint_is_a_transport_error(aws_env: None) -> None:
    plugin = EcrCredentials(
        endpoint_url="http://127.0.0.1:9", hosts={"127.0.0.1:9": (ACCOUNT, "us-east-1")}
    )
    api = plugin.ocireg_registry_api(registry="127.0.0.1:9", credentials=lambda r: None)
    assert api is not None
    where = r"ecr DescribeImages team/app on 127\.0\.0\.1:9"
    with pytest.raises(TransportError, match=where) as info:
        api.list_tags(Reference("127.0.0.1:9", "team/app"))
    assert "fake-secret-key" not in str(info.value)


def test_messages_hold_no_secret() -> None:
    api, stubber = stub_api()
    stubber.add_client_error("describe_images", service_error_code="AccessDeniedException")
    with pytest.raises(DeniedError) as info:
        api.list_tags(REPO)
    seen = f"{info.value!s} {info.value!r} {info.value.errors!r} {info.value.__context__!r}"
    assert SECRET not in seen and "AKIAEXAMPLE" not in seen
