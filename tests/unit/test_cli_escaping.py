"""A hostile registry cannot drive the user's terminal through ``ocireg``'s text output.

A tag, a repository name, a label, an artifact type or an error message may hold control
characters: an OSC 52 sequence (``ESC ] 52 ; c ; <base64> BEL``) writes the clipboard of many
terminals, others set the title, clear the screen or hide text. Every text line goes through
one function (``cli._common.printable``) that escapes them; ``--json`` stays exact (JSON
escapes control characters itself). The registry is a fake (pytest-httpserver): a real one
refuses such names.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator

import pytest
from pytest_httpserver import HTTPServer

from ocireg import cli
from ocireg.cli._common import printable

OSC52 = "\x1b]52;c;cm0gLXJmIH4K\x07"  # base64 of "rm -rf ~"
CLEAR = "\x1b[2J"
EVIL_TAG = f"v1{OSC52}"
EVIL_REPO = f"team/app{CLEAR}"
EVIL_LABEL = (f"maintainer{CLEAR}", f"me{OSC52}\u202eevil")
EVIL_TYPE = f"application/vnd.evil{OSC52}"
REPO = "team/app"

CONFIG = json.dumps(
    {
        "architecture": "amd64",
        "os": "linux",
        "config": {"Labels": {EVIL_LABEL[0]: EVIL_LABEL[1]}},
        "rootfs": {"type": "layers", "diff_ids": []},
    }
).encode()
CONFIG_DIGEST = "sha256:" + hashlib.sha256(CONFIG).hexdigest()
MANIFEST = json.dumps(
    {
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {
            "mediaType": "application/vnd.oci.image.config.v1+json",
            "digest": CONFIG_DIGEST,
            "size": len(CONFIG),
        },
        "layers": [],
        "annotations": {f"note{OSC52}": f"x{CLEAR}"},
    }
).encode()
MANIFEST_DIGEST = "sha256:" + hashlib.sha256(MANIFEST).hexdigest()
MANIFEST_TYPE = "application/vnd.oci.image.manifest.v1+json"


@pytest.fixture
def hostile() -> Iterator[str]:
    server = HTTPServer(host="127.0.0.1")
    server.expect_request("/v2/").respond_with_json({})
    server.expect_request("/v2/_catalog").respond_with_json({"repositories": [EVIL_REPO]})
    server.expect_request(f"/v2/{REPO}/tags/list").respond_with_json(
        {"name": REPO, "tags": ["ok", EVIL_TAG]}
    )
    for method in ("HEAD", "GET"):
        server.expect_request(f"/v2/{REPO}/manifests/ok", method=method).respond_with_data(
            MANIFEST if method == "GET" else b"",
            content_type=MANIFEST_TYPE,
            headers={"Docker-Content-Digest": MANIFEST_DIGEST},
        )
    server.expect_request(f"/v2/{REPO}/blobs/{CONFIG_DIGEST}").respond_with_data(
        CONFIG, content_type="application/octet-stream"
    )
    server.expect_request(f"/v2/{REPO}/referrers/{MANIFEST_DIGEST}").respond_with_json(
        {
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.index.v1+json",
            "manifests": [
                {
                    "mediaType": MANIFEST_TYPE,
                    "digest": "sha256:" + "a" * 64,
                    "size": 10,
                    "artifactType": EVIL_TYPE,
                }
            ],
        },
        content_type="application/vnd.oci.image.index.v1+json",
    )
    server.expect_request(f"/v2/{REPO}/manifests/gone").respond_with_json(
        {"errors": [{"code": "MANIFEST_UNKNOWN", "message": f"no such tag{OSC52}", "detail": {}}]},
        status=404,
    )
    server.start()
    yield f"127.0.0.1:{server.port}"
    server.clear()
    server.stop()


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = cli.main([*argv, "--plain-http"])
    out, err = capsys.readouterr()
    return code, out, err


def assert_inert(text: str) -> None:
    """No control character but the newlines that end lines; no bidi override."""
    assert not [c for c in text if (ord(c) < 0x20 and c != "\n") or 0x7F <= ord(c) <= 0x9F]
    assert "\u202e" not in text


@pytest.fixture(autouse=True)
def _quiet_logging(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cli, "_setup_logging", lambda verbose: None)


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("plain tag v1.0", "plain tag v1.0"),
        (OSC52, "\\x1b]52;c;cm0gLXJmIH4K\\x07"),
        ("a\nb\r\tc\x00\x7f\x9b", "a\\x0ab\\x0d\\x09c\\x00\\x7f\\x9b"),
        ("right\u202eleft\u2066x\u2069\u2028", "right\\u202eleft\\u2066x\\u2069\\u2028"),
        ("é ü 漢字 🐳", "é ü 漢字 🐳"),  # printable Unicode is left alone
    ],
    ids=["plain", "osc52", "c0-c1", "bidi", "unicode"],
)
def test_printable(text: str, shown: str) -> None:
    assert printable(text) == shown


def test_tags_text_is_escaped_and_json_is_exact(
    hostile: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(capsys, "tags", f"{hostile}/{REPO}")
    assert code == 0, err
    assert_inert(out)
    assert out.splitlines() == ["ok", "v1\\x1b]52;c;cm0gLXJmIH4K\\x07"]

    code, out, _ = run(capsys, "tags", f"{hostile}/{REPO}", "--json")
    assert code == 0
    assert "\x1b" not in out  # JSON escapes it ...
    assert json.loads(out)["tags"] == ["ok", EVIL_TAG]  # ... and keeps it exact


def test_catalog_text_is_escaped(hostile: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "catalog", hostile)
    assert code == 0, err
    assert_inert(out)
    assert out == "team/app\\x1b[2J\n"
    assert json.loads(run(capsys, "catalog", hostile, "--json")[1])["repositories"] == [EVIL_REPO]


def test_inspect_labels_are_escaped(hostile: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "inspect", f"{hostile}/{REPO}:ok")
    assert code == 0, err
    assert_inert(out)
    assert "label: maintainer\\x1b[2J=me\\x1b]52;c;cm0gLXJmIH4K\\x07\\u202eevil" in out
    data = json.loads(run(capsys, "inspect", f"{hostile}/{REPO}:ok", "--json")[1])
    assert data["config"]["labels"] == {EVIL_LABEL[0]: EVIL_LABEL[1]}


def test_manifest_annotations_stay_json_escaped(
    hostile: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(capsys, "manifest", f"{hostile}/{REPO}:ok")
    assert code == 0, err
    assert_inert(out)
    assert json.loads(out)["annotations"] == {f"note{OSC52}": f"x{CLEAR}"}


def test_referrers_artifact_type_is_escaped(
    hostile: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run(capsys, "referrers", f"{hostile}/{REPO}@{MANIFEST_DIGEST}")
    assert code == 0, err
    assert_inert(out)
    assert out.split() == ["sha256:" + "a" * 64, "application/vnd.evil\\x1b]52;c;cm0gLXJmIH4K\\x07"]


@pytest.mark.parametrize("verbose", [[], ["-v"]], ids=["one-line", "traceback"])
def test_error_messages_are_escaped(
    hostile: str, capsys: pytest.CaptureFixture[str], verbose: list[str]
) -> None:
    code, _out, err = run(capsys, "manifest", f"{hostile}/{REPO}:gone", *verbose)
    assert code == cli.EXIT_NOT_FOUND
    assert_inert(err)
    assert "no such tag\\x1b]52;c;cm0gLXJmIH4K\\x07" in err.splitlines()[-1]
