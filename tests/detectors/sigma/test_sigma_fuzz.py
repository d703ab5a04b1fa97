"""Fuzz: random and mutated rule files never crash the loader; each bad rule gives one
clear line; whatever compiles evaluates without errors, prefilter or not."""

from __future__ import annotations

import random
import re
import uuid
from pathlib import Path

from detectors.sigma.compile import compile_rules
from detectors.sigma.correlation import CorrelationSet
from detectors.sigma.ruleset import Ruleset
from ronda.schema import Event
from tests.detectors.sigma.sigma_support import DATA, REPO, T0

MUTATIONS = 2500
SPECIALS = [*":-|*?{}[]\"'\n #&!%@`\\,>", "---", "\n  ", "|re", "|contains", "|all",
            "|base64offset", "|cidr", "|expand", "null", "~", "1 of ", " not ", "them",
            "*" * 40]
MODIFIERS = ["contains", "startswith", "endswith", "all", "re", "i", "m", "s", "cidr",
             "base64", "base64offset", "wide", "utf16le", "utf16be", "windash", "lt", "lte",
             "gt", "gte", "exists", "cased", "fieldref", "expand", "neq", "hour", "nosuch"]


def seeds() -> list[str]:
    files = sorted((DATA / "sigmahq").rglob("*.yml"))
    files += sorted(p for p in (REPO / "rules" / "sigma").rglob("*.yml")
                    if not p.name.endswith(".samples.yml"))[:40]
    return [p.read_text(encoding="utf-8") for p in files]


def mutate(rng: random.Random, text: str) -> str:
    for _ in range(rng.randint(1, 4)):
        kind = rng.randrange(7)
        lines = text.split("\n")
        if kind == 0 and text:  # replace a character
            i = rng.randrange(len(text))
            text = text[:i] + rng.choice(SPECIALS) + text[i + 1:]
        elif kind == 1 and text:  # delete a span
            i = rng.randrange(len(text))
            text = text[:i] + text[i + rng.randint(1, 30):]
        elif kind == 2:  # insert
            i = rng.randrange(len(text) + 1)
            text = text[:i] + rng.choice(SPECIALS) + text[i:]
        elif kind == 3 and len(lines) > 1:  # drop, duplicate or swap lines
            i, j = rng.randrange(len(lines)), rng.randrange(len(lines))
            op = rng.randrange(3)
            if op == 0:
                del lines[i]
            elif op == 1:
                lines.insert(j, lines[i])
            else:
                lines[i], lines[j] = lines[j], lines[i]
            text = "\n".join(lines)
        elif kind == 4 and "|" in text:  # swap a modifier
            i = rng.choice([k for k, c in enumerate(text) if c == "|"])
            end = i + 1
            while end < len(text) and (text[end].isalnum() or text[end] == "_"):
                end += 1
            text = text[:i + 1] + rng.choice(MODIFIERS) + text[end:]
        elif kind == 5:  # re-indent a line
            i = rng.randrange(len(lines))
            lines[i] = " " * rng.randint(0, 9) + lines[i].lstrip()
            text = "\n".join(lines)
        else:  # a random value where a value was
            value = rng.choice(["", "0", "-1", "1e999", "[]", "{}", "true", "null", "'*'",
                                "'%x%'", "[a, [b]]", "{a: {b: c}}", "&a x", "*a", "!!binary x",
                                "2024-13-45", "'" + "ab" * 300 + "'"])
            i = rng.randrange(len(lines))
            if ":" in lines[i]:
                lines[i] = lines[i].split(":", 1)[0] + ": " + value
                text = "\n".join(lines)
    return text


def random_events(rng: random.Random, n: int) -> list[Event]:
    words = ["/", "../", "etc/passwd", "select", "UNION", "%27", "or", "1=1", "<script>",
             "wp-login.php", "\u017f", "\u0130", "K", "\x00", "sleep(", "admin", "%2e%2e", "cmd",
             "whoami", ".git/", "${jndi:", "curl", "zgrab", "Σ", "passwd"]
    out = []
    for i in range(n):
        url = "/" + "".join(rng.choice(words) for _ in range(rng.randint(0, 6)))
        fields = {
            "source.ip": rng.choice(["10.0.0.1", "203.0.113.5", "::1", "x"]),
            "url.original": url, "url.path": url.split("?")[0],
            "url.query": url.partition("?")[2] or None,
            "http.request.method": rng.choice(["GET", "POST", "get"]),
            "http.response.status_code": rng.choice([200, 404, 500, "404"]),
            "user_agent.original": "".join(rng.choice(words) for _ in range(3)),
            "user.name": rng.choice(["root", "ROOT", None]),
            "event.category": rng.choice([["web"], ["authentication"], []]),
        }
        fields = {k: v for k, v in fields.items() if v is not None}
        dataset = rng.choice(["nginx.access", "apache.access", "sshd.auth", "system.auth",
                              "syslog"])
        out.append(Event(dataset, T0 + i, fields, message=" ".join(map(str, fields.values()))))
    return out


def test_mutated_rules_never_crash_and_give_one_line_per_bad_rule(tmp_path: Path) -> None:
    rng = random.Random(20261120)
    base = seeds()
    files = []
    for i in range(MUTATIONS):
        path = tmp_path / f"m{i:05d}.yml"
        fresh = uuid.UUID(int=rng.getrandbits(128), version=4)
        seed = re.sub(r"(?m)^id: .*$", f"id: {fresh}", rng.choice(base), count=1)
        text = mutate(rng, seed)
        path.write_text(text, encoding="utf-8", errors="surrogatepass")
        files.append((path, text))
    compiled = compile_rules([tmp_path], {"x": ["1"]}, CorrelationSet.check)
    by_file: dict[str, int] = {}
    for problem in compiled.problems:
        line = problem.text()
        assert "\n" not in line and len(line) < 800, line
        assert line.startswith(("SKIP ", "INACTIVE ")), line
        assert "Traceback" not in line and problem.reason, line
        assert not re.match(r"[A-Z]\w+(Error|Exception): ", problem.reason), line
        by_file[Path(problem.file).name] = by_file.get(Path(problem.file).name, 0) + 1
    for path, text in files:
        documents = text.count("---") + 1
        assert by_file.get(path.name, 0) <= documents + 1, (path.name, text)
    assert len(compiled.rules) > MUTATIONS // 10  # most mutations still load
    assert len(compiled.skipped) > MUTATIONS // 10  # and many do not
    ruleset = Ruleset(compiled.rules)
    for event in random_events(rng, 400):
        fast = sorted(r.id for r in ruleset.match(event))
        slow = sorted(r.id for r in ruleset.match_all(event))
        assert fast == slow, event


def test_random_text_never_crashes(tmp_path: Path) -> None:
    rng = random.Random(7)
    alphabet = "abc:-|*{}[]'\"\n #&!%0123456789.\\\t"
    for i in range(300):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 300)))
        (tmp_path / f"r{i}.yml").write_text(text, encoding="utf-8")
    compiled = compile_rules([tmp_path])
    assert all("\n" not in p.text() for p in compiled.problems)


def test_alias_bomb_is_refused(tmp_path: Path) -> None:
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    for i in range(1, 9):
        lines.append(f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]")
    bomb = "title: Bomb\nid: 12345678-1234-4234-8234-123456789012\n" + "\n".join(lines) + (
        "\nlogsource: {category: webserver}\ndetection: {sel: {c-uri: *a8}, condition: sel}\n")
    (tmp_path / "bomb.yml").write_text(bomb, encoding="utf-8")
    compiled = compile_rules([tmp_path])
    assert "too large" in compiled.skipped[0].reason
