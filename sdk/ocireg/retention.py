"""Retention: which tags a cleanup deletes. Shared by ``ocireg prune`` and the Ansible module.

The selection, in this order (GitLab's cleanup-policy reading, "never fewer than N"):

1. **Candidates**: tags matching any of ``patterns`` (all tags when none is given) and none of
   ``excludes``. By default a regular expression must match the whole tag (``match="full"``,
   GitLab's convention, so ``^1[.]`` matches no tag); ``match="prefix"`` anchors it at the start
   only (``re.match``), ``match="search"`` lets it match anywhere (``re.search``).
   :attr:`Selection.matched` says which pattern selected, or which exclude protected, each
   tag, and :attr:`Selection.unmatched_patterns` / :attr:`Selection.unmatched_excludes` list
   the expressions that matched no tag at all (almost always a mistake worth a warning).
2. **keep_latest N**: the candidates' tags of the N newest *distinct images* (by age, see
   below; several tags on one digest count once) are protected.
3. **older_than**: of the remaining candidates, only those whose image is older than that
   (by age) are deleted; without ``older_than``, all remaining candidates are.

Example: tags ``b1..b5`` on five images created a day apart, ``latest`` on the newest.
``patterns=["b.*"], keep_latest=2, older_than=3d`` keeps ``b5``, ``b4`` (newest two),
keeps ``b3`` (exactly 3 days old is not older), deletes ``b2`` and ``b1``; ``latest`` is
no candidate, so it stays.

**Age** (``age_from``, for ``keep_latest`` and ``older_than`` alike): ``created`` is the
image config's ``created``; ``pushed`` is when the registry received the manifest, which
only a registry-native listing says (:class:`~ocireg.registry_api.TagRecord.pushed_at`,
through a plugin's :class:`~ocireg.registry_api.RegistryAPI`). By default (``None``) a tag's
age is its push time where the listing gives one, else its image's ``created``; then no
config is fetched for tags whose push time is known. Images whose age is unknown (no
``created``, or not an image, or no push time with ``age_from="pushed"``) are never deleted
by age and sort as oldest for ``keep_latest``; images of the same age rank by their highest
tag in version order (see below).

**Tag order** (:func:`sort_tags`, ``order="version" | "text" | "none"``). ``text`` is plain
string order (``1.10`` before ``1.2``). ``version`` splits a tag into runs of digits and
runs of other characters and compares them one by one: digit runs as numbers, other runs
as text, a digit run before a text run at the same place, and a tag that is a prefix of
another before it. So ``1.2 < 1.10 < 1.10.1 < 2 < latest``, ``1.10 < 1.10-rc1`` and
``b9 < b10``; a leading ``v`` is text, so ``v``-tags sort after plain numbers (pre-release
suffixes are text too: this is no semver precedence). Ties (``01`` and ``1``) fall
back to text order, so the order is total. ``none`` keeps the order given (the registry's).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from .errors import InvalidSelectionError, OciregError

if TYPE_CHECKING:
    from .client import Client
    from .manifests import Descriptor
    from .reference import Reference
    from .registry_api import TagRecord

__all__ = [
    "AGE_FROM",
    "MATCH_MODES",
    "SORT_ORDERS",
    "InvalidSelectionError",
    "Selection",
    "TagInfo",
    "check_age_from",
    "filter_names",
    "gather",
    "parse_age",
    "parse_created",
    "select",
    "sort_tags",
    "version_key",
]

#: How a pattern must match a tag: the whole tag, from its start, or anywhere.
MATCH_MODES = ("full", "prefix", "search")
#: How tags are ordered: :func:`version_key`, plain text, or as given.
SORT_ORDERS = ("version", "text", "none")
#: Where a tag's age comes from (module docstring); ``None`` picks per tag.
AGE_FROM = ("created", "pushed")


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
        raise InvalidSelectionError(
            f"invalid age {text!r}: use a number and a unit s, m, h, d or w (30d)"
        )
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
    """A tag as retention sees it: its digest, its image's ``created`` and, from a native
    listing, when the registry received it (``pushed``)."""

    tag: str
    digest: str
    created: datetime | None = None
    pushed: datetime | None = None

    def age(self, age_from: str | None = None) -> datetime | None:
        """The time ``keep_latest`` and ``older_than`` go by (see ``age_from``)."""
        if age_from == "created":
            return self.created
        if age_from == "pushed":
            return self.pushed
        return self.pushed if self.pushed is not None else self.created


def check_age_from(age_from: str | None) -> None:
    if age_from is not None and age_from not in AGE_FROM:
        raise InvalidSelectionError(
            f"invalid age_from {age_from!r}: use one of {', '.join(AGE_FROM)}"
        )


@dataclass(frozen=True, slots=True)
class Selection:
    """The outcome: ``delete`` tags, and every other tag with why it stays.

    :ivar matched: tag -> the pattern that made it a candidate, or the exclude that
        protected it (tags that passed without any pattern are not in it).
    :ivar unmatched_patterns: the ``patterns`` that matched no tag, in the order given.
    :ivar unmatched_excludes: the ``excludes`` that matched no tag, in the order given.
    """

    delete: tuple[TagInfo, ...]
    keep: tuple[tuple[TagInfo, str], ...] = field(default=())
    matched: Mapping[str, str] = field(default_factory=dict)
    unmatched_patterns: tuple[str, ...] = ()
    unmatched_excludes: tuple[str, ...] = ()

    @property
    def delete_tags(self) -> list[str]:
        return [t.tag for t in self.delete]


def _compile(patterns: Iterable[str], what: str) -> list[tuple[str, re.Pattern[str]]]:
    out = []
    for p in patterns:
        try:
            out.append((p, re.compile(p)))
        except re.error as exc:
            raise InvalidSelectionError(f"invalid {what} regular expression {p!r}: {exc}") from None
    return out


def _matcher(match: str) -> str:
    if match not in MATCH_MODES:
        raise InvalidSelectionError(f"invalid match {match!r}: use one of {', '.join(MATCH_MODES)}")
    return {"full": "fullmatch", "prefix": "match", "search": "search"}[match]


def _first(
    compiled: list[tuple[str, re.Pattern[str]]], method: str, tag: str, hits: set[str]
) -> str | None:
    """The first expression matching ``tag``; every matching one is added to ``hits``."""
    found = None
    for text, rx in compiled:
        if getattr(rx, method)(tag) is not None:
            hits.add(text)
            found = text if found is None else found
    return found


def select(
    tags: Sequence[TagInfo],
    *,
    patterns: Iterable[str] = (),
    excludes: Iterable[str] = (),
    keep_latest: int | None = None,
    older_than: timedelta | None = None,
    now: datetime | None = None,
    match: str = "full",
    age_from: str | None = None,
) -> Selection:
    """Apply the documented selection to ``tags`` (pure; no I/O).

    :raises InvalidSelectionError: a bad expression, ``match``, ``keep_latest`` or
        ``age_from``.
    """
    method = _matcher(match)
    check_age_from(age_from)
    wanted, unwanted = _compile(patterns, "pattern"), _compile(excludes, "exclude")
    if keep_latest is not None and keep_latest < 0:
        raise InvalidSelectionError("keep_latest must be 0 or more")
    now = now or datetime.now(UTC)
    keep: list[tuple[TagInfo, str]] = []
    candidates: list[TagInfo] = []
    matched: dict[str, str] = {}
    hit_patterns: set[str] = set()
    hit_excludes: set[str] = set()
    for info in tags:
        by = _first(wanted, method, info.tag, hit_patterns)
        protected_by = _first(unwanted, method, info.tag, hit_excludes)
        if wanted and by is None:
            keep.append((info, "matches no pattern"))
        elif protected_by is not None:
            matched[info.tag] = protected_by
            keep.append((info, "excluded"))
        else:
            if by is not None:
                matched[info.tag] = by
            candidates.append(info)
    protected: set[str] = set()
    if keep_latest:
        newest: dict[str, datetime] = {}
        top_tag: dict[str, str] = {}
        for info in candidates:
            when = info.age(age_from) or datetime.min.replace(tzinfo=UTC)
            newest[info.digest] = max(when, newest.get(info.digest, when))
            if info.digest not in top_tag or version_key(info.tag) > version_key(
                top_tag[info.digest]
            ):
                top_tag[info.digest] = info.tag
        ranked = sorted(newest, key=lambda d: (newest[d], version_key(top_tag[d]), d), reverse=True)
        protected = set(ranked[:keep_latest])
    delete: list[TagInfo] = []
    for info in candidates:
        age = info.age(age_from)
        if info.digest in protected:
            keep.append((info, f"one of the {keep_latest} newest images"))
        elif older_than is not None and age is None:
            keep.append((info, "age unknown"))
        elif older_than is not None and age is not None and age >= now - older_than:
            keep.append((info, "newer than the age limit"))
        else:
            delete.append(info)
    return Selection(
        tuple(delete),
        tuple(keep),
        matched,
        tuple(p for p, _ in wanted if p not in hit_patterns),
        tuple(p for p, _ in unwanted if p not in hit_excludes),
    )


def filter_names(
    names: Iterable[str],
    *,
    patterns: Iterable[str] = (),
    excludes: Iterable[str] = (),
    match: str = "full",
) -> Selection:
    """:func:`select` for plain names (tags, repository names): patterns and excludes only."""
    return select(
        [TagInfo(n, "") for n in names], patterns=patterns, excludes=excludes, match=match
    )


_RUNS = re.compile(r"\d+|\D+", re.ASCII)


def version_key(tag: str) -> tuple[tuple[tuple[int, int, str], ...], str]:
    """The sort key of the ``version`` order (rule in the module docstring)."""
    parts = tuple((0, int(run), "") if run.isdigit() else (1, 0, run) for run in _RUNS.findall(tag))
    return parts, tag


def sort_tags(tags: Iterable[str], order: str = "version") -> list[str]:
    """``tags`` in ``order``: ``version`` (:func:`version_key`), ``text`` or ``none``."""
    if order not in SORT_ORDERS:
        raise InvalidSelectionError(f"invalid sort {order!r}: use one of {', '.join(SORT_ORDERS)}")
    items = list(tags)
    if order == "none":
        return items
    return sorted(items, key=version_key if order == "version" else None)


def gather(
    client: Client,
    repository: Reference,
    tags: Sequence[str] | None = None,
    *,
    descriptors: Mapping[str, Descriptor] | None = None,
    records: Mapping[str, TagRecord] | None = None,
    age_from: str | None = None,
) -> list[TagInfo]:
    """Digest, creation time and push time of every tag: concurrent HEADs, one config per
    digest whose ``created`` the age needs (``age_from``, see the module docstring).

    ``descriptors`` (tag -> descriptor, e.g. ``client.snapshot(...).tags``) saves the
    HEADs when they were just sent; ``tags`` then picks among them. ``records`` (tag ->
    a native listing's record, e.g. ``client.snapshot(...).records``) give push times.
    """
    check_age_from(age_from)
    if descriptors is None:
        descriptors = client.tag_descriptors(repository, tags)
    elif tags is not None:
        descriptors = {t: descriptors[t] for t in tags if t in descriptors}
    pushed = {t: _aware(r.pushed_at) for t, r in (records or {}).items() if t in descriptors}
    digests = sorted(
        {
            d.digest
            for t, d in descriptors.items()
            if age_from == "created" or (age_from is None and pushed.get(t) is None)
        }
    )

    def created(digest: str) -> datetime | None:
        try:
            return parse_created(client.image_config(repository.with_digest(digest)).get("created"))
        except OciregError:
            return None

    workers = max(1, min(client.max_workers, len(digests) or 1))
    with ThreadPoolExecutor(max_workers=workers) as pool:
        times = dict(zip(digests, pool.map(created, digests), strict=True))
    return [
        TagInfo(tag, desc.digest, times.get(desc.digest), pushed.get(tag))
        for tag, desc in sorted(descriptors.items())
    ]


def _aware(when: datetime | None) -> datetime | None:
    """A push time as aware UTC (a plugin may hand out naive UTC)."""
    if when is None or when.tzinfo is not None:
        return when
    return when.replace(tzinfo=UTC)
