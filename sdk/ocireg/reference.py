"""Image references, parsed and normalised the way the docker CLI does it.

The rules are those of ``ParseNormalizedNamed`` in github.com/distribution/reference
(``normalize.go``, ``regexp.go``, ``reference.go``; v0.6)::

    reference  := name [ ":" tag ] [ "@" digest ]
    name       := [ domain "/" ] path
    domain     := host [ ":" port ]      host: DNS name or IPv4 (letters of any case), or [IPv6]
    path       := component ( "/" component )*
    component  := [a-z0-9]+ ( ( "." | "_" | "__" | "-"+ ) [a-z0-9]+ )*
    tag        := [A-Za-z0-9_][A-Za-z0-9_.-]{0,127}
    digest     := sha256:<64 hex> | sha384:<96 hex> | sha512:<128 hex>   (lower-case hex)

Normalisation: the text before the first ``/`` is the domain only if it contains ``.`` or
``:``, is ``localhost``, or has an upper-case letter (upper case is not allowed in a path);
otherwise the domain is ``docker.io``. ``index.docker.io`` becomes ``docker.io``, and a
one-component path on ``docker.io`` gets ``library/``. So ``mongo`` is
``docker.io/library/mongo``, ``localhost:5000`` alone is ``docker.io/library/localhost`` with
tag ``5000``, and ``Foo/bar`` is repository ``bar`` on host ``Foo``. The path may have at most
255 characters (the domain is not counted, since distribution/reference PR #9, v0.6.0). A
64-character lower-case hex string alone is refused: it is an image ID, not a name. The tag
is kept as written (``None`` when absent); :attr:`Reference.canonical` and
:attr:`Reference.identifier` fill in ``latest``.

Beyond docker, an optional ``http://`` or ``https://`` prefix is accepted and kept in
:attr:`Reference.scheme` (the original client used it to force a scheme). After a scheme
the first component must be a registry host, and plaintext ``http://`` to ``docker.io`` is
refused. One quirk of the Go code is not copied: a dotted first component that is no valid
host but is a valid path component (``my_reg.local/app``) comes back from Go with an empty
domain; here it is an invalid domain.

Deliberate differences from the original TypeScript client (``seed-parse-cases.json``):

* ``Foo/bar``: a first component with upper case is a registry host (docker), not an
  invalid namespace.
* ``a/b`` and ``a--b/c`` are valid (docker has no 2..255 namespace length and allows runs of
  ``-``); ``-ab/c`` is invalid (the seed's start-AND-end hyphen check was a bug).
* The empty string and ``https://index.docker.io/v1/`` (the v1 index URL) are not
  references; trailing and doubled slashes are errors, not stripped.
* Tags and digests are validated: ``busybox:``, ``busybox@``, ``@sha256:cafebabe`` (too short)
  and ``@sha256:x:y`` are errors; only sha256/sha384/sha512 digests are accepted.
* ``tag`` stays ``None`` when absent (the seed filled in ``latest``); ``canonical`` keeps the
  ``library/`` prefix (``docker.io/library/busybox:latest``, seed ``docker.io/busybox:latest``).
* No scheme is guessed for ``localhost``-like hosts: ``scheme`` is only what the text says.
* There is no default-index argument; ``localhost:5000`` alone is read as docker reads it
  (the seed's ``parseRepo`` refused it, its ``parseRepoAndRef`` agreed with docker).
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass

from .digest import Digest
from .errors import InvalidDigestError, InvalidReferenceError

__all__ = [
    "DEFAULT_DOMAIN",
    "DEFAULT_TAG",
    "TAG_PATTERN",
    "Reference",
    "check_registry",
    "normalize_registry",
]

DEFAULT_DOMAIN = "docker.io"
DEFAULT_TAG = "latest"
LEGACY_DEFAULT_DOMAIN = "index.docker.io"
#: Every host name that means Docker Hub (the API host, the v1 index, the old web host).
DOCKER_HUB_ALIASES = frozenset(
    {"docker.io", "index.docker.io", "registry-1.docker.io", "registry.hub.docker.com"}
)
OFFICIAL_PREFIX = "library/"
MAX_PATH_LENGTH = 255
_DIGEST_ALGORITHMS = ("sha256", "sha384", "sha512")

_PATH_COMPONENT_PAT = r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
_DOMAIN_COMPONENT_PAT = r"(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])"
_DOMAIN_PAT = (
    rf"(?:{_DOMAIN_COMPONENT_PAT}(?:\.{_DOMAIN_COMPONENT_PAT})*|\[[a-fA-F0-9:]+\])(?::[0-9]+)?"
)
_TAG_PAT = r"[\w][\w.-]{0,127}"

_PATH_COMPONENT = re.compile(_PATH_COMPONENT_PAT, re.ASCII)
_DOMAIN = re.compile(_DOMAIN_PAT, re.ASCII)
_TAG = re.compile(_TAG_PAT, re.ASCII)
#: The tag grammar (``[A-Za-z0-9_][A-Za-z0-9._-]{0,127}``), for ``fullmatch``.
TAG_PATTERN = _TAG
_TAG_ANY_LENGTH = re.compile(r"[\w][\w.-]*", re.ASCII)
_IDENTIFIER = re.compile(r"[a-f0-9]{64}", re.ASCII)
_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://", re.ASCII)


@dataclass(frozen=True, slots=True)
class Reference:
    """A validated, normalised image reference.

    :ivar domain: registry host with optional port, as written (``docker.io`` for Docker Hub).
    :ivar path: repository path on that registry, e.g. ``library/mongo``.
    :ivar tag: the tag as written, or ``None``.
    :ivar digest: the digest text (``sha256:...``), or ``None``.
    :ivar scheme: ``"http"`` or ``"https"`` when the text started with one, else ``None``.

    Build one with :meth:`parse`; direct construction validates the fields but does not
    normalise them.
    """

    domain: str
    path: str
    tag: str | None = None
    digest: str | None = None
    scheme: str | None = None

    def __post_init__(self) -> None:
        reason = (
            _domain_problem(self.domain)
            or _path_problem(self.path)
            or _tag_problem(self.tag)
            or _digest_problem(self.digest)
            or _scheme_problem(self.scheme, self.domain)
        )
        if reason:
            raise InvalidReferenceError(
                _join(self.domain, self.path, self.tag, self.digest), reason
            )

    @classmethod
    def parse(cls, text: str) -> Reference:
        """Parse ``text`` like ``docker pull`` would.

        :raises InvalidReferenceError: naming the part that is wrong.
        """
        if not isinstance(text, str):
            raise InvalidReferenceError(repr(text), f"expected a string, got {type(text).__name__}")

        def fail(reason: str) -> InvalidReferenceError:
            return InvalidReferenceError(text, reason)

        if not text:
            raise fail("empty reference")
        for i, ch in enumerate(text):
            if ch.isspace():
                raise fail(f"whitespace is not allowed (at position {i})")
            if not ch.isascii():
                raise fail(f"non-ASCII character {ch!r} at position {i}")

        scheme: str | None = None
        rest = text
        m = _SCHEME.match(text)
        if m:
            if m.group(0) not in ("http://", "https://"):
                raise fail(f"unsupported scheme {m.group(0)!r} (only http:// and https://)")
            scheme, rest = m.group(0)[:-3], text[m.end() :]

        if _IDENTIFIER.fullmatch(rest):
            raise fail("cannot specify 64-byte hexadecimal strings (an image ID is not a name)")

        domain, remainder, explicit = _split_domain(rest)
        if scheme and not explicit:
            raise fail(
                f"{scheme}:// must be followed by a registry host and a repository path,"
                f" e.g. {scheme}://localhost:5000/repo"
            )
        name, at, digest = remainder.partition("@")
        path, colon, tag = name.partition(":")

        if explicit:
            reason = _domain_problem(domain)
            if reason:
                raise fail(reason)
        if not path:
            raise fail("missing repository path")
        if domain == DEFAULT_DOMAIN and "/" not in path:
            path = OFFICIAL_PREFIX + path
        reason = (
            _path_problem(path)
            or (_tag_problem(tag) if colon else None)
            or (_digest_problem(digest) if at else None)
            or _scheme_problem(scheme, domain)
        )
        if reason:
            raise fail(reason)
        return cls(domain, path, tag if colon else None, digest if at else None, scheme)

    @property
    def repository(self) -> str:
        """``domain/path``, e.g. ``docker.io/library/mongo``."""
        return f"{self.domain}/{self.path}"

    @property
    def familiar(self) -> str:
        """The docker CLI short name: ``mongo``, ``google/python``, ``quay.io/x/y``."""
        if self.domain != DEFAULT_DOMAIN:
            return self.repository
        rest = self.path.removeprefix(OFFICIAL_PREFIX)
        return rest if rest != self.path and "/" not in rest else self.path

    @property
    def familiar_string(self) -> str:
        """:attr:`familiar` plus ``:tag`` and ``@digest`` as given (docker ``FamiliarString``)."""
        return _join_name(self.familiar, self.tag, self.digest)

    @property
    def canonical(self) -> str:
        """Fully qualified; ``:latest`` only when there is neither tag nor digest."""
        tag = DEFAULT_TAG if self.tag is None and self.digest is None else self.tag
        return _join(self.domain, self.path, tag, self.digest)

    @property
    def identifier(self) -> str:
        """What goes in ``/v2/<path>/manifests/<identifier>``: digest, else tag, else latest."""
        return self.digest or self.tag or DEFAULT_TAG

    def __str__(self) -> str:
        return _join(self.domain, self.path, self.tag, self.digest)

    def with_tag(self, tag: str) -> Reference:
        """The same repository with ``tag`` and no digest.

        :raises InvalidReferenceError: if ``tag`` is not a valid tag.
        """
        reason = _tag_problem(tag) if isinstance(tag, str) else _not_a_string("tag", tag)
        if reason:
            raise InvalidReferenceError(f"{self.repository}:{tag}", reason)
        return dataclasses.replace(self, tag=tag, digest=None)

    def with_digest(self, digest: str | Digest) -> Reference:
        """The same repository and tag with ``digest``.

        :raises InvalidReferenceError: if ``digest`` is malformed or of another algorithm.
        """
        text = str(digest) if isinstance(digest, Digest) else digest
        reason = _digest_problem(text) if isinstance(text, str) else _not_a_string("digest", text)
        if reason:
            raise InvalidReferenceError(f"{self.repository}@{text}", reason)
        return dataclasses.replace(self, digest=text)

    def scope(self, *actions: str) -> str:
        """Token scope for this repository: ``repository:<path>:<actions>`` (default pull)."""
        return f"repository:{self.path}:{','.join(actions or ('pull',))}"

    def to_dict(self) -> dict[str, str | None]:
        """Plain fields and derived names, for JSON output (``ocireg parse``)."""
        return {
            "domain": self.domain,
            "path": self.path,
            "repository": self.repository,
            "tag": self.tag,
            "digest": self.digest,
            "scheme": self.scheme,
            "familiar": self.familiar,
            "canonical": self.canonical,
        }


def normalize_registry(text: str) -> str:
    """A registry name as a reference's domain: ``index.docker.io`` -> ``docker.io``, a
    trailing ``/`` dropped, validated by the same rules (``InvalidReferenceError``). Text
    with a path is returned as it is. A single-label name (``myregistry``) is a host here,
    as in ``docker login myregistry``, not a Docker Hub namespace."""
    if "/" in text.strip("/"):
        return text
    host = text.rstrip("/")
    problem = _domain_problem(host)
    if problem is not None:
        raise InvalidReferenceError(text, problem)
    return DEFAULT_DOMAIN if host == LEGACY_DEFAULT_DOMAIN else host


def check_registry(text: str) -> str:
    """A registry argument (``host[:port]``, one trailing ``/`` allowed) as a reference's
    domain (``index.docker.io`` -> ``docker.io``), refusing anything more than a host.

    A program that names a registry must not let a path (``host/../x``), a query or
    fragment (``host?x``, ``host#x``), user information (``user@host``: credentials go in
    their own options) or a scheme be read as part of the host, nor let one be passed on
    silently to the URL built from it.

    :raises InvalidReferenceError: naming what is wrong.
    """
    if not isinstance(text, str) or not text:
        raise InvalidReferenceError(str(text), "a registry is host[:port]; nothing was given")
    problem = None
    if _SCHEME.match(text):
        problem = "give the registry as host[:port], without a scheme"
    elif "@" in text:
        problem = "user information ('user@') is not allowed in a registry; use -u/--username"
    elif "?" in text or "#" in text:
        problem = "a registry is host[:port]: no query ('?') or fragment ('#')"
    elif "/" in text.removesuffix("/"):
        problem = "a registry is host[:port], without a path"
    else:
        problem = _domain_problem(text.removesuffix("/"))
    if problem is not None:
        raise InvalidReferenceError(text, problem)
    # Not normalize_registry: a single-label host (``myregistry``) is a host here, where a
    # reference would read it as a Docker Hub namespace.
    host = text.removesuffix("/")
    return DEFAULT_DOMAIN if host == LEGACY_DEFAULT_DOMAIN else host


def _split_domain(text: str) -> tuple[str, str, bool]:
    """Docker's ``splitDockerDomain``: ``(domain, remainder, domain_was_written)``."""
    first, slash, rest = text.partition("/")
    if not slash:
        return DEFAULT_DOMAIN, text, False
    if first == LEGACY_DEFAULT_DOMAIN:
        return DEFAULT_DOMAIN, rest, True
    if first == "localhost" or "." in first or ":" in first or first.lower() != first:
        return first, rest, True
    return DEFAULT_DOMAIN, text, False


def _domain_problem(domain: str) -> str | None:
    if isinstance(domain, str) and _DOMAIN.fullmatch(domain):
        return None
    hint = "; '_' is not allowed in host names" if "_" in str(domain) else ""
    return (
        f"invalid domain {domain!r} (must be host[:port] with a DNS name, an IPv4 address"
        f" or a [bracketed] IPv6 address, and a numeric port{hint})"
    )


def _path_problem(path: str) -> str | None:
    if not isinstance(path, str) or not path:
        return "missing repository path"
    components = path.split("/")
    if "" in components:
        return "empty path component (leading, trailing or doubled '/')"
    if path.lower() != path:
        return "repository name must be lowercase"
    for component in components:
        if not _PATH_COMPONENT.fullmatch(component):
            return (
                f"invalid path component {component!r} (must match"
                f" [a-z0-9]+ joined by '.', '_', '__' or runs of '-')"
            )
    if len(path) > MAX_PATH_LENGTH:
        return (
            f"name longer than {MAX_PATH_LENGTH} characters (the repository path has"
            f" {len(path)}; the domain is not counted)"
        )
    return None


def _not_a_string(what: str, value: object) -> str:
    return f"{what} must be a string, got {type(value).__name__}"


def _tag_problem(tag: str | None) -> str | None:
    if tag is None:
        return None
    if not isinstance(tag, str):
        return _not_a_string("tag", tag)
    if not tag:
        return "empty tag after ':'"
    if _TAG.fullmatch(tag):
        return None
    if _TAG_ANY_LENGTH.fullmatch(tag):
        return f"tag longer than 128 characters (got {len(tag)})"
    return f"invalid tag {tag!r} (must match [A-Za-z0-9_][A-Za-z0-9._-]{{0,127}})"


def _digest_problem(digest: str | None) -> str | None:
    if digest is None:
        return None
    if not isinstance(digest, str):
        return _not_a_string("digest", digest)
    if not digest:
        return "empty digest after '@'"
    try:
        parsed = Digest.parse(digest)
    except InvalidDigestError as exc:
        return str(exc)
    if parsed.algorithm not in _DIGEST_ALGORITHMS:
        return f"unsupported digest algorithm {parsed.algorithm!r} (only sha256, sha384, sha512)"
    return None


def _scheme_problem(scheme: str | None, domain: str) -> str | None:
    if scheme not in (None, "http", "https"):
        return f"unsupported scheme {scheme!r} (only http and https)"
    if scheme == "http" and domain == DEFAULT_DOMAIN:
        return "plaintext http:// is not allowed for docker.io"
    return None


def _join(domain: str, path: str, tag: str | None, digest: str | None) -> str:
    return _join_name(f"{domain}/{path}", tag, digest)


def _join_name(name: str, tag: str | None, digest: str | None) -> str:
    return (
        name + (f":{tag}" if tag is not None else "") + (f"@{digest}" if digest is not None else "")
    )
