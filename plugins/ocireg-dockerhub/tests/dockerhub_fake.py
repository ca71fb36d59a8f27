"""Docker Hub's API routes on the loopback fake registry, after the public reference.

Reference: Docker Hub API, https://docs.docker.com/reference/api/hub/latest/ (read 2025-06,
"Docker HUB API" v2-beta): ``POST /v2/users/login`` -> ``{"token"}`` (401 ``{"detail":
...}`` for wrong credentials); ``GET /v2/repositories/{namespace}/{repository}/tags``
paged by ``page``/``page_size`` (at most 100) with an absolute ``next`` URL, results newest
first with ``name``, ``digest``, ``last_updated``, ``tag_last_pushed``, ``full_size``,
``media_type``; ``DELETE /v2/repositories/{namespace}/{repository}/tags/{tag}/`` -> 204,
404 ``{"message": ...}`` for an unknown tag, 401 without a token. The registry side refuses
manifest ``DELETE`` (405 ``UNSUPPORTED``), as registry-1.docker.io does.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass, field
from urllib.parse import unquote

from ocireg_fakes import FakeRegistry, RegistryState, Reply, Request

_SEG = r"([^/]+)"
USER = "alice"


@dataclass
class HubFake:
    fake: FakeRegistry
    password: str = field(default_factory=lambda: "dckr_pat_" + secrets.token_hex(12))
    tokens: set[str] = field(default_factory=set)
    private: bool = False

    def install(self) -> HubFake:
        repo = rf"/v2/repositories/{_SEG}/{_SEG}"
        self.fake.route("POST", r"/v2/users/login", self.login)
        self.fake.route("GET", repo + r"/tags", self.list_tags)
        self.fake.route("DELETE", repo + rf"/tags/{_SEG}/", self.delete_tag)
        return self

    @property
    def url(self) -> str:
        return self.fake.url

    def authorized(self, req: Request) -> bool:
        header = req.header("authorization") or ""
        return header.removeprefix("Bearer ").removeprefix("JWT ") in self.tokens

    def login(self, req: Request, state: RegistryState, m: re.Match[str]) -> Reply:
        body = req.json()
        if body != {"username": USER, "password": self.password}:
            return Reply.json(401, {"detail": "Incorrect authentication credentials"})
        token = "hubjwt." + secrets.token_hex(16)
        self.tokens.add(token)
        return Reply.json(200, {"token": token})

    def list_tags(self, req: Request, state: RegistryState, m: re.Match[str]) -> Reply:
        if self.private and not self.authorized(req):
            return Reply.json(401, {"detail": "authentication required"})
        name = f"{unquote(m[1])}/{unquote(m[2])}"
        repo = state.repository(name)
        if repo is None:
            return Reply.json(404, {"message": "httperror 404: object not found"})
        size = min(int(req.param("page_size") or 10), 100)
        page = int(req.param("page") or 1)
        with state.lock:
            tags = sorted(repo.tags, key=lambda t: (repo.tag_pushed[t], t), reverse=True)
            chunk = tags[(page - 1) * size : page * size]
            results = [
                {
                    "name": tag,
                    "digest": repo.tags[tag],
                    "media_type": repo.manifests[repo.tags[tag]].media_type,
                    "full_size": repo.manifests[repo.tags[tag]].size,
                    "last_updated": repo.tag_pushed[tag].strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
                    "tag_last_pushed": repo.tag_pushed[tag].strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
                    "tag_status": "active",
                }
                for tag in chunk
            ]
        more = page * size < len(tags)
        base = f"{self.fake.url}/v2/repositories/{m[1]}/{m[2]}/tags"
        return Reply.json(
            200,
            {
                "count": len(tags),
                "next": f"{base}?page={page + 1}&page_size={size}" if more else None,
                "previous": f"{base}?page={page - 1}&page_size={size}" if page > 1 else None,
                "results": results,
            },
        )

    def delete_tag(self, req: Request, state: RegistryState, m: re.Match[str]) -> Reply:
        if not self.authorized(req):
            return Reply.json(401, {"detail": "authentication credentials were not provided"})
        name = f"{unquote(m[1])}/{unquote(m[2])}"
        if not state.delete_tag(name, unquote(m[3])):
            return Reply.json(404, {"message": "httperror 404: tag not found"})
        return Reply(204)
