"""``ronda alerts list|show``: query the local SQLite alert store."""

from __future__ import annotations

import argparse
import json
import time
from datetime import UTC, datetime
from pathlib import Path

from responders.alertquery import get_alert, list_alerts
from responders.sqlite import SqliteStore
from ronda.daemon.build import validate_section
from ronda.daemon.common import load_from_args
from ronda.daemon.output import print_table
from ronda.durations import parse_duration
from ronda.errors import InputError
from ronda.schema import CATEGORIES, Severity


def parse_since(text: str, now: float) -> float:
    """``1h``/``2d`` ago, or an ISO 8601 time (UTC unless it says otherwise)."""
    try:
        return now - parse_duration(text)
    except ValueError:
        pass
    try:
        dt = datetime.fromisoformat(text)
    except ValueError:
        raise InputError(f"--since {text!r}: expected a duration (30m, 2h, 7d) or an ISO "
                         "time (2026-11-21T08:00:00+07:00)") from None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return dt.timestamp()


def store_path(args: argparse.Namespace) -> Path:
    if args.db:
        return Path(args.db)
    loaded = load_from_args(args)
    for cls, cfg in validate_section(loaded, "responders").values():
        if issubclass(cls, SqliteStore):
            return SqliteStore.db_path(cfg, loaded.config.resolved_state_dir())
    raise InputError(f"{loaded.display}: no sqlite responder configured; use --db FILE")


def cmd_alerts(args: argparse.Namespace) -> int:
    db = store_path(args)
    if args.action == "show":
        doc = get_alert(db, args.id)
        if doc is None:
            raise InputError(f"no alert with id {args.id!r} in {db}")
        print(json.dumps(doc, indent=None if args.json else 2, ensure_ascii=False))
        return 0
    severity = None
    if args.severity:
        try:
            severity = Severity.parse(args.severity)
        except ValueError as exc:
            raise InputError(f"--severity: {exc}") from None
    if args.category and args.category not in CATEGORIES:
        raise InputError(f"--category: unknown category {args.category!r} "
                         f"(expected one of {', '.join(CATEGORIES)})")
    since = parse_since(args.since, time.time()) if args.since else None
    docs = list_alerts(db, since=since, min_severity=severity, category=args.category,
                       rule=args.rule, source_ip=args.source_ip, limit=args.limit)
    if args.json:
        for d in docs:
            print(json.dumps(d, ensure_ascii=False, separators=(",", ":")))
    elif docs:
        print_table(docs)
    else:
        print("no alerts match")
    return 0
