"""Reading the alert store (for ``ronda alerts list|show``), read-only and safe while the
daemon writes. Problems a user can cause (no store yet, not a store, an ambiguous id)
raise :class:`ronda.errors.InputError` with one clear line.
"""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path
from typing import Any

from responders.alertdb import decode_doc, open_reader
from ronda.errors import InputError
from ronda.schema import CATEGORIES, Severity

_HEX = re.compile(r"^[0-9a-f]+$")


def list_alerts(
    db: Path,
    since: float | None = None,
    min_severity: Severity | None = None,
    category: str | None = None,
    rule: str | None = None,
    source_ip: str | None = None,
    limit: int = 100,
) -> list[dict[str, Any]]:
    """ECS documents of stored alerts, newest (by last_seen) first.

    ``since`` keeps alerts seen at or after that epoch time; ``min_severity`` keeps that
    severity and above; ``category``, ``rule`` (rule id) and ``source_ip`` are exact.
    """
    if limit < 1:
        raise InputError(f"invalid limit {limit} (must be at least 1)")
    if category is not None and category not in CATEGORIES:
        raise InputError(
            f"unknown category {category!r} (expected one of {', '.join(CATEGORIES)})"
        )
    clauses: list[str] = []
    params: list[Any] = []
    if since is not None:
        clauses.append("last_seen >= ?")
        params.append(since)
    if min_severity is not None:
        clauses.append("severity >= ?")
        params.append(min_severity.rank)
    for column, value in (("category", category), ("rule_id", rule), ("source_ip", source_ip)):
        if value is not None:
            clauses.append(f"{column} = ?")
            params.append(value)
    where = f"WHERE {' AND '.join(clauses)}" if clauses else ""
    sql = f"SELECT doc FROM alerts {where} ORDER BY last_seen DESC, id LIMIT ?"
    params.append(limit)
    rows = _query(db, sql, params)
    return [_doc(db, text) for (text,) in rows]


def get_alert(db: Path, id_prefix: str) -> dict[str, Any] | None:
    """The ECS document of the alert whose id starts with ``id_prefix``, or None.

    Raises InputError when the prefix is not hexadecimal or matches several alerts.
    """
    prefix = id_prefix.strip().lower()
    if not _HEX.match(prefix):
        raise InputError(f"invalid alert id {id_prefix!r} (expected hexadecimal digits)")
    upper = prefix + "g"  # just past every id with this prefix ("g" > "f")
    rows = _query(
        db, "SELECT id, doc FROM alerts WHERE id >= ? AND id < ? ORDER BY id LIMIT 2",
        [prefix, upper],
    )
    if not rows:
        return None
    if len(rows) > 1:
        raise InputError(
            f"alert id {id_prefix!r} is ambiguous: it matches {rows[0][0][:12]}..., "
            f"{rows[1][0][:12]}... and maybe more; give more characters"
        )
    return _doc(db, rows[0][1])


def _query(db: Path, sql: str, params: list[Any]) -> list[tuple[Any, ...]]:
    if not db.exists():
        raise InputError(f"alert store {db} does not exist (no alerts stored yet?)")
    if not db.is_file():
        raise InputError(f"alert store {db} is not a file")
    try:
        conn = open_reader(db)
    except sqlite3.Error as exc:
        raise InputError(f"cannot read alert store {db}: {_reason(exc)}") from None
    try:
        return list(conn.execute(sql, params).fetchall())
    except sqlite3.Error as exc:
        raise InputError(f"cannot read alert store {db}: {_reason(exc)}") from None
    finally:
        conn.close()


def _doc(db: Path, text: str) -> dict[str, Any]:
    try:
        return decode_doc(text)
    except ValueError as exc:
        raise InputError(f"alert store {db} holds a damaged alert document: {exc}") from None


def _reason(exc: sqlite3.Error) -> str:
    text = str(exc)
    if "no such table" in text:
        return "not a Ronda alert store (no alerts table)"
    return text
