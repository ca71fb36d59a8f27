"""Harbor's v2.0 API, for tag deletes and tag listings.

Reference: Harbor API v2.0 swagger, https://github.com/goharbor/harbor/blob/main/api/v2.0/swagger.yaml
(Harbor 2.x, read 2025-06):

* ``GET /api/v2.0/projects/{project_name}/repositories/{repository_name}/artifacts``
  (``page``, ``page_size`` at most 100, ``with_tag=true``; ``Link`` and ``X-Total-Count``)
  answers artifacts with ``digest``, ``push_time``, ``size``, ``manifest_media_type`` and
  ``tags`` (each ``name``, ``push_time``);
* ``DELETE .../artifacts/{reference}/tags/{tag_name}`` removes one tag (200); the reference
  may be the tag itself;
* ``repository_name`` is the path after the project, URL-encoded twice when it holds a
  slash (``a/b`` -> ``a%252Fb``); errors are ``{"errors": [{"code", "message"}]}``;
* Basic auth with a Harbor user or robot account (the registry's credentials).
"""

from __future__ import annotations

from urllib.parse import quote

from ocireg.auth.credentials import BasicCredentials
from ocireg.auth.token import basic_header
from ocireg.errors import NotFoundError, RegistryError
from ocireg.reference import TAG_PATTERN, Reference
from ocireg.registry_api import CredentialLookup, RegistryAPI, TagRecord
from ocireg.webapi import MAX_PAGES, WebAPI, next_link, parse_digest, parse_time

__all__ = ["HarborAPI"]

PAGE_SIZE = 100


class HarborAPI(RegistryAPI):
    """Tag deletes and tag listings of one Harbor instance.

    :param credentials: the client's credential chain for the registry (asked per
        repository; Basic credentials are sent, anything else goes anonymous).
    :param web: the HTTP side, its base URL the Harbor origin (``https://harbor.example``).
    """

    name = "Harbor API"
    tag_delete = "harbor-api"
    listing = "harbor-api"

    def __init__(self, credentials: CredentialLookup, web: WebAPI, *, page_size: int = PAGE_SIZE):
        self._credentials = credentials
        self._web = web
        self._page_size = page_size

    def delete_tag(self, repository: Reference, tag: str) -> None:
        if not TAG_PATTERN.fullmatch(tag):
            raise ValueError(f"not a tag: {tag!r}")
        what = f"delete tag {repository.path}:{tag}"
        url = f"{self._artifacts(repository)}/{tag}/tags/{tag}"
        headers = self._headers(repository)
        self._web.call("DELETE", url, what=what, headers=headers, ok=(200, 202, 204)).close()

    def list_tags(self, repository: Reference) -> list[TagRecord]:
        what = f"list artifacts of {repository.path}"
        url: str | None = self._artifacts(repository)
        params: dict[str, str] | None = {
            "page": "1",
            "page_size": str(self._page_size),
            "with_tag": "true",
        }
        headers = self._headers(repository)
        records: dict[str, TagRecord] = {}
        for _ in range(MAX_PAGES):
            if url is None:
                return sorted(records.values(), key=lambda r: r.tag)
            resp = self._web.call("GET", url, what=what, headers=headers, params=params)
            body = self._web.json(resp, what)
            if not isinstance(body, list):
                raise RegistryError(f"{self.name}: {what}: not a list of artifacts", status=200)
            for artifact in body:
                for record in self._records(artifact, what):
                    records[record.tag] = record
            url, params = self._web.next_page(resp, next_link(resp)), None
        raise RegistryError(f"{self.name}: {what}: more than {MAX_PAGES} pages", status=200)

    def _records(self, artifact: object, what: str) -> list[TagRecord]:
        if not isinstance(artifact, dict):
            raise RegistryError(f"{self.name}: {what}: an artifact that is no object", status=200)
        digest = parse_digest(artifact.get("digest"), f"{self.name}: {what}")
        size = artifact.get("size")
        media_type = artifact.get("manifest_media_type") or artifact.get("media_type")
        out = []
        for tag in artifact.get("tags") or []:
            name = tag.get("name") if isinstance(tag, dict) else None
            if not isinstance(name, str) or not TAG_PATTERN.fullmatch(name):
                raise RegistryError(f"{self.name}: {what}: a tag without a valid name", status=200)
            out.append(
                TagRecord(
                    tag=name,
                    digest=digest,
                    pushed_at=parse_time(artifact.get("push_time")),
                    size=size if isinstance(size, int) and not isinstance(size, bool) else None,
                    media_type=media_type if isinstance(media_type, str) else None,
                )
            )
        return out

    def _artifacts(self, repository: Reference) -> str:
        project, _, rest = repository.path.partition("/")
        if not rest:
            raise NotFoundError(
                f"{self.name}: {repository.path} names no repository inside a project",
                status=404,
                registry=self._web.registry,
            )
        name = quote(quote(rest, safe=""), safe="")
        return f"/api/v2.0/projects/{quote(project, safe='')}/repositories/{name}/artifacts"

    def _headers(self, repository: Reference) -> dict[str, str]:
        creds = self._credentials(repository.path)
        if not isinstance(creds, BasicCredentials):
            return {}
        self._web.add_secret(creds.password)
        return {"Authorization": basic_header(creds)}
