"""Parsing Suricata rules: ET Open-style rules, skipped keywords, problems, fuzzing."""

from __future__ import annotations

import random
from pathlib import Path

from detectors.netrules.content import Content, Pcre
from detectors.netrules.engine import Engine
from detectors.netrules.parser import Loaded
from detectors.netrules.vars import Group, Not, PortRange
from tests.detectors.netrules.helpers import dns, flow, http, load, one, tls

SAMPLE = Path(__file__).with_name("et_sample.rules")


def _sample() -> Loaded:
    return load(SAMPLE.read_text())


def test_et_style_rules_load_with_sids_and_lines() -> None:
    loaded = _sample()
    sids = {r.sid for r in loaded.rules}
    assert {2009151, 2006446, 2009714, 2009361, 2002677, 2008538, 2028675, 2035001,
            2013028, 2100001, 2100002, 2039453, 2200001, 2200002} <= sids
    assert 1 not in sids  # a disabled (commented) rule
    r = next(r for r in loaded.rules if r.sid == 2009151)
    assert r.msg == "ET WEB_SERVER /etc/passwd Detected in URI" and r.rev == 8
    assert r.classtype == "attempted-recon" and r.line == 2 and r.ruleset == "test"
    assert r.flow == {"established", "to_server"}
    c = r.buffers["http.uri"][0]
    assert isinstance(c, Content) and c.pattern == b"/etc/passwd" and c.nocase
    assert r.references == ["url,doc.emergingthreats.net/2009151"]


def test_skipped_rules_are_counted_by_keyword() -> None:
    loaded = _sample()
    assert loaded.skipped == {"flags": 1, "bsize": 1, "lua": 1,
                              "byte_test": 1, "base64_decode": 1, "app-layer-event": 1}
    assert len(loaded.skips) == 6
    assert "test.rules:8 sid:2001219 ET SCAN Potential SSH Scan: flags" in loaded.skips


def test_isdataat_not_one_relative_after_content_is_endswith() -> None:
    r = next(r for r in _sample().rules if r.sid == 2023883)
    c = r.buffers["dns.query"][0]
    assert isinstance(c, Content) and c.endswith and c.pattern == b".top"
    for value in ("!1,relative", "! 1, relative"):
        assert one(f'alert dns any any -> any any (msg:"x"; dns.query; content:".su"; '
                   f'isdataat:{value}; sid:9;)').buffers["dns.query"][0].endswith  # type: ignore[union-attr]
    for other in ('content:"a"; isdataat:2,relative;', 'content:!"a"; isdataat:!1,relative;',
                  'isdataat:!1,relative;', 'content:"a"; isdataat:!1;'):
        loaded = load(f'alert http any any -> any any (msg:"x"; http.uri; {other} sid:9;)')
        assert loaded.skipped == {"isdataat": 1} and not loaded.rules, other
    # relative to the buffer in use: a sticky buffer named after the content has no match
    loaded = load('alert http any any -> any any (msg:"x"; content:"a"; http.uri; '
                  'isdataat:!1,relative; sid:9;)')
    assert loaded.skipped == {"isdataat": 1} and not loaded.rules
    legacy = one('alert http any any -> any any (msg:"x"; content:".php"; http_uri; '
                 'isdataat:!1,relative; sid:9;)')
    assert legacy.buffers["http.uri"][0].endswith  # type: ignore[union-attr]


def test_problems_name_file_and_line() -> None:
    problems = _sample().problems
    assert any(p.startswith("test.rules:26: ") and "no sid" in p for p in problems)
    assert any(p.startswith("test.rules:27: ") and "$NOPE_NET" in p for p in problems)
    assert len(problems) == 2


def test_legacy_modifier_moves_content_to_its_buffer() -> None:
    r = next(r for r in _sample().rules if r.sid == 2009361)
    assert list(r.buffers) == ["http.uri"]


def test_multiline_escapes_and_bidirectional() -> None:
    rules = {r.sid: r for r in _sample().rules}
    ml = rules[2200001]
    assert ml.bidirectional and ml.msg == "ET POLICY multi-line test rule"
    assert ml.line == 21 and ml.classtype == "misc-activity"
    c = ml.buffers["payload"][0]
    assert isinstance(c, Content) and c.pattern == b"\x00\x01AB" and c.depth == 4
    esc = rules[2200002]
    assert esc.msg == 'ET POLICY escaped "quote" and ; semicolon'
    c2 = esc.buffers["payload"][0]
    assert isinstance(c2, Content) and c2.pattern == b"a;b"
    assert isinstance(esc.dst, Not) and isinstance(esc.dport, Not)


def test_pcre_flags_and_buffers() -> None:
    r = one('alert http any any -> any any (msg:"p"; pcre:"/^\\/admin\\/(a|b)$/Ui"; '
            'pcre:!"/x/H"; sid:5;)')
    assert set(r.buffers) == {"http.uri", "http.header"}
    p = r.buffers["http.uri"][0]
    assert isinstance(p, Pcre) and p.regex.search(b"/ADMIN/b")
    assert isinstance(r.buffers["http.header"][0], Pcre) and r.buffers["http.header"][0].negated


def test_port_and_address_expressions() -> None:
    r = one("alert tcp [10.0.0.0/8,!10.1.0.0/16] any -> any [1024:,!8080] "
            "(msg:\"x\"; sid:7;)")
    assert isinstance(r.src, Group) and len(r.src.neg) == 1
    assert isinstance(r.dport, Group) and r.dport.pos == (PortRange(1024, 65535),)


def test_unsupported_pcre_flag_and_protocol_counted() -> None:
    loaded = load('alert http any any -> any any (msg:"a"; pcre:"/a/P"; sid:1;)\n'
                  'alert smb any any -> any any (msg:"b"; content:"x"; sid:2;)\n'
                  'pass http any any -> any any (msg:"c"; sid:3;)\n')
    assert loaded.skipped == {"pcre/P": 1, "protocol smb": 1, "action pass": 1}


def test_fuzzed_rules_never_crash() -> None:
    rng = random.Random(1234)
    base = SAMPLE.read_text().splitlines()
    rules = [ln for ln in base if ln.startswith("alert")]
    alphabet = ';:"\\|()[]!$,<>-/ \x00abc123'
    texts = []
    for _ in range(3000):
        text = list(rng.choice(rules))
        for _ in range(rng.randint(1, 6)):
            op = rng.random()
            pos = rng.randrange(len(text) + 1)
            if op < 0.4:
                text.insert(pos, rng.choice(alphabet))
            elif op < 0.8 and text:
                del text[min(pos, len(text) - 1)]
            else:
                cut = rng.randrange(len(text) + 1)
                text = text[:cut]
        texts.append("".join(text))
    loaded = load("\n".join(texts))
    total = len(loaded.rules) + len(loaded.problems) + sum(loaded.skipped.values())
    assert total > 2500
    # the rules that survived run without raising either
    engine = Engine(loaded.rules, 100, 100)
    for ev in (http("/etc/passwd?a=UNION SELECT</script>", ua="Nikto sqlmap curl/"),
               dns("x.duckdns.org"), tls("a.ngrok.io"),
               flow(b"\x00\x01AB a;b |FF|SMB", b"x")):
        engine.match(ev)


def test_legacy_uricontent_and_detection_filter_spacing() -> None:
    r = one('alert tcp any 1024: -> $HOME_NET $HTTP_PORTS (msg:"ET WEB_SERVER Tilde"; '
            'flow:established,to_server; uricontent:".asp~"; nocase; '
            'detection_filter:track by_src,count 15,seconds 2; sid:2009952; rev:7;)')
    c = r.buffers["http.uri"][0]
    assert isinstance(c, Content) and c.pattern == b".asp~" and c.nocase
    assert r.threshold is not None and r.threshold.count == 15 and r.threshold.seconds == 2


def test_raw_content_next_to_http_buffers_looks_at_http_start() -> None:
    r = one('alert tcp any any -> any $HTTP_PORTS (msg:"m"; flow:to_server,established; '
            'content:"/a.php?"; http_uri; content:"SELECT"; nocase; sid:11;)')
    assert list(r.buffers) == ["http.uri", "http.start"] and r.dataset == "http"
    e = Engine([r], 10, 10)
    hit = e.match(http("/a.php?id=1 union select 1"))
    assert [h.rule.sid for h in hit] == [11]
    assert not e.match(http("/a.php?id=1"))
    # the request start holds the header block too (a raw content often looks there)
    s = one('alert http any any -> any any (msg:"s"; http.start; content:"GET /x HTTP/1.1|0d 0a|";'
            ' startswith; content:"User-Agent|3a 20|curl/"; distance:0; sid:12;)')
    assert [h.rule.sid for h in Engine([s], 10, 10).match(http("/x"))] == [12]
    # raw content next to a DNS buffer has no such home: skipped, and says why
    loaded = load('alert udp any any -> any 53 (msg:"d"; content:"|01 00|"; dns.query; '
                  'content:"x"; sid:13;)')
    assert loaded.skipped == {"buffers of different protocols": 1}
    assert loaded.skips == ["test.rules:1 sid:13 d: buffers of different protocols "
                            "(dns.query and payload)"]


def test_tag_is_ignored_and_pcre_spellings_are_translated() -> None:
    r = one('alert http any any -> any any (msg:"t"; http.uri; content:"/x"; '
            'pcre:"/^\\/x(?<n>[a-z]+)-\\k<n>\\z/U"; tag:session,300,seconds; sid:14;)')
    p = r.buffers["http.uri"][1]
    assert isinstance(p, Pcre) and p.regex.search(b"/xab-ab") and not p.regex.search(b"/xab-ab\n")
    hexed = one('alert http any any -> any any (msg:"h"; pcre:"/\\x{41}[\\x{42}]B\\h/U"; sid:15;)')
    assert hexed.buffers["http.uri"][0].regex.search(b"ABB ")  # type: ignore[union-attr]
    loaded = load('alert http any any -> any any (msg:"r"; pcre:"/a\\Rb/U"; sid:16;)')
    assert loaded.skipped == {"pcre syntax": 1} and "Python re cannot compile" in loaded.skips[0]
