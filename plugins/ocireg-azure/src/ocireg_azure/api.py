"""Azure Container Registry's data-plane API (``/acr/v1/``), for tag deletes and listings.

Reference: "Azure Container Registry REST API", data plane, version 2021-07-01
(https://learn.microsoft.com/en-us/rest/api/containerregistry/; its swagger is
``specification/containerregistry/data-plane/Azure.ContainerRegistry/stable/2021-07-01/
containerregistry.json`` in Azure/azure-rest-api-specs), read 2025-06:

* ``GET /acr/v1/{name}/_tags?n=&last=&orderby=`` (Tag - Get List) answers ``{"registry",
  "imageName", "tags": [{"name", "digest", "createdTime", "lastUpdateTime", "signed",
  "changeableAttributes": {"deleteEnabled", "writeEnabled", "readEnabled",
  "listEnabled"}}]}``; the next page is the ``Link`` header's ``rel="next"``, and a page holds
  the tags lexically after ``last`` (the default order, used here: a moved or deleted tag
  cannot shift a name marker, so no tag is skipped);
* ``GET /acr/v1/{name}/_manifests?n=&last=`` (Manifests - Get List) answers ``{"registry",
  "imageName", "manifests": [{"digest", "imageSize", "mediaType", "createdTime",
  "lastUpdateTime", "tags", "changeableAttributes", ...}]}``, paged the same way: it gives
  each tag's media type and size, which the tag list lacks and the deletion engine needs
  to believe a listing instead of a ``HEAD`` per tag;
* ``DELETE /acr/v1/{name}/_tags/{reference}`` (Tag - Delete) answers 202 and removes that
  tag only (the manifest stays, untagged), 404 for an unknown tag;
* ``GET /acr/v1/{name}/_tags/{reference}``, ``GET /acr/v1/{name}/_manifests/{digest}`` and
  ``GET /acr/v1/{name}`` answer the ``changeableAttributes`` of the tag (under ``"tag"``), the
  manifest (under ``"manifest"``) and the repository; ``writeEnabled`` or ``deleteEnabled``
  false on any of them is a lock, and deletes are refused ("The operation is disallowed on
  this registry, repository or image.");
* auth (Authentication - Exchange ACR Refresh Token for ACR Access Token / Get ACR Access
  Token from login): a 401 carries ``WWW-Authenticate: Bearer realm="https://<registry>/
  oauth2/token",service="<registry>",scope="repository:<name>:<action>"``; ``POST
  /oauth2/token`` (``grant_type=refresh_token``, ``service``, ``scope``, ``refresh_token``)
  or ``GET /oauth2/token?service=&scope=`` with Basic credentials answers ``{"access_token"}``;
  the actions are ``metadata_read`` (listings, attributes) and ``delete``.

The token exchange is :func:`ocireg.auth.token.fetch_token`, the one the Registry HTTP API
uses, with the credentials the client's chain has for the registry (the ACR refresh token of
this plugin's credential provider, an admin user, a repository-scoped token).
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING
from urllib.parse import quote

from ocireg.auth.challenge import Challenge, pick_challenge
from ocireg.auth.credentials import BasicCredentials, IdentityToken, RegistryToken
from ocireg.auth.token import Token, fetch_token
from ocireg.errors import (
    AuthenticationError,
    DeniedError,
    OciregError,
    RegistryError,
    UnsupportedError,
)
from ocireg.hosts import origin
from ocireg.reference import TAG_PATTERN, Reference
from ocireg.registry_api import CredentialLookup, RegistryAPI, TagRecord
from ocireg.webapi import MAX_PAGES, WebAPI, next_link, parse_digest, parse_time

if TYPE_CHECKING:
    from ocireg import wire


__all__ = ["VIA", "AcrAPI", "LockedError"]

#: The ``via`` of tag deletes and listings.
VIA = "acr-api"
PAGE_SIZE = 100
_LOCK_FLAGS = ("deleteEnabled", "writeEnabled")
_UNLOCK = (
    "unlock it (az acr repository update --delete-enabled true --write-enabled true, with"
    " --image <repository>:<tag>, --image <repository>@<digest> or --repository <repository>)"
    " or leave the tag out"
)


class LockedError(DeniedError):
    """A delete ACR refused because something is locked.

    :ivar locks: what is locked, e.g. ``("tag team/app:v1 (deleteEnabled: false)",)``;
        empty when ACR said the operation is disallowed but the attributes could not be read.
    """

    def __init__(
        self,
        message: str,
        *,
        locks: tuple[str, ...],
        status: int,
        operation: str = "",
        registry: str = "",
    ) -> None:
        super().__init__(message, status=status, operation=operation, registry=registry)
        self.locks = locks


class AcrAPI(RegistryAPI):
    """Tag deletes and tag listings of one Azure container registry.

    :param credentials: the client's credential chain for the registry, asked per
        repository when a token is needed.
    :param web: the HTTP side, its base URL the registry (``https://<name>.azurecr.io``).
    """

    name = "Azure Container Registry API"
    tag_delete = VIA
    listing = VIA

    def __init__(self, credentials: CredentialLookup, web: WebAPI, *, page_size: int = PAGE_SIZE):
        self._credentials = credentials
        self._web = web
        self._page_size = page_size
        self._challenge: Challenge | None = None
        self._tokens: dict[str, Token] = {}  # scope -> access token
        self._lock = threading.Lock()

    # -- RegistryAPI -----------------------------------------------------------------------

    def delete_tag(self, repository: Reference, tag: str) -> None:
        if not TAG_PATTERN.fullmatch(tag):
            raise ValueError(f"not a tag: {tag!r}")
        what = f"delete tag {repository.path}:{tag}"
        path = f"{_repo_path(repository)}/_tags/{quote(tag, safe='')}"
        try:
            self._call("DELETE", path, what, repository, "delete", ok=(200, 202, 204)).close()
        except (DeniedError, UnsupportedError) as exc:
            raise self._refusal(repository, tag, exc) from None

    def list_tags(self, repository: Reference) -> list[TagRecord]:
        what = f"list tags of {repository.path}"
        base = _repo_path(repository)
        tags = self._items(f"{base}/_tags", "tags", repository, what)
        manifests: dict[str, dict[str, object]] = {}
        for item in self._items(f"{base}/_manifests", "manifests", repository, what):
            if not isinstance(item, dict):
                raise RegistryError(
                    f"{self.name}: {what}: a manifest that is no object", status=200
                )
            manifests[parse_digest(item.get("digest"), f"{self.name}: {what}")] = item
        records: dict[str, TagRecord] = {}
        for item in tags:
            record = self._record(item, manifests, what)
            records[record.tag] = record
        return sorted(records.values(), key=lambda r: r.tag)

    # -- answers ---------------------------------------------------------------------------

    def _items(self, path: str, key: str, repository: Reference, what: str) -> list[object]:
        """The ``key`` list of every page of ``path`` (``Link`` followed on the registry's
        origin only, at most :data:`~ocireg.webapi.MAX_PAGES` pages)."""
        url: str | None = self._web.url(path)
        params: dict[str, str] | None = {"n": str(self._page_size)}
        out: list[object] = []
        for _ in range(MAX_PAGES):
            if url is None:
                return out
            resp = self._call("GET", url, what, repository, "metadata_read", params=params)
            body = self._web.json(resp, what)
            if not isinstance(body, dict):
                raise RegistryError(f"{self.name}: {what}: the answer is no object", status=200)
            image = body.get("imageName")
            if image is not None and image != repository.path:
                raise RegistryError(
                    f"{self.name}: {what}: the answer is about {image!r}", status=200
                )
            items = body.get(key, ())
            if not isinstance(items, list | None):
                raise RegistryError(f"{self.name}: {what}: no list of {key}", status=200)
            out.extend(items or ())  # null: a repository without any
            url, params = self._web.next_page(resp, next_link(resp)), None
        raise RegistryError(f"{self.name}: {what}: more than {MAX_PAGES} pages", status=200)

    def _record(
        self, item: object, manifests: dict[str, dict[str, object]], what: str
    ) -> TagRecord:
        name = item.get("name") if isinstance(item, dict) else None
        if (
            not isinstance(item, dict)
            or not isinstance(name, str)
            or not TAG_PATTERN.fullmatch(name)
        ):
            raise RegistryError(f"{self.name}: {what}: a tag without a valid name", status=200)
        # Fail closed: a tag we cannot place might hold an image another tag needs.
        digest = parse_digest(item.get("digest"), f"{self.name}: {what}: tag {name!r}")
        manifest = manifests.get(digest, {})
        size, media_type = manifest.get("imageSize"), manifest.get("mediaType")
        return TagRecord(
            tag=name,
            digest=digest,
            # When the tag got its current manifest: a push moving the tag updates it, the
            # creation time stays that of the first push (see the README).
            pushed_at=parse_time(item.get("lastUpdateTime")) or parse_time(item.get("createdTime")),
            size=size
            if isinstance(size, int) and not isinstance(size, bool) and size >= 0
            else None,
            media_type=media_type if isinstance(media_type, str) and media_type else None,
        )

    def _refusal(
        self, repository: Reference, tag: str, exc: DeniedError | UnsupportedError
    ) -> RegistryError:
        """A :class:`LockedError` naming the locks when a refused delete was a lock's doing,
        else ``exc`` itself (a 401 is about the credentials, never a lock)."""
        if exc.status not in (403, 405):
            return exc
        locks = self._locks(repository, tag)
        if not locks and "disallowed" not in str(exc).lower():
            return exc
        said = (
            "locked: " + "; ".join(locks)
            if locks
            else "ACR says the operation is disallowed (a lock on the tag, its manifest or the"
            " repository; their attributes could not be read)"
        )
        return LockedError(
            f"{self.name}: delete tag {repository.path}:{tag} refused ({exc.status}), {said};"
            f" {_UNLOCK}",
            locks=tuple(locks),
            status=exc.status,
            operation=f"delete tag {repository.path}:{tag}",
            registry=self._web.registry,
        )

    def _locks(self, repository: Reference, tag: str) -> list[str]:
        """What is locked among the tag, its manifest and the repository (best effort: an
        attribute that cannot be read names no lock)."""
        base = _repo_path(repository)
        found: list[str] = []
        attrs = self._attributes(f"{base}/_tags/{quote(tag, safe='')}", "tag", repository)
        _add_lock(found, f"tag {repository.path}:{tag}", attrs)
        try:
            digest = parse_digest((attrs or {}).get("digest"), f"{self.name}: tag {tag}")
        except RegistryError:
            digest = None
        if digest is not None:
            attrs = self._attributes(f"{base}/_manifests/{digest}", "manifest", repository)
            _add_lock(found, f"manifest {repository.path}@{digest}", attrs)
        _add_lock(found, f"repository {repository.path}", self._attributes(base, None, repository))
        return found

    def _attributes(
        self, path: str, key: str | None, repository: Reference
    ) -> dict[str, object] | None:
        what = f"read attributes of {path}"
        try:
            body = self._web.json(self._call("GET", path, what, repository, "metadata_read"), what)
        except OciregError:
            return None
        found = body.get(key) if key and isinstance(body, dict) else body
        return found if isinstance(found, dict) else None

    # -- auth ------------------------------------------------------------------------------

    def _call(
        self,
        method: str,
        url: str,
        what: str,
        repository: Reference,
        action: str,
        *,
        params: dict[str, str] | None = None,
        ok: tuple[int, ...] = (200,),
    ) -> wire.Response:
        """One call with an access token for ``repository:<name>:<action>``: a cached one,
        else one fetched from the realm of the registry's challenge (known from an earlier
        401, or learnt from this call's); a 401 despite a token fetches once more."""
        scope = f"repository:{repository.path}:{action}"
        with self._lock:
            token, known = self._tokens.get(scope), self._challenge
        if token is not None and not token.fresh():
            token = None
        if token is None and known is not None:
            token = self._token(known, scope, repository, what)
        for attempt in (1, 2):
            headers = {"Authorization": f"Bearer {token.value}"} if token else {}
            resp = self._web.call(
                method, url, what=what, headers=headers, params=params, ok=(*ok, 401)
            )
            if resp.status_code != 401:
                return resp
            challenge = self._learn(resp, what)
            if attempt == 2:
                break
            token = self._token(challenge, scope, repository, what)
        raise DeniedError(
            f"{self.name}: {what}: 401 with a token for {scope} (the credentials may not"
            f" {action.replace('_', ' ')} {repository.path})",
            status=401,
            operation=what,
            registry=self._web.registry,
        )

    def _learn(self, resp: wire.Response, what: str) -> Challenge:
        """The bearer challenge of a 401, its realm on the registry's own origin (ACR's
        always is), so that no credential goes anywhere else."""
        header = resp.headers.get("WWW-Authenticate")
        resp.close()
        challenge = pick_challenge(header)
        if challenge is None or challenge.scheme != "bearer" or not challenge.realm:
            raise AuthenticationError(
                f"{self.name}: {what}: 401 without a bearer challenge",
                status=401,
                code="UNAUTHORIZED",
            )
        if origin(challenge.realm) != origin(self._web.base_url):
            there = "://".join(origin(challenge.realm))
            raise AuthenticationError(
                f"{self.name}: {what}: the token realm {there} is not the registry's origin;"
                " refusing to send credentials there",
                status=401,
                code="UNAUTHORIZED",
            )
        with self._lock:
            self._challenge = challenge
        return challenge

    def _token(self, challenge: Challenge, scope: str, repository: Reference, what: str) -> Token:
        creds = self._credentials(repository.path)
        if isinstance(creds, BasicCredentials):
            self._web.add_secret(creds.password)
        elif isinstance(creds, IdentityToken | RegistryToken):
            self._web.add_secret(creds.token)
        try:
            token = fetch_token(
                self._web.session, challenge, (scope,), creds, timeout=self._web.timeout
            )
        except AuthenticationError as exc:
            hint = "" if creds else f" (no credentials for {self._web.registry})"
            raise AuthenticationError(
                f"{self.name}: {what}: {exc}{hint}", status=exc.status, code=exc.code
            ) from None
        self._web.add_secret(token.value)
        with self._lock:
            self._tokens[scope] = token
        return token


def _repo_path(repository: Reference) -> str:
    return f"/acr/v1/{quote(repository.path, safe='/')}"


def _add_lock(found: list[str], what: str, attrs: dict[str, object] | None) -> None:
    flags = attrs.get("changeableAttributes") if attrs else None
    if isinstance(flags, dict):
        off = [f"{flag}: false" for flag in _LOCK_FLAGS if flags.get(flag) is False]
        if off:
            found.append(f"{what} ({', '.join(off)})")
