"""Data gathering shared by ``tags --details`` and ``inspect`` (independent requests run
concurrently, once per distinct digest)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

from ..errors import OciregError
from ..manifests import ImageIndex, ImageManifest

if TYPE_CHECKING:
    from ..client import Client
    from ..reference import Reference


def _image_summary(client: Client, ref: Reference, digest: str) -> dict[str, Any]:
    manifest = client.get_manifest(ref.with_digest(digest))
    platforms: list[str] = []
    if isinstance(manifest, ImageIndex):
        platforms = [str(d.platform) for d in manifest.manifests if d.platform is not None]
    created = None
    try:
        created = client.image_config(ref.with_digest(digest)).get("created")
    except OciregError:
        created = None  # artifacts and odd indexes have no image config
    return {"media_type": manifest.media_type, "platforms": platforms, "created": created}


def tag_details(client: Client, ref: Reference, tags: list[str]) -> list[dict[str, Any]]:
    descriptors = client.tag_descriptors(ref, tags)
    digests = sorted({d.digest for d in descriptors.values()})
    with ThreadPoolExecutor(max_workers=max(1, min(client.max_workers, len(digests) or 1))) as pool:
        summaries = dict(
            zip(digests, pool.map(lambda d: _image_summary(client, ref, d), digests), strict=True)
        )
    rows = []
    for tag in tags:
        desc = descriptors.get(tag)
        if desc is None:
            continue
        summary = summaries[desc.digest]
        rows.append({"tag": tag, "digest": desc.digest, "size": desc.size, **summary})
    return rows


def inspect(client: Client, ref: Reference, platform: str | None) -> dict[str, Any]:
    manifest = client.get_manifest(ref, platform)
    data: dict[str, Any] = {
        "reference": str(ref),
        "digest": str(manifest.digest),
        "media_type": manifest.media_type,
        "size": len(manifest.raw),
    }
    if isinstance(manifest, ImageIndex):
        data["platforms"] = [
            {"platform": str(d.platform) if d.platform else None, "digest": d.digest}
            for d in manifest.manifests
        ]
    config = client.image_config(ref.with_digest(str(manifest.digest)))
    inner = config.get("config") or {}
    data["config"] = {
        "created": config.get("created"),
        "os": config.get("os"),
        "architecture": config.get("architecture"),
        "variant": config.get("variant"),
        "labels": inner.get("Labels") or {},
        "env": inner.get("Env") or [],
        "entrypoint": inner.get("Entrypoint"),
        "cmd": inner.get("Cmd"),
    }
    if isinstance(manifest, ImageManifest):
        data["layers"] = [
            {"digest": d.digest, "size": d.size, "media_type": d.media_type}
            for d in manifest.layers
        ]
    return data
