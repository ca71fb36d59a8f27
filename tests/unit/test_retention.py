from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from ocireg.retention import TagInfo, parse_age, parse_created, select

NOW = datetime(2024, 6, 10, tzinfo=UTC)


def day(n: int) -> datetime:
    return NOW - timedelta(days=n)


# Five builds a day apart (b5 newest), `latest` shares b5's digest, `stable` shares b2's.
TAGS = [
    TagInfo("b1", "d1", day(5)),
    TagInfo("b2", "d2", day(4)),
    TagInfo("b3", "d3", day(3)),
    TagInfo("b4", "d4", day(2)),
    TagInfo("b5", "d5", day(1)),
    TagInfo("latest", "d5", day(1)),
    TagInfo("stable", "d2", day(4)),
]


@pytest.mark.parametrize(
    ("kwargs", "deleted"),
    [
        ({}, ["b1", "b2", "b3", "b4", "b5", "latest", "stable"]),
        ({"patterns": ["b.*"]}, ["b1", "b2", "b3", "b4", "b5"]),
        ({"patterns": ["b.*"], "excludes": ["b[12]"]}, ["b3", "b4", "b5"]),
        ({"patterns": ["b.*"], "keep_latest": 2}, ["b1", "b2", "b3"]),
        ({"patterns": ["b.*"], "keep_latest": 2, "older_than": timedelta(days=3)}, ["b1", "b2"]),
        ({"patterns": ["b.*"], "older_than": timedelta(days=3, hours=1)}, ["b1", "b2"]),
        # keep_latest counts distinct images: latest and b5 are one image.
        ({"keep_latest": 1}, ["b1", "b2", "b3", "b4", "stable"]),
        ({"keep_latest": 10}, []),
        ({"keep_latest": 0}, ["b1", "b2", "b3", "b4", "b5", "latest", "stable"]),
        ({"patterns": ["b"]}, []),  # full match: "b" matches no tag
        ({"patterns": ["b1", "stable"]}, ["b1", "stable"]),
    ],
    ids=[
        "everything",
        "pattern",
        "pattern-and-exclude",
        "keep-latest",
        "keep-latest-and-older-than",
        "older-than",
        "keep-latest-counts-images-not-tags",
        "keep-more-than-exist",
        "keep-zero",
        "full-match",
        "several-patterns",
    ],
)
def test_selection(kwargs: dict[str, object], deleted: list[str]) -> None:
    sel = select(TAGS, now=NOW, **kwargs)  # type: ignore[arg-type]
    assert sorted(sel.delete_tags) == deleted
    kept = {info.tag for info, _ in sel.keep}
    assert kept | set(sel.delete_tags) == {t.tag for t in TAGS}
    assert not kept & set(sel.delete_tags)


def test_reasons_are_given_for_kept_tags() -> None:
    sel = select(
        TAGS,
        patterns=["b.*"],
        excludes=["b1"],
        keep_latest=1,
        older_than=timedelta(days=3),
        now=NOW,
    )
    reasons = {info.tag: why for info, why in sel.keep}
    assert reasons["latest"] == "matches no pattern"
    assert reasons["b1"] == "excluded"
    assert reasons["b5"] == "one of the 1 newest images"
    assert reasons["b4"] == "newer than the age limit"


def test_unknown_age_is_never_deleted_by_age() -> None:
    tags = [TagInfo("artifact", "dx", None), TagInfo("old", "d1", day(100))]
    sel = select(tags, older_than=timedelta(days=30), now=NOW)
    assert sel.delete_tags == ["old"]
    assert sel.keep[0][1] == "age unknown"


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("30d", 30 * 86400), ("12h", 43200), ("2w", 1209600), ("1w2d", 777600), ("90m", 5400)],
)
def test_parse_age(text: str, seconds: int) -> None:
    assert parse_age(text).total_seconds() == seconds


@pytest.mark.parametrize("text", ["", "30", "d", "30x", "-1d", "1d junk"])
def test_parse_age_rejects_nonsense(text: str) -> None:
    with pytest.raises(ValueError, match="invalid age"):
        parse_age(text)


def test_parse_created_handles_go_nanoseconds_and_zones() -> None:
    assert parse_created("2024-01-02T03:04:05.123456789Z") == datetime(
        2024, 1, 2, 3, 4, 5, 123456, tzinfo=UTC
    )
    assert parse_created("2024-01-02T05:04:05+02:00") == datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC)
    assert parse_created("not a date") is None
    assert parse_created(None) is None


def test_invalid_regex_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="invalid pattern regular expression"):
        select(TAGS, patterns=["("])
