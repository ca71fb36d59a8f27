"""The platform an image runs on, and containerd's rules for matching one.

Fields and JSON keys follow the OCI image index spec ("platform" of a descriptor):
``architecture``, ``os``, ``os.version``, ``os.features``, ``variant``, ``features``.

Matching follows containerd/platforms (``Normalize`` and ``NewMatcher(...).Match``), the
rules ``docker pull --platform`` uses, so we pick the child docker would pick:

* ``x86_64``/``x86-64`` are ``amd64``, ``aarch64`` is ``arm64``, ``i386`` is ``386``,
  ``armhf`` is ``arm/v7``, ``armel`` is ``arm/v6``, ``macos`` is ``darwin``; case is ignored.
* Default variants: ``arm`` means ``arm/v7``; ``arm64/v8`` is plain ``arm64``; ``amd64/v1``
  is plain ``amd64``. So ``linux/arm64`` matches a child ``linux/arm64/v8`` and back.
* After that the variants must be equal: ``linux/arm/v6`` never takes a ``v7`` child, and
  plain ``linux/amd64`` does not take an ``amd64/v3``-only child (ask for it explicitly).
* ``os.version`` counts only when asked for: then major.minor.build must be equal (Windows
  images run only on a host of the same build).
* A child's ``os.features`` must all be among those asked for.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ..errors import InvalidPlatformError, ManifestError
from ._fields import opt_str, opt_str_list, req_str

__all__ = ["InvalidPlatformError", "Platform"]

_COMPONENT = re.compile(r"[A-Za-z0-9_.-]+")
# containerd's "windows(10.0.17763+feature)" form of the OS component.
_OS_OPTIONS = re.compile(r"([A-Za-z0-9_-]+)(?:\(([A-Za-z0-9_.-]*)((?:\+[A-Za-z0-9_.-]+)*)\))?")


@dataclass(frozen=True, slots=True)
class Platform:
    """An OCI platform: ``Platform("linux", "arm64", "v8")``.

    Values are kept as written; :meth:`normalized` gives containerd's canonical form and
    :meth:`matches` compares canonical forms.
    """

    os: str
    architecture: str
    variant: str | None = None
    os_version: str | None = None
    os_features: tuple[str, ...] = ()
    features: tuple[str, ...] = ()

    @classmethod
    def parse(cls, text: str) -> Platform:
        """Parse ``os/arch[/variant][:os.version]``, e.g. ``linux/arm64/v8`` or
        ``windows/amd64:10.0.17763.5329`` (go-containerregistry's form), or containerd's
        ``windows(10.0.17763)/amd64``.

        Both the OS and the architecture are required: unlike containerd we do not fill
        in the host's, since a registry client's host says nothing about its target.
        """
        if not isinstance(text, str) or not text:
            raise InvalidPlatformError(f"invalid platform {text!r}: empty")
        main, colon, version = text.partition(":")
        if colon and not _COMPONENT.fullmatch(version):
            raise InvalidPlatformError(f"invalid platform {text!r}: bad os.version {version!r}")
        parts = main.split("/")
        if len(parts) < 2:
            raise InvalidPlatformError(
                f"invalid platform {text!r}: expected os/architecture[/variant]"
            )
        if len(parts) > 3:
            raise InvalidPlatformError(f"invalid platform {text!r}: too many '/' components")
        os_match = _OS_OPTIONS.fullmatch(parts[0])
        if os_match is None:
            raise InvalidPlatformError(f"invalid platform {text!r}: bad os {parts[0]!r}")
        for part in parts[1:]:
            if not _COMPONENT.fullmatch(part):
                raise InvalidPlatformError(f"invalid platform {text!r}: bad component {part!r}")
        os_name, paren_version, paren_features = os_match.groups()
        if colon and paren_version:
            raise InvalidPlatformError(f"invalid platform {text!r}: os.version given twice")
        return cls(
            os=os_name,
            architecture=parts[1],
            variant=parts[2] if len(parts) == 3 else None,
            os_version=(version if colon else paren_version) or None,
            os_features=tuple(paren_features.split("+")[1:]) if paren_features else (),
        )

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], *, where: str = "platform") -> Platform:
        """Read the OCI JSON object; raises :class:`ManifestError` on a wrong shape."""
        if not isinstance(data, Mapping):
            raise ManifestError(f"{where}: expected an object, got {type(data).__name__}")
        return cls(
            os=req_str(data, "os", where),
            architecture=req_str(data, "architecture", where),
            variant=opt_str(data, "variant", where) or None,
            os_version=opt_str(data, "os.version", where) or None,
            os_features=opt_str_list(data, "os.features", where),
            features=opt_str_list(data, "features", where),
        )

    def to_dict(self) -> dict[str, Any]:
        """The OCI JSON object, keys in image-spec's Go struct order, empty ones omitted."""
        out: dict[str, Any] = {"architecture": self.architecture, "os": self.os}
        if self.os_version:
            out["os.version"] = self.os_version
        if self.os_features:
            out["os.features"] = list(self.os_features)
        if self.variant:
            out["variant"] = self.variant
        if self.features:
            out["features"] = list(self.features)
        return out

    def __str__(self) -> str:
        text = f"{self.os}/{self.architecture}"
        if self.variant:
            text += f"/{self.variant}"
        if self.os_version:
            text += f":{self.os_version}"
        return text

    def normalized(self) -> Platform:
        """containerd's canonical form (``x86_64`` -> ``amd64``, ``arm`` -> ``arm/v7``...)."""
        arch, variant = _normalize_arch(self.architecture, self.variant or "")
        os_name = self.os.lower()
        if os_name == "macos":
            os_name = "darwin"
        return Platform(
            os=os_name,
            architecture=arch,
            variant=variant or None,
            os_version=self.os_version,
            os_features=tuple(sorted(set(self.os_features))),
            features=self.features,
        )

    def matches(self, want: Platform | str) -> bool:
        """Whether this platform (an index child's) satisfies ``want`` (what the user asked).

        See the module docstring for the rules; ``want`` may be given as text.
        """
        wanted = (Platform.parse(want) if isinstance(want, str) else want).normalized()
        have = self.normalized()
        if (have.os, have.architecture, have.variant) != (
            wanted.os,
            wanted.architecture,
            wanted.variant,
        ):
            return False
        if wanted.os_version and _build(have.os_version) != _build(wanted.os_version):
            return False
        return set(have.os_features) <= set(wanted.os_features)


def _build(version: str | None) -> tuple[str, ...]:
    """major.minor.build of an ``os.version`` (Windows: ``10.0.17763.5329`` -> 3 parts)."""
    return tuple((version or "").split(".")[:3])


def _normalize_arch(arch: str, variant: str) -> tuple[str, str]:
    """containerd/platforms ``normalizeArch``."""
    arch, variant = arch.lower(), variant.lower()
    if arch == "i386":
        return "386", ""
    if arch in ("x86_64", "x86-64", "amd64"):
        return "amd64", "" if variant == "v1" else variant
    if arch in ("aarch64", "arm64"):
        return "arm64", "" if variant in ("8", "v8") else variant
    if arch == "armhf":
        return "arm", "v7"
    if arch == "armel":
        return "arm", "v6"
    if arch == "arm":
        if variant in ("", "7"):
            return "arm", "v7"
        if variant in ("5", "6", "8"):
            return "arm", "v" + variant
    return arch, variant
