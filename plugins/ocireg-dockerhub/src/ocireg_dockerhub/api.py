"""Docker Hub's own API (``hub.docker.com``), for what the registry API refuses.

Reference: Docker Hub API, https://docs.docker.com/reference/api/hub/latest/ (read
2025-06; "Docker HUB API" v2-beta, the ``/v2/repositories/{namespace}/{repository}/tags``
endpoints and ``/v2/users/login``):

* ``POST /v2/users/login`` with ``{"username", "password"}`` (the password or a personal
  access token) answers ``{"token": <JWT>}``, sent as ``Authorization: Bearer <JWT>``;
* ``GET /v2/repositories/{namespace}/{repository}/tags?page_size=N`` answers ``{"count",
  "next", "previous", "results": [{"name", "digest", "tag_last_pushed", "last_updated",
  "full_size", "media_type", ...}]}``, ``next`` the absolute URL of the next page;
* ``DELETE /v2/repositories/{namespace}/{repository}/tags/{tag}/`` answers 204 and removes
  that tag only (the image stays, untagged);
* rate limits: 429 with ``X-RateLimit-Reset`` (epoch seconds) or ``Retry-After``.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING
from urllib.parse import quote

from ocireg.auth.credentials import BasicCredentials
from ocireg.errors import AuthenticationError, NotFoundError, RegistryError
from ocireg.limits import TOKEN_BODY_LIMIT
from ocireg.reference import TAG_PATTERN, Reference
from ocireg.registry_api import CredentialLookup, RegistryAPI, TagRecord
from ocireg.webapi import MAX_PAGES, WebAPI, parse_digest, parse_time

if TYPE_CHECKING:
    from ocireg import wire


__all__ = ["DEFAULT_API_URL", "DockerHubAPI"]

DEFAULT_API_URL = "https://hub.docker.com"
PAGE_SIZE = 100


class DockerHubAPI(RegistryAPI):
    """Tag deletes and tag listings of one Docker Hub account's view.

    :param credentials: the client's credential chain for the registry; asked (with no
        repository) at the first call that needs a login. Basic credentials only: a user
        name with a password or, better, a personal access token.
    :param web: the HTTP side (base URL, session, rate-limit wait).
    """

    name = "Docker Hub API"
    tag_delete = "hub-api"
    listing = "hub-api"

    def __init__(self, credentials: CredentialLookup, web: WebAPI, *, page_size: int = PAGE_SIZE):
        self._credentials = credentials
        self._web = web
        self._page_size = page_size
        self._token: str | None = None
        self._lock = threading.Lock()

    # -- RegistryAPI -----------------------------------------------------------------------

    def delete_tag(self, repository: Reference, tag: str) -> None:
        if not TAG_PATTERN.fullmatch(tag):
            raise ValueError(f"not a tag: {tag!r}")
        what = f"delete tag {repository.path}:{tag}"
        path = f"{self._repo_path(repository)}/tags/{quote(tag, safe='')}/"
        self._authorized("DELETE", path, what, ok=(200, 202, 204), login=True).close()

    def list_tags(self, repository: Reference) -> list[TagRecord]:
        what = f"list tags of {repository.path}"
        url: str | None = self._web.url(f"{self._repo_path(repository)}/tags")
        params: dict[str, str] | None = {"page_size": str(self._page_size)}
        records: dict[str, TagRecord] = {}
        for _ in range(MAX_PAGES):
            if url is None:
                return sorted(records.values(), key=lambda r: r.tag)
            resp = self._authorized("GET", url, what, params=params)
            body = self._web.json(resp, what)
            results = body.get("results") if isinstance(body, dict) else None
            if not isinstance(results, list):
                raise RegistryError(f"{self.name}: {what}: no results list", status=200)
            for item in results:
                record = self._record(item, what)
                records[record.tag] = record
            url, params = self._web.next_page(resp, body.get("next")), None
        raise RegistryError(f"{self.name}: {what}: more than {MAX_PAGES} pages", status=200)

    # -- helpers ---------------------------------------------------------------------------

    def _repo_path(self, repository: Reference) -> str:
        parts = repository.path.split("/")
        if len(parts) != 2:
            raise NotFoundError(
                f"{self.name}: {repository.path} is no namespace/repository name",
                status=404,
                registry=self._web.registry,
            )
        namespace, name = (quote(p, safe="") for p in parts)
        return f"/v2/repositories/{namespace}/{name}"

    def _record(self, item: object, what: str) -> TagRecord:
        if not isinstance(item, dict) or not isinstance(item.get("name"), str):
            raise RegistryError(f"{self.name}: {what}: a result without a name", status=200)
        tag = item["name"]
        if item.get("digest") is None:
            # Fail closed: a tag we cannot place might hold an image another tag needs.
            raise RegistryError(f"{self.name}: {what}: tag {tag!r} has no digest", status=200)
        size = item.get("full_size")
        media_type = item.get("media_type")
        return TagRecord(
            tag=tag,
            digest=parse_digest(item["digest"], f"{self.name}: {what}: tag {tag!r}"),
            pushed_at=parse_time(item.get("tag_last_pushed"))
            or parse_time(item.get("last_updated")),
            size=size if isinstance(size, int) and not isinstance(size, bool) else None,
            media_type=media_type if isinstance(media_type, str) and media_type else None,
        )

    def _authorized(
        self,
        method: str,
        url: str,
        what: str,
        *,
        params: dict[str, str] | None = None,
        ok: tuple[int, ...] = (200,),
        login: bool = False,
    ) -> wire.Response:
        """One call with the JWT (logging in first when ``login`` or when credentials are
        configured); a 401 with a cached JWT logs in again once."""
        token = self._login(required=login)
        try:
            return self._web.call(
                method, url, what=what, headers=_bearer(token), params=params, ok=ok
            )
        except AuthenticationError:
            if token is None:
                raise
            with self._lock:
                if self._token == token:
                    self._token = None
            token = self._login(required=True)
            return self._web.call(
                method, url, what=what, headers=_bearer(token), params=params, ok=ok
            )

    def _login(self, *, required: bool) -> str | None:
        with self._lock:
            if self._token is not None:
                return self._token
            creds = self._credentials(None)
            if not isinstance(creds, BasicCredentials):
                if required:
                    raise AuthenticationError(
                        f"{self.name}: no user name and password or personal access token"
                        f" for {self._web.registry} (docker login, or"
                        " OCIREG_DOCKER_IO_USERNAME/_PASSWORD)"
                    )
                return None  # public repositories list anonymously
            self._web.add_secret(creds.password)
            resp = self._web.call(
                "POST",
                "/v2/users/login",
                what=f"login as {creds.username!r}",
                json_body={"username": creds.username, "password": creds.password},
            )
            body = self._web.json(resp, "login", TOKEN_BODY_LIMIT)
            token = body.get("token") if isinstance(body, dict) else None
            if not isinstance(token, str) or not token or not token.isprintable():
                raise AuthenticationError(f"{self.name}: the login answer holds no token")
            self._web.add_secret(token)
            self._token = token
            return token


def _bearer(token: str | None) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"} if token else {}
