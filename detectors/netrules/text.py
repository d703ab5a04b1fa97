"""Rule text: the lines of a ``.rules`` file into rule strings, a rule into its parts."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

ACTIONS = frozenset({"alert", "pass", "drop", "reject", "rejectsrc", "rejectdst",
                     "rejectboth", "config"})
MAX_RULE_CHARS = 65536


class RuleSyntaxError(ValueError):
    """Rule text that is not a rule."""


@dataclass(frozen=True, slots=True)
class RawRule:
    text: str
    line: int


def rule_lines(text: str) -> Iterator[RawRule]:
    """Rules with the line they start on; continuation lines (trailing ``\\``) joined,
    blank lines and comments (``# alert ...`` too: a disabled rule) skipped."""
    buf: list[str] = []
    start = 0
    for no, line in enumerate(text.splitlines(), 1):
        stripped = line.strip()
        if not buf:
            if not stripped or stripped.startswith("#"):
                continue
            start = no
        if stripped.endswith("\\"):
            buf.append(line.rstrip()[:-1])
            continue
        buf.append(line)
        yield RawRule("".join(buf).strip()[:MAX_RULE_CHARS], start)
        buf = []
    if buf:
        yield RawRule("".join(buf).strip()[:MAX_RULE_CHARS], start)


def split_rule(text: str) -> tuple[list[str], list[tuple[str, str]]]:
    """``alert tcp a b -> c d (k:v; k2;)`` -> (header words, [(keyword, value)])."""
    open_ = text.find("(")
    if open_ < 0 or not text.rstrip().endswith(")"):
        raise RuleSyntaxError("no option list in parentheses")
    header = text[:open_].split()
    body = text[open_ + 1:text.rstrip().rfind(")")]
    return header, split_options(body)


_TOKEN = re.compile(r'[^\\";]+|\\.?|"|;', re.DOTALL)


def split_options(body: str) -> list[tuple[str, str]]:
    """Options separated by ``;``; a ``;`` inside quotes or after ``\\`` belongs to the
    value. Escapes stay in the value (content and pcre read them)."""
    opts: list[tuple[str, str]] = []
    cur: list[str] = []
    quoted = False
    for m in _TOKEN.finditer(body):
        tok = m.group()
        if tok == ";" and not quoted:
            _add(opts, "".join(cur))
            cur = []
            continue
        if tok == '"':
            quoted = not quoted
        cur.append(tok)
    if quoted:
        raise RuleSyntaxError("unterminated quote")
    if "".join(cur).strip():
        raise RuleSyntaxError("last option not ended with ';'")
    return opts


def _add(opts: list[tuple[str, str]], raw: str) -> None:
    raw = raw.strip()
    if not raw:
        return
    key, _, value = raw.partition(":")
    key = key.strip()
    if not key or " " in key:
        raise RuleSyntaxError(f"bad option {raw[:40]!r}")
    opts.append((key.lower(), value.strip()))


def unquote(value: str) -> str:
    v = value.strip()
    if len(v) >= 2 and v[0] == '"' and v[-1] == '"':
        v = v[1:-1]
    return v.replace('\\"', '"').replace("\\;", ";").replace("\\\\", "\\")
