"""GitLab's container registry API routes on the loopback fake registry.

Reference: GitLab REST API "Container registry API",
https://docs.gitlab.com/api/container_registry/ (GitLab 18.x docs, API v4, read 2025-06):
``GET /api/v4/projects/:id/registry/repositories`` (``:id`` a number or the URL-encoded
path) -> ``[{"id", "name", "path", "project_id", "location", "created_at", "tags_count"}]``;
``GET .../repositories/:repository_id/tags`` -> ``[{"name", "path", "location"}]``, paged by
``page``/``per_page`` with ``Link`` and ``X-Next-Page``/``X-Total``; ``GET .../tags/:tag_name``
-> ``{"name", "path", "location", "revision", "short_revision", "digest", "created_at",
"total_size"}``; ``DELETE .../tags/:tag_name`` -> 200. Auth ``PRIVATE-TOKEN``; errors
``{"message": "401 Unauthorized"}``, ``{"message": "404 Project Not Found"}``. The registry
side deletes by digest (the GitLab container registry, distribution based).
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass, field
from urllib.parse import unquote

from ocireg_fakes import FakeRegistry, RegistryState, Reply, Request

_REPOS = r"/api/v4/projects/([^/]+)/registry/repositories"
_TAGS = _REPOS + r"/(\d+)/tags"


@dataclass
class GitLabFake:
    fake: FakeRegistry
    token: str = field(default_factory=lambda: "glpat-" + secrets.token_hex(10))
    projects: dict[str, int] = field(default_factory=lambda: {"group/project": 7})
    repo_ids: dict[str, int] = field(default_factory=dict)

    def install(self) -> GitLabFake:
        self.fake.route("GET", _REPOS, self.list_repositories)
        self.fake.route("GET", _TAGS, self.list_tags)
        self.fake.route("GET", _TAGS + r"/([^/]+)", self.get_tag)
        self.fake.route("DELETE", _TAGS + r"/([^/]+)", self.delete_tag)
        return self

    def _project(self, req: Request, key: str) -> Reply | str:
        if req.header("private-token") != self.token:
            return Reply.json(401, {"message": "401 Unauthorized"})
        key = unquote(key)
        for path, number in self.projects.items():
            if key in (path, str(number)):
                return path
        return Reply.json(404, {"message": "404 Project Not Found"})

    def _repos(self, state: RegistryState, project: str) -> dict[int, str]:
        with state.lock:
            names = [n for n in state.repositories if n == project or n.startswith(project + "/")]
        return {self.repo_ids.setdefault(n, 100 + len(self.repo_ids)): n for n in sorted(names)}

    def list_repositories(self, req: Request, state: RegistryState, m: re.Match[str]) -> Reply:
        project = self._project(req, m[1])
        if isinstance(project, Reply):
            return project
        items = [
            {
                "id": rid,
                "name": name.removeprefix(project).lstrip("/"),
                "path": name,
                "project_id": self.projects[project],
                "location": f"{self.fake.host}/{name}",
                "created_at": "2024-05-01T00:00:00.000+00:00",
            }
            for rid, name in self._repos(state, project).items()
        ]
        return Reply.json(200, items)

    def _repository(self, req: Request, state: RegistryState, m: re.Match[str]) -> Reply | str:
        project = self._project(req, m[1])
        if isinstance(project, Reply):
            return project
        name = self._repos(state, project).get(int(m[2]))
        return name or Reply.json(404, {"message": "404 Repository Not Found"})

    def list_tags(self, req: Request, state: RegistryState, m: re.Match[str]) -> Reply:
        name = self._repository(req, state, m)
        if isinstance(name, Reply):
            return name
        per_page = min(int(req.param("per_page") or 20), 100)
        page = int(req.param("page") or 1)
        tags = sorted(state.tags(name))
        chunk = tags[(page - 1) * per_page : page * per_page]
        headers = {"X-Total": str(len(tags)), "X-Page": str(page)}
        if page * per_page < len(tags):
            url = f"{self.fake.url}{req.path}?page={page + 1}&per_page={per_page}"
            headers |= {"X-Next-Page": str(page + 1), "Link": f'<{url}>; rel="next"'}
        items = [
            {"name": t, "path": f"{name}:{t}", "location": f"{self.fake.host}/{name}:{t}"}
            for t in chunk
        ]
        return Reply.json(200, items, headers)

    def get_tag(self, req: Request, state: RegistryState, m: re.Match[str]) -> Reply:
        name = self._repository(req, state, m)
        if isinstance(name, Reply):
            return name
        tag = unquote(m[3])
        found = state.resolve(name, tag)
        if found is None:
            return Reply.json(404, {"message": "404 Tag Not Found"})
        digest, manifest = found
        with state.lock:
            created = state.repositories[name].tag_pushed[tag]
        return Reply.json(
            200,
            {
                "name": tag,
                "path": f"{name}:{tag}",
                "location": f"{self.fake.host}/{name}:{tag}",
                "revision": digest.removeprefix("sha256:"),
                "short_revision": digest[7:16],
                "digest": digest,
                "created_at": created.isoformat(timespec="milliseconds"),
                "total_size": manifest.size,
            },
        )

    def delete_tag(self, req: Request, state: RegistryState, m: re.Match[str]) -> Reply:
        name = self._repository(req, state, m)
        if isinstance(name, Reply):
            return name
        if not state.delete_tag(name, unquote(m[3])):
            return Reply.json(404, {"message": "404 Tag Not Found"})
        return Reply(200)
