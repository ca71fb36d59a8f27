"""The one state of a fake registry: repositories, their tags and manifests, and blobs.

Both sides of a fake read and change it: the Registry HTTP API routes (``/v2/``) and the
vendor routes a test adds. A tag deleted through a vendor API is therefore gone from
``/v2/`` too, as on the real services. Every method takes the lock; vendor handlers that
read several things at once hold :attr:`RegistryState.lock` themselves.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

__all__ = [
    "OCI_CONFIG",
    "OCI_LAYER",
    "OCI_MANIFEST",
    "RegistryState",
    "Repository",
    "StoredManifest",
    "digest_of",
]

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
OCI_LAYER = "application/vnd.oci.image.layer.v1.tar+gzip"


def digest_of(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


@dataclass
class StoredManifest:
    body: bytes
    media_type: str
    pushed_at: datetime

    @property
    def size(self) -> int:
        """What the vendor listings call the image size: the manifest's blobs, summed."""
        try:
            parsed = json.loads(self.body)
            blobs = [parsed.get("config", {}), *parsed.get("layers", [])]
            return sum(int(b.get("size", 0)) for b in blobs if isinstance(b, dict))
        except (ValueError, TypeError, AttributeError):
            return len(self.body)


@dataclass
class Repository:
    #: tag -> digest
    tags: dict[str, str] = field(default_factory=dict)
    #: tag -> when it was last pushed (moved)
    tag_pushed: dict[str, datetime] = field(default_factory=dict)
    #: digest -> manifest
    manifests: dict[str, StoredManifest] = field(default_factory=dict)


class RegistryState:
    """Repositories by name, blobs by digest. ``clock`` gives aware UTC datetimes; tests
    pass one that advances, so push times differ."""

    def __init__(self, clock: Callable[[], datetime] | None = None) -> None:
        self.lock = threading.RLock()
        self.repositories: dict[str, Repository] = {}
        self.blobs: dict[str, bytes] = {}
        self.clock = clock or (lambda: datetime.now(UTC))

    def repository(self, name: str) -> Repository | None:
        with self.lock:
            return self.repositories.get(name)

    def put_blob(self, data: bytes) -> str:
        digest = digest_of(data)
        with self.lock:
            self.blobs[digest] = data
        return digest

    def put_manifest(self, name: str, body: bytes, media_type: str, tag: str | None = None) -> str:
        digest = digest_of(body)
        with self.lock:
            repo = self.repositories.setdefault(name, Repository())
            now = self.clock()
            if digest not in repo.manifests:
                repo.manifests[digest] = StoredManifest(body, media_type, now)
            if tag is not None:
                repo.tags[tag] = digest
                repo.tag_pushed[tag] = now
        return digest

    def push_image(self, name: str, tag: str | None, *, content: str = "") -> str:
        """Push a small image (a config and one layer, both stored as blobs) and tag it;
        ``content`` makes it differ from other images (default: the tag)."""
        layer = f"layer of {content or tag}".encode()
        config = json.dumps(
            {"architecture": "amd64", "os": "linux", "rootfs": {"type": "layers"}, "x": content}
        ).encode()
        manifest = {
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "config": {
                "mediaType": OCI_CONFIG,
                "digest": self.put_blob(config),
                "size": len(config),
            },
            "layers": [
                {"mediaType": OCI_LAYER, "digest": self.put_blob(layer), "size": len(layer)}
            ],
        }
        body = json.dumps(manifest, separators=(",", ":")).encode()
        return self.put_manifest(name, body, OCI_MANIFEST, tag)

    def tag(self, name: str, tag: str, digest: str) -> None:
        with self.lock:
            repo = self.repositories[name]
            if digest not in repo.manifests:
                raise KeyError(digest)
            repo.tags[tag] = digest
            repo.tag_pushed[tag] = self.clock()

    def resolve(self, name: str, reference: str) -> tuple[str, StoredManifest] | None:
        """``(digest, manifest)`` of a tag or digest, or None."""
        with self.lock:
            repo = self.repositories.get(name)
            if repo is None:
                return None
            digest = reference if reference.startswith("sha256:") else repo.tags.get(reference)
            if digest is None or digest not in repo.manifests:
                return None
            return digest, repo.manifests[digest]

    def delete_tag(self, name: str, tag: str) -> bool:
        """Remove one tag (the manifest stays, untagged); False when there was none."""
        with self.lock:
            repo = self.repositories.get(name)
            if repo is None or tag not in repo.tags:
                return False
            del repo.tags[tag]
            repo.tag_pushed.pop(tag, None)
            return True

    def delete_manifest(self, name: str, digest: str) -> bool:
        """Remove a manifest and every tag on it; False when there was none."""
        with self.lock:
            repo = self.repositories.get(name)
            if repo is None or digest not in repo.manifests:
                return False
            del repo.manifests[digest]
            for tag in [t for t, d in repo.tags.items() if d == digest]:
                del repo.tags[tag]
                repo.tag_pushed.pop(tag, None)
            return True

    def tags(self, name: str) -> dict[str, str]:
        """tag -> digest, a copy."""
        with self.lock:
            repo = self.repositories.get(name)
            return dict(repo.tags) if repo else {}
