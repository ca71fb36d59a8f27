"""Harbor's v2.0 API routes on the loopback fake registry, after its swagger.

Reference: Harbor API v2.0 swagger (goharbor/harbor ``api/v2.0/swagger.yaml``, Harbor 2.x,
read 2025-06): ``GET /api/v2.0/projects/{project_name}/repositories/{repository_name}/
artifacts`` (``page``, ``page_size``, ``with_tag``; ``X-Total-Count`` and ``Link``) ->
``[{"id", "digest", "size", "push_time", "media_type", "manifest_media_type", "tags":
[{"name", "push_time", "repository_id", "artifact_id"}] | null}]``; ``DELETE
.../artifacts/{reference}/tags/{tag_name}`` -> 200; ``repository_name`` double URL-encoded;
errors ``{"errors": [{"code": "NOT_FOUND" | "UNAUTHORIZED" | "FORBIDDEN", "message"}]}``;
Basic auth. The registry side deletes manifests by digest.
"""

from __future__ import annotations

import base64
import re
import secrets
from dataclasses import dataclass, field
from urllib.parse import unquote

from ocireg_fakes import FakeRegistry, RegistryState, Reply, Request

USER = "robot$ci"
_ARTIFACTS = r"/api/v2.0/projects/([^/]+)/repositories/([^/]+)/artifacts"


def _error(status: int, code: str, message: str) -> Reply:
    return Reply.json(status, {"errors": [{"code": code, "message": message}]})


@dataclass
class HarborFake:
    fake: FakeRegistry
    password: str = field(default_factory=lambda: secrets.token_hex(12))

    def install(self) -> HarborFake:
        self.fake.route("GET", _ARTIFACTS, self.list_artifacts)
        self.fake.route("DELETE", _ARTIFACTS + r"/([^/]+)/tags/([^/]+)", self.delete_tag)
        return self

    def _name(self, req: Request, m: re.Match[str]) -> Reply | str:
        expected = "Basic " + base64.b64encode(f"{USER}:{self.password}".encode()).decode()
        if req.header("authorization") != expected:
            return _error(401, "UNAUTHORIZED", "unauthorized")
        # The swagger: a repository name with "/" is URL-encoded twice.
        return f"{unquote(m[1])}/{unquote(unquote(m[2]))}"

    def list_artifacts(self, req: Request, state: RegistryState, m: re.Match[str]) -> Reply:
        name = self._name(req, m)
        if isinstance(name, Reply):
            return name
        repo = state.repository(name)
        if repo is None:
            return _error(404, "NOT_FOUND", f"repository {name} not found")
        size = min(int(req.param("page_size") or 10), 100)
        page = int(req.param("page") or 1)
        with state.lock:
            ordered = sorted(repo.manifests.items(), key=lambda kv: kv[1].pushed_at, reverse=True)
            artifacts = [
                {
                    "id": i,
                    "digest": digest,
                    "size": manifest.size,
                    "push_time": manifest.pushed_at.strftime("%Y-%m-%dT%H:%M:%S.000Z"),
                    "media_type": "application/vnd.oci.image.config.v1+json",
                    "manifest_media_type": manifest.media_type,
                    "tags": [
                        {"name": t, "push_time": repo.tag_pushed[t].isoformat(), "artifact_id": i}
                        for t in sorted(t for t, d in repo.tags.items() if d == digest)
                    ]
                    or None,
                }
                for i, (digest, manifest) in enumerate(ordered, 1)
            ]
        chunk = artifacts[(page - 1) * size : page * size]
        headers = {"X-Total-Count": str(len(artifacts))}
        if page * size < len(artifacts):
            headers["Link"] = (
                f'<{req.path}?page={page + 1}&page_size={size}&with_tag=true>; rel="next"'
            )
        return Reply.json(200, chunk, headers)

    def delete_tag(self, req: Request, state: RegistryState, m: re.Match[str]) -> Reply:
        name = self._name(req, m)
        if isinstance(name, Reply):
            return name
        reference, tag = unquote(m[3]), unquote(m[4])
        found = state.resolve(name, reference)
        if found is None or state.tags(name).get(tag) != found[0]:
            return _error(404, "NOT_FOUND", f"tag {tag} not found")
        state.delete_tag(name, tag)
        return Reply(200)
