"""Content and pcre matches on one buffer, with Suricata's modifiers.

A buffer's matches are checked in rule order. ``content`` with ``offset``/``depth`` is
anchored to the buffer start; with ``distance``/``within`` to the end of the previous
match. A later relative match that fails makes the earlier one try its next occurrence
(bounded backtracking, as Suricata does). A negated content must not occur in its window
and does not move the cursor. ``nocase`` is ASCII-only, as in Suricata.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

MAX_STEPS = 2000
"""Backtracking steps per buffer before giving up (no match)."""


class ContentError(ValueError):
    """A content or pcre value that cannot be read."""


class Unsupported(ValueError):
    """A construct outside the subset; ``keyword`` names it for the skip counts,
    ``detail`` (optional) says more on the rule's skip line."""

    def __init__(self, keyword: str, detail: str = "") -> None:
        super().__init__(f"{keyword}: {detail}" if detail else keyword)
        self.keyword = keyword
        self.detail = detail


@dataclass(slots=True)
class Content:
    pattern: bytes
    negated: bool = False
    nocase: bool = False
    offset: int = 0
    depth: int | None = None
    distance: int | None = None
    within: int | None = None
    fast_pattern: bool = False
    startswith: bool = False
    endswith: bool = False

    @property
    def relative(self) -> bool:
        return self.distance is not None or self.within is not None

    def key(self) -> bytes:
        return self.pattern.lower() if self.nocase else self.pattern


@dataclass(slots=True)
class Pcre:
    regex: re.Pattern[bytes]
    negated: bool = False
    relative: bool = False
    anchored: bool = False
    source: str = field(default="")


Item = Content | Pcre


def parse_content(value: str) -> tuple[bytes, bool]:
    """``"abc|0d 0a|def"`` (quotes optional, ``!`` for negation) -> (bytes, negated)."""
    text = value.strip()
    negated = text.startswith("!")
    if negated:
        text = text[1:].strip()
    if len(text) >= 2 and text[0] == '"' and text[-1] == '"':
        text = text[1:-1]
    elif '"' in text:
        raise ContentError(f"bad content {value!r}")
    out = bytearray()
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch == "\\" and i + 1 < n:
            out += text[i + 1].encode("utf-8")
            i += 2
        elif ch == "|":
            end = text.find("|", i + 1)
            if end < 0:
                raise ContentError(f"unterminated |hex| in {value!r}")
            hexpart = text[i + 1:end].replace(" ", "")
            try:
                out += bytes.fromhex(hexpart)
            except ValueError:
                raise ContentError(f"bad hex |{text[i + 1:end]}|") from None
            i = end + 1
        else:
            out += ch.encode("utf-8")
            i += 1
    if not out:
        raise ContentError("empty content")
    return bytes(out), negated


# pcre flags -> the sticky buffer they stand for (Suricata's HTTP modifiers)
PCRE_BUFFERS = {"U": "http.uri", "I": "http.uri", "H": "http.header", "D": "http.header",
                "M": "http.method", "V": "http.user_agent", "W": "http.host"}
PCRE_UNSUPPORTED = {"P": "pcre/P", "C": "pcre/C", "K": "pcre/K", "S": "pcre/S",
                    "Y": "pcre/Y", "Q": "pcre/Q", "T": "pcre/T"}


def parse_pcre(value: str) -> tuple[Pcre, str | None]:
    """``"/re/flags"`` -> (Pcre, the buffer named by a flag or None)."""
    text = value.strip()
    negated = text.startswith("!")
    if negated:
        text = text[1:].strip()
    if len(text) >= 2 and text[0] == '"' and text[-1] == '"':
        text = text[1:-1]
    if not text.startswith("/") or text.rfind("/") == 0:
        raise ContentError(f"bad pcre {value!r}")
    end = text.rfind("/")
    body, flags = text[1:end], text[end + 1:]
    reflags = 0
    relative = anchored = False
    buffer: str | None = None
    for f in flags:
        if f == "i":
            reflags |= re.IGNORECASE
        elif f == "s":
            reflags |= re.DOTALL
        elif f == "m":
            reflags |= re.MULTILINE
        elif f == "x":
            reflags |= re.VERBOSE
        elif f == "R":
            relative = True
        elif f == "A":
            anchored = True
        elif f in ("E", "G", "O", "B"):
            pass  # dollar-end-only, ungreedy-off, limits, rawbytes: no effect here
        elif f in PCRE_BUFFERS:
            buffer = PCRE_BUFFERS[f]
        elif f in PCRE_UNSUPPORTED:
            raise Unsupported(PCRE_UNSUPPORTED[f])
        else:
            raise ContentError(f"unknown pcre flag {f!r}")
    try:
        regex = re.compile(pcre_to_python(body).encode("utf-8", "surrogateescape"), reflags)
    except (re.error, OverflowError, RecursionError) as exc:
        # valid PCRE can still be outside Python's re (e.g. \\R, \\X, (?|...), recursion)
        raise Unsupported("pcre syntax", f"Python re cannot compile it: {exc}") from None
    return Pcre(regex, negated, relative, anchored, body), buffer


# PCRE escapes with a different spelling in Python's re (outside character classes)
_PCRE_ESCAPES = {"z": "\\Z", "Z": "(?=\\n?\\Z)", "h": "[\\t\\x20\\xa0]", "e": "\\x1b"}


def pcre_to_python(body: str) -> str:
    """The few PCRE spellings Python's ``re`` has under another name: ``(?<name>``,
    ``\\k<name>``, ``\\z``, ``\\Z``, ``\\h``, ``\\e``, ``\\x{hh}``."""
    out: list[str] = []
    i, n = 0, len(body)
    in_class = False
    while i < n:
        ch = body[i]
        if ch == "\\" and i + 1 < n:
            nxt = body[i + 1]
            if nxt == "x" and i + 2 < n and body[i + 2] == "{":
                end = body.find("}", i + 3)
                digits = body[i + 3:end] if end > 0 else ""
                if digits and len(digits) <= 2 and all(c in "0123456789abcdefABCDEF"
                                                       for c in digits):
                    out.append("\\x" + digits.rjust(2, "0"))
                    i = end + 1
                    continue
            if nxt == "k" and i + 2 < n and body[i + 2] in "<{'":
                close = {"<": ">", "{": "}", "'": "'"}[body[i + 2]]
                end = body.find(close, i + 3)
                if end > 0:
                    out.append(f"(?P={body[i + 3:end]})")
                    i = end + 1
                    continue
            if not in_class and nxt in _PCRE_ESCAPES:
                out.append(_PCRE_ESCAPES[nxt])
            else:
                out.append(ch + nxt)
            i += 2
            continue
        if in_class:
            in_class = ch != "]"
        elif ch == "[":
            in_class = True
            if body.startswith("]", i + 1) or body.startswith("^]", i + 1):
                skip = 2 if body[i + 1] == "]" else 3
                out.append(body[i:i + skip])
                i += skip
                continue
        elif body.startswith("(?<", i) and i + 3 < n and body[i + 3] not in "=!":
            out.append("(?P<")
            i += 3
            continue
        out.append(ch)
        i += 1
    return "".join(out)


class _Budget:
    __slots__ = ("left",)

    def __init__(self) -> None:
        self.left = MAX_STEPS


def match_items(items: list[Item], buf: bytes, lower: bytes) -> int | None:
    """Whether all ``items`` match ``buf`` (``lower`` is ``buf.lower()``); the offset of
    the first positive match (for the evidence excerpt) or None."""
    first: list[int] = []
    if _match(items, 0, buf, lower, 0, _Budget(), first):
        return first[0] if first else 0
    return None


def _window(item: Item, prev_end: int, size: int) -> tuple[int, int]:
    if isinstance(item, Pcre):
        return (prev_end if item.relative else 0), size
    if item.relative:
        start = max(0, prev_end + (item.distance or 0))
        end = size if item.within is None else min(size, start + item.within)
    else:
        start = item.offset
        end = size if item.depth is None else min(size, item.offset + item.depth)
    return start, end


def _match(items: list[Item], i: int, buf: bytes, lower: bytes, prev_end: int,
           budget: _Budget, first: list[int]) -> bool:
    if i == len(items):
        return True
    budget.left -= 1
    if budget.left < 0:
        return False
    item = items[i]
    start, end = _window(item, prev_end, len(buf))
    if isinstance(item, Pcre):
        # on a slice: ``^`` of a relative pcre anchors at the cursor, as in Suricata
        sub = buf[start:end] if start or end < len(buf) else buf
        found = item.regex.match(sub) if item.anchored else item.regex.search(sub)
        if item.negated:
            return found is None and _match(items, i + 1, buf, lower, prev_end, budget, first)
        if found is None:
            return False
        if not first:
            first.append(start + found.start())
        return _match(items, i + 1, buf, lower, start + found.end(), budget, first)
    hay = lower if item.nocase else buf
    pat = item.key()
    if item.negated:
        idx = hay.find(pat, start, end)
        ok = idx < 0 or (item.endswith and not _ends(hay, pat, start, end))
        return ok and _match(items, i + 1, buf, lower, prev_end, budget, first)
    if item.endswith:
        ok = _ends(hay, pat, start, end) and end == len(buf)
        if not ok:
            return False
        idx = len(buf) - len(pat)
        if not first:
            first.append(idx)
        return _match(items, i + 1, buf, lower, len(buf), budget, first)
    pos = start
    while True:
        idx = hay.find(pat, pos, end)
        if idx < 0 or (item.startswith and idx != start):
            return False
        if not first:
            first.append(idx)
        if _match(items, i + 1, buf, lower, idx + len(pat), budget, first):
            return True
        if i + 1 == len(items) or budget.left < 0:
            return False
        pos = idx + 1


def _ends(hay: bytes, pat: bytes, start: int, end: int) -> bool:
    return end - start >= len(pat) and hay.endswith(pat, start, end)
