"""Parsers never raise: a million lines of garbage and a set of pathological inputs."""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator

import pytest

from ronda.clock import ManualClock
from ronda.schema import Event
from sensor.parsers import FORMATS, make_parser, make_syslog_message_parser

SAMPLES = [
    '203.0.113.7 - - [21/Nov/2026:10:00:00 +0700] "GET /a?b=1 HTTP/1.1" 200 4523 "-" "curl/8"',
    'h.example:443 1.2.3.4 - - [21/Nov/2026:10:00:00 +0700] "GET / HTTP/1.1" 200 1 "-" "x" 0.1',
    r'1.2.3.4 - - [21/Nov/2026:10:00:00 +0700] "\x16\x03\x01" 400 157 "-" "a \"b\""',
    "Nov 21 10:00:00 web01 sshd[2345]: Failed password for invalid user a from 1.2.3.4 port 2 ssh2",
    "Nov 21 10:00:00 web01 sshd[2345]: Connection closed by authenticating user r 1.2.3.4 port 2",
    "Nov 21 10:00:00 web01 sudo:  alice : TTY=pts/0 ; PWD=/ ; USER=root ; COMMAND=/bin/ls",
    "<38>1 2026-11-21T10:00:00.123+07:00 h sshd 1 - [a@1 k=\"v\\]\"] Invalid user x from ::1",
    '<190>Nov 21 10:00:00 www nginx: 1.2.3.4 - - [21/Nov/2026:10:00:00 +0700] "GET / H" 200 1',
    '{"remote_addr": "1.2.3.4", "status": 200, "request_uri": "/x", "a": {"b": [1, {"c": 2}]}}',
    "2026-11-21T10:00:00+0700 h sshd[1]: pam_unix(sshd:auth): authentication failure; user=x",
]
PREFIXES = [
    "", "Nov 21 10:00:00 h sshd[1]: ", '1.2.3.4 - - [21/Nov/2026:10:00:00 +0700] "',
    "<13>1 - h a p m ", '{"a": "', "<86>Nov 21 10:00:00 h sudo: ", "<190>Jan  1 00:00:00 h nginx: ",
    "Nov 21 10:00:00 h sshd[1]: Failed password for ", "<13>1 2026-11-21T10:00:00Z h a 1 m [",
    "Nov 21 10:00:00 h sshd[1]: pam_unix(sshd:session): session opened for user ",
]  # fmt: skip
JUNK = ['"', "\\", "[", "]", "\x00", " ", ":", "=", "{", "}", "<", ">", "\ufffd", "\u202e", "\n"]


def base_lines(rng: random.Random, n: int) -> list[str]:
    out: list[str] = []
    for i in range(n):
        kind = i % 5
        if kind == 0:  # random bytes, decoded the way sources decode them
            out.append(rng.randbytes(rng.randint(0, 300)).decode("utf-8", "replace"))
        elif kind == 1:  # a real line with bytes flipped, cut, junk inserted
            chars = list(rng.choice(SAMPLES))
            for _ in range(rng.randint(1, 6)):
                pos = rng.randrange(len(chars) + 1)
                op = rng.random()
                if op < 0.4:
                    chars.insert(pos, rng.choice(JUNK))
                elif op < 0.7 and chars:
                    del chars[min(pos, len(chars) - 1)]
                else:
                    chars[pos:] = chars[pos : pos + rng.randint(0, 40)]
            out.append("".join(chars))
        elif kind == 2:  # random unicode
            out.append("".join(chr(rng.randint(0, 0x2FFF)) for _ in range(rng.randint(0, 80))))
        elif kind == 3:  # real line, as is or truncated
            s = rng.choice(SAMPLES)
            out.append(s[: rng.randint(0, len(s))])
        else:  # structure characters only
            out.append("".join(rng.choice(JUNK) for _ in range(rng.randint(0, 60))))
    for i in range(0, n, 1000):  # a few very long lines
        out[i] = rng.choice(SAMPLES) + rng.choice(JUNK) * 100_000
    return out


def lines(total: int, base: int, seed: int) -> Iterator[str]:
    rng = random.Random(seed)
    pool = base_lines(rng, base)
    for i in range(total):
        cycle, k = divmod(i, base)
        yield PREFIXES[cycle % len(PREFIXES)] + pool[k]


def all_parsers() -> dict[str, Callable[[str], Event | None]]:
    clock = ManualClock(1795230000.0)
    parsers: dict[str, Callable[[str], Event | None]] = {f: make_parser(f, clock) for f in FORMATS}
    parsers["syslog-auto"] = make_syslog_message_parser("auto", clock)
    return parsers


def run_garbage(total: int, base: int, seed: int) -> dict[str, int]:
    """Feed ``total`` lines to every parser; return how many each rejected."""
    parsers = all_parsers()
    nones = dict.fromkeys(parsers, 0)
    for line in lines(total, base, seed):
        for name, parse in parsers.items():
            event = parse(line)
            if event is None:
                nones[name] += 1
            else:
                assert type(event.timestamp) is float
                assert event.message == line
    return nones


def test_garbage_lines_never_raise() -> None:
    total = 100_000
    nones = run_garbage(total, 10_000, seed=7)
    for name, count in nones.items():
        assert 0 < count < total, (name, count)  # prefixes make some lines valid


@pytest.mark.slow
def test_million_garbage_lines_never_raise() -> None:
    """1,000,000 lines through all six parsers (about 25 s on a small machine)."""
    total = 1_000_000
    nones = run_garbage(total, 50_000, seed=20261121)
    for name, count in nones.items():
        assert 0 < count < total, (name, count)


def test_pathological_lines_complete() -> None:
    h = "Nov 21 10:00:00 h sshd[1]: "
    cases = [
        h + "Failed password for " + " from 1.1.1.1 port 1:" * 3000,
        h + "Connection closed by authenticating user " + "a " * 30_000,
        "Nov 21 10:00:00 h CRON[1]: pam_unix(cron:session): session opened for user "
        + " by" * 30_000,
        h + "x" * 60_000,
        '1.2.3.4 - - [21/Nov/2026:10:00:00 +0700] "' + '\\"' * 30_000,
        '1.2.3.4 - - [21/Nov/2026:10:00:00 +0700] "GET / HTTP/1.1" 200 1 "a" "b" '
        + '"x" ' * 20_000,
        "<13>1 - h a p m " + '[a b="c"' * 10_000,
        "<13>1 - h a p m [a" + ' b="\\\\' * 10_000,
        '{"a":' * 50_000,
        "[" * 100_000,
        "Nov 21 10:00:00 h sudo: " + " " * 30_000 + "x : " * 5000,
        "a:1 " * 15_000,
        "\x00" * 100_000,
    ]  # fmt: skip
    for parse in all_parsers().values():
        for line in cases:
            parse(line)  # must return (None or an event) without raising
