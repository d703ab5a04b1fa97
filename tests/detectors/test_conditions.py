"""The `where:` condition language of threshold rules."""

from __future__ import annotations

from typing import Any

from detectors.conditions import compile_where, matches


def check(where: dict[str, Any], fields: dict[str, Any]) -> bool:
    conditions, problems = compile_where(where)
    assert problems == []
    return matches(conditions, fields)


def test_equality_is_tolerant_of_numbers_as_text() -> None:
    assert check({"status": 404}, {"status": 404})
    assert check({"status": 404}, {"status": "404"})
    assert check({"status": "404"}, {"status": 404})
    assert check({"status": 404}, {"status": 404.0})
    assert not check({"status": 404}, {"status": 403})
    assert not check({"status": 404}, {})


def test_booleans_are_not_numbers() -> None:
    assert check({"flag": True}, {"flag": True})
    assert not check({"flag": True}, {"flag": 1})
    assert not check({"n": 1}, {"n": True})
    assert check({"flag": False}, {"flag": False})


def test_list_means_any_of() -> None:
    assert check({"m": ["GET", "HEAD"]}, {"m": "HEAD"})
    assert not check({"m": ["GET", "HEAD"]}, {"m": "POST"})


def test_null_matches_a_missing_field() -> None:
    assert check({"x": None}, {})
    assert check({"x": None}, {"x": None})
    assert not check({"x": None}, {"x": "a"})


def test_event_lists_match_any_element() -> None:
    assert check({"tags": "a"}, {"tags": ["b", "a"]})
    assert check({"n": {"gt": 5}}, {"n": [1, 9]})
    assert check({"p": {"prefix": "/wp"}}, {"p": ["/x", "/wp-admin"]})


def test_comparisons() -> None:
    assert check({"n": {"gt": 5}}, {"n": 6})
    assert not check({"n": {"gt": 5}}, {"n": 5})
    assert check({"n": {"gte": 5}}, {"n": 5})
    assert check({"n": {"lt": 5}}, {"n": "4.5"})
    assert not check({"n": {"lt": 5}}, {"n": 5})
    assert check({"n": {"lte": 5}}, {"n": 5})
    assert not check({"n": {"lte": 5}}, {"n": "x"})
    assert not check({"n": {"gt": 0}}, {})
    assert check({"n": {"gte": 400, "lt": 500}}, {"n": 451})
    assert not check({"n": {"gte": 400, "lt": 500}}, {"n": 500})
    assert not check({"n": {"gt": 400, "gte": 400}}, {"n": 400})


def test_ne_in_prefix_exists() -> None:
    assert check({"u": {"ne": "root"}}, {"u": "admin"})
    assert check({"u": {"ne": "root"}}, {})
    assert not check({"u": {"ne": ["root", "admin"]}}, {"u": "admin"})
    assert check({"u": {"in": ["root", "admin"]}}, {"u": "root"})
    assert check({"code": {"prefix": "4"}}, {"code": 404})
    assert not check({"code": {"prefix": "4"}}, {"code": True})
    assert check({"p": {"prefix": ["/a", "/b"]}}, {"p": "/b/c"})
    assert check({"p": {"exists": True}}, {"p": ""})
    assert not check({"p": {"exists": True}}, {"p": None})
    assert check({"p": {"exists": False}}, {})


def test_all_conditions_must_hold() -> None:
    where = {"a": 1, "b": {"prefix": "x", "ne": "xz"}}
    assert check(where, {"a": 1, "b": "xy"})
    assert not check(where, {"a": 1, "b": "xz"})
    assert not check(where, {"a": 2, "b": "xy"})


def test_problems_name_their_key() -> None:
    _, problems = compile_where(
        {
            "a": {"gte": "four"},
            "b": {"like": "x"},
            "c": [],
            "d": {"exists": "yes"},
            "e": {"prefix": ""},
            "f": [{"nested": 1}],
            "g": {},
        }
    )
    assert problems == [
        (("where", "a", "gte"), "expected a number, got 'four'"),
        (("where", "b", "like"),
         "unknown operator 'like' (expected one of gt, gte, lt, lte, ne, in, prefix, exists)"),
        (("where", "c"), "an empty list matches nothing"),
        (("where", "d", "exists"), "expected true or false, got 'yes'"),
        (("where", "e", "prefix"), "expected a non-empty text or a list of texts"),
        (("where", "f"), "expected a value or a list of values, got dict"),
        (("where", "g"), "empty operator mapping"),
    ]
    assert compile_where(["a"])[1] == [(("where",), "expected a mapping of field: value")]
