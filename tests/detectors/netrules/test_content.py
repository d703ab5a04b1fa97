"""Content modifiers, pcre, and the prefilter against brute force."""

from __future__ import annotations

import random

import pytest

from detectors.netrules.content import Content, ContentError, match_items, parse_content
from detectors.netrules.prefilter import Prefilter
from tests.detectors.netrules.helpers import load, one


def _m(options: str, buf: bytes) -> bool:
    r = one(f'alert tcp any any -> any any (msg:"t"; {options} sid:1;)')
    return match_items(r.buffers["payload"], buf, buf.lower()) is not None


def test_hex_and_escapes() -> None:
    assert parse_content('"GET|20|/|0d 0a|"') == (b"GET /\r\n", False)
    assert parse_content('!"a\\"b"') == (b'a"b', True)
    with pytest.raises(ContentError):
        parse_content('"|zz|"')
    with pytest.raises(ContentError):
        parse_content('"|0a"')


@pytest.mark.parametrize(("options", "buf", "want"), [
    ('content:"abc";', b"xxabcxx", True),
    ('content:"ABC";', b"xxabcxx", False),
    ('content:"ABC"; nocase;', b"xxabcxx", True),
    ('content:"abc"; depth:4;', b"xxabcxx", False),
    ('content:"abc"; depth:5;', b"xxabcxx", True),
    ('content:"abc"; offset:3;', b"xxabcxx", False),
    ('content:"abc"; offset:2; depth:3;', b"xxabcxx", True),
    ('content:"a"; content:"c"; distance:1;', b"abc", True),
    ('content:"a"; content:"c"; distance:2;', b"abc", False),
    ('content:"a"; content:"c"; within:2;', b"abc", True),
    ('content:"a"; content:"c"; within:1;', b"abc", False),
    # backtracking: the first "a" is too far from "c", the second is close enough
    ('content:"a"; content:"c"; within:2;', b"a----abc", True),
    ('content:"abc"; content:!"zzz";', b"abc", True),
    ('content:"abc"; content:!"zzz";', b"abczzz", False),
    ('content:"abc"; content:!"zzz"; distance:0; within:3;', b"abc-zzz", True),
    ('content:!"evil";', b"good", True),
    ('content:"ab"; startswith;', b"abc", True),
    ('content:"bc"; startswith;', b"abc", False),
    ('content:"bc"; endswith;', b"abc", True),
    ('content:"ab"; endswith;', b"abc", False),
    ('content:"a"; pcre:"/^b+c/R";', b"abbbc", True),
    ('content:"a"; pcre:"/^c/R";', b"abbbc", False),
    ('pcre:"/eval\\s*\\(/i";', b"EVAL (x)", True),
    ('pcre:!"/eval/";', b"EVAL", True),
])
def test_content_semantics(options: str, buf: bytes, want: bool) -> None:
    assert _m(options, buf) is want


def test_prefilter_agrees_with_brute_force() -> None:
    rng = random.Random(7)
    alphabet = b"abcAB|/."
    lines = []
    for sid in range(1, 301):
        n = rng.randint(1, 3)
        opts = []
        for _ in range(n):
            pat = bytes(rng.choice(alphabet) for _ in range(rng.randint(1, 4)))
            text = pat.decode().replace("|", "|7c|")
            opts.append(f'content:"{text}";' + (" nocase;" if rng.random() < 0.5 else ""))
        lines.append(f'alert tcp any any -> any any (msg:"r"; {" ".join(opts)} sid:{sid};)')
    rules = load("\n".join(lines)).rules
    assert len(rules) == 300
    pre = Prefilter(rules)
    for _ in range(300):
        buf = bytes(rng.choice(alphabet) for _ in range(rng.randint(0, 40)))
        cands: set[int] = set(pre.always)
        pre.candidates("payload", buf.lower(), cands)
        for idx, rule in enumerate(rules):
            full = match_items(rule.buffers["payload"], buf, buf.lower()) is not None
            if full:
                assert idx in cands, (rule.sid, buf)


def test_fast_pattern_flag_is_used() -> None:
    r = one('alert tcp any any -> any any (msg:"t"; content:"longer-one"; '
            'content:"ab"; fast_pattern; sid:1;)')
    pre = Prefilter([r])
    cands: set[int] = set()
    pre.candidates("payload", b"xxabxx", cands)
    assert cands == {0}
    assert isinstance(r.buffers["payload"][1], Content)
