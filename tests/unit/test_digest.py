from __future__ import annotations

import hashlib

import pytest

from ocireg import Digest, DigestMismatchError, InvalidDigestError

SHA256_EMPTY = "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"


@pytest.mark.parametrize(
    ("text", "algorithm"),
    [
        (SHA256_EMPTY, "sha256"),
        ("sha384:" + hashlib.sha384(b"").hexdigest(), "sha384"),
        ("sha512:" + hashlib.sha512(b"").hexdigest(), "sha512"),
        ("multihash+base58:QmRZxt2b1FVZPNqd8hsiykDL3TdBDeTSPX9Kv46HmX4Gx8", "multihash+base58"),
    ],
    ids=["sha256", "sha384", "sha512", "unregistered-algorithm"],
)
def test_valid_digests_round_trip(text: str, algorithm: str) -> None:
    d = Digest.parse(text)
    assert d.algorithm == algorithm
    assert str(d) == text


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("sha256", "missing ':'"),
        ("sha256:", "bad encoded part"),
        ("sha256:abc", "needs 64 hex characters, got 3"),
        ("sha256:" + "A" * 64, "lower-case hex"),
        ("sha256:" + "g" * 64, "lower-case hex"),
        ("sha512:" + "a" * 64, "needs 128 hex characters"),
        ("SHA256:" + "a" * 64, "bad algorithm"),
        (":" + "a" * 64, "bad algorithm"),
        ("sha256:" + "a" * 64 + "\n", "bad encoded part"),
        ("sha256:" + "a" * 63 + "\u0661", "bad encoded part"),
    ],
    ids=[
        "no-colon",
        "empty-hex",
        "short",
        "upper-hex",
        "non-hex",
        "sha512-short",
        "upper-algorithm",
        "empty-algorithm",
        "trailing-newline",
        "non-ascii-digit",
    ],
)
def test_invalid_digests_say_why(text: str, fragment: str) -> None:
    with pytest.raises(InvalidDigestError, match=fragment.replace("(", r"\(")) as err:
        Digest.parse(text)
    assert isinstance(err.value, ValueError)


def test_of_computes_sha256_and_sha512() -> None:
    assert str(Digest.of(b"")) == SHA256_EMPTY
    assert Digest.of(b"x", "sha512").hex == hashlib.sha512(b"x").hexdigest()


def test_verifier_accepts_matching_chunks_and_counts_size() -> None:
    data = b"hello world" * 1000
    v = Digest.of(data).verifier()
    for i in range(0, len(data), 7):
        v.update(data[i : i + 7])
    v.verify(expected_size=len(data))
    assert v.size == len(data)


def test_verifier_rejects_other_content_with_both_digests_named() -> None:
    v = Digest.of(b"expected").verifier().feed([b"something ", b"else"])
    with pytest.raises(DigestMismatchError) as err:
        v.verify(what="blob")
    assert err.value.expected == str(Digest.of(b"expected"))
    assert err.value.actual == str(Digest.of(b"something else"))
    assert "blob: digest mismatch" in str(err.value)


def test_verifier_rejects_short_content_by_size() -> None:
    v = Digest.of(b"abc").verifier().feed([b"ab"])
    with pytest.raises(DigestMismatchError, match="expected 3 bytes"):
        v.verify(expected_size=3)


def test_unregistered_algorithm_cannot_be_verified() -> None:
    d = Digest.parse("multihash+base58:abc")
    assert not d.verifiable
    with pytest.raises(InvalidDigestError, match="cannot compute"):
        d.verifier()
