from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from ocireg import OciregError
from ocireg.retention import (
    InvalidSelectionError,
    TagInfo,
    filter_names,
    parse_age,
    parse_created,
    select,
    sort_tags,
    version_key,
)

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


def test_invalid_input_is_an_ocireg_error_and_a_value_error() -> None:
    for call in (
        lambda: select(TAGS, patterns=["("]),
        lambda: select(TAGS, excludes=["["]),
        lambda: select(TAGS, match="glob"),
        lambda: parse_age("soon"),
        lambda: sort_tags(["a"], "random"),
    ):
        with pytest.raises(InvalidSelectionError) as info:
            call()
        assert isinstance(info.value, OciregError) and isinstance(info.value, ValueError)


NAMES = ["1.0", "1.1", "1.10", "10.0", "latest", "latest-dev", "rc-1.1"]


@pytest.mark.parametrize(
    ("match", "patterns", "excludes", "selected", "unmatched"),
    [
        # full match (the default): anchors say nothing, "1\." alone matches no tag
        ("full", [r"^1\."], [], [], ([r"^1\."], [])),
        ("full", [r"1\..*"], ["latest"], ["1.0", "1.1", "1.10"], ([], [])),
        ("full", [], ["^latest"], ["1.0", "1.1", "1.10", "10.0", "latest-dev", "rc-1.1"], ([], [])),
        # prefix: anchored at the start only
        ("prefix", [r"1\."], [r"1\.1"], ["1.0"], ([], [])),
        ("prefix", [], ["latest"], ["1.0", "1.1", "1.10", "10.0", "rc-1.1"], ([], [])),
        # search: anywhere
        ("search", [r"1\.1"], [], ["1.1", "1.10", "rc-1.1"], ([], [])),
        ("search", ["nothing"], ["neither"], [], (["nothing"], ["neither"])),
    ],
    ids=[
        "full-anchor-matches-nothing",
        "full",
        "full-exclude",
        "prefix",
        "prefix-exclude",
        "search",
        "unmatched-reported",
    ],
)
def test_match_modes(
    match: str,
    patterns: list[str],
    excludes: list[str],
    selected: list[str],
    unmatched: tuple[list[str], list[str]],
) -> None:
    sel = filter_names(NAMES, patterns=patterns, excludes=excludes, match=match)
    assert sel.delete_tags == selected
    assert (list(sel.unmatched_patterns), list(sel.unmatched_excludes)) == unmatched


def test_matched_says_which_pattern_selected_or_protected_each_tag() -> None:
    sel = filter_names(NAMES, patterns=[r"1\.1.*", r"1.*"], excludes=[r"1\.10", "x"], match="full")
    assert sel.matched == {"1.0": "1.*", "1.1": r"1\.1.*", "1.10": r"1\.10", "10.0": "1.*"}
    assert dict((i.tag, why) for i, why in sel.keep)["1.10"] == "excluded"
    assert sel.unmatched_excludes == ("x",)


@pytest.mark.parametrize(
    ("order", "expected"),
    [
        ("version", ["1", "1.2", "1.10", "1.10-rc1", "1.10.1", "2", "b9", "b10", "latest", "v1"]),
        ("text", ["1", "1.10", "1.10-rc1", "1.10.1", "1.2", "2", "b10", "b9", "latest", "v1"]),
        ("none", ["1.10", "1.2", "latest", "1.10-rc1", "1.10.1", "b10", "b9", "v1", "2", "1"]),
    ],
)
def test_sort_orders(order: str, expected: list[str]) -> None:
    given = ["1.10", "1.2", "latest", "1.10-rc1", "1.10.1", "b10", "b9", "v1", "2", "1"]
    assert sort_tags(given, order) == expected


def test_version_order_is_total() -> None:
    assert sort_tags(["1", "01", "001"]) == ["001", "01", "1"]
    assert version_key("1.2") < version_key("1.10")


def test_keep_latest_ties_rank_by_version_of_the_tags() -> None:
    """Images without creation time (or with the same one) rank by their highest tag in
    version order, not by digest."""
    tags = [TagInfo("1.9", "dz", None), TagInfo("1.10", "da", None), TagInfo("1.2", "dm", None)]
    assert select(tags, keep_latest=1, now=NOW).delete_tags == ["1.9", "1.2"]
