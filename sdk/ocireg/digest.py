"""Content digests (OCI image spec, "Digests") and a streaming verifier.

A digest is ``algorithm:encoded``. The grammar allows any algorithm made of
``[a-z0-9]+([+._-][a-z0-9]+)*`` with encoded ``[a-zA-Z0-9=_-]+``; the registered algorithms
``sha256``, ``sha384`` and ``sha512`` are further held to their exact lower-case hex length.
Only those can be computed, so only they can be verified.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .errors import DigestMismatchError, InvalidDigestError

if TYPE_CHECKING:
    from collections.abc import Iterable

__all__ = ["Digest", "DigestVerifier"]

_ALGORITHM = re.compile(r"[a-z0-9]+(?:[+._-][a-z0-9]+)*", re.ASCII)
_ENCODED = re.compile(r"[a-zA-Z0-9=_-]+", re.ASCII)
_HEX_LENGTHS = {"sha256": 64, "sha384": 96, "sha512": 128}
_LOWER_HEX = re.compile(r"[a-f0-9]+", re.ASCII)


@dataclass(frozen=True, slots=True, order=True)
class Digest:
    """A validated ``algorithm:hex`` digest; ``str(d)`` gives it back."""

    algorithm: str
    hex: str

    def __post_init__(self) -> None:
        problem = _problem(self.algorithm, self.hex)
        if problem:
            raise InvalidDigestError(f"invalid digest {self.algorithm}:{self.hex!s}: {problem}")

    @classmethod
    def parse(cls, text: str) -> Digest:
        """Parse ``sha256:<64 hex>`` and friends; :class:`InvalidDigestError` says what is wrong."""
        if not isinstance(text, str):
            raise InvalidDigestError(f"invalid digest {text!r}: not a string")
        algorithm, sep, encoded = text.partition(":")
        if not sep:
            raise InvalidDigestError(f"invalid digest {text!r}: missing ':' after the algorithm")
        problem = _problem(algorithm, encoded)
        if problem:
            raise InvalidDigestError(f"invalid digest {text!r}: {problem}")
        return cls(algorithm, encoded)

    @classmethod
    def of(cls, data: bytes, algorithm: str = "sha256") -> Digest:
        """The digest of ``data``."""
        h = _new_hash(algorithm)
        h.update(data)
        return cls(algorithm, h.hexdigest())

    @property
    def verifiable(self) -> bool:
        return self.algorithm in _HEX_LENGTHS

    def verifier(self) -> DigestVerifier:
        return DigestVerifier(self)

    def __str__(self) -> str:
        return f"{self.algorithm}:{self.hex}"


def _problem(algorithm: str, encoded: str) -> str | None:
    if not _ALGORITHM.fullmatch(algorithm):
        return f"bad algorithm {algorithm!r}"
    if not _ENCODED.fullmatch(encoded):
        return "bad encoded part (empty or with characters outside [a-zA-Z0-9=_-])"
    want = _HEX_LENGTHS.get(algorithm)
    if want is not None:
        if len(encoded) != want:
            return f"{algorithm} needs {want} hex characters, got {len(encoded)}"
        if not _LOWER_HEX.fullmatch(encoded):
            return f"{algorithm} needs lower-case hex"
    return None


def _new_hash(algorithm: str) -> hashlib._Hash:
    if algorithm not in _HEX_LENGTHS:
        raise InvalidDigestError(f"cannot compute digests of algorithm {algorithm!r}")
    return hashlib.new(algorithm)


class DigestVerifier:
    """Feed chunks with :meth:`update`, then :meth:`verify`; constant memory.

    Optionally also checks the size, since a registry may send a correct prefix and stop.
    """

    __slots__ = ("_hash", "expected", "size")

    def __init__(self, expected: Digest) -> None:
        self.expected = expected
        self._hash = _new_hash(expected.algorithm)
        self.size = 0

    def update(self, chunk: bytes | bytearray | memoryview) -> None:
        self._hash.update(chunk)
        self.size += len(chunk)

    def feed(self, chunks: Iterable[bytes]) -> DigestVerifier:
        for chunk in chunks:
            self.update(chunk)
        return self

    @property
    def actual(self) -> Digest:
        return Digest(self.expected.algorithm, self._hash.hexdigest())

    def verified(self) -> bool:
        return self.actual == self.expected

    def verify(self, *, expected_size: int | None = None, what: str = "content") -> None:
        """Raise :class:`DigestMismatchError` unless the bytes fed match digest (and size)."""
        if expected_size is not None and self.size != expected_size:
            raise DigestMismatchError(
                f"{what}: expected {expected_size} bytes of {self.expected}, got {self.size}",
                expected=str(self.expected),
                actual=str(self.actual),
            )
        actual = self.actual
        if actual != self.expected:
            raise DigestMismatchError(
                f"{what}: digest mismatch: expected {self.expected}, got {actual}",
                expected=str(self.expected),
                actual=str(actual),
            )
