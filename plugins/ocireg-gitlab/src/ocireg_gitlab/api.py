"""GitLab's container registry API, for tag deletes and tag listings.

Reference: GitLab REST API "Container registry API", https://docs.gitlab.com/api/container_registry/
(GitLab 18.x documentation, API v4, read 2025-06):

* ``GET /projects/:id/registry/repositories`` lists a project's registry repositories
  (``id``, ``name``, ``path``, ``project_id``), paged (``page``/``per_page`` at most 100,
  ``Link`` and ``X-Next-Page``); ``:id`` is a project id or its URL-encoded path;
* ``GET /projects/:id/registry/repositories/:repository_id/tags`` lists tag names (paged);
  ``GET .../tags/:tag_name`` gives ``digest``, ``created_at`` and ``total_size``;
* ``DELETE .../tags/:tag_name`` removes that tag (200);
* authentication with a ``PRIVATE-TOKEN`` header (a personal, project or group access token
  with ``api`` scope); rate limits answer 429 with ``Retry-After`` and ``RateLimit-Reset``.

A registry path ``group/sub/project/image`` belongs to the project with the longest prefix
that has a registry repository of exactly that ``path``; the lookup is cached.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

from ocireg.errors import AuthenticationError, NotFoundError, RegistryError
from ocireg.reference import TAG_PATTERN, Reference
from ocireg.registry_api import RegistryAPI, TagRecord
from ocireg.webapi import MAX_PAGES, WebAPI, next_link, parse_digest, parse_time

__all__ = ["GitLabRegistryAPI"]

PAGE_SIZE = 100


class GitLabRegistryAPI(RegistryAPI):
    """Tag deletes and tag listings through GitLab's API (``<gitlab>/api/v4``).

    :param token: finds the ``PRIVATE-TOKEN`` (asked at the first call).
    :param web: the HTTP side, its base URL the API root (``https://gitlab.com/api/v4``).
    """

    name = "GitLab container registry API"
    tag_delete = "gitlab-api"
    listing = "gitlab-api"

    def __init__(self, token: Callable[[], str | None], web: WebAPI, *, page_size: int = PAGE_SIZE):
        self._find_token = token
        self._token: str | None = None
        self._web = web
        self._page_size = page_size
        self._repos: dict[
            str, str
        ] = {}  # registry path -> "/projects/<id>/registry/repositories/<id>"
        self._lock = threading.Lock()

    # -- RegistryAPI -----------------------------------------------------------------------

    def delete_tag(self, repository: Reference, tag: str) -> None:
        if not TAG_PATTERN.fullmatch(tag):
            raise ValueError(f"not a tag: {tag!r}")
        what = f"delete tag {repository.path}:{tag}"
        url = f"{self._repository(repository)}/tags/{quote(tag, safe='')}"
        self._web.call(
            "DELETE", url, what=what, headers=self._headers(), ok=(200, 202, 204)
        ).close()

    def list_tags(self, repository: Reference) -> list[TagRecord]:
        base = self._repository(repository)
        what = f"list tags of {repository.path}"
        names = [item.get("name") for item in self._pages(f"{base}/tags", what)]
        records = []
        for name in sorted({n for n in names if isinstance(n, str)}):
            if not TAG_PATTERN.fullmatch(name):
                raise RegistryError(f"{self.name}: {what}: {name!r} is no tag", status=200)
            records.append(self._details(base, repository, name))
        return records

    # -- helpers ---------------------------------------------------------------------------

    def _headers(self) -> dict[str, str]:
        if self._token is None:
            self._token = self._find_token() or ""
            self._web.add_secret(self._token)
        if not self._token:
            raise AuthenticationError(
                f"{self.name}: no token for {self._web.registry}: set OCIREG_GITLAB_TOKEN (or"
                " GITLAB_TOKEN), or docker login with an access token of scope api"
            )
        return {"PRIVATE-TOKEN": self._token}

    def _details(self, base: str, repository: Reference, tag: str) -> TagRecord:
        what = f"get tag {repository.path}:{tag}"
        resp = self._web.call(
            "GET", f"{base}/tags/{quote(tag, safe='')}", what=what, headers=self._headers()
        )
        body = self._web.json(resp, what)
        if not isinstance(body, dict):
            raise RegistryError(f"{self.name}: {what}: not an object", status=200)
        size = body.get("total_size")
        return TagRecord(
            tag=tag,
            digest=parse_digest(body.get("digest"), f"{self.name}: {what}"),
            pushed_at=parse_time(body.get("created_at")),
            size=size if isinstance(size, int) and not isinstance(size, bool) else None,
        )

    def _pages(self, path: str, what: str) -> list[dict[str, Any]]:
        url: str | None = path
        params: dict[str, str] | None = {"per_page": str(self._page_size)}
        items: list[dict[str, Any]] = []
        for _ in range(MAX_PAGES):
            if url is None:
                return items
            resp = self._web.call("GET", url, what=what, headers=self._headers(), params=params)
            body = self._web.json(resp, what)
            if not isinstance(body, list):
                raise RegistryError(f"{self.name}: {what}: not a list", status=200)
            items += [item for item in body if isinstance(item, dict)]
            url, params = self._web.next_page(resp, next_link(resp)), None
        raise RegistryError(f"{self.name}: {what}: more than {MAX_PAGES} pages", status=200)

    def _repository(self, repository: Reference) -> str:
        """The API path of the registry repository ``repository.path``, found once."""
        path = repository.path
        with self._lock:
            known = self._repos.get(path)
        if known:
            return known
        parts = path.split("/")
        for end in range(len(parts), 1, -1):
            project = "/".join(parts[:end])
            try:
                found = self._pages(
                    f"/projects/{quote(project, safe='')}/registry/repositories",
                    f"find registry repository {path}",
                )
            except NotFoundError:
                continue  # no such project: a shorter prefix may be one
            for item in found:
                if (
                    item.get("path") == path
                    and _is_id(item.get("id"))
                    and _is_id(item.get("project_id"))
                ):
                    api_path = f"/projects/{item['project_id']}/registry/repositories/{item['id']}"
                    with self._lock:
                        self._repos[path] = api_path
                    return api_path
        raise NotFoundError(
            f"{self.name}: no project has a registry repository {path}",
            status=404,
            registry=self._web.registry,
        )


def _is_id(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)
