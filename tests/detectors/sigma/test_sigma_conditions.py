"""The condition grammar: and, or, not, parentheses, 1/all of x*, them, condition lists."""

from __future__ import annotations

from pathlib import Path

from tests.detectors.sigma.sigma_support import matcher, web

SELECTIONS = """
sel_a: {c-uri|contains: aaa}
sel_b: {c-uri|contains: bbb}
flt_c: {c-uri|contains: ccc}
"""


def m(tmp: Path, condition: str):  # type: ignore[no-untyped-def]
    return matcher(tmp, SELECTIONS + f"condition: {condition}")


def test_and_or_not_precedence(tmp_path: Path) -> None:
    f = m(tmp_path, "sel_a or sel_b and not flt_c")  # not > and > or
    assert f(web("/aaa")) and f(web("/aaa/ccc"))
    assert f(web("/bbb")) and not f(web("/bbb/ccc"))
    assert not f(web("/zzz"))


def test_parentheses(tmp_path: Path) -> None:
    f = m(tmp_path, "(sel_a or sel_b) and not flt_c")
    assert f(web("/aaa")) and not f(web("/aaa/ccc"))
    f = m(tmp_path, "not (sel_a or sel_b)")
    assert f(web("/zzz")) and not f(web("/bbb"))
    f = m(tmp_path, "((sel_a) and ((sel_b)))")
    assert f(web("/aaa/bbb")) and not f(web("/aaa"))


def test_one_of_and_all_of_patterns(tmp_path: Path) -> None:
    f = m(tmp_path, "1 of sel_*")
    assert f(web("/aaa")) and f(web("/bbb")) and not f(web("/ccc"))
    f = m(tmp_path, "all of sel_*")
    assert f(web("/aaa/bbb")) and not f(web("/aaa"))
    f = m(tmp_path, "1 of sel_* and not 1 of flt_*")
    assert f(web("/aaa")) and not f(web("/aaa/ccc"))
    f = m(tmp_path, "any of sel_*")
    assert f(web("/bbb"))


def test_them(tmp_path: Path) -> None:
    f = m(tmp_path, "1 of them")
    assert f(web("/ccc")) and not f(web("/zzz"))
    f = m(tmp_path, "all of them")
    assert f(web("/aaa/bbb/ccc")) and not f(web("/aaa/bbb"))


def test_condition_list_is_or(tmp_path: Path) -> None:
    f = matcher(tmp_path, SELECTIONS + "condition:\n  - sel_a and sel_b\n  - flt_c")
    assert f(web("/aaa/bbb")) and f(web("/ccc")) and not f(web("/aaa"))


def test_mapping_is_and_list_of_mappings_is_or(tmp_path: Path) -> None:
    f = matcher(tmp_path, """
        sel:
          c-uri|contains: aaa
          cs-method: POST
        condition: sel
    """)
    assert f(web("/aaa", method="POST")) and not f(web("/aaa"))
    f = matcher(tmp_path, """
        sel:
          - c-uri|contains: aaa
          - cs-method: POST
        condition: sel
    """)
    assert f(web("/aaa")) and f(web("/x", method="POST")) and not f(web("/x"))


def test_keywords_and_fields_together(tmp_path: Path) -> None:
    f = matcher(tmp_path, """
        keywords: ['@@version', 'sleep(']
        get: {cs-method: GET}
        notfound: {sc-status: 404}
        condition: keywords and get and not notfound
    """)
    assert f(web("/?x=@@version"))
    assert not f(web("/?x=@@version", status=404))
    assert not f(web("/?x=@@version", method="POST"))


def test_double_negation(tmp_path: Path) -> None:
    f = m(tmp_path, "not not sel_a")
    assert f(web("/aaa")) and not f(web("/bbb"))
