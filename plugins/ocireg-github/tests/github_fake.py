"""GitHub's packages REST API routes on the loopback fake registry, after the reference.

Reference: GitHub REST API "REST API endpoints for packages",
https://docs.github.com/rest/packages/packages (API version 2022-11-28, read 2025-06):
``GET /orgs/{org}/packages/container/{package_name}/versions`` and
``/users/{username}/...``, ``page``/``per_page`` (at most 100) with a ``Link`` header
(``next``, ``last``), newest first, each ``{"id", "name": <digest>, "created_at",
"updated_at", "metadata": {"package_type": "container", "container": {"tags": [...]}}}``;
``DELETE .../versions/{package_version_id}`` -> 204; errors ``{"message",
"documentation_url"}`` (401 "Bad credentials", 404 "Not Found"). The package name is
URL-encoded (``a%2Fb``). GHCR's registry side refuses ``DELETE`` (405).
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass, field
from urllib.parse import unquote

from ocireg_fakes import FakeRegistry, RegistryState, Reply, Request

DOCS = "https://docs.github.com/rest/packages/packages"
_VERSIONS = r"/(orgs|users)/([^/]+)/packages/container/([^/]+)/versions"


@dataclass
class GitHubFake:
    fake: FakeRegistry
    token: str = field(default_factory=lambda: "ghp_" + secrets.token_hex(16))
    orgs: set[str] = field(default_factory=lambda: {"team"})
    users: set[str] = field(default_factory=lambda: {"alice"})
    ids: dict[tuple[str, str], int] = field(default_factory=dict)

    def install(self) -> GitHubFake:
        self.fake.route("GET", _VERSIONS, self.list_versions)
        self.fake.route("DELETE", _VERSIONS + r"/(\d+)", self.delete_version)
        return self

    def version_id(self, name: str, digest: str) -> int:
        return self.ids.setdefault((name, digest), 1000 + len(self.ids))

    def _check(self, req: Request, m: re.Match[str]) -> Reply | str:
        if req.header("authorization") != f"Bearer {self.token}":
            return Reply.json(401, {"message": "Bad credentials", "documentation_url": DOCS})
        owners = self.orgs if m[1] == "orgs" else self.users
        if m[2] not in owners:
            return Reply.json(404, {"message": "Not Found", "documentation_url": DOCS})
        return f"{m[2]}/{unquote(m[3])}"

    def list_versions(self, req: Request, state: RegistryState, m: re.Match[str]) -> Reply:
        name = self._check(req, m)
        if isinstance(name, Reply):
            return name
        repo = state.repository(name)
        if repo is None:
            return Reply.json(404, {"message": "Package not found.", "documentation_url": DOCS})
        per_page = min(int(req.param("per_page") or 30), 100)
        page = int(req.param("page") or 1)
        with state.lock:
            ordered = sorted(repo.manifests.items(), key=lambda kv: kv[1].pushed_at, reverse=True)
            versions = [
                {
                    "id": self.version_id(name, digest),
                    "name": digest,
                    "url": f"{self.fake.url}{req.path}/{self.version_id(name, digest)}",
                    "package_html_url": "https://github.com/orgs/x/packages/container/package/y",
                    "created_at": manifest.pushed_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
                    "updated_at": manifest.pushed_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
                    "metadata": {
                        "package_type": "container",
                        "container": {
                            "tags": sorted(t for t, d in repo.tags.items() if d == digest)
                        },
                    },
                }
                for digest, manifest in ordered
            ]
        last = max(1, -(-len(versions) // per_page))
        chunk = versions[(page - 1) * per_page : page * per_page]
        links = []
        if page < last:
            links.append(
                f'<{self.fake.url}{req.path}?per_page={per_page}&page={page + 1}>; rel="next"'
            )
        links.append(f'<{self.fake.url}{req.path}?per_page={per_page}&page={last}>; rel="last"')
        return Reply.json(200, chunk, {"Link": ", ".join(links)})

    def delete_version(self, req: Request, state: RegistryState, m: re.Match[str]) -> Reply:
        name = self._check(req, m)
        if isinstance(name, Reply):
            return name
        wanted = int(m[4])
        for (repo, digest), version_id in list(self.ids.items()):
            if repo == name and version_id == wanted and state.delete_manifest(name, digest):
                return Reply(204)
        return Reply.json(404, {"message": "Not Found", "documentation_url": DOCS})
