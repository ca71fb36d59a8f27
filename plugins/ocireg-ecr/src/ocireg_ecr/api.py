"""Amazon ECR's own API for deletes and listings: ``BatchDeleteImage`` and ``DescribeImages``.

ECR's Registry HTTP API deletes no tag by name; its API does. ``BatchDeleteImage`` with an
``imageTag`` removes exactly that tag, and the image goes with its last tag; with an
``imageDigest`` it removes the image with every tag on it. ``DescribeImages`` lists the
images of a repository with their tags, digest, push time, size and media type, a page at a
time. A missing image is not an AWS error but an entry in the answer's ``failures``.

Calls are signed with the AWS identity of the plugin's boto3 session (the one its credential
provider uses) and sent to the registry's account (``registryId``) and region, parsed from
the host. boto3 is loaded on the first call, not when the API is handed out.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, datetime
from typing import Any

from ocireg.digest import Digest
from ocireg.errors import InvalidDigestError, InvalidReferenceError, RegistryError
from ocireg.reference import Reference
from ocireg.registry_api import RegistryAPI, TagRecord

from .aws_errors import Where, botocore_error, client_error, failure_error
from .hosts import EcrRegistry

__all__ = ["DEFAULT_MAX_PAGES", "DEFAULT_PAGE_SIZE", "EcrRegistryAPI"]

#: ``maxResults`` of ``DescribeImages`` (ECR's largest).
DEFAULT_PAGE_SIZE = 1000
#: The most ``DescribeImages`` pages read for one listing (a million images at 1000 a page).
DEFAULT_MAX_PAGES = 1000


class EcrRegistryAPI(RegistryAPI):
    """ECR's API for one private registry (an account in a region).

    :param target: the registry (account and region), from
        :func:`~ocireg_ecr.hosts.parse_host` or the plugin's ``hosts``.
    :param client_factory: makes the boto3 ``ecr`` client; called once, on the first call.
    :param page_size: ``maxResults`` of each ``DescribeImages`` page (1 to 1000).
    :param max_pages: the most pages one listing reads before it fails.

    Safe to use from several threads at once (boto3 clients are thread-safe).
    """

    name = "Amazon ECR API"
    tag_delete = "ecr-batch-delete-image"
    manifest_delete = "ecr-batch-delete-image"
    listing = "ecr-describe-images"

    def __init__(
        self,
        target: EcrRegistry,
        client_factory: Callable[[], Any],
        *,
        page_size: int = DEFAULT_PAGE_SIZE,
        max_pages: int = DEFAULT_MAX_PAGES,
    ) -> None:
        if target.account is None:
            raise ValueError("EcrRegistryAPI serves private ECR registries, not ECR Public")
        if not 1 <= page_size <= 1000 or max_pages < 1:
            raise ValueError("page_size must be 1 to 1000 and max_pages at least 1")
        self.target = target
        self.page_size = page_size
        self.max_pages = max_pages
        self._factory = client_factory
        self._client: Any = None
        self._lock = threading.Lock()

    def describe(self) -> str:
        return (
            f"{super().describe()} (account {self.target.account}, {self.target.region},"
            " AWS identity of the ecr plugin's boto3 session)"
        )

    # -- RegistryAPI -----------------------------------------------------------------------

    def delete_tag(self, repository: Reference, tag: str) -> None:
        name = self._name(repository)
        repository.with_tag(tag)  # the tag grammar, before it goes to AWS
        where = Where("BatchDeleteImage", f"{name}:{tag}", self.target.host)
        self._batch_delete(name, {"imageTag": tag}, where)

    def delete_manifest(self, repository: Reference, digest: str) -> None:
        name = self._name(repository)
        parsed = str(Digest.parse(digest))
        where = Where("BatchDeleteImage", f"{name}@{parsed}", self.target.host)
        self._batch_delete(name, {"imageDigest": parsed}, where)

    def list_tags(self, repository: Reference) -> list[TagRecord]:
        name = self._name(repository)
        where = Where("DescribeImages", name, self.target.host)
        found: dict[str, TagRecord] = {}
        for detail in self._images(name, where):
            for record in _records(repository, detail, where):
                seen = found.setdefault(record.tag, record)
                if seen.digest != record.digest:  # the tag moved between two pages
                    raise where.error(
                        RegistryError,
                        409,
                        "ListingChanged",
                        f"tag {record.tag!r} listed on two images; the repository changed"
                        " while it was listed",
                    )
        return sorted(found.values(), key=lambda record: record.tag)

    # -- calls -----------------------------------------------------------------------------

    def _batch_delete(self, name: str, image_id: dict[str, str], where: Where) -> None:
        answer = self._call("batch_delete_image", where, repositoryName=name, imageIds=[image_id])
        failures = answer.get("failures") or []
        if failures:
            raise failure_error(failures[0], where)
        if not answer.get("imageIds"):
            raise where.error(RegistryError, 200, "NothingDeleted", "ECR reported no image")

    def _images(self, name: str, where: Where) -> Iterator[Mapping[str, Any]]:
        """Every tagged image, page after page, at most :attr:`max_pages` pages."""
        request: dict[str, Any] = {
            "repositoryName": name,
            "maxResults": self.page_size,
            "filter": self._filter(),
        }
        for _ in range(self.max_pages):
            answer = self._call("describe_images", where, **request)
            details = answer.get("imageDetails") or []
            yield from (detail for detail in details if isinstance(detail, Mapping))
            token = answer.get("nextToken")
            if not token:
                return
            request["nextToken"] = token
        raise where.error(
            RegistryError, 200, "TooManyPages", f"more than {self.max_pages} pages; stopping"
        )

    def _filter(self) -> dict[str, str]:
        # Archived images keep their tags: list them too (``imageStatus`` ANY), so no tag is
        # missed; a boto3 older than ECR's archive tier does not know the field.
        known = self._ecr().meta.service_model.shape_for("DescribeImagesFilter").members
        return {"tagStatus": "TAGGED", **({"imageStatus": "ANY"} if "imageStatus" in known else {})}

    def _call(self, method: str, where: Where, **params: Any) -> Mapping[str, Any]:
        from botocore.exceptions import BotoCoreError, ClientError

        client = self._ecr()
        try:
            answer = getattr(client, method)(registryId=self.target.account, **params)
        except ClientError as exc:
            raise client_error(exc, where) from None
        except BotoCoreError as exc:
            raise botocore_error(exc, where) from None
        return answer if isinstance(answer, Mapping) else {}

    def _ecr(self) -> Any:
        with self._lock:
            if self._client is None:
                self._client = self._factory()
            return self._client

    def _name(self, repository: Reference) -> str:
        """``repository``'s ECR repository name; it must be on this API's registry."""
        if repository.domain.lower() != self.target.host:
            raise ValueError(f"{repository.repository} is not on {self.target.host}")
        return repository.path


def _records(repository: Reference, detail: Mapping[str, Any], where: Where) -> Iterator[TagRecord]:
    """One :class:`TagRecord` per tag of one ``imageDetails`` entry, checked: ECR's answer
    goes into ``/v2/`` URLs later."""
    try:
        raw = detail.get("imageDigest")
        digest = str(Digest.parse(raw if isinstance(raw, str) else ""))
        tags = [str(tag) for tag in detail.get("imageTags") or []]
        for tag in tags:
            repository.with_tag(tag)
    except (InvalidDigestError, InvalidReferenceError) as exc:
        raise where.error(RegistryError, 200, "InvalidAnswer", str(exc)) from None
    pushed = detail.get("imagePushedAt")
    size = detail.get("imageSizeInBytes")
    media_type = detail.get("imageManifestMediaType")
    for tag in tags:
        yield TagRecord(
            tag=tag,
            digest=digest,
            pushed_at=_utc(pushed) if isinstance(pushed, datetime) else None,
            size=size if isinstance(size, int) and not isinstance(size, bool) else None,
            media_type=media_type if isinstance(media_type, str) else None,
        )


def _utc(moment: datetime) -> datetime:
    """botocore gives aware datetimes (local zone); a naive one is taken as UTC."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
