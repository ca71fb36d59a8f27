"""Platform parsing, JSON form and containerd-style matching."""

from __future__ import annotations

import dataclasses

import pytest

from ocireg import ManifestError, OciregError
from ocireg.manifests import InvalidPlatformError, Platform

P = Platform


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("linux/amd64", P("linux", "amd64"), id="os-arch"),
        pytest.param("linux/arm64/v8", P("linux", "arm64", "v8"), id="os-arch-variant"),
        pytest.param("linux/arm/v7", P("linux", "arm", "v7"), id="arm-v7"),
        pytest.param(
            "windows/amd64:10.0.17763.5329",
            P("windows", "amd64", os_version="10.0.17763.5329"),
            id="ggcr-os-version",
        ),
        pytest.param(
            "linux/arm64/v8:5.10",
            P("linux", "arm64", "v8", os_version="5.10"),
            id="variant-and-os-version",
        ),
        pytest.param(
            "windows(10.0.17763)/amd64",
            P("windows", "amd64", os_version="10.0.17763"),
            id="containerd-os-version",
        ),
        pytest.param(
            "windows(10.0.17763+win32k)/amd64",
            P("windows", "amd64", os_version="10.0.17763", os_features=("win32k",)),
            id="containerd-os-features",
        ),
        pytest.param("Linux/X86_64", P("Linux", "X86_64"), id="kept-as-written"),
    ],
)
def test_parse(text: str, expected: Platform) -> None:
    assert Platform.parse(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("linux/amd64", id="plain"),
        pytest.param("linux/arm64/v8", id="variant"),
        pytest.param("windows/amd64:10.0.17763.5329", id="os-version"),
    ],
)
def test_str_round_trips(text: str) -> None:
    assert str(Platform.parse(text)) == text


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("", id="empty"),
        pytest.param("linux", id="os-only"),
        pytest.param("amd64", id="arch-only"),
        pytest.param("linux/", id="empty-arch"),
        pytest.param("/amd64", id="empty-os"),
        pytest.param("linux/arm/v7/extra", id="too-many-parts"),
        pytest.param("linux/amd64:", id="empty-os-version"),
        pytest.param("linux/am d64", id="space"),
        pytest.param("linux/arm//", id="empty-variant"),
        pytest.param("windows(10.0.1)/amd64:10.0.2", id="os-version-twice"),
        pytest.param("linux/*", id="wildcard"),
    ],
)
def test_parse_rejects(text: str) -> None:
    with pytest.raises(InvalidPlatformError, match="invalid platform"):
        Platform.parse(text)


def test_invalid_platform_error_is_in_the_tree() -> None:
    with pytest.raises(InvalidPlatformError) as info:
        Platform.parse("nonsense")
    assert isinstance(info.value, ValueError)
    assert isinstance(info.value, ManifestError)
    assert isinstance(info.value, OciregError)


def test_to_dict_uses_oci_keys_and_omits_empty() -> None:
    p = Platform(
        "windows",
        "amd64",
        os_version="10.0.17763.5329",
        os_features=("win32k",),
        features=("sse4",),
    )
    assert p.to_dict() == {
        "architecture": "amd64",
        "os": "windows",
        "os.version": "10.0.17763.5329",
        "os.features": ["win32k"],
        "features": ["sse4"],
    }
    assert Platform.from_dict(p.to_dict()) == p
    assert Platform("linux", "arm64", "v8").to_dict() == {
        "architecture": "arm64",
        "os": "linux",
        "variant": "v8",
    }


@pytest.mark.parametrize(
    ("data", "message"),
    [
        pytest.param({"architecture": "amd64"}, r"platform\.os: required", id="no-os"),
        pytest.param({"os": "linux"}, r"platform\.architecture: required", id="no-arch"),
        pytest.param({"os": "linux", "architecture": 64}, "expected a string", id="arch-int"),
        pytest.param(
            {"os": "linux", "architecture": "amd64", "os.features": "x"},
            "list of strings",
            id="features-not-list",
        ),
        pytest.param(["linux"], "expected an object", id="not-object"),
    ],
)
def test_from_dict_rejects(data: object, message: str) -> None:
    with pytest.raises(ManifestError, match=message):
        Platform.from_dict(data)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("child", "want", "expected"),
    [
        # arm64: v8 is the default variant, so it is the same as none.
        pytest.param("linux/arm64/v8", "linux/arm64", True, id="arm64-v8-child-plain-want"),
        pytest.param("linux/arm64", "linux/arm64/v8", True, id="arm64-plain-child-v8-want"),
        pytest.param("linux/aarch64", "linux/arm64", True, id="aarch64-alias"),
        pytest.param("linux/arm64/v9", "linux/arm64", False, id="arm64-v9-not-default"),
        # amd64 aliases; v1 is the default, v3 is not.
        pytest.param("linux/x86_64", "linux/amd64", True, id="x86_64-child"),
        pytest.param("linux/amd64", "linux/x86-64", True, id="x86-64-want"),
        pytest.param("linux/amd64/v1", "linux/amd64", True, id="amd64-v1-default"),
        pytest.param("linux/amd64/v3", "linux/amd64", False, id="amd64-v3-needs-asking"),
        pytest.param("linux/amd64/v3", "linux/amd64/v3", True, id="amd64-v3-asked"),
        pytest.param("linux/386", "linux/i386", True, id="i386-alias"),
        # arm: v7 is the default; other variants must be asked for.
        pytest.param("linux/arm", "linux/arm/v7", True, id="arm-plain-child-is-v7"),
        pytest.param("linux/arm/v7", "linux/arm", True, id="arm-plain-want-is-v7"),
        pytest.param("linux/armhf", "linux/arm/v7", True, id="armhf-alias"),
        pytest.param("linux/armel", "linux/arm/v6", True, id="armel-alias"),
        pytest.param("linux/arm/v6", "linux/arm", False, id="arm-v6-not-default"),
        pytest.param("linux/arm/v7", "linux/arm/v6", False, id="wanted-variant-must-match"),
        pytest.param("linux/arm/7", "linux/arm/v7", True, id="arm-bare-number"),
        # os
        pytest.param("linux/amd64", "windows/amd64", False, id="os-differs"),
        pytest.param("Linux/AMD64", "linux/amd64", True, id="case-insensitive"),
        pytest.param("darwin/arm64", "macos/arm64", True, id="macos-alias"),
        pytest.param("linux/arm64", "linux/amd64", False, id="arch-differs"),
        # os.version: only when asked, and then major.minor.build must agree.
        pytest.param(
            "windows/amd64:10.0.17763.5329", "windows/amd64:10.0.17763", True, id="win-build"
        ),
        pytest.param(
            "windows/amd64:10.0.20348.2227", "windows/amd64:10.0.17763", False, id="win-other"
        ),
        pytest.param("windows/amd64:10.0.17763.1", "windows/amd64", True, id="win-not-asked"),
        pytest.param(
            "windows/amd64", "windows/amd64:10.0.17763", False, id="win-child-without-version"
        ),
    ],
)
def test_matches(child: str, want: str, expected: bool) -> None:
    assert Platform.parse(child).matches(Platform.parse(want)) is expected
    # text is accepted for the wanted platform too
    assert Platform.parse(child).matches(want) is expected


def test_child_os_features_must_be_wanted() -> None:
    child = Platform("windows", "amd64", os_features=("win32k",))
    assert not child.matches(Platform("windows", "amd64"))
    assert child.matches(Platform("windows", "amd64", os_features=("win32k", "other")))
    assert Platform("windows", "amd64").matches(
        Platform("windows", "amd64", os_features=("win32k",))
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("linux/arm64/v8", "linux/arm64", id="arm64-v8"),
        pytest.param("linux/arm", "linux/arm/v7", id="arm"),
        pytest.param("Linux/x86_64", "linux/amd64", id="x86_64"),
        pytest.param("macos/aarch64", "darwin/arm64", id="macos"),
    ],
)
def test_normalized(text: str, expected: str) -> None:
    assert str(Platform.parse(text).normalized()) == expected


def test_value_semantics() -> None:
    p = Platform.parse("linux/arm64/v8")
    assert {p, Platform("linux", "arm64", "v8")} == {p}
    with pytest.raises(dataclasses.FrozenInstanceError):
        p.os = "windows"  # type: ignore[misc]
    assert not hasattr(p, "__dict__")
