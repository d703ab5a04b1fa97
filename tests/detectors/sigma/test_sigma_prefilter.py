"""The literal prefilter: required literals, and prefiltered == brute-force evaluation."""

from __future__ import annotations

import random
import re
import uuid
from pathlib import Path

from detectors.sigma.ir import And, Leaf, Not, Or
from detectors.sigma.prefilter import fold, required
from detectors.sigma.regex_literals import required_literals
from detectors.sigma.ruleset import Ruleset
from ronda.schema import Event
from tests.detectors.sigma.sigma_support import T0, compile_text, rule_text


def lits(pattern: str, flags: int = 0) -> set[str]:
    return set(required_literals(pattern, flags) or ())


def test_regex_literals() -> None:
    assert lits("foo|bar") == {"foo", "bar"}
    assert lits("ab?c") == {"abc", "ac"}
    assert lits(r"\d+") == set()
    assert lits("(?i)SELECT") == {"select"}
    assert lits(r"(?:\x27|%27)(?:or|and)", re.I) == {"'or", "'and", "%27or", "%27and"}
    assert lits(r"/\.[^/]+\.sw[opn]$|/#[^/]+#$") >= {"/#"}
    assert "../" in lits(r"(?:\.|%2e){2,}(?:/|%2f)+")
    # case-insensitive: non-ASCII letters have partners lower() does not show
    assert lits("(?i)äpfel") == {"pfel"}
    assert lits("äpfel") == {"äpfel"}
    assert required_literals("(unclosed") is None


def test_required_by_node_shape() -> None:
    a = Leaf("f", "contains", "alpha")
    b = Leaf("g", "contains", "be")
    assert required(And((a, b))) == {("f", "alpha")}  # the more selective child
    assert required(Or((a, b))) == {("f", "alpha"), ("g", "be")}
    assert required(Or((a, Leaf("f", "num", ("gt", 3))))) is None  # one side unfiltered
    assert required(Not(a)) is None
    assert required(Leaf("f", "eq", "")) is None
    assert required(Leaf(None, "contains", "X", cased=True)) == {(None, "x")}
    assert required(Leaf("ip", "cidr", ((4, 0x0A000000, 0x0AFFFFFF),))) == {("ip", "10.")}
    # a literal on a low-cardinality field is the last choice
    status = Leaf("http.response.status_code", "num", ("eq", 200))
    assert required(And((status, Leaf("url.path", "contains", "ab")))) == {("url.path", "ab")}


def test_fold_maps_case_partners() -> None:
    assert fold("\u017fELECT") == "select"
    assert fold("adm\u0131n") == "admin"
    assert fold("İ") == "i"
    assert fold("\u039f\u0394\u039f\u03a3") == fold("\u03bf\u03b4\u03bf\u03c3")


WORDS = ["admin", "ADMIN", "Admin", "select", "SeLeCt", "union", "../", "%2e%2e", "etc",
         "passwd", "\u017felect", "adm\u0131n", "\u0130ndex", "K", "k", "\u03a3", "\u03c2",
         "\u03c3", "<script", "1=1",
         "or", "and", "%27", "'", "/", ".", "?", "*", "a", "b", "ab", "ba", "abc", "x\ny",
         "\u00e4", "\u00c4", " ", "+", "%20", "wp-login.php", "10.0.0.1", "10", "404"]
FIELDS = ["url.original", "url.path", "user_agent.original", "user.name"]
MODS = ["", "|contains", "|startswith", "|endswith", "|re", "|re|i", "|contains|cased",
        "|cased", "|contains|all", "|endswith|cased", "|re|s"]


def random_value(rng: random.Random) -> str:
    text = "".join(rng.choice(WORDS) for _ in range(rng.randint(1, 3)))
    if rng.random() < 0.2:
        i = rng.randrange(len(text) + 1)
        text = text[:i] + rng.choice(["*", "?"]) + text[i:]
    return text


def random_detection(rng: random.Random) -> str:
    names = []
    lines = []
    for n in range(rng.randint(1, 3)):
        name = f"sel{n}"
        names.append(name)
        items = []
        for _ in range(rng.randint(1, 2)):
            mod = rng.choice(MODS)
            values = [random_value(rng) for _ in range(rng.randint(1, 3))]
            if "re" in mod:
                values = [re.escape(v) if rng.random() < 0.5 else
                          rng.choice(["a(b|c)d", "adm[i1]n", r"\.\./", "se.ect", "(?:or|and)1",
                                      "x*y", "k+", "[a-z]{3}", "^/wp", "ab$"]) for v in values]
            quoted = ", ".join("'" + v.replace("'", "''").replace("\n", "\\n") + "'"
                               for v in values)
            items.append(f"  {rng.choice(FIELDS)}{mod}: [{quoted}]")
        lines.append(f"{name}:\n" + "\n".join(items))
    if rng.random() < 0.3:
        lines.append("keywords: ['" + random_value(rng).replace("'", "''").replace("\n", " ")
                     + "']")
        names.append("keywords")
    expr = rng.choice(["1 of them", "all of them", " or ".join(names),
                       f"{names[0]} and not {names[-1]}" if len(names) > 1 else names[0],
                       f"not {names[0]}"])
    return "\n".join(lines) + f"\ncondition: {expr}"


def random_event(rng: random.Random) -> Event:
    fields = {f: "".join(rng.choice(WORDS) for _ in range(rng.randint(0, 5)))
              for f in FIELDS if rng.random() < 0.85}
    if rng.random() < 0.1:
        fields["url.path"] = ["a", rng.choice(WORDS)]  # type: ignore[assignment]
    message = " ".join(str(v) for v in fields.values())
    return Event("nginx.access", T0, fields, message=message)


def test_prefiltered_equals_brute_force_on_random_rules(tmp_path: Path) -> None:
    rng = random.Random(1234)
    docs = [rule_text(random_detection(rng), rid=str(uuid.UUID(int=rng.getrandbits(128),
                                                                 version=4)))
            for _ in range(300)]
    compiled = compile_text(tmp_path, *docs)
    assert len(compiled.rules) > 250, [p.text() for p in compiled.skipped][:5]
    ruleset = Ruleset(compiled.rules)
    fired = 0
    for _ in range(3000):
        event = random_event(rng)
        fast = sorted(r.id for r in ruleset.match(event))
        slow = sorted(r.id for r in ruleset.match_all(event))
        assert fast == slow, (event, set(slow) - set(fast))
        fired += len(fast)
    assert fired > 100  # the comparison is not vacuous
    # and again with warm value memories (same values, different events)
    for _ in range(1000):
        event = random_event(rng)
        assert sorted(r.id for r in ruleset.match(event)) == \
            sorted(r.id for r in ruleset.match_all(event))


def test_keywords_across_carved_field_values(tmp_path: Path) -> None:
    """Keyword literals inside field values, in the gaps, and across every boundary."""
    compiled = compile_text(tmp_path, rule_text(
        "keywords: ['burpcollaborator.net', '${jndi:']\n"
        "sel: {c-uri|contains: zzz}\ncondition: keywords and not sel"),
        rule_text("sel: {cs-user-agent|contains: qqq}\ncondition: sel"))
    ruleset = Ruleset(compiled.rules)
    url = "/index.php?page=" + "a" * 20
    ua = "Mozilla/5.0 (X11; Linux) " + "b" * 20
    needle = "burpcollaborator.net"
    base = f'1.2.3.4 - - [20/Nov/2026:09:00:00 +0700] "GET {url} HTTP/1.1" 304 0 "-" "{ua}"'
    checked = 0
    for pos in range(len(base) + 1):
        for cut in (len(needle), 3):  # the whole literal, and a piece that is no literal
            msg = base[:pos] + needle[:cut] + base[pos:]
            event = Event("nginx.access", T0, {"url.original": url, "user_agent.original": ua},
                          message=msg)
            fast = sorted(r.id for r in ruleset.match(event))
            slow = sorted(r.id for r in ruleset.match_all(event))
            assert fast == slow, msg
            checked += bool(fast)
    assert checked == len(base) + 1  # every whole literal found, no piece
