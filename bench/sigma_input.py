"""The nginx log bench_sigma.py replays: the benign corpus scaled up, with attacks,
look-alikes (samples that must not fire) and scanner bursts mixed in."""

from __future__ import annotations

import gzip
import random
import re
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path

import yaml

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(ROOT))

from gen_nginx import AGENTS, PAGES, PROBES  # noqa: E402

PACK = ROOT / "rules" / "sigma"
CORPUS = HERE / "corpus"
ATTACK_SHARE, LOOKALIKE_SHARE = 0.015, 0.005

COMBINED = re.compile(
    r'^(?P<ip>\S+) \S+ (?P<user>\S+) \[(?P<time>[^\]]+)\] "(?P<req>(?:[^"\\]|\\.)*)" '
    r'(?P<status>\d{3}) (?P<size>\S+)(?: "(?P<ref>(?:[^"\\]|\\.)*)" "(?P<ua>(?:[^"\\]|\\.)*)")?'
)
LINE = re.compile(r"^(?P<ip>\S+) (?P<who>\S+ \S+) \[(?P<time>[^\]]+)\] (?P<rest>.*)$")
STAMP = "%d/%b/%Y:%H:%M:%S %z"
TZ = timezone(timedelta(hours=7))
DAY0 = datetime(2026, 11, 20, 0, 0, 0, tzinfo=TZ).timestamp()
DAY = 86_400.0
BURST_EVERY, BURST_LEN = 10_000, 60

Item = tuple[float, int, str, str, str]
"""(time, sequence, address, "ident user", the rest of the line after the timestamp)"""


@dataclass
class Mix:
    lines: int = 0
    benign: int = 0
    lookalike: int = 0
    attack: int = 0
    probe: int = 0
    clients: int = 0
    sources: dict[str, str] = field(default_factory=dict)


def _open_text(path: Path) -> Iterator[str]:
    if path.suffix == ".gz":
        with gzip.open(path, "rt", encoding="utf-8", errors="replace") as fh:
            yield from fh
    else:
        with open(path, encoding="utf-8", errors="replace") as fh:
            yield from fh


def _corpus(pattern: str) -> tuple[list[tuple[float, str, str, str]], str]:
    """Lines of bench/corpus/<pattern> as (epoch, address, "ident user", rest), sorted."""
    out: list[tuple[float, str, str, str]] = []
    names = []
    if CORPUS.is_dir():
        for path in sorted(CORPUS.glob(pattern)):
            names.append(path.name)
            for line in _open_text(path):
                m = LINE.match(line.rstrip("\n"))
                if m is None:
                    continue
                try:
                    t = datetime.strptime(m["time"], STAMP).timestamp()
                except ValueError:
                    continue
                out.append((t, m["ip"], m["who"], m["rest"]))
    out.sort(key=lambda x: x[0])
    return out, ", ".join(f"bench/corpus/{n}" for n in names)


def _sample_lines(key: str) -> list[tuple[str, str]]:
    """("ident user", rest) of the ``match`` (attacks) or ``nomatch`` (look-alikes) nginx
    lines of the rule samples."""
    out: list[tuple[str, str]] = []
    for path in sorted(PACK.rglob("*.samples.y*ml")):
        try:
            docs = list(yaml.safe_load_all(path.read_text(encoding="utf-8")))
        except (OSError, yaml.YAMLError):
            continue
        for doc in docs:
            if not isinstance(doc, dict) or doc.get("format") not in ("nginx", "apache"):
                continue
            for item in doc.get(key) or []:
                m = LINE.match(item.strip()) if isinstance(item, str) else None
                if m is not None and COMBINED.match(item.strip()):
                    out.append((m["who"], m["rest"]))
    return out


def _remap(ip: str, copy: int) -> str:
    """Another host of the same network for each copy (copy 0: the address itself)."""
    if copy == 0:
        return ip
    if ":" in ip:
        head, _, last = ip.rpartition(":")
        return f"{head}:{(int(last or '0', 16) + copy * 4099) % 65536:x}"
    parts = ip.split(".")
    if len(parts) != 4 or not all(x.isdigit() for x in parts):
        return ip
    a, b, c, d = (int(x) for x in parts)
    return f"{a}.{b}.{(c + 17 * copy) % 256}.{(d - 1 + 101 * copy) % 254 + 1}"


def _synthetic_benign(rnd: random.Random, n: int, t0: float, span: float) -> list[Item]:
    refs = ["https://pemkab.example.go.id/", "-", "https://www.google.com/"]
    blocks = [(36, 72), (36, 81), (114, 5), (180, 241), (182, 253), (103, 10), (125, 160)]
    clients = [f"{a}.{b}.{rnd.randint(0, 255)}.{rnd.randint(1, 254)}"
               for a, b in (rnd.choice(blocks) for _ in range(4000))]
    weights = [1.0 / (i + 1) ** 0.8 for i in range(len(clients))]  # a few busy clients
    out: list[Item] = []
    for i, ip in enumerate(rnd.choices(clients, weights, k=n)):
        page = rnd.choice(PAGES)
        status = 200 if rnd.random() < 0.95 else rnd.choice([301, 304, 404])
        rest = (f'"GET {page} HTTP/1.1" {status} {rnd.randint(200, 120_000)} '
                f'"{rnd.choice(refs)}" "{rnd.choice(AGENTS[:3])}"')
        out.append((t0 + span * i / max(n, 1), 0, ip, "- -", rest))
    return out


def generate(path: Path, lines: int, seed: int = 7) -> Mix:
    """Write the benchmark log; see the module docstring for the mix."""
    rnd = random.Random(seed)
    mix = Mix(lines=lines)
    bursts = max(1, lines // BURST_EVERY) if lines >= 2 * BURST_LEN else 0
    mix.probe = bursts * BURST_LEN
    mix.attack = round(lines * ATTACK_SHARE)
    lookalikes = _sample_lines("nomatch")
    mix.lookalike = round(lines * LOOKALIKE_SHARE) if lookalikes else 0
    mix.benign = lines - mix.probe - mix.attack - mix.lookalike
    items: list[Item] = []

    benign, names = _corpus("benign*.log*")
    if benign:
        # the corpus day overlaid on itself as often as needed, each copy with its own
        # visitors (addresses moved within their network), shifted by a few seconds
        shift = DAY0 - benign[0][0]
        copy = 0
        while len(items) < mix.benign:
            for t, ip, who, rest in benign[: mix.benign - len(items)]:
                items.append((t + shift + 7.3 * copy, 0, _remap(ip, copy), who, rest))
            copy += 1
        mix.sources["benign"] = f"{names} x{copy}"
        t0 = items[0][0]
        span = max(60.0, max(x[0] for x in items) - t0)
    else:
        t0, span = DAY0, max(60.0, min(DAY, mix.benign / 3.5))
        items = _synthetic_benign(rnd, mix.benign, t0, span)
        mix.sources["benign"] = "bench/gen_nginx.py pages"
    clients = sorted({x[2] for x in items})
    mix.clients = len(clients)

    for _ in range(mix.lookalike):
        who, rest = rnd.choice(lookalikes)
        items.append((t0 + rnd.random() * span, 0, rnd.choice(clients), who, rest))
    mix.sources["lookalike"] = "rule samples (nomatch)"

    attacks, names = _corpus("attack*.log*")
    if attacks:
        a0, a_span = attacks[0][0], max(1.0, attacks[-1][0] - attacks[0][0])
        for i in range(mix.attack):
            p, j = divmod(i, len(attacks))
            t, ip, who, rest = attacks[j]
            when = t0 + (t - a0) / a_span * span * 0.98 + 11.0 * p
            items.append((when, 0, _remap(ip, p), who, rest))
        mix.sources["attack"] = names
    else:
        samples = _sample_lines("match")
        for _ in range(mix.attack if samples else 0):
            who, rest = rnd.choice(samples)
            ip = f"203.0.113.{rnd.randint(1, 254)}"
            items.append((t0 + rnd.random() * span, 0, ip, who, rest))
        mix.sources["attack"] = "rule samples (match)"

    for b in range(bursts):  # a scanner: 60 404 probes from one address in ~30 s
        ip = f"198.51.100.{b % 254 + 1}"
        start = t0 + span * (b + 0.5) / bursts
        for k in range(BURST_LEN):
            rest = (f'"GET {rnd.choice(PROBES)}?{k} HTTP/1.1" 404 153 "-" "{AGENTS[3]}"')
            items.append((start + k * 0.5, 0, ip, "- -", rest))

    items = [(t, i, ip, who, rest) for i, (t, _, ip, who, rest) in enumerate(items)]
    items.sort()
    stamps: dict[int, str] = {}
    with open(path, "w", encoding="utf-8") as fh:
        for t, _, ip, who, rest in items:
            sec = int(t)
            stamp = stamps.get(sec)
            if stamp is None:
                stamp = stamps[sec] = datetime.fromtimestamp(sec, TZ).strftime(STAMP)
            fh.write(f"{ip} {who} [{stamp}] {rest}\n")
    return mix

