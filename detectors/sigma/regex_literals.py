"""Required literals of a regular expression, for the prefilter.

``required_literals(pattern)`` returns a set of lowercase strings of which at least one
occurs (in the lowercased text) wherever the pattern matches, or None when no such set
was found. Finite parts are expanded and joined with what surrounds them:
``(?:\\x27|%27)(?:or|and)`` gives ``'or``, ``'and``, ``%27or``, ``%27and``; a part that
matches unboundedly many strings still contributes the strings every match of it starts
or ends with. The most selective candidate (longest shortest literal, then fewest) wins.

Under IGNORECASE only ASCII characters are used: Python's ``re`` matches ``i`` with
dotless i (U+0131) and dotted capital I (U+0130), ``s`` with long s (U+017F) and ``k``
with the Kelvin sign (U+212A), which the prefilter's folding
(:data:`detectors.sigma.prefilter.FOLD`) maps back; other non-ASCII characters have
case-insensitive partners that ``str.lower`` does not reveal.
"""

from __future__ import annotations

import importlib
import re
from dataclasses import dataclass
from typing import Any

_parser: Any = importlib.import_module("re._parser")

LIMIT = 512
"""Most alternatives a finite part may expand to."""
MAX_CLASS = 32
"""Largest character class expanded into single characters."""
MAX_DEPTH = 60
_EMPTY = frozenset({""})
_SPACES = frozenset(
    "\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005"
    "\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000"
)
"""What ``\\s`` matches in a str pattern (``str.isspace``)."""
_REPEATS = ("MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT")
_ZERO_WIDTH = ("AT", "ASSERT", "ASSERT_NOT")

Lits = frozenset[str]


def required_literals(pattern: str, flags: int = 0, raw: bool = True) -> Lits | None:
    """``raw``: the pattern runs on the original text (else on lowercased text, which makes
    every character usable)."""
    try:
        parsed = _parser.parse(pattern, flags)
    except Exception:
        return None
    ignorecase = bool(parsed.state.flags & re.IGNORECASE)
    try:
        return _Walker(raw).seq(list(parsed), ignorecase, 0).need
    except RecursionError:
        return None


@dataclass(frozen=True)
class _Info:
    lang: Lits | None
    """Every string the part can match (when few), else None."""
    pre: Lits
    """Every match starts with one of these."""
    suf: Lits
    """Every match ends with one of these."""
    need: Lits | None
    """One of these occurs in every match (the best found), else None."""


_OPAQUE = _Info(None, _EMPTY, _EMPTY, None)


def _finite(lang: Lits) -> _Info:
    return _Info(lang, lang, lang, lang if "" not in lang else None)


def _product(left: Lits, right: Lits) -> Lits | None:
    if len(left) * len(right) > LIMIT:
        return None
    return frozenset(a + b for a in left for b in right)


def _better(a: Lits | None, b: Lits | None) -> Lits | None:
    """The more selective of two required sets (sets holding "" are useless)."""
    if a is None or not a or "" in a:
        return b if b and "" not in b else None
    if b is None or not b or "" in b:
        return a
    return a if _score(a) >= _score(b) else b


def _caseless(ch: str) -> bool:
    """No case partners at all (spaces, punctuation, most symbols)."""
    return ch.lower() == ch == ch.upper() and ch.casefold() == ch


def _score(lits: Lits) -> tuple[int, int]:
    return (min(map(len, lits)), -len(lits))


class _Walker:
    def __init__(self, raw: bool) -> None:
        self.raw = raw

    def _char(self, code: int, ic: bool) -> str | None:
        ch = chr(code)
        if ic and self.raw and not ch.isascii() and not _caseless(ch):
            return None
        return ch.lower()

    def item(self, op: Any, av: Any, ic: bool, depth: int) -> _Info:
        name = str(op)
        if depth > MAX_DEPTH:
            return _OPAQUE
        if name == "LITERAL":
            ch = self._char(av, ic)
            return _OPAQUE if ch is None else _finite(frozenset({ch}))
        if name in _ZERO_WIDTH:
            return _finite(_EMPTY)
        if name == "IN":
            chars = self._class(av, ic)
            return _OPAQUE if chars is None else _finite(chars)
        if name == "SUBPATTERN":
            add, delete = av[1], av[2]
            inner = (ic or bool(add & re.IGNORECASE)) and not bool(delete & re.IGNORECASE)
            return self.seq(list(av[3]), inner, depth + 1)
        if name == "ATOMIC_GROUP":
            return self.seq(list(av), ic, depth + 1)
        if name == "BRANCH":
            return self._branch([self.seq(list(b), ic, depth + 1) for b in av[1]])
        if name in _REPEATS:
            return self._repeat(av[0], av[1], self.seq(list(av[2]), ic, depth + 1))
        return _OPAQUE

    def _class(self, items: Any, ic: bool) -> Lits | None:
        chars: set[str] = set()
        for op, av in items:
            name = str(op)
            if name == "LITERAL":
                codes = [av]
            elif name == "RANGE" and av[1] - av[0] < MAX_CLASS:
                codes = list(range(av[0], av[1] + 1))
            elif name == "CATEGORY" and str(av) == "CATEGORY_SPACE":
                codes = [ord(c) for c in _SPACES]
            else:
                return None  # negation, categories (\s, \d ...), big ranges
            for code in codes:
                ch = self._char(code, ic)
                if ch is None:
                    return None
                chars.add(ch)
            if len(chars) > MAX_CLASS:
                return None
        return frozenset(chars) or None

    @staticmethod
    def _union(parts: list[Lits | None]) -> Lits | None:
        out: set[str] = set()
        for part in parts:
            if part is None:
                return None
            out |= part
            if len(out) > LIMIT:
                return None
        return frozenset(out)

    def _branch(self, alts: list[_Info]) -> _Info:
        lang = self._union([a.lang for a in alts])
        if lang is not None:
            return _finite(lang)
        need = self._union([a.need for a in alts])
        return _Info(None, self._union([a.pre for a in alts]) or _EMPTY,
                     self._union([a.suf for a in alts]) or _EMPTY,
                     need if need and "" not in need else None)

    def _repeat(self, lo: int, hi: int, inner: _Info) -> _Info:
        if lo == 0:
            if hi == 1 and inner.lang is not None:
                return _finite(inner.lang | _EMPTY)
            return _finite(_EMPTY) if hi == 0 else _OPAQUE
        if inner.lang is not None:
            acc: Lits | None = _EMPTY
            for _ in range(min(lo, 8)):
                acc = _product(acc, inner.lang) if acc is not None else None
            if acc is not None and lo == hi and lo <= 8:
                return _finite(acc)
            edge = acc if acc is not None else inner.lang
            return _Info(None, edge, edge, _better(edge, inner.need))
        return _Info(None, inner.pre, inner.suf, inner.need)

    def seq(self, items: list[Any], ic: bool, depth: int) -> _Info:
        if depth > MAX_DEPTH:
            return _OPAQUE
        best: Lits | None = None
        run: Lits = _EMPTY  # the finite strings since the last break
        whole: Lits | None = _EMPTY
        pre: Lits | None = None  # set at the first break
        for op, av in items:
            info = self.item(op, av, ic, depth)
            if info.lang is not None:
                whole = _product(whole, info.lang) if whole is not None else None
                joined = _product(run, info.lang)
                if joined is not None:
                    run = joined
                    continue
                best = _better(best, run)
                if pre is None:
                    pre = run
                run = info.lang
                continue
            whole = None
            edge = _product(run, info.pre) or run
            best = _better(_better(best, edge), info.need)
            if pre is None:
                pre = edge
            run = info.suf
        best = _better(best, run)
        if whole is not None:
            return _finite(whole)
        return _Info(None, pre if pre is not None else run, run, best)
