"""The GitHub Packages REST API, for GHCR (whose registry API cannot delete).

Reference: GitHub REST API "REST API endpoints for packages",
https://docs.github.com/rest/packages/packages (API version ``2022-11-28``, read 2025-06):

* ``GET /orgs/{org}/packages/container/{package_name}/versions`` (``/users/{username}/...``
  for a user's package), ``per_page`` at most 100, paged with ``Link``; each version has
  ``id``, ``name`` (the manifest digest), ``created_at``, ``updated_at`` and
  ``metadata.container.tags``;
* ``DELETE .../versions/{package_version_id}`` answers 204 and removes the version: the
  digest with every tag on it;
* the package name is the repository path after the owner, URL-encoded (``a/b`` ->
  ``a%2Fb``);
* tokens need ``read:packages`` (and ``delete:packages`` to delete); rate limits answer 403
  or 429 with ``x-ratelimit-remaining: 0`` and ``x-ratelimit-reset``, or ``retry-after``.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import datetime
from urllib.parse import quote

from ocireg.errors import AuthenticationError, NotFoundError, RegistryError
from ocireg.reference import Reference
from ocireg.registry_api import RegistryAPI, TagRecord
from ocireg.webapi import MAX_PAGES, WebAPI, next_link, parse_digest, parse_time

__all__ = ["API_VERSION", "DEFAULT_API_URL", "GitHubPackagesAPI"]

DEFAULT_API_URL = "https://api.github.com"
API_VERSION = "2022-11-28"
PAGE_SIZE = 100
#: ``(digest, tags, created_at)`` of one package version.
_Version = tuple[str, list[str], datetime | None]


class GitHubPackagesAPI(RegistryAPI):
    """Manifest deletes (package versions) and tag listings of GHCR packages.

    :param token: finds a GitHub token with ``read:packages`` / ``delete:packages`` (or
        None), asked at the first call; without one every call is an
        :class:`~ocireg.errors.AuthenticationError` (the packages API needs a token even for
        public packages).
    :param web: the HTTP side (base URL, session, rate-limit wait).
    """

    name = "GitHub Packages API"
    manifest_delete = "github-api"
    listing = "github-api"

    def __init__(self, token: Callable[[], str | None], web: WebAPI, *, page_size: int = PAGE_SIZE):
        self._find_token = token
        self._token: str | None = None
        self._web = web
        self._page_size = page_size
        self._owner_kind: dict[str, str] = {}  # owner -> "orgs" | "users"
        self._ids: dict[tuple[str, str], int] = {}  # (path, digest) -> version id
        self._lock = threading.Lock()

    # -- RegistryAPI -----------------------------------------------------------------------

    def list_tags(self, repository: Reference) -> list[TagRecord]:
        records: dict[str, TagRecord] = {}
        for version in self._versions(repository):
            digest, tags, created = version
            for tag in tags:
                records[tag] = TagRecord(tag=tag, digest=digest, pushed_at=created)
        return sorted(records.values(), key=lambda r: r.tag)

    def delete_manifest(self, repository: Reference, digest: str) -> None:
        digest = parse_digest(digest, "delete_manifest")
        what = f"delete {repository.path}@{digest}"
        version_id = self._ids.get((repository.path, digest))
        if version_id is None:
            for _ in self._versions(repository):
                pass  # fills self._ids
            version_id = self._ids.get((repository.path, digest))
        if version_id is None:
            raise NotFoundError(
                f"{self.name}: {what}: no package version has that digest",
                status=404,
                registry=self._web.registry,
            )
        url = f"{self._versions_path(repository)}/{version_id}"
        self._web.call("DELETE", url, what=what, headers=self._headers(), ok=(204,)).close()
        with self._lock:
            self._ids.pop((repository.path, digest), None)

    # -- helpers ---------------------------------------------------------------------------

    def _headers(self) -> dict[str, str]:
        if self._token is None:
            self._token = self._find_token() or ""
            self._web.add_secret(self._token)
        if not self._token:
            raise AuthenticationError(
                f"{self.name}: no token for {self._web.registry}: set GITHUB_TOKEN (or GH_TOKEN,"
                " OCIREG_GITHUB_TOKEN), or docker login ghcr.io with a personal access token"
            )
        return {
            "Authorization": f"Bearer {self._token}",
            "Accept": "application/vnd.github+json",
            "X-GitHub-Api-Version": API_VERSION,
        }

    def _package(self, repository: Reference) -> tuple[str, str]:
        owner, _, package = repository.path.partition("/")
        if not package:
            raise NotFoundError(
                f"{self.name}: {repository.path} names no package under an owner",
                status=404,
                registry=self._web.registry,
            )
        return quote(owner, safe=""), quote(package, safe="")

    def _versions_path(self, repository: Reference) -> str:
        owner, package = self._package(repository)
        kind = self._owner_kind.get(owner, "orgs")
        return f"/{kind}/{owner}/packages/container/{package}/versions"

    def _versions(self, repository: Reference) -> list[_Version]:
        """Every version as ``(digest, tags, created_at)``; learns whether the owner is an
        organisation or a user (the first 404 on ``/orgs/`` tries ``/users/``)."""
        what = f"list versions of {repository.path}"
        owner, _ = self._package(repository)
        try:
            return self._read_versions(repository, what)
        except NotFoundError:
            if owner in self._owner_kind:
                raise
            self._owner_kind[owner] = "users"
            try:
                return self._read_versions(repository, what)
            except NotFoundError:
                del self._owner_kind[owner]
                raise

    def _read_versions(self, repository: Reference, what: str) -> list[_Version]:
        url: str | None = self._versions_path(repository)
        params: dict[str, str] | None = {"per_page": str(self._page_size), "state": "active"}
        out: list[_Version] = []
        ids: dict[tuple[str, str], int] = {}
        for _ in range(MAX_PAGES):
            if url is None:
                owner, _ = self._package(repository)
                self._owner_kind.setdefault(owner, "orgs")
                with self._lock:
                    self._ids.update(ids)
                return out
            resp = self._web.call("GET", url, what=what, headers=self._headers(), params=params)
            body = self._web.json(resp, what)
            if not isinstance(body, list):
                raise RegistryError(f"{self.name}: {what}: not a list of versions", status=200)
            for item in body:
                digest, tags, version_id, created = self._version(item, what)
                ids[(repository.path, digest)] = version_id
                out.append((digest, tags, created))
            url, params = self._web.next_page(resp, next_link(resp)), None
        raise RegistryError(f"{self.name}: {what}: more than {MAX_PAGES} pages", status=200)

    def _version(self, item: object, what: str) -> tuple[str, list[str], int, datetime | None]:
        if not isinstance(item, dict) or not isinstance(item.get("id"), int):
            raise RegistryError(f"{self.name}: {what}: a version without an id", status=200)
        digest = parse_digest(item.get("name"), f"{self.name}: {what}: version {item['id']}")
        metadata = item.get("metadata")
        container = metadata.get("container") if isinstance(metadata, dict) else None
        tags = container.get("tags") if isinstance(container, dict) else None
        if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
            raise RegistryError(
                f"{self.name}: {what}: version {item['id']} has no container tags list",
                status=200,
            )
        created = parse_time(item.get("created_at")) or parse_time(item.get("updated_at"))
        return digest, list(tags), item["id"], created
