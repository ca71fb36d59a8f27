"""``WWW-Authenticate`` parsing (RFC 7235 section 4.1, RFC 9110 section 11.6.1).

A header value holds one or more challenges separated by commas; each challenge is a scheme
followed by either a token68 or a comma-separated list of ``name=value`` parameters, where a
value is a token or a quoted string (with ``\\`` escapes). Since commas separate both
challenges and parameters, a new challenge is recognised by a token that is *not* followed by
``=``. Registries vary (gcr.io sends no ``scope``, nvcr.io no ``service``), so every
parameter is optional and lookups must use ``.get``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

__all__ = ["Challenge", "parse_challenges", "pick_challenge"]

_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+", re.ASCII)
_TOKEN68 = re.compile(r"[A-Za-z0-9\-._~+/]+=*", re.ASCII)
_SPACE = " \t"


@dataclass(frozen=True, slots=True)
class Challenge:
    """One challenge: ``scheme`` lower-cased, ``params`` with lower-cased names."""

    scheme: str
    params: dict[str, str] = field(default_factory=dict)
    token68: str | None = None

    @property
    def realm(self) -> str | None:
        return self.params.get("realm")

    @property
    def service(self) -> str | None:
        return self.params.get("service")

    @property
    def scope(self) -> str | None:
        return self.params.get("scope")

    @property
    def error(self) -> str | None:
        return self.params.get("error")


class _Scanner:
    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0

    def skip_space(self) -> None:
        while self.pos < len(self.text) and self.text[self.pos] in _SPACE:
            self.pos += 1

    def skip_commas(self) -> None:
        while self.pos < len(self.text) and self.text[self.pos] in _SPACE + ",":
            self.pos += 1

    def at_end(self) -> bool:
        return self.pos >= len(self.text)

    def peek(self) -> str:
        return self.text[self.pos] if self.pos < len(self.text) else ""

    def match(self, pattern: re.Pattern[str]) -> str | None:
        m = pattern.match(self.text, self.pos)
        if not m:
            return None
        self.pos = m.end()
        return m.group(0)

    def quoted(self) -> str | None:
        """Read a quoted-string starting at the opening quote; None (the rest of the header
        consumed) when it is never closed: a truncated value, such as a realm cut short,
        must not be used (docker's parser drops it too)."""
        assert self.text[self.pos] == '"'
        self.pos += 1
        out: list[str] = []
        while self.pos < len(self.text):
            ch = self.text[self.pos]
            if ch == "\\" and self.pos + 1 < len(self.text):
                out.append(self.text[self.pos + 1])
                self.pos += 2
                continue
            self.pos += 1
            if ch == '"':
                return "".join(out)
            out.append(ch)
        return None


def _param_follows(sc: _Scanner) -> tuple[str, int] | None:
    """If a ``name =`` starts at the cursor, return the name and the position after ``=``."""
    m = _TOKEN.match(sc.text, sc.pos)
    if not m:
        return None
    pos = m.end()
    while pos < len(sc.text) and sc.text[pos] in _SPACE:
        pos += 1
    if pos >= len(sc.text) or sc.text[pos] != "=":
        return None
    # "abc=" or "abc==" ending the value is a token68 with padding, not a parameter.
    end = pos
    while end < len(sc.text) and sc.text[end] == "=":
        end += 1
    rest = sc.text[end:].lstrip(_SPACE)
    if not rest or rest.startswith(","):
        return None
    return m.group(0), pos + 1


def parse_challenges(header: str | None) -> list[Challenge]:
    """Parse a ``WWW-Authenticate`` value into its challenges, in order.

    Malformed pieces are skipped rather than raising: a client should still be able to use the
    challenges it understands.
    """
    if not header:
        return []
    sc = _Scanner(header)
    challenges: list[Challenge] = []
    while True:
        sc.skip_commas()
        if sc.at_end():
            break
        scheme = sc.match(_TOKEN)
        if scheme is None:
            sc.pos += 1  # junk character: skip it
            continue
        params: dict[str, str] = {}
        token68: str | None = None
        sc.skip_space()
        if not sc.at_end() and sc.peek() != "," and _param_follows(sc) is None:
            token68 = sc.match(_TOKEN68)
            sc.skip_space()
        else:
            while True:
                save = sc.pos
                sc.skip_commas()
                found = _param_follows(sc)
                if found is None:
                    sc.pos = save
                    break
                name, sc.pos = found
                sc.skip_space()
                value = sc.quoted() if sc.peek() == '"' else (sc.match(_TOKEN) or "")
                if value is not None:
                    params.setdefault(name.lower(), value)
                sc.skip_space()
        challenges.append(Challenge(scheme.lower(), params, token68))
    return challenges


def pick_challenge(header: str | None) -> Challenge | None:
    """The challenge of a ``WWW-Authenticate`` value that ocireg answers: the first
    ``Bearer`` one, else the first ``Basic`` one, else None."""
    challenges = parse_challenges(header)
    for scheme in ("bearer", "basic"):
        for ch in challenges:
            if ch.scheme == scheme:
                return ch
    return None
