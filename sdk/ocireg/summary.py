"""One image summary for every front end: ``ocireg inspect``, ``ocireg tags --details`` and
the Ansible modules ``registry_manifest_info`` and ``registry_tag_info``.

:func:`summarize` reads a manifest and says what it is: digest, media type, size, the
platforms of an index, the config (created, os/architecture, labels...) and the layers of an
image. :func:`summarize_tags` does it once per distinct digest for many tags, concurrently.
Only public :class:`~ocireg.Client` methods are used.

The rules, written once:

* **Attestations are not platforms.** BuildKit stores its provenance and SBOM attestations
  in an image index as children with the platform ``unknown/unknown`` (and the annotation
  ``vnd.docker.reference.type: attestation-manifest``). Nothing can run them, ``docker
  pull`` never picks them, so they are listed in :attr:`ImageSummary.attestations`, not in
  :attr:`ImageSummary.platforms`. A child whose OS is ``unknown``, or that carries that
  annotation, is an attestation. Children without any platform (artifact indexes) stay in
  ``platforms`` with ``platform=None``; :meth:`ImageSummary.platform_names` leaves them out.
* **An image's platform** is what its config says (``os``/``architecture``/``variant``).
  :meth:`~ImageSummary.platform_names` gives it for an image, and the platforms of the
  children for an index.
* **Created** is the config's ``created`` as written (RFC 3339). For an index, that of the
  image ``docker pull`` picks on an amd64 host: ``linux/amd64`` if listed, else the first
  child that is not an attestation (what :meth:`Client.image_config` resolves to).
* **Config** is read for image manifests only, and only when it is a JSON object of at most
  :data:`CONFIG_LIMIT` bytes; an artifact whose config is not JSON (or is missing) gets the
  config descriptor with the image fields empty. An index has no config of its own
  (``config`` is None; its ``created`` is still given as above).
* **Platform choice.** With ``platform``, an index resolves to the matching child (the
  index's digest is kept in :attr:`ImageSummary.index_digest`), as ``docker pull
  --platform`` does, and a single image must be for that platform: otherwise
  :class:`~ocireg.ManifestError` lists what is available.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .errors import ManifestError, NotFoundError
from .images import default_child
from .manifests import Descriptor, ImageIndex, ImageManifest, Manifest, Platform
from .reference import Reference

if TYPE_CHECKING:
    from .client import Client

__all__ = [
    "ATTESTATION_ANNOTATION",
    "CONFIG_LIMIT",
    "ConfigSummary",
    "ImageSummary",
    "IndexEntry",
    "is_attestation",
    "summarize",
    "summarize_tags",
]

#: The largest image config read (configs of real images are a few KiB).
CONFIG_LIMIT = 16 * 1024 * 1024
#: BuildKit's annotation on attestation children of an index (value ``attestation-manifest``).
ATTESTATION_ANNOTATION = "vnd.docker.reference.type"


def is_attestation(descriptor: Descriptor) -> bool:
    """Whether a child of an index is an attestation rather than a runnable image: its
    platform's OS is ``unknown`` (BuildKit writes ``unknown/unknown``), or BuildKit's
    annotation says ``attestation-manifest``."""
    if descriptor.annotations.get(ATTESTATION_ANNOTATION) == "attestation-manifest":
        return True
    return descriptor.platform is not None and descriptor.platform.os == "unknown"


@dataclass(frozen=True, slots=True)
class IndexEntry:
    """A child of an index: its platform (None when it declares none) and descriptor."""

    platform: Platform | None
    digest: str
    media_type: str
    size: int

    @classmethod
    def of(cls, descriptor: Descriptor) -> IndexEntry:
        return cls(descriptor.platform, descriptor.digest, descriptor.media_type, descriptor.size)

    def to_dict(self) -> dict[str, Any]:
        p = self.platform
        return {
            "os": p.os if p else None,
            "architecture": p.architecture if p else None,
            "variant": p.variant if p else None,
            "platform": str(p) if p else None,
            "digest": self.digest,
            "media_type": self.media_type,
            "size": self.size,
        }


@dataclass(frozen=True, slots=True)
class ConfigSummary:
    """The config blob of an image manifest and what it says (None/empty when it is not an
    image config: artifacts)."""

    digest: str
    media_type: str
    size: int
    created: str | None = None
    os: str | None = None
    architecture: str | None = None
    variant: str | None = None
    labels: Mapping[str, str] = field(default_factory=dict)
    env: tuple[str, ...] = ()
    entrypoint: tuple[str, ...] | None = None
    cmd: tuple[str, ...] | None = None

    @classmethod
    def of(cls, descriptor: Descriptor, config: Mapping[str, Any] | None) -> ConfigSummary:
        """From the config descriptor and the parsed config (None: not JSON)."""
        base = cls(descriptor.digest, descriptor.media_type, descriptor.size)
        if config is None:
            return base
        inner = config.get("config")
        inner = inner if isinstance(inner, dict) else {}
        labels = inner.get("Labels")
        return cls(
            base.digest,
            base.media_type,
            base.size,
            created=_text(config.get("created")),
            os=_text(config.get("os")),
            architecture=_text(config.get("architecture")),
            variant=_text(config.get("variant")),
            labels={str(k): str(v) for k, v in labels.items()} if isinstance(labels, dict) else {},
            env=_texts(inner.get("Env")) or (),
            entrypoint=_texts(inner.get("Entrypoint")),
            cmd=_texts(inner.get("Cmd")),
        )

    @property
    def platform(self) -> Platform | None:
        """The platform the config declares, if it names both OS and architecture."""
        if not self.os or not self.architecture:
            return None
        return Platform(self.os, self.architecture, self.variant or None)

    def to_dict(self) -> dict[str, Any]:
        return {
            "digest": self.digest,
            "media_type": self.media_type,
            "size": self.size,
            "created": self.created,
            "os": self.os,
            "architecture": self.architecture,
            "variant": self.variant,
            "labels": dict(self.labels),
            "env": list(self.env),
            "entrypoint": None if self.entrypoint is None else list(self.entrypoint),
            "cmd": None if self.cmd is None else list(self.cmd),
        }


@dataclass(frozen=True, slots=True)
class ImageSummary:
    """What :func:`summarize` found (rules in the module docstring).

    :ivar reference: the reference summarized, as given.
    :ivar digest: the manifest's digest (the chosen child's when ``platform`` chose one).
    :ivar media_type: the manifest's media type.
    :ivar size: the manifest's size in bytes.
    :ivar artifact_type: the manifest's ``artifactType``, if any.
    :ivar index_digest: the index ``platform`` chose the image from, else None.
    :ivar platforms: for an index, its children that are not attestations.
    :ivar attestations: for an index, its attestation children.
    :ivar config: for an image manifest, its config; None for an index.
    :ivar layers: for an image manifest, its layers in order.
    :ivar created: the image's creation time (for an index, that of its default image).
    :ivar manifest: the manifest itself (not compared, not in :meth:`to_dict`).
    """

    reference: str
    digest: str
    media_type: str
    size: int
    artifact_type: str | None = None
    index_digest: str | None = None
    platforms: tuple[IndexEntry, ...] = ()
    attestations: tuple[IndexEntry, ...] = ()
    config: ConfigSummary | None = None
    layers: tuple[Descriptor, ...] = ()
    created: str | None = None
    manifest: Manifest | None = field(default=None, compare=False, repr=False)

    @property
    def is_index(self) -> bool:
        return isinstance(self.manifest, ImageIndex)

    def platform_names(self) -> list[str]:
        """``os/arch[/variant]`` texts: the children's of an index (attestations and
        children without platform left out), or the image's own from its config."""
        if self.config is not None:
            platform = self.config.platform
            return [str(platform)] if platform else []
        return [str(e.platform) for e in self.platforms if e.platform is not None]

    def to_dict(self) -> dict[str, Any]:
        """Plain values with stable keys, for JSON output and Ansible results."""
        return {
            "reference": self.reference,
            "digest": self.digest,
            "media_type": self.media_type,
            "size": self.size,
            "artifact_type": self.artifact_type,
            "index_digest": self.index_digest,
            "created": self.created,
            "platforms": [e.to_dict() for e in self.platforms],
            "attestations": [e.to_dict() for e in self.attestations],
            "config": None if self.config is None else self.config.to_dict(),
            "layers": [
                {"digest": d.digest, "size": d.size, "media_type": d.media_type}
                for d in self.layers
            ],
        }


def summarize(
    client: Client, ref: Reference | str, *, platform: str | Platform | None = None
) -> ImageSummary:
    """Summarize the manifest ``ref`` names (a tag or a digest).

    Requests: the manifest; for an image its config blob; for an index its default image's
    manifest and config (for ``created``); with ``platform`` on an index, the chosen child
    and its config instead.

    :raises NotFoundError: the manifest does not exist.
    :raises ManifestError: ``platform`` matches no child of the index, or is not the
        platform of the single image (the message says what is available).
    :raises InvalidPlatformError: ``platform`` is not ``os/arch[/variant]``.
    """
    r = Reference.parse(ref) if isinstance(ref, str) else ref
    want = Platform.parse(platform) if isinstance(platform, str) else platform
    manifest = client.get_manifest(r)
    index_digest = None
    if want is not None and isinstance(manifest, ImageIndex):
        child = manifest.select(want)
        index_digest = str(manifest.digest)
        manifest = client.get_manifest(r.with_digest(child.digest))
    base = ImageSummary(
        reference=str(r),
        digest=str(manifest.digest),
        media_type=manifest.media_type,
        size=manifest.size,
        artifact_type=manifest.artifact_type,
        index_digest=index_digest,
        manifest=manifest,
    )
    if isinstance(manifest, ImageIndex):
        children = manifest.manifests
        return _replace(
            base,
            platforms=tuple(IndexEntry.of(d) for d in children if not is_attestation(d)),
            attestations=tuple(IndexEntry.of(d) for d in children if is_attestation(d)),
            created=_index_created(client, r, manifest),
        )
    if isinstance(manifest, ImageManifest):
        config = ConfigSummary.of(manifest.config, _read_config(client, r, manifest))
        have = config.platform
        if want is not None and have is not None and not have.matches(want):
            raise ManifestError(f"{r} is a single-platform image for {have}, not {want}")
        return _replace(base, config=config, layers=manifest.layers, created=config.created)
    return base  # schema 1 and manifests of plugin types: no config, no children


def summarize_tags(
    client: Client, repository: Reference | str, tags: Iterable[str] | None = None
) -> dict[str, ImageSummary]:
    """Tag -> summary for ``tags`` (all tags by default), in that order; tags deleted
    meanwhile are left out. One ``HEAD`` per tag, then one :func:`summarize` per distinct
    digest, concurrently (``client.max_workers``); each summary's ``reference`` is
    ``repository@digest``."""
    repo = Reference.parse(repository) if isinstance(repository, str) else repository
    descriptors = client.tag_descriptors(repo, tags)
    digests = sorted({d.digest for d in descriptors.values()})

    def one(digest: str) -> ImageSummary:
        return summarize(client, _by_digest(repo, digest))

    workers = max(1, min(client.max_workers, len(digests)))
    with ThreadPoolExecutor(max_workers=workers) as pool:
        summaries = dict(zip(digests, pool.map(one, digests), strict=True))
    return {tag: summaries[desc.digest] for tag, desc in descriptors.items()}


def _by_digest(repo: Reference, digest: str) -> Reference:
    return Reference.parse(f"{repo.repository}@{digest}")


def _replace(summary: ImageSummary, **changes: Any) -> ImageSummary:
    return dataclasses.replace(summary, **changes)


def _read_config(client: Client, ref: Reference, manifest: ImageManifest) -> dict[str, Any] | None:
    """The config as a JSON object, or None when it is not one (artifacts), is too large,
    or is missing. Other errors (denied, transport) are raised."""
    try:
        data = client.read_blob(ref, manifest.config, limit=CONFIG_LIMIT)
        config = json.loads(data)
    except (ManifestError, NotFoundError, ValueError):
        return None
    return config if isinstance(config, dict) else None


def _index_created(client: Client, ref: Reference, index: ImageIndex) -> str | None:
    """``created`` of the image the index resolves to without a platform (the rule of
    :func:`ocireg.images.default_child`, which ``Client.image_config`` follows too)."""
    try:
        child = default_child(index)
    except ManifestError:  # nothing but attestations
        return None
    try:
        manifest = client.get_manifest(ref.with_digest(child.digest))
    except NotFoundError:
        return None
    if not isinstance(manifest, ImageManifest):
        return None  # a nested index or an artifact
    config = _read_config(client, ref, manifest)
    return _text(config.get("created")) if config else None


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _texts(value: Any) -> tuple[str, ...] | None:
    if not isinstance(value, list):
        return None
    return tuple(str(v) for v in value)
