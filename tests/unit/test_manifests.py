"""Media types, manifest parsing, the handler registry and the manifest builders.

Schema 1 vector: ``v2s1.manifest.json`` from containers/image (``internal/manifest/testdata``),
a real libtrust-signed manifest; containers/image and others record its digest as
``sha256:7364fea9...`` and its canonical size as 5480 bytes.
"""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import json
from collections.abc import Callable
from typing import Any, ClassVar

import pytest

from ocireg import Digest, ManifestError
from ocireg import mediatypes as mt
from ocireg.manifests import (
    EMPTY_BLOB,
    EMPTY_DESCRIPTOR,
    Descriptor,
    HandlerRegistry,
    ImageIndex,
    ImageManifest,
    Manifest,
    OciManifestHandler,
    Platform,
    Schema1Handler,
    Schema1Manifest,
    build_image_index,
    build_image_manifest,
    builtin_handlers,
    schema1_payload,
)

V2S1_SIGNED = (
    b"{\n"
    b'   "schemaVersion": 1,\n'
    b'   "name": "mitr/busybox",\n'
    b'   "tag": "latest",\n'
    b'   "architecture": "amd64",\n'
    b'   "fsLayers": [\n'
    b"      {\n"
    b'         "blobSum": "sha256:5f70bf18a086007016e948b04aed3b82103a36bea41755b6cddfaf10ac'
    b'e3c6ef"\n'
    b"      },\n"
    b"      {\n"
    b'         "blobSum": "sha256:5f70bf18a086007016e948b04aed3b82103a36bea41755b6cddfaf10ac'
    b'e3c6ef"\n'
    b"      },\n"
    b"      {\n"
    b'         "blobSum": "sha256:5f70bf18a086007016e948b04aed3b82103a36bea41755b6cddfaf10ac'
    b'e3c6ef"\n'
    b"      }\n"
    b"   ],\n"
    b'   "history": [\n'
    b"      {\n"
    b'         "v1Compatibility": "{\\"id\\":\\"f1b5eb0a1215f663765d509b6cdf3841bc2bcff09223'
    b'46abb943d1342d469a97\\",\\"parent\\":\\"594075be8d003f784074cc639d970d1fa091a8197850ba'
    b'aae5052c01564ac535\\",\\"created\\":\\"2016-03-03T11:29:44.222098366Z\\",\\"container'
    b'\\":\\"c0924f5b281a1992127d0afc065e59548ded8880b08aea4debd56d4497acb17a\\",\\"containe'
    b'r_config\\":{\\"Hostname\\":\\"56f0fe1dfc95\\",\\"Domainname\\":\\"\\",\\"User\\":\\"'
    b'\\",\\"AttachStdin\\":false,\\"AttachStdout\\":false,\\"AttachStderr\\":false,\\"Expos'
    b'edPorts\\":null,\\"PublishService\\":\\"\\",\\"Tty\\":false,\\"OpenStdin\\":false,\\"S'
    b'tdinOnce\\":false,\\"Env\\":null,\\"Cmd\\":[\\"/bin/sh\\",\\"-c\\",\\"#(nop) LABEL Che'
    b"cksum=4fef81d30f31f9213c642881357e6662846a0f884c2366c13ebad807b4031368  ./tests/test-i"
    b'mages/Dockerfile.2\\"],\\"Image\\":\\"594075be8d003f784074cc639d970d1fa091a8197850baaa'
    b'e5052c01564ac535\\",\\"Volumes\\":null,\\"VolumeDriver\\":\\"\\",\\"WorkingDir\\":\\"'
    b'\\",\\"Entrypoint\\":null,\\"NetworkDisabled\\":false,\\"MacAddress\\":\\"\\",\\"OnBui'
    b'ld\\":null,\\"Labels\\":{\\"Checksum\\":\\"4fef81d30f31f9213c642881357e6662846a0f884c2'
    b'366c13ebad807b4031368  ./tests/test-images/Dockerfile.2\\",\\"Name\\":\\"atomic-test-2'
    b'\\"}},\\"docker_version\\":\\"1.8.2-fc22\\",\\"author\\":\\"\\\\\\"William Temple \\\\'
    b'u003cwtemple at redhat dot com\\\\u003e\\\\\\"\\",\\"config\\":{\\"Hostname\\":\\"56f0'
    b'fe1dfc95\\",\\"Domainname\\":\\"\\",\\"User\\":\\"\\",\\"AttachStdin\\":false,\\"Attac'
    b'hStdout\\":false,\\"AttachStderr\\":false,\\"ExposedPorts\\":null,\\"PublishService\\"'
    b':\\"\\",\\"Tty\\":false,\\"OpenStdin\\":false,\\"StdinOnce\\":false,\\"Env\\":null,\\"'
    b'Cmd\\":null,\\"Image\\":\\"594075be8d003f784074cc639d970d1fa091a8197850baaae5052c01564'
    b'ac535\\",\\"Volumes\\":null,\\"VolumeDriver\\":\\"\\",\\"WorkingDir\\":\\"\\",\\"Entry'
    b'point\\":null,\\"NetworkDisabled\\":false,\\"MacAddress\\":\\"\\",\\"OnBuild\\":null,'
    b'\\"Labels\\":{\\"Checksum\\":\\"4fef81d30f31f9213c642881357e6662846a0f884c2366c13ebad8'
    b'07b4031368  ./tests/test-images/Dockerfile.2\\",\\"Name\\":\\"atomic-test-2\\"}},\\"ar'
    b'chitecture\\":\\"amd64\\",\\"os\\":\\"linux\\",\\"Size\\":0}\\n"\n'
    b"      },\n"
    b"      {\n"
    b'         "v1Compatibility": "{\\"id\\":\\"594075be8d003f784074cc639d970d1fa091a8197850'
    b'baaae5052c01564ac535\\",\\"parent\\":\\"03dfa1cd1abe452bc2b69b8eb2362fa6beebc20893e654'
    b'37906318954f6276d4\\",\\"created\\":\\"2016-03-03T11:29:38.563048924Z\\",\\"container'
    b'\\":\\"fd4cf54dcd239fbae9bdade9db48e41880b436d27cb5313f60952a46ab04deff\\",\\"containe'
    b'r_config\\":{\\"Hostname\\":\\"56f0fe1dfc95\\",\\"Domainname\\":\\"\\",\\"User\\":\\"'
    b'\\",\\"AttachStdin\\":false,\\"AttachStdout\\":false,\\"AttachStderr\\":false,\\"Expos'
    b'edPorts\\":null,\\"PublishService\\":\\"\\",\\"Tty\\":false,\\"OpenStdin\\":false,\\"S'
    b'tdinOnce\\":false,\\"Env\\":null,\\"Cmd\\":[\\"/bin/sh\\",\\"-c\\",\\"#(nop) LABEL Nam'
    b'e=atomic-test-2\\"],\\"Image\\":\\"03dfa1cd1abe452bc2b69b8eb2362fa6beebc20893e65437906'
    b'318954f6276d4\\",\\"Volumes\\":null,\\"VolumeDriver\\":\\"\\",\\"WorkingDir\\":\\"\\",'
    b'\\"Entrypoint\\":null,\\"NetworkDisabled\\":false,\\"MacAddress\\":\\"\\",\\"OnBuild\\'
    b'":null,\\"Labels\\":{\\"Name\\":\\"atomic-test-2\\"}},\\"docker_version\\":\\"1.8.2-fc'
    b'22\\",\\"author\\":\\"\\\\\\"William Temple \\\\u003cwtemple at redhat dot com\\\\u003'
    b'e\\\\\\"\\",\\"config\\":{\\"Hostname\\":\\"56f0fe1dfc95\\",\\"Domainname\\":\\"\\",\\'
    b'"User\\":\\"\\",\\"AttachStdin\\":false,\\"AttachStdout\\":false,\\"AttachStderr\\":fa'
    b'lse,\\"ExposedPorts\\":null,\\"PublishService\\":\\"\\",\\"Tty\\":false,\\"OpenStdin\\'
    b'":false,\\"StdinOnce\\":false,\\"Env\\":null,\\"Cmd\\":null,\\"Image\\":\\"03dfa1cd1ab'
    b'e452bc2b69b8eb2362fa6beebc20893e65437906318954f6276d4\\",\\"Volumes\\":null,\\"VolumeD'
    b'river\\":\\"\\",\\"WorkingDir\\":\\"\\",\\"Entrypoint\\":null,\\"NetworkDisabled\\":fa'
    b'lse,\\"MacAddress\\":\\"\\",\\"OnBuild\\":null,\\"Labels\\":{\\"Name\\":\\"atomic-test'
    b'-2\\"}},\\"architecture\\":\\"amd64\\",\\"os\\":\\"linux\\",\\"Size\\":0}\\n"\n'
    b"      },\n"
    b"      {\n"
    b'         "v1Compatibility": "{\\"id\\":\\"03dfa1cd1abe452bc2b69b8eb2362fa6beebc20893e6'
    b'5437906318954f6276d4\\",\\"created\\":\\"2016-03-03T11:29:32.948089874Z\\",\\"containe'
    b'r\\":\\"56f0fe1dfc95755dd6cda10f7215c9937a8d9c6348d079c581a261fd4c2f3a5f\\",\\"contain'
    b'er_config\\":{\\"Hostname\\":\\"56f0fe1dfc95\\",\\"Domainname\\":\\"\\",\\"User\\":\\"'
    b'\\",\\"AttachStdin\\":false,\\"AttachStdout\\":false,\\"AttachStderr\\":false,\\"Expos'
    b'edPorts\\":null,\\"PublishService\\":\\"\\",\\"Tty\\":false,\\"OpenStdin\\":false,\\"S'
    b'tdinOnce\\":false,\\"Env\\":null,\\"Cmd\\":[\\"/bin/sh\\",\\"-c\\",\\"#(nop) MAINTAINE'
    b'R \\\\\\"William Temple \\\\u003cwtemple at redhat dot com\\\\u003e\\\\\\"\\"],\\"Imag'
    b'e\\":\\"\\",\\"Volumes\\":null,\\"VolumeDriver\\":\\"\\",\\"WorkingDir\\":\\"\\",\\"En'
    b'trypoint\\":null,\\"NetworkDisabled\\":false,\\"MacAddress\\":\\"\\",\\"OnBuild\\":nul'
    b'l,\\"Labels\\":null},\\"docker_version\\":\\"1.8.2-fc22\\",\\"author\\":\\"\\\\\\"Will'
    b'iam Temple \\\\u003cwtemple at redhat dot com\\\\u003e\\\\\\"\\",\\"config\\":{\\"Host'
    b'name\\":\\"56f0fe1dfc95\\",\\"Domainname\\":\\"\\",\\"User\\":\\"\\",\\"AttachStdin\\"'
    b':false,\\"AttachStdout\\":false,\\"AttachStderr\\":false,\\"ExposedPorts\\":null,\\"Pu'
    b'blishService\\":\\"\\",\\"Tty\\":false,\\"OpenStdin\\":false,\\"StdinOnce\\":false,\\"'
    b'Env\\":null,\\"Cmd\\":null,\\"Image\\":\\"\\",\\"Volumes\\":null,\\"VolumeDriver\\":\\'
    b'"\\",\\"WorkingDir\\":\\"\\",\\"Entrypoint\\":null,\\"NetworkDisabled\\":false,\\"MacA'
    b'ddress\\":\\"\\",\\"OnBuild\\":null,\\"Labels\\":null},\\"architecture\\":\\"amd64\\",'
    b'\\"os\\":\\"linux\\",\\"Size\\":0}\\n"\n'
    b"      }\n"
    b"   ],\n"
    b'   "signatures": [\n'
    b"      {\n"
    b'         "header": {\n'
    b'            "jwk": {\n'
    b'               "crv": "P-256",\n'
    b'               "kid": "OZ45:U3IG:TDOI:PMBD:NGP2:LDIW:II2U:PSBI:MMCZ:YZUP:TUUO:XPZT",\n'
    b'               "kty": "EC",\n'
    b'               "x": "ReC5c0J9tgXSdUL4_xzEt5RsD8kFt2wWSgJcpAcOQx8",\n'
    b'               "y": "3sBGEqQ3ZMeqPKwQBAadN2toOUEASha18xa0WwsDF-M"\n'
    b"            },\n"
    b'            "alg": "ES256"\n'
    b"         },\n"
    b'         "signature": "dV1paJ3Ck1Ph4FcEhg_frjqxdlGdI6-ywRamk6CvMOcaOEUdCWCpCPQeBQpD2N6'
    b'tGjkoG1BbstkFNflllfenCw",\n'
    b'         "protected": "eyJmb3JtYXRMZW5ndGgiOjU0NzgsImZvcm1hdFRhaWwiOiJDbjAiLCJ0aW1lIjo'
    b'iMjAxNi0wNC0xOFQyMDo1NDo0MloifQ"\n'
    b"      }\n"
    b"   ]\n"
    b"}"
)

V2S1_DIGEST = "sha256:7364fea9d84ee548ab67d4c46c6006289800c98de3fbf8c0a97138dfcc23f000"
V2S1_SHA512 = (
    "sha512:987d6df9aca32adc296bd0698cc7407f12605b4d5e8f0de2ca5d0c43f22d894082e96fb0a02c0f65"
    "9db3bb8314912dd0a1fcb5cb421c04cd5cb468ad3829d9f7"
)
#: The same manifest before signing: what libtrust signed, and the digest's input.
V2S1_UNSIGNED = V2S1_SIGNED[: V2S1_SIGNED.index(b',\n   "signatures"')] + b"\n}"
EMPTY_SHA256 = "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"


def _d(char: str) -> str:
    return "sha256:" + char * 64


def desc(
    char: str, media_type: str = mt.OCI_LAYER_TAR_GZIP, size: int = 10, **extra: Any
) -> dict[str, Any]:
    return {"mediaType": media_type, "digest": _d(char), "size": size, **extra}


def body(doc: dict[str, Any]) -> bytes:
    return json.dumps(doc, indent=3).encode()


def oci_manifest(**extra: Any) -> dict[str, Any]:
    return {
        "schemaVersion": 2,
        "mediaType": mt.OCI_MANIFEST,
        "config": desc("c", mt.OCI_CONFIG),
        "layers": [desc("1"), desc("2")],
        **extra,
    }


def docker_manifest() -> dict[str, Any]:
    return {
        "schemaVersion": 2,
        "mediaType": mt.DOCKER_MANIFEST,
        "config": desc("c", mt.DOCKER_CONFIG),
        "layers": [
            desc("1", mt.DOCKER_LAYER),
            desc("f", mt.DOCKER_FOREIGN_LAYER, urls=["https://x/y"]),
        ],
    }


def plat(os: str, arch: str, variant: str | None = None) -> dict[str, str]:
    out = {"architecture": arch, "os": os}
    if variant:
        out["variant"] = variant
    return out


def oci_index(
    media_type: str = mt.OCI_INDEX, child: str = mt.OCI_MANIFEST, **extra: Any
) -> dict[str, Any]:
    return {
        "schemaVersion": 2,
        "mediaType": media_type,
        "manifests": [
            desc("a", child, platform=plat("linux", "amd64")),
            desc("b", child, platform=plat("linux", "arm64", "v8")),
            desc("7", child, platform=plat("linux", "arm", "v7")),
            desc(
                "e",
                child,
                platform=plat("unknown", "unknown"),
                annotations={"vnd.docker.reference.type": "attestation-manifest"},
            ),
        ],
        **extra,
    }


def without(doc: dict[str, Any], *keys: str) -> dict[str, Any]:
    return {k: v for k, v in doc.items() if k not in keys}


@pytest.fixture(scope="module")
def registry() -> HandlerRegistry:
    return HandlerRegistry.builtin()


# --- mediatypes ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        pytest.param(None, "", id="none"),
        pytest.param("", "", id="empty"),
        pytest.param(mt.OCI_MANIFEST, mt.OCI_MANIFEST, id="bare"),
        pytest.param(mt.OCI_INDEX + "; charset=utf-8", mt.OCI_INDEX, id="charset"),
        pytest.param(" Application/JSON ;charset=UTF-8", "application/json", id="case-space"),
    ],
)
def test_strip_params(value: str | None, expected: str) -> None:
    assert mt.strip_params(value) == expected


@pytest.mark.parametrize(
    ("media_type", "index", "image", "schema1"),
    [
        pytest.param(mt.OCI_INDEX, True, False, False, id="oci-index"),
        pytest.param(mt.DOCKER_MANIFEST_LIST, True, False, False, id="docker-list"),
        pytest.param(mt.OCI_MANIFEST, False, True, False, id="oci-manifest"),
        pytest.param(mt.DOCKER_MANIFEST + "; charset=utf-8", False, True, False, id="docker-v2"),
        pytest.param(mt.DOCKER_SCHEMA1, False, False, True, id="schema1"),
        pytest.param(mt.DOCKER_SCHEMA1_SIGNED.upper(), False, False, True, id="schema1-signed"),
        pytest.param(mt.OCI_CONFIG, False, False, False, id="config"),
        pytest.param("application/json", False, False, False, id="json"),
        pytest.param(None, False, False, False, id="none"),
    ],
)
def test_predicates(media_type: str | None, index: bool, image: bool, schema1: bool) -> None:
    assert mt.is_index(media_type) is index
    assert mt.is_image_manifest(media_type) is image
    assert mt.is_schema1(media_type) is schema1


MEDIA_TYPE_CONSTANTS = [
    ("OCI_MANIFEST", "application/vnd.oci.image.manifest.v1+json"),
    ("OCI_INDEX", "application/vnd.oci.image.index.v1+json"),
    ("OCI_CONFIG", "application/vnd.oci.image.config.v1+json"),
    ("OCI_LAYER_TAR", "application/vnd.oci.image.layer.v1.tar"),
    ("OCI_LAYER_TAR_GZIP", "application/vnd.oci.image.layer.v1.tar+gzip"),
    ("OCI_LAYER_TAR_ZSTD", "application/vnd.oci.image.layer.v1.tar+zstd"),
    (
        "OCI_LAYER_NONDISTRIBUTABLE_TAR",
        "application/vnd.oci.image.layer.nondistributable.v1.tar",
    ),
    ("OCI_EMPTY", "application/vnd.oci.empty.v1+json"),
    ("DOCKER_MANIFEST", "application/vnd.docker.distribution.manifest.v2+json"),
    ("DOCKER_MANIFEST_LIST", "application/vnd.docker.distribution.manifest.list.v2+json"),
    ("DOCKER_CONFIG", "application/vnd.docker.container.image.v1+json"),
    ("DOCKER_LAYER", "application/vnd.docker.image.rootfs.diff.tar.gzip"),
    ("DOCKER_FOREIGN_LAYER", "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip"),
    ("DOCKER_SCHEMA1", "application/vnd.docker.distribution.manifest.v1+json"),
    ("DOCKER_SCHEMA1_SIGNED", "application/vnd.docker.distribution.manifest.v1+prettyjws"),
]


@pytest.mark.parametrize(
    ("name", "value"), MEDIA_TYPE_CONSTANTS, ids=[n for n, _ in MEDIA_TYPE_CONSTANTS]
)
def test_media_type_constants(name: str, value: str) -> None:
    assert getattr(mt, name) == value


# --- the Accept header --------------------------------------------------------------------


def test_accept_header_lists_every_type_schema1_last(registry: HandlerRegistry) -> None:
    assert registry.accept_header() == ", ".join(
        [
            mt.OCI_INDEX,
            mt.OCI_MANIFEST,
            mt.DOCKER_MANIFEST_LIST,
            mt.DOCKER_MANIFEST,
            mt.OCI_ARTIFACT_MANIFEST,
            mt.DOCKER_SCHEMA1_SIGNED + ";q=0.5",
            mt.DOCKER_SCHEMA1 + ";q=0.5",
        ]
    )
    assert registry.media_types[:4] == (
        mt.OCI_INDEX,
        mt.OCI_MANIFEST,
        mt.DOCKER_MANIFEST_LIST,
        mt.DOCKER_MANIFEST,
    )


class VendorHandler:
    media_types: ClassVar[tuple[str, ...]] = ("application/vnd.example.thing.v1+json",)

    def parse(self, raw: bytes, media_type: str) -> Manifest:
        return ImageManifest.from_bytes(raw, media_type)


def test_plugin_types_come_before_schema1_and_are_dispatched() -> None:
    registry = HandlerRegistry([*builtin_handlers(), VendorHandler])
    types = registry.media_types
    assert types.index("application/vnd.example.thing.v1+json") == 5
    assert types[-2:] == (mt.DOCKER_SCHEMA1_SIGNED, mt.DOCKER_SCHEMA1)
    raw = body(oci_manifest(mediaType="application/vnd.example.thing.v1+json"))
    m = registry.parse(raw, None)
    assert m.media_type == "application/vnd.example.thing.v1+json"
    assert "application/vnd.example.thing.v1+json; x=y" in registry
    assert isinstance(registry.handler_for("application/vnd.example.thing.v1+json"), VendorHandler)


# --- handler registration -----------------------------------------------------------------


class RivalManifestHandler:
    media_types: ClassVar[tuple[str, ...]] = ("application/vnd.example.other+json", mt.OCI_MANIFEST)

    def parse(self, raw: bytes, media_type: str) -> Manifest:
        raise AssertionError("never called")


def _handler(types: Any) -> type:
    return type(
        "BadHandler", (), {"media_types": types, "parse": lambda self, raw, media_type: None}
    )


def test_two_handlers_for_one_type_fail_at_construction() -> None:
    with pytest.raises(ManifestError) as info:
        HandlerRegistry([*builtin_handlers(), RivalManifestHandler])
    message = str(info.value)
    assert mt.OCI_MANIFEST in message
    assert "OciManifestHandler" in message
    assert "RivalManifestHandler" in message


def test_same_handler_twice_is_one_claim() -> None:
    registry = HandlerRegistry([OciManifestHandler, OciManifestHandler(), *builtin_handlers()])
    assert registry.media_types.count(mt.OCI_MANIFEST) == 1


@pytest.mark.parametrize(
    ("types", "message"),
    [
        pytest.param((), "declares no media_types", id="none"),
        pytest.param("application/x", "declares no media_types", id="not-a-tuple"),
        pytest.param(("Application/Vnd.X+json",), "lower-case", id="upper-case"),
        pytest.param(("application/x; v=1",), "without parameters", id="parameters"),
        pytest.param(("application/json",), "generic type", id="generic"),
        pytest.param((42,), "lower-case string", id="not-a-string"),
    ],
)
def test_malformed_handlers_are_refused(types: Any, message: str) -> None:
    with pytest.raises(ManifestError, match=message):
        HandlerRegistry([_handler(types)])


# --- parsing each kind --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "content_type", "cls", "media_type"),
    [
        pytest.param(
            body(oci_manifest()), mt.OCI_MANIFEST, ImageManifest, mt.OCI_MANIFEST, id="oci-manifest"
        ),
        pytest.param(body(oci_index()), mt.OCI_INDEX, ImageIndex, mt.OCI_INDEX, id="oci-index"),
        pytest.param(
            body(docker_manifest()),
            mt.DOCKER_MANIFEST,
            ImageManifest,
            mt.DOCKER_MANIFEST,
            id="docker-v2",
        ),
        pytest.param(
            body(oci_index(mt.DOCKER_MANIFEST_LIST, mt.DOCKER_MANIFEST)),
            mt.DOCKER_MANIFEST_LIST,
            ImageIndex,
            mt.DOCKER_MANIFEST_LIST,
            id="docker-list",
        ),
        pytest.param(
            V2S1_SIGNED,
            mt.DOCKER_SCHEMA1_SIGNED,
            Schema1Manifest,
            mt.DOCKER_SCHEMA1_SIGNED,
            id="schema1-signed",
        ),
        pytest.param(
            V2S1_UNSIGNED,
            mt.DOCKER_SCHEMA1,
            Schema1Manifest,
            mt.DOCKER_SCHEMA1,
            id="schema1-unsigned",
        ),
        pytest.param(
            body(oci_manifest()),
            mt.OCI_MANIFEST.upper() + "; charset=utf-8",
            ImageManifest,
            mt.OCI_MANIFEST,
            id="content-type-params-and-case",
        ),
    ],
)
def test_parse_each_kind(
    registry: HandlerRegistry, raw: bytes, content_type: str, cls: type[Manifest], media_type: str
) -> None:
    m = registry.parse(raw, content_type)
    assert type(m) is cls
    assert m.media_type == media_type
    assert m.raw == raw
    assert m.size == len(raw)
    assert m.json == json.loads(raw)


def test_image_manifest_fields(registry: HandlerRegistry) -> None:
    raw = body(docker_manifest())
    m = registry.parse(raw, mt.DOCKER_MANIFEST)
    assert isinstance(m, ImageManifest)
    assert m.digest == Digest.of(raw)
    assert m.config == Descriptor(media_type=mt.DOCKER_CONFIG, digest=_d("c"), size=10)
    assert [layer.digest for layer in m.layers] == [_d("1"), _d("f")]
    assert m.layers[1].urls == ("https://x/y",)
    assert m.blobs() == (m.config, *m.layers)
    assert m.references() == m.blobs()
    assert m.subject is None and m.artifact_type is None and dict(m.annotations) == {}
    assert m.descriptor() == Descriptor(
        media_type=mt.DOCKER_MANIFEST, digest=str(m.digest), size=len(raw)
    )


# --- deciding the media type --------------------------------------------------------------


@pytest.mark.parametrize(
    "content_type",
    [
        pytest.param(None, id="missing"),
        pytest.param("", id="empty"),
        pytest.param("application/json", id="json"),
        pytest.param("application/json; charset=utf-8", id="json-charset"),
        pytest.param("application/octet-stream", id="octet-stream"),
        pytest.param("text/plain", id="text-plain"),
    ],
)
@pytest.mark.parametrize(
    ("doc", "media_type"),
    [
        pytest.param(oci_manifest(), mt.OCI_MANIFEST, id="oci-manifest"),
        pytest.param(docker_manifest(), mt.DOCKER_MANIFEST, id="docker-v2"),
        pytest.param(oci_index(mt.DOCKER_MANIFEST_LIST), mt.DOCKER_MANIFEST_LIST, id="docker-list"),
    ],
)
def test_generic_content_type_defers_to_body(
    registry: HandlerRegistry, content_type: str | None, doc: dict[str, Any], media_type: str
) -> None:
    assert registry.parse(body(doc), content_type).media_type == media_type


@pytest.mark.parametrize(
    ("doc", "content_type"),
    [
        pytest.param(oci_manifest(), mt.DOCKER_MANIFEST, id="oci-body-docker-header"),
        pytest.param(docker_manifest(), mt.OCI_MANIFEST, id="docker-body-oci-header"),
        pytest.param(oci_manifest(), mt.OCI_INDEX, id="manifest-body-index-header"),
        pytest.param(oci_index(), mt.DOCKER_MANIFEST_LIST, id="oci-index-docker-list-header"),
        pytest.param(oci_manifest(), "application/vnd.example.unknown+json", id="unknown-header"),
    ],
)
def test_disagreeing_media_types_are_refused(
    registry: HandlerRegistry, doc: dict[str, Any], content_type: str
) -> None:
    with pytest.raises(ManifestError, match="must agree") as info:
        registry.parse(body(doc), content_type)
    assert doc["mediaType"] in str(info.value)
    assert content_type in str(info.value)


def test_body_media_type_case_is_ignored(registry: HandlerRegistry) -> None:
    raw = body(oci_manifest(mediaType=mt.OCI_MANIFEST.upper()))
    assert registry.parse(raw, mt.OCI_MANIFEST).media_type == mt.OCI_MANIFEST


@pytest.mark.parametrize(
    ("doc", "content_type", "cls"),
    [
        pytest.param(
            without(oci_manifest(), "mediaType"),
            mt.OCI_MANIFEST,
            ImageManifest,
            id="umoci-manifest",
        ),
        pytest.param(without(oci_index(), "mediaType"), mt.OCI_INDEX, ImageIndex, id="index"),
        pytest.param(
            without(oci_manifest(), "mediaType"), mt.DOCKER_MANIFEST, ImageManifest, id="as-docker"
        ),
    ],
)
def test_body_without_media_type_goes_by_content_type(
    registry: HandlerRegistry, doc: dict[str, Any], content_type: str, cls: type[Manifest]
) -> None:
    m = registry.parse(body(doc), content_type)
    assert type(m) is cls
    assert m.media_type == content_type


@pytest.mark.parametrize(
    ("raw", "media_type"),
    [
        pytest.param(body(without(oci_index(), "mediaType")), mt.OCI_INDEX, id="manifests-key"),
        pytest.param(
            body(without(oci_manifest(), "mediaType")), mt.OCI_MANIFEST, id="config-and-layers"
        ),
        pytest.param(V2S1_SIGNED, mt.DOCKER_SCHEMA1_SIGNED, id="schema1-signed"),
        pytest.param(V2S1_UNSIGNED, mt.DOCKER_SCHEMA1, id="schema1-unsigned"),
    ],
)
@pytest.mark.parametrize("content_type", [None, "application/json"], ids=["no-header", "json"])
def test_neither_says_so_the_body_is_detected(
    registry: HandlerRegistry, raw: bytes, media_type: str, content_type: str | None
) -> None:
    assert registry.parse(raw, content_type).media_type == media_type


def test_undetectable_body(registry: HandlerRegistry) -> None:
    with pytest.raises(ManifestError, match="cannot tell the manifest's media type"):
        registry.parse(b'{"schemaVersion": 2, "hello": "world"}', "application/json")


@pytest.mark.parametrize(
    ("raw", "content_type", "named"),
    [
        pytest.param(
            body(without(oci_manifest(), "mediaType")),
            "application/vnd.example.x+json",
            "application/vnd.example.x+json",
            id="header",
        ),
        pytest.param(
            body(oci_manifest(mediaType="application/vnd.example.y+json")),
            None,
            "application/vnd.example.y+json",
            id="body",
        ),
        pytest.param(
            body(oci_manifest(mediaType=mt.OCI_CONFIG)),
            "application/json",
            mt.OCI_CONFIG,
            id="a-config",
        ),
    ],
)
def test_unknown_media_type_names_it_and_the_supported(
    registry: HandlerRegistry, raw: bytes, content_type: str | None, named: str
) -> None:
    with pytest.raises(ManifestError, match="unsupported manifest media type") as info:
        registry.parse(raw, content_type)
    message = str(info.value)
    assert named in message
    for supported in registry.media_types:
        assert supported in message


# --- malformed bodies: always ManifestError, with the JSON path ---------------------------


def _set(doc: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    doc = json.loads(json.dumps(doc))
    target: Any = doc
    keys = path.split(".")
    for key in keys[:-1]:
        target = target[int(key)] if isinstance(target, list) else target[key]
    last = keys[-1]
    if value is KeyError:
        del target[last]
    elif isinstance(target, list):
        target[int(last)] = value
    else:
        target[last] = value
    return doc


MALFORMED: list[Any] = [
    pytest.param(b"{not json", mt.OCI_MANIFEST, "not valid JSON", id="not-json"),
    pytest.param(b"\xff\xfe\x00", mt.OCI_MANIFEST, "not valid JSON", id="not-utf8"),
    pytest.param(b"[]", mt.OCI_MANIFEST, "must be a JSON object", id="array"),
    pytest.param(b"", None, "not valid JSON", id="empty"),
    pytest.param(
        body(_set(oci_manifest(), "config", KeyError)),
        mt.OCI_MANIFEST,
        "config: required",
        id="no-config",
    ),
    pytest.param(
        body(_set(oci_manifest(), "layers", KeyError)),
        mt.OCI_MANIFEST,
        "layers: required",
        id="no-layers",
    ),
    pytest.param(
        body(_set(oci_manifest(), "layers", {})),
        mt.OCI_MANIFEST,
        "layers: expected a list",
        id="layers-object",
    ),
    pytest.param(
        body(_set(oci_manifest(), "config", "x")),
        mt.OCI_MANIFEST,
        "config: expected an object",
        id="config-string",
    ),
    pytest.param(
        body(_set(oci_manifest(), "layers.1.digest", KeyError)),
        mt.OCI_MANIFEST,
        r"layers\[1\]\.digest: required",
        id="no-digest",
    ),
    pytest.param(
        body(_set(oci_manifest(), "layers.0.size", KeyError)),
        mt.OCI_MANIFEST,
        r"layers\[0\]\.size: required",
        id="no-size",
    ),
    pytest.param(
        body(_set(oci_manifest(), "layers.0.size", "12")),
        mt.OCI_MANIFEST,
        "expected an integer",
        id="size-string",
    ),
    pytest.param(
        body(_set(oci_manifest(), "layers.0.size", True)),
        mt.OCI_MANIFEST,
        "expected an integer",
        id="size-bool",
    ),
    pytest.param(
        body(_set(oci_manifest(), "layers.0.size", 1.5)),
        mt.OCI_MANIFEST,
        "expected an integer",
        id="size-float",
    ),
    pytest.param(
        body(_set(oci_manifest(), "layers.0.size", -1)),
        mt.OCI_MANIFEST,
        "must not be negative",
        id="size-negative",
    ),
    pytest.param(
        body(_set(oci_manifest(), "config.digest", "sha256:abc")),
        mt.OCI_MANIFEST,
        r"config\.digest: .*64 hex",
        id="short-digest",
    ),
    pytest.param(
        body(_set(oci_manifest(), "config.digest", 5)),
        mt.OCI_MANIFEST,
        "config.digest: expected a string",
        id="digest-int",
    ),
    pytest.param(
        body(_set(oci_manifest(), "layers.0", "sha256:x")),
        mt.OCI_MANIFEST,
        r"layers\[0\]: expected an object",
        id="layer-string",
    ),
    pytest.param(
        body(oci_manifest(annotations={"a": 1})),
        mt.OCI_MANIFEST,
        "annotations: expected an object of strings",
        id="annotation-int",
    ),
    pytest.param(
        body(oci_manifest(subject={"mediaType": mt.OCI_MANIFEST})),
        mt.OCI_MANIFEST,
        "subject.digest: required",
        id="bad-subject",
    ),
    pytest.param(
        body(oci_manifest(artifactType=["x"])),
        mt.OCI_MANIFEST,
        "artifactType: expected a string",
        id="artifact-type-list",
    ),
    pytest.param(
        body(oci_manifest(schemaVersion=3)),
        mt.OCI_MANIFEST,
        "schemaVersion must be 2",
        id="schema-version-3",
    ),
    pytest.param(
        body(oci_manifest(mediaType=7)),
        mt.OCI_MANIFEST,
        "mediaType: expected a string",
        id="media-type-int",
    ),
    pytest.param(
        body(_set(oci_index(), "manifests", KeyError)),
        mt.OCI_INDEX,
        "manifests: required",
        id="no-manifests",
    ),
    pytest.param(
        body(_set(oci_index(), "manifests", None)),
        mt.OCI_INDEX,
        "manifests: expected a list",
        id="manifests-null",
    ),
    pytest.param(
        body(_set(oci_index(), "manifests.1.platform.os", KeyError)),
        mt.OCI_INDEX,
        r"manifests\[1\]\.platform\.os: required",
        id="platform-no-os",
    ),
    pytest.param(
        body(_set(oci_index(), "manifests.0.platform", "linux/amd64")),
        mt.OCI_INDEX,
        r"manifests\[0\]\.platform: expected an object",
        id="platform-string",
    ),
    pytest.param(
        body(_set(oci_index(), "manifests.0.urls", "x")),
        mt.OCI_INDEX,
        "urls: expected a list of strings",
        id="urls-string",
    ),
]


@pytest.mark.parametrize(("raw", "content_type", "message"), MALFORMED)
def test_malformed_manifests_raise_manifest_error(
    registry: HandlerRegistry, raw: bytes, content_type: str | None, message: str
) -> None:
    with pytest.raises(ManifestError, match=message):
        registry.parse(raw, content_type)


# --- indexes and platform selection -------------------------------------------------------


@pytest.mark.parametrize(
    ("want", "digest_char"),
    [
        pytest.param("linux/amd64", "a", id="amd64"),
        pytest.param("linux/x86_64", "a", id="x86_64-alias"),
        pytest.param("linux/arm64", "b", id="arm64-is-v8"),
        pytest.param(Platform("linux", "arm64", "v8"), "b", id="arm64-v8-value"),
        pytest.param("linux/arm", "7", id="arm-is-v7"),
    ],
)
def test_index_select(registry: HandlerRegistry, want: Platform | str, digest_char: str) -> None:
    index = registry.parse(body(oci_index()), mt.OCI_INDEX)
    assert isinstance(index, ImageIndex)
    assert index.select(want).digest == _d(digest_char)


@pytest.mark.parametrize(
    "want",
    [
        pytest.param("linux/s390x", id="absent-arch"),
        pytest.param("linux/arm/v6", id="wrong-variant"),
        pytest.param("windows/amd64", id="wrong-os"),
    ],
)
def test_index_select_error_lists_available(registry: HandlerRegistry, want: str) -> None:
    index = registry.parse(body(oci_index()), mt.OCI_INDEX)
    assert isinstance(index, ImageIndex)
    with pytest.raises(ManifestError) as info:
        index.select(want)
    message = str(info.value)
    assert f"no manifest for platform {want}" in message
    assert str(index.digest) in message
    assert "available: linux/amd64, linux/arm64/v8, linux/arm/v7, unknown/unknown" in message


def test_index_select_without_platforms(registry: HandlerRegistry) -> None:
    doc = oci_index()
    doc["manifests"] = [desc("a", mt.OCI_MANIFEST)]
    index = registry.parse(body(doc), mt.OCI_INDEX)
    assert isinstance(index, ImageIndex)
    assert index.platforms() == ()
    with pytest.raises(ManifestError, match="available: none"):
        index.select("linux/amd64")


def test_index_fields(registry: HandlerRegistry) -> None:
    index = registry.parse(body(oci_index()), mt.OCI_INDEX)
    assert isinstance(index, ImageIndex)
    assert [str(p) for p in index.platforms()] == [
        "linux/amd64",
        "linux/arm64/v8",
        "linux/arm/v7",
        "unknown/unknown",
    ]
    assert index.references() == index.manifests
    assert index.find(_d("b")) == index.manifests[1]
    assert index.find(Digest.parse(_d("0"))) is None
    attestation = index.manifests[3]
    assert attestation.annotations["vnd.docker.reference.type"] == "attestation-manifest"


# --- OCI conformance-style data cases -----------------------------------------------------


def test_index_of_index(registry: HandlerRegistry) -> None:
    inner = body(oci_index())
    outer = {
        "schemaVersion": 2,
        "mediaType": mt.OCI_INDEX,
        "manifests": [
            {"mediaType": mt.OCI_INDEX, "digest": str(Digest.of(inner)), "size": len(inner)},
            desc("a", mt.OCI_MANIFEST, platform=plat("linux", "amd64")),
        ],
    }
    index = registry.parse(body(outer), mt.OCI_INDEX)
    assert isinstance(index, ImageIndex)
    assert mt.is_index(index.manifests[0].media_type)
    assert index.manifests[0].platform is None
    # The platform-less child index is never chosen by platform.
    assert index.select("linux/amd64").digest == _d("a")


def test_artifact_manifest_with_subject_and_empty_config(registry: HandlerRegistry) -> None:
    subject = desc("5", mt.OCI_MANIFEST, size=1234)
    doc = {
        "schemaVersion": 2,
        "mediaType": mt.OCI_MANIFEST,
        "artifactType": "application/vnd.example.sbom.v1",
        "config": {**EMPTY_DESCRIPTOR.to_dict(), "data": "e30="},
        "layers": [desc("9", "application/spdx+json", size=99)],
        "subject": subject,
        "annotations": {"org.opencontainers.image.created": "2024-01-01T00:00:00Z"},
    }
    m = registry.parse(body(doc), mt.OCI_MANIFEST)
    assert isinstance(m, ImageManifest)
    assert m.artifact_type == "application/vnd.example.sbom.v1"
    assert m.effective_artifact_type == "application/vnd.example.sbom.v1"
    assert m.subject == Descriptor(media_type=mt.OCI_MANIFEST, digest=_d("5"), size=1234)
    assert m.config.media_type == mt.OCI_EMPTY
    assert m.config.digest == EMPTY_SHA256
    assert m.config.size == 2
    assert m.config.data == "e30="
    assert base64.b64decode(m.config.data) == EMPTY_BLOB
    ref = m.referrer_descriptor()
    assert ref.artifact_type == "application/vnd.example.sbom.v1"
    assert dict(ref.annotations) == doc["annotations"]
    assert ref.digest == str(m.digest) and ref.size == m.size


def test_artifact_type_falls_back_to_config_media_type(registry: HandlerRegistry) -> None:
    doc = oci_manifest(config=desc("c", "application/vnd.cncf.helm.config.v1+json"))
    m = registry.parse(body(doc), mt.OCI_MANIFEST)
    assert m.artifact_type is None
    assert m.effective_artifact_type == "application/vnd.cncf.helm.config.v1+json"
    assert m.referrer_descriptor().artifact_type == "application/vnd.cncf.helm.config.v1+json"


def test_index_with_subject_and_artifact_type(registry: HandlerRegistry) -> None:
    doc = oci_index(
        artifactType="application/vnd.example.bundle", subject=desc("5", mt.OCI_MANIFEST)
    )
    index = registry.parse(body(doc), mt.OCI_INDEX)
    assert index.artifact_type == "application/vnd.example.bundle"
    assert index.subject is not None and index.subject.digest == _d("5")


def test_empty_layers_and_custom_fields_are_kept(registry: HandlerRegistry) -> None:
    doc = oci_manifest(layers=[], **{"com.example.custom": {"nested": [1, 2]}})
    m = registry.parse(body(doc), mt.OCI_MANIFEST)
    assert isinstance(m, ImageManifest)
    assert m.layers == ()
    assert m.json["com.example.custom"] == {"nested": [1, 2]}


def test_sparse_index_and_sha512_children(registry: HandlerRegistry) -> None:
    sha512 = "sha512:" + hashlib.sha512(b"x").hexdigest()
    doc = oci_index()
    doc["manifests"].append({"mediaType": mt.OCI_MANIFEST, "digest": sha512, "size": 1})
    index = registry.parse(body(doc), mt.OCI_INDEX)
    assert isinstance(index, ImageIndex)
    assert index.manifests[-1].parsed_digest.algorithm == "sha512"


# --- schema 1 -----------------------------------------------------------------------------


def test_schema1_signed_digest_is_over_the_payload(registry: HandlerRegistry) -> None:
    m = registry.parse(V2S1_SIGNED, mt.DOCKER_SCHEMA1_SIGNED)
    assert isinstance(m, Schema1Manifest)
    assert str(m.digest) == V2S1_DIGEST
    assert str(Digest.of(V2S1_SIGNED)) != V2S1_DIGEST  # not the whole body
    assert m.payload == V2S1_UNSIGNED
    assert str(Digest.of(m.payload, "sha512")) == V2S1_SHA512
    assert m.size == len(V2S1_SIGNED)
    assert m.descriptor().size == 5480
    assert m.signed


def test_schema1_unsigned_has_the_same_digest(registry: HandlerRegistry) -> None:
    m = registry.parse(V2S1_UNSIGNED, mt.DOCKER_SCHEMA1)
    assert isinstance(m, Schema1Manifest)
    assert str(m.digest) == V2S1_DIGEST
    assert m.payload == V2S1_UNSIGNED
    assert not m.signed


def test_schema1_fields(registry: HandlerRegistry) -> None:
    m = registry.parse(V2S1_SIGNED, mt.DOCKER_SCHEMA1_SIGNED)
    assert isinstance(m, Schema1Manifest)
    assert (m.name, m.tag, m.architecture) == ("mitr/busybox", "latest", "amd64")
    assert (
        m.fs_layers
        == ("sha256:5f70bf18a086007016e948b04aed3b82103a36bea41755b6cddfaf10ace3c6ef",) * 3
    )
    assert len(m.history) == 3
    assert json.loads(m.history[0])["id"].startswith("f1b5eb0a")
    assert m.subject is None and m.artifact_type is None
    assert "signatures" in m.json


def _protected(length: int, tail: bytes = b"\n}") -> str:
    header = {
        "formatLength": length,
        "formatTail": base64.urlsafe_b64encode(tail).decode().rstrip("="),
    }
    return base64.urlsafe_b64encode(json.dumps(header).encode()).decode().rstrip("=")


def _sign(unsigned: bytes, *protected: str) -> bytes:
    """Splice signatures in as libtrust does: before the final newline and brace."""
    sigs = ",\n".join(
        f'      {{\n         "header": {{"alg": "ES256"}},\n         "signature": "c2ln",\n'
        f'         "protected": "{p}"\n      }}'
        for p in protected
    )
    cut = len(unsigned) - 2
    return unsigned[:cut] + f',\n   "signatures": [\n{sigs}\n   ]\n}}'.encode()


def test_schema1_built_signature_digest() -> None:
    unsigned = json.dumps(
        {
            "schemaVersion": 1,
            "name": "library/hello",
            "tag": "1",
            "architecture": "arm64",
            "fsLayers": [{"blobSum": _d("a")}],
            "history": [{"v1Compatibility": "{}"}],
        },
        indent=3,
    ).encode()
    length = len(unsigned) - 2
    signed = _sign(unsigned, _protected(length), _protected(length))
    assert schema1_payload(signed) == unsigned
    m = Schema1Handler().parse(signed, mt.DOCKER_SCHEMA1_SIGNED)
    assert m.digest == Digest.of(unsigned)
    assert m.fs_layers == (_d("a"),)


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        pytest.param(
            lambda u, n: _sign(u, _protected(n), _protected(n - 1)),
            "conflicting",
            id="conflicting-length",
        ),
        pytest.param(
            lambda u, n: _sign(u, _protected(n), _protected(n, b"}")),
            "conflicting",
            id="conflicting-tail",
        ),
        pytest.param(lambda u, n: _sign(u, "!!!"), "not base64url", id="bad-base64"),
        pytest.param(
            lambda u, n: _sign(u, base64.urlsafe_b64encode(b"[1]").decode()),
            "expected an object",
            id="header-not-object",
        ),
        pytest.param(
            lambda u, n: _sign(u, base64.urlsafe_b64encode(b"{x").decode()),
            "not JSON",
            id="header-not-json",
        ),
        pytest.param(
            lambda u, n: _sign(u, base64.urlsafe_b64encode(b'{"formatTail": "Cn0"}').decode()),
            "formatLength: required",
            id="no-format-length",
        ),
        pytest.param(
            lambda u, n: _sign(u, _protected(10**6)), "outside the body", id="length-too-big"
        ),
        pytest.param(
            lambda u, n: u.replace(b'"fsLayers": [', b'"fsLayers": [{"blobSum": "sha256:x"},'),
            "blobSum",
            id="bad-blobsum",
        ),
        pytest.param(
            lambda u, n: u.replace(b'"history": [', b'"history": [{"v1Compatibility": "{}"},'),
            "2 history",
            id="history-length",
        ),
        pytest.param(
            lambda u, n: u.replace(b'"schemaVersion": 1', b'"schemaVersion": 2'),
            "schemaVersion must be 1",
            id="version-2",
        ),
    ],
)
def test_schema1_errors(mutate: Callable[[bytes, int], bytes], message: str) -> None:
    unsigned = json.dumps(
        {
            "schemaVersion": 1,
            "fsLayers": [{"blobSum": _d("a")}],
            "history": [{"v1Compatibility": "{}"}],
        },
        indent=3,
    ).encode()
    with pytest.raises(ManifestError, match=message):
        Schema1Handler().parse(mutate(unsigned, len(unsigned) - 2), mt.DOCKER_SCHEMA1_SIGNED)


# --- descriptors --------------------------------------------------------------------------


def test_descriptor_round_trip_and_value_semantics() -> None:
    data = {
        "mediaType": mt.OCI_MANIFEST,
        "digest": _d("a"),
        "size": 7,
        "urls": ["https://example.com/a"],
        "annotations": {"b": "2", "a": "1"},
        "platform": plat("linux", "arm64", "v8"),
        "artifactType": "application/vnd.example",
    }
    d = Descriptor.from_dict(data)
    assert d.platform == Platform("linux", "arm64", "v8")
    out = d.to_dict()
    assert out == data
    assert list(out) == [
        "mediaType",
        "digest",
        "size",
        "urls",
        "annotations",
        "platform",
        "artifactType",
    ]
    assert list(out["annotations"]) == ["a", "b"]
    same = Descriptor.from_dict(json.loads(json.dumps(data)))
    assert d == same and hash(d) == hash(same)
    assert d != dataclasses.replace(d, annotations={"a": "1"})
    with pytest.raises(TypeError):
        d.annotations["c"] = "3"  # type: ignore[index]
    with pytest.raises(dataclasses.FrozenInstanceError):
        d.size = 8  # type: ignore[misc]
    assert d.parsed_digest == Digest.parse(_d("a"))


def test_descriptor_minimal_and_missing_media_type() -> None:
    d = Descriptor.from_dict({"digest": _d("a"), "size": 0})
    assert d.media_type == ""
    assert d.to_dict() == {"mediaType": "", "digest": _d("a"), "size": 0}


def test_empty_descriptor() -> None:
    assert EMPTY_DESCRIPTOR.digest == EMPTY_SHA256
    assert EMPTY_DESCRIPTOR.size == 2
    assert EMPTY_DESCRIPTOR.media_type == mt.OCI_EMPTY


def test_manifest_equality_is_by_bytes(registry: HandlerRegistry) -> None:
    raw = body(oci_manifest())
    a = registry.parse(raw, mt.OCI_MANIFEST)
    b = registry.parse(raw, None)
    assert a == b and hash(a) == hash(b)
    assert a != registry.parse(body(oci_manifest(annotations={"x": "y"})), None)
    with pytest.raises(dataclasses.FrozenInstanceError):
        a.raw = b""  # type: ignore[misc]


# --- builders -----------------------------------------------------------------------------


def test_build_image_manifest_exact_bytes() -> None:
    config = Descriptor.of(b'{"architecture":"amd64","os":"linux"}', mt.OCI_CONFIG)
    layer = Descriptor(media_type=mt.OCI_LAYER_TAR_GZIP, digest=_d("1"), size=3)
    raw = build_image_manifest(config, [layer], annotations={"z": "1", "a": "ü"})
    assert (
        raw
        == (
            '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json",'
            '"config":{"mediaType":"application/vnd.oci.image.config.v1+json",'
            f'"digest":"{config.digest}","size":37}},'
            '"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip",'
            f'"digest":"{_d("1")}","size":3}}],'
            '"annotations":{"a":"ü","z":"1"}}'
        ).encode()
    )
    # Annotation order does not change the bytes, hence not the digest.
    assert build_image_manifest(config, [layer], annotations={"a": "ü", "z": "1"}) == raw


def test_build_image_manifest_round_trips(registry: HandlerRegistry) -> None:
    subject = Descriptor(media_type=mt.OCI_MANIFEST, digest=_d("5"), size=100)
    layer = Descriptor.of(
        b"hello", "text/plain", annotations={"org.opencontainers.image.title": "h"}
    )
    raw = build_image_manifest(
        EMPTY_DESCRIPTOR, [layer], subject=subject, artifact_type="application/x.note"
    )
    doc = json.loads(raw)
    assert list(doc) == [
        "schemaVersion",
        "mediaType",
        "artifactType",
        "config",
        "layers",
        "subject",
    ]
    m = registry.parse(raw, mt.OCI_MANIFEST)
    assert isinstance(m, ImageManifest)
    assert m.config == EMPTY_DESCRIPTOR
    assert m.layers == (layer,)
    assert m.subject == subject
    assert m.artifact_type == "application/x.note"


def test_build_image_manifest_refuses_empty_config_without_artifact_type() -> None:
    with pytest.raises(ManifestError, match="artifact_type"):
        build_image_manifest(EMPTY_DESCRIPTOR, [])


def test_build_image_index_round_trips(registry: HandlerRegistry) -> None:
    children = [
        Descriptor(
            media_type=mt.OCI_MANIFEST, digest=_d("a"), size=1, platform=Platform("linux", "amd64")
        ),
        Descriptor(
            media_type=mt.OCI_MANIFEST, digest=_d("b"), size=2, artifact_type="application/x.sig"
        ),
    ]
    raw = build_image_index(children, annotations={"k": "v"})
    assert raw.startswith(
        b'{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":['
    )
    index = registry.parse(raw, None)
    assert isinstance(index, ImageIndex)
    assert index.manifests == tuple(children)
    assert dict(index.annotations) == {"k": "v"}
