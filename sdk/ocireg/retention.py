"""Retention: which tags a cleanup deletes. Shared by ``ocireg prune`` and the Ansible module.

The selection, in this order (GitLab's cleanup-policy reading, "never fewer than N"):

1. **Candidates**: tags matching any of ``patterns`` (all tags when none is given) and none of
   ``excludes``; regular expressions must match the whole tag.
2. **keep_latest N**: the candidates' tags of the N newest *distinct images* (by the image
   config's ``created``; several tags on one digest count once) are protected.
3. **older_than**: of the remaining candidates, only those whose image is older than that
   are deleted; without ``older_than``, all remaining candidates are.

Example: tags ``b1..b5`` on five images created a day apart, ``latest`` on the newest.
``patterns=["b.*"], keep_latest=2, older_than=3d`` keeps ``b5``, ``b4`` (newest two),
keeps ``b3`` (exactly 3 days old is not older), deletes ``b2`` and ``b1``; ``latest`` is
no candidate, so it stays.

Images whose age is unknown (no ``created``, or not an image) are never deleted by age and
sort as oldest for ``keep_latest``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from .errors import OciregError

if TYPE_CHECKING:
    from .client import Client
    from .manifests import Descriptor
    from .reference import Reference

__all__ = ["Selection", "TagInfo", "gather", "parse_age", "parse_created", "select"]

_AGE = re.compile(r"(\d+)\s*([smhdw])", re.ASCII)
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def parse_age(text: str) -> timedelta:
    """``30d``, ``12h``, ``2w``, ``1w2d``, ``90m``, ``45s`` -> a timedelta."""
    cleaned = text.strip().lower()
    pos, seconds = 0, 0
    for m in _AGE.finditer(cleaned):
        if m.start() != pos:
            break
        seconds += int(m.group(1)) * _UNITS[m.group(2)]
        pos = m.end()
    if not cleaned or pos != len(cleaned):
        raise ValueError(f"invalid age {text!r}: use a number and a unit s, m, h, d or w (30d)")
    return timedelta(seconds=seconds)


def parse_created(value: object) -> datetime | None:
    """An image config's ``created`` (RFC 3339, maybe with nanoseconds) as aware UTC."""
    if not isinstance(value, str) or not value:
        return None
    text = value.strip().replace("Z", "+00:00").replace("z", "+00:00")
    text = re.sub(r"(\.\d{6})\d+", r"\1", text)  # Go writes nanoseconds
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class TagInfo:
    tag: str
    digest: str
    created: datetime | None = None


@dataclass(frozen=True, slots=True)
class Selection:
    """The outcome: ``delete`` tags, and every other tag with why it stays."""

    delete: tuple[TagInfo, ...]
    keep: tuple[tuple[TagInfo, str], ...] = field(default=())

    @property
    def delete_tags(self) -> list[str]:
        return [t.tag for t in self.delete]


def _compile(patterns: Iterable[str], what: str) -> list[re.Pattern[str]]:
    out = []
    for p in patterns:
        try:
            out.append(re.compile(p))
        except re.error as exc:
            raise ValueError(f"invalid {what} regular expression {p!r}: {exc}") from None
    return out


def select(
    tags: Sequence[TagInfo],
    *,
    patterns: Iterable[str] = (),
    excludes: Iterable[str] = (),
    keep_latest: int | None = None,
    older_than: timedelta | None = None,
    now: datetime | None = None,
) -> Selection:
    """Apply the documented selection to ``tags`` (pure; no I/O)."""
    wanted, unwanted = _compile(patterns, "pattern"), _compile(excludes, "exclude")
    if keep_latest is not None and keep_latest < 0:
        raise ValueError("keep_latest must be 0 or more")
    now = now or datetime.now(UTC)
    keep: list[tuple[TagInfo, str]] = []
    candidates: list[TagInfo] = []
    for info in tags:
        if wanted and not any(p.fullmatch(info.tag) for p in wanted):
            keep.append((info, "matches no pattern"))
        elif any(p.fullmatch(info.tag) for p in unwanted):
            keep.append((info, "excluded"))
        else:
            candidates.append(info)
    protected: set[str] = set()
    if keep_latest:
        newest: dict[str, datetime] = {}
        for info in candidates:
            when = info.created or datetime.min.replace(tzinfo=UTC)
            newest[info.digest] = max(when, newest.get(info.digest, when))
        ranked = sorted(newest, key=lambda d: (newest[d], d), reverse=True)
        protected = set(ranked[:keep_latest])
    delete: list[TagInfo] = []
    for info in candidates:
        if info.digest in protected:
            keep.append((info, f"one of the {keep_latest} newest images"))
        elif older_than is not None and info.created is None:
            keep.append((info, "age unknown"))
        elif (
            older_than is not None and info.created is not None and info.created >= now - older_than
        ):
            keep.append((info, "newer than the age limit"))
        else:
            delete.append(info)
    return Selection(tuple(delete), tuple(keep))


def gather(
    client: Client,
    repository: Reference,
    tags: Sequence[str] | None = None,
    *,
    descriptors: Mapping[str, Descriptor] | None = None,
) -> list[TagInfo]:
    """Digest and creation time of every tag: concurrent HEADs, one config per digest.

    ``descriptors`` (tag -> descriptor, e.g. ``client.snapshot(...).tags``) saves the
    HEADs when they were just sent; ``tags`` then picks among them.
    """
    if descriptors is None:
        descriptors = client.tag_descriptors(repository, tags)
    elif tags is not None:
        descriptors = {t: descriptors[t] for t in tags if t in descriptors}
    digests = sorted({d.digest for d in descriptors.values()})

    def created(digest: str) -> datetime | None:
        try:
            return parse_created(client.image_config(repository.with_digest(digest)).get("created"))
        except OciregError:
            return None

    workers = max(1, min(client.max_workers, len(digests) or 1))
    with ThreadPoolExecutor(max_workers=workers) as pool:
        times = dict(zip(digests, pool.map(created, digests), strict=True))
    return [
        TagInfo(tag, desc.digest, times.get(desc.digest))
        for tag, desc in sorted(descriptors.items())
    ]
