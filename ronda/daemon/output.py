"""Replay/demo output: collect final alert versions, print a table or ECS JSON lines."""

from __future__ import annotations

import json
import shutil
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import IO, Any

from ronda.component import Context, Responder, ResponderConfig
from ronda.schema import Alert


class Collector(Responder):
    """Keeps the newest version of every alert id, in first-seen order."""

    def __init__(self, ctx: Context) -> None:
        super().__init__("output", ResponderConfig(type="output"), ctx)
        self.alerts: dict[str, Alert] = {}

    def handle(self, alerts: Sequence[Alert]) -> None:
        for a in alerts:
            self.alerts[a.id] = a

    def ordered(self) -> list[Alert]:
        return sorted(self.alerts.values(), key=lambda a: (a.first_seen, a.rule.id, a.key))


def write_jsonl(alerts: Sequence[Alert], out: IO[str] = sys.stdout) -> None:
    for a in alerts:
        out.write(json.dumps(a.to_ecs(), ensure_ascii=False, separators=(",", ":")) + "\n")
    out.flush()


def _ts(value: float) -> str:
    return datetime.fromtimestamp(value, tz=UTC).strftime("%Y-%m-%d %H:%M:%S")


RULE_WIDTH = 40
"""The RULE column shows the rule's name (ids are UUIDs; `alerts show` has the id)."""


def _clip(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def table_rows(docs: Sequence[dict[str, Any]]) -> list[list[str]]:
    rows = []
    for d in docs:
        r = d.get("ronda", {})
        rows.append([
            str(d.get("event", {}).get("id", ""))[:12],
            str(r.get("first_seen", ""))[:19].replace("T", " "),
            str(r.get("severity", "")),
            str(d.get("rule", {}).get("category", "")),
            _clip(str(d.get("rule", {}).get("name", "")), RULE_WIDTH),
            str(d.get("source", {}).get("ip", "")),
            str(r.get("count", "")),
            str(d.get("message", "")),
        ])
    return rows


def print_table(docs: Sequence[dict[str, Any]], out: IO[str] = sys.stdout) -> None:
    header = ["ID", "FIRST SEEN (UTC)", "SEVERITY", "CATEGORY", "RULE", "SOURCE", "COUNT",
              "MESSAGE"]
    rows = table_rows(docs)
    widths = [max([len(header[i])] + [len(r[i]) for r in rows]) for i in range(len(header) - 1)]
    total = shutil.get_terminal_size((160, 24)).columns
    room = max(30, total - sum(widths) - 2 * len(widths))
    for r in [header, *rows]:
        cells = [c.ljust(w) for c, w in zip(r, widths, strict=False)]
        msg = r[-1] if len(r[-1]) <= room else r[-1][: room - 1] + "…"
        out.write("  ".join([*cells, msg]).rstrip() + "\n")
