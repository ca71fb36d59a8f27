"""Azure Container Registry's data-plane routes on the loopback fake registry.

Reference: "Azure Container Registry REST API", data plane, version 2021-07-01
(learn.microsoft.com/en-us/rest/api/containerregistry/; swagger
``specification/containerregistry/data-plane/Azure.ContainerRegistry/stable/2021-07-01/
containerregistry.json`` in Azure/azure-rest-api-specs, read 2025-06), and the ACR token flow
of REGISTRY-FACTS 3.4:

* ``POST /oauth2/exchange`` (``grant_type=access_token``, ``service``, ``access_token``) ->
  ``{"refresh_token"}``;
* ``POST /oauth2/token`` (``grant_type=refresh_token``, ``service``, ``scope``,
  ``refresh_token``) or ``GET /oauth2/token?service=&scope=`` with the admin user's Basic
  credentials -> ``{"access_token"}``; anonymous: 401 ``UNAUTHORIZED``;
* every ``/acr/v1/`` route wants ``Authorization: Bearer`` with the scope
  ``repository:<name>:<action>`` (``metadata_read``, ``delete``), else 401 with
  ``WWW-Authenticate: Bearer realm="<origin>/oauth2/token",service="<host>",scope="..."``;
* ``GET /acr/v1/{name}/_tags?n=&last=&orderby=&digest=`` -> ``{"registry", "imageName",
  "tags": [{"name", "digest", "createdTime", "lastUpdateTime", "signed",
  "changeableAttributes"}]}``, ``Link: </acr/v1/{name}/_tags?last=..&n=..&orderby=>;
  rel="next"``; times with seven fractional digits, as ACR writes them;
* ``GET /acr/v1/{name}/_manifests?n=&last=`` -> ``{"registry", "imageName", "manifests":
  [{"digest", "imageSize", "mediaType", "createdTime", "lastUpdateTime", "tags",
  "changeableAttributes"}]}``, paged by digest the same way;
* ``GET``/``DELETE /acr/v1/{name}/_tags/{tag}`` (``{"registry", "imageName", "tag"}``; 202),
  ``GET /acr/v1/{name}/_manifests/{digest}`` (``{"registry", "imageName", "manifest"}``),
  ``GET /acr/v1/{name}`` (repository attributes);
* a tag delete is refused, 405 (or :attr:`AcrFake.lock_status`) with ACR's "The operation
  is disallowed on this registry, repository or image.", when the tag, its manifest or the
  repository has ``deleteEnabled`` or ``writeEnabled`` false (:meth:`AcrFake.lock`);
* unknown names: 404 ``NAME_UNKNOWN`` / ``TAG_UNKNOWN`` / ``MANIFEST_UNKNOWN``.

The token server's ``service`` (and the ``registry`` of answers) is :attr:`AcrFake.service`,
a login server name, as on ACR (and constant, so cassettes hold no port). The registry side
(``/v2/``) is the fake's own, anonymous, deleting manifests by digest.
"""

from __future__ import annotations

import base64
import re
import secrets
from dataclasses import dataclass, field
from datetime import datetime
from urllib.parse import parse_qs, quote, unquote

from ocireg_fakes import FakeRegistry, RegistryState, Reply, Request

ADMIN_USER = "acradmin"
DISALLOWED = (
    "The operation is disallowed on this registry, repository or image. View troubleshooting"
    " steps at https://aka.ms/acr/faq/#why-does-my-pull-or-push-request-fail-with-disallowed-operation"
)
_ACR = r"/acr/v1/(?P<name>[a-z0-9][a-z0-9._/-]*?)"
_FLAGS = ("deleteEnabled", "writeEnabled", "readEnabled", "listEnabled")


def acr_time(when: datetime) -> str:
    """ACR's form: UTC, seven fractional digits, ``Z``."""
    return when.strftime("%Y-%m-%dT%H:%M:%S.%f") + "0Z"


@dataclass
class AcrFake:
    fake: FakeRegistry
    service: str = "acrfake.azurecr.io"
    #: the Entra token the exchange accepts
    entra_token: str = field(default_factory=lambda: "entra-" + secrets.token_hex(12))
    refresh_token: str = field(default_factory=lambda: "acr-refresh-" + secrets.token_hex(12))
    admin_password: str = field(default_factory=lambda: secrets.token_hex(12))
    #: the status of a refusal for a lock (ACR's docs do not say; 405 and 403 are seen)
    lock_status: int = 405
    #: actions the identity may not have (the token server leaves them out of the token)
    withheld: set[str] = field(default_factory=set)
    #: access token -> the scopes it grants
    tokens: dict[str, set[str]] = field(default_factory=dict)
    #: (repository, tag) -> when the tag was first created (the state keeps the last push)
    created: dict[tuple[str, str], datetime] = field(default_factory=dict)
    #: ("tag", "repo:tag") | ("manifest", "repo@digest") | ("repository", "repo") -> flags
    attributes: dict[tuple[str, str], dict[str, bool]] = field(default_factory=dict)

    def install(self) -> AcrFake:
        route = self.fake.route
        route("POST", r"/oauth2/exchange", self.exchange)
        route("POST", r"/oauth2/token", self.token_post)
        route("GET", r"/oauth2/token", self.token_get)
        route("GET", _ACR + r"/_tags", self.list_tags)
        route("GET", _ACR + r"/_manifests", self.list_manifests)
        route("GET", _ACR + r"/_tags/(?P<tag>[^/]+)", self.tag_attributes)
        route("DELETE", _ACR + r"/_tags/(?P<tag>[^/]+)", self.delete_tag)
        route("GET", _ACR + r"/_manifests/(?P<digest>[^/]+)", self.manifest_attributes)
        route("GET", _ACR, self.repository_attributes)
        return self

    def secrets(self) -> list[str]:
        return [self.entra_token, self.refresh_token, self.admin_password, *self.tokens]

    def lock(self, kind: str, key: str, **flags: bool) -> None:
        """``lock("tag", "team/app:v1", deleteEnabled=False)``."""
        self.attributes.setdefault((kind, key), {}).update(flags)

    # -- tokens ----------------------------------------------------------------------------

    def exchange(self, req: Request, state: RegistryState, m: re.Match[str]) -> Reply:
        form = _form(req)
        if form.get("grant_type") != ["access_token"] or form.get("access_token") != [
            self.entra_token
        ]:
            return Reply.error(401, "UNAUTHORIZED", "invalid AAD access token")
        return Reply.json(200, {"refresh_token": self.refresh_token})

    def token_post(self, req: Request, state: RegistryState, m: re.Match[str]) -> Reply:
        form = _form(req)
        if form.get("grant_type") != ["refresh_token"] or form.get("refresh_token") != [
            self.refresh_token
        ]:
            return Reply.error(401, "UNAUTHORIZED", "invalid refresh token")
        return self._grant(form.get("service", [""])[0], form.get("scope", []))

    def token_get(self, req: Request, state: RegistryState, m: re.Match[str]) -> Reply:
        basic = "Basic " + base64.b64encode(f"{ADMIN_USER}:{self.admin_password}".encode()).decode()
        if req.header("authorization") != basic:
            return Reply.error(401, "UNAUTHORIZED", "authentication required")
        return self._grant(req.param("service") or "", req.query.get("scope", []))

    def _grant(self, service: str, scopes: list[str]) -> Reply:
        if service != self.service:
            return Reply.error(400, "UNSUPPORTED", f"unknown service {service!r}")
        granted = set()
        for scope in " ".join(scopes).split():
            kind, _, rest = scope.partition(":")
            name, _, actions = rest.rpartition(":")
            granted |= {
                f"{kind}:{name}:{a}" for a in actions.split(",") if a and a not in self.withheld
            }
        token = "acr-access-" + secrets.token_hex(12)
        self.tokens[token] = granted
        return Reply.json(200, {"access_token": token})

    def _denied(self, req: Request, name: str, action: str) -> Reply | None:
        scope = f"repository:{name}:{action}"
        auth = req.header("authorization") or ""
        if auth.startswith("Bearer ") and scope in self.tokens.get(auth[7:], set()):
            return None
        challenge = (
            f'Bearer realm="{self.fake.url}/oauth2/token",service="{self.service}",scope="{scope}"'
        )
        reply = Reply.error(
            401,
            "UNAUTHORIZED",
            "authentication required, visit https://aka.ms/acr/authorization for more information.",
        )
        reply.headers["WWW-Authenticate"] = challenge
        return reply

    # -- /acr/v1/ --------------------------------------------------------------------------

    def _flags(self, kind: str, key: str) -> dict[str, bool]:
        return {flag: True for flag in _FLAGS} | self.attributes.get((kind, key), {})

    def _tag(self, state: RegistryState, name: str, tag: str) -> dict[str, object]:
        repo = state.repositories[name]
        updated = repo.tag_pushed[tag]
        return {
            "name": tag,
            "digest": repo.tags[tag],
            "createdTime": acr_time(self.created.setdefault((name, tag), updated)),
            "lastUpdateTime": acr_time(updated),
            "signed": False,
            "changeableAttributes": self._flags("tag", f"{name}:{tag}"),
        }

    def list_tags(self, req: Request, state: RegistryState, m: re.Match[str]) -> Reply:
        name = m["name"]
        denied = self._denied(req, name, "metadata_read")
        if denied:
            return denied
        with state.lock:
            if name not in state.repositories:
                return Reply.error(404, "NAME_UNKNOWN", f"repository {name} is not found")
            order = req.param("orderby") or ""
            digest = req.param("digest")
            tags = [self._tag(state, name, t) for t in state.repositories[name].tags]
        tags = [t for t in tags if digest is None or t["digest"] == digest]
        if order in ("timedesc", "timeasc"):
            tags.sort(key=lambda t: str(t["lastUpdateTime"]), reverse=order == "timedesc")
        else:
            tags.sort(key=lambda t: str(t["name"]))
        last = req.param("last")
        if last:  # the page after the tag named "last", in the order asked
            names = [t["name"] for t in tags]
            tags = (
                tags[names.index(last) + 1 :]
                if last in names
                else [t for t in tags if str(t["name"]) > last]
            )
        n = int(req.param("n") or 100)
        headers = {}
        if len(tags) > n:
            tags = tags[:n]
            query = f"last={quote(str(tags[-1]['name']))}&n={n}&orderby={order}"
            headers["Link"] = f'</acr/v1/{name}/_tags?{query}>; rel="next"'
        body = {"registry": self.service, "imageName": name, "tags": tags}
        return Reply.json(200, body, headers)

    def tag_attributes(self, req: Request, state: RegistryState, m: re.Match[str]) -> Reply:
        name, tag = m["name"], unquote(m["tag"])
        denied = self._denied(req, name, "metadata_read")
        if denied:
            return denied
        with state.lock:
            if tag not in state.tags(name):
                return Reply.error(404, "TAG_UNKNOWN", f"the specified tag does not exist: {tag}")
            body = {
                "registry": self.service,
                "imageName": name,
                "tag": self._tag(state, name, tag),
            }
        return Reply.json(200, body)

    def delete_tag(self, req: Request, state: RegistryState, m: re.Match[str]) -> Reply:
        name, tag = m["name"], unquote(m["tag"])
        denied = self._denied(req, name, "delete")
        if denied:
            return denied
        with state.lock:
            digest = state.tags(name).get(tag)
            if digest is None:
                return Reply.error(404, "TAG_UNKNOWN", f"the specified tag does not exist: {tag}")
            for kind, key in (
                ("tag", f"{name}:{tag}"),
                ("manifest", f"{name}@{digest}"),
                ("repository", name),
            ):
                flags = self._flags(kind, key)
                if not (flags["deleteEnabled"] and flags["writeEnabled"]):
                    return Reply.error(self.lock_status, "DENIED", DISALLOWED)
            state.delete_tag(name, tag)
            self.created.pop((name, tag), None)
        return Reply(202)

    def _manifest(self, state: RegistryState, name: str, digest: str) -> dict[str, object]:
        manifest = state.repositories[name].manifests[digest]
        return {
            "digest": digest,
            "imageSize": manifest.size,
            "createdTime": acr_time(manifest.pushed_at),
            "lastUpdateTime": acr_time(manifest.pushed_at),
            "mediaType": manifest.media_type,
            "tags": sorted(t for t, d in state.tags(name).items() if d == digest),
            "changeableAttributes": self._flags("manifest", f"{name}@{digest}"),
        }

    def list_manifests(self, req: Request, state: RegistryState, m: re.Match[str]) -> Reply:
        name = m["name"]
        denied = self._denied(req, name, "metadata_read")
        if denied:
            return denied
        with state.lock:
            if name not in state.repositories:
                return Reply.error(404, "NAME_UNKNOWN", f"repository {name} is not found")
            digests = sorted(state.repositories[name].manifests)
            last = req.param("last")
            digests = [d for d in digests if not last or d > last]
            n = int(req.param("n") or 100)
            headers = {}
            if len(digests) > n:
                digests = digests[:n]
                query = f"last={quote(digests[-1])}&n={n}&orderby="
                headers["Link"] = f'</acr/v1/{name}/_manifests?{query}>; rel="next"'
            manifests = [self._manifest(state, name, d) for d in digests]
        body = {"registry": self.service, "imageName": name, "manifests": manifests}
        return Reply.json(200, body, headers)

    def manifest_attributes(self, req: Request, state: RegistryState, m: re.Match[str]) -> Reply:
        name, digest = m["name"], unquote(m["digest"])
        denied = self._denied(req, name, "metadata_read")
        if denied:
            return denied
        with state.lock:
            if not digest.startswith("sha256:") or state.resolve(name, digest) is None:
                return Reply.error(404, "MANIFEST_UNKNOWN", "manifest unknown")
            attrs = self._manifest(state, name, digest)
        return Reply.json(200, {"registry": self.service, "imageName": name, "manifest": attrs})

    def repository_attributes(self, req: Request, state: RegistryState, m: re.Match[str]) -> Reply:
        name = m["name"]
        denied = self._denied(req, name, "metadata_read")
        if denied:
            return denied
        repo = state.repository(name)
        if repo is None:
            return Reply.error(404, "NAME_UNKNOWN", f"repository {name} is not found")
        body = {
            "registry": self.service,
            "imageName": name,
            "manifestCount": len(repo.manifests),
            "tagCount": len(repo.tags),
            "changeableAttributes": self._flags("repository", name),
        }
        return Reply.json(200, body)


def _form(req: Request) -> dict[str, list[str]]:
    return parse_qs(req.body.decode(), keep_blank_values=True)
