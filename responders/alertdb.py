"""The alert store's SQLite schema, shared by the writer (sqlite.py) and readers (alertquery.py).

One table, one row per alert id; the full ECS document is kept as JSON in ``doc`` and
the columns beside it exist for filtering and retention::

    alerts(id TEXT PRIMARY KEY, first_seen REAL, last_seen REAL, severity INTEGER (1-4),
           rule_id TEXT, category TEXT, source_ip TEXT, count INTEGER, message TEXT, doc TEXT)

Times are epoch seconds; ``severity`` is :attr:`ronda.schema.Severity.rank`.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any
from urllib.parse import quote

from ronda.schema import Alert

SCHEMA_VERSION = 1

CREATE_STATEMENTS = (
    """
    CREATE TABLE IF NOT EXISTS alerts (
        id TEXT PRIMARY KEY,
        first_seen REAL NOT NULL,
        last_seen REAL NOT NULL,
        severity INTEGER NOT NULL,
        rule_id TEXT NOT NULL,
        category TEXT NOT NULL,
        source_ip TEXT,
        count INTEGER NOT NULL,
        message TEXT NOT NULL,
        doc TEXT NOT NULL
    )
    """,
    "CREATE INDEX IF NOT EXISTS alerts_last_seen ON alerts(last_seen)",
    "CREATE INDEX IF NOT EXISTS alerts_severity ON alerts(severity)",
    "CREATE INDEX IF NOT EXISTS alerts_rule_id ON alerts(rule_id)",
    "CREATE INDEX IF NOT EXISTS alerts_source_ip ON alerts(source_ip)",
    "CREATE INDEX IF NOT EXISTS alerts_category ON alerts(category)",
)

# An update (same id) replaces the mutable columns, unless it is older than the stored
# row (a late retry of an earlier state must not undo a newer one).
UPSERT = """
    INSERT INTO alerts (id, first_seen, last_seen, severity, rule_id, category, source_ip,
                        count, message, doc)
    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
    ON CONFLICT(id) DO UPDATE SET
        last_seen = excluded.last_seen,
        severity = excluded.severity,
        count = excluded.count,
        message = excluded.message,
        source_ip = excluded.source_ip,
        doc = excluded.doc
    WHERE excluded.count >= alerts.count
"""

Row = tuple[str, float, float, int, str, str, str | None, int, str, str]


def alert_row(alert: Alert) -> Row:
    """The column values of one alert."""
    ip = alert.fields.get("source.ip")
    doc = json.dumps(alert.to_ecs(), separators=(",", ":"), ensure_ascii=False, default=str)
    return (
        alert.id,
        alert.first_seen,
        alert.last_seen,
        alert.severity.rank,
        alert.rule.id,
        alert.rule.category,
        None if ip is None else str(ip),
        alert.count,
        alert.message,
        doc,
    )


def open_writer(path: Path, timeout: float = 30.0) -> sqlite3.Connection:
    """Open (creating if needed) the store for writing: WAL, synchronous=NORMAL,
    auto_vacuum=INCREMENTAL. Autocommit mode: callers open their own transactions."""
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(
        str(path), timeout=timeout, isolation_level=None, check_same_thread=False
    )
    try:
        fresh = conn.execute("SELECT count(*) FROM sqlite_master").fetchone()[0] == 0
        if fresh:
            conn.execute("PRAGMA auto_vacuum = INCREMENTAL")
        elif conn.execute("PRAGMA auto_vacuum").fetchone()[0] != 2:
            # auto_vacuum can only change on an existing file through a full VACUUM.
            conn.execute("PRAGMA auto_vacuum = INCREMENTAL")
            conn.execute("VACUUM")
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA synchronous = NORMAL")
        conn.execute("PRAGMA journal_size_limit = 67108864")  # WAL shrinks back after use
        conn.execute("BEGIN IMMEDIATE")
        for statement in CREATE_STATEMENTS:
            conn.execute(statement)
        conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
        conn.execute("COMMIT")
    except BaseException:
        conn.close()
        raise
    return conn


def open_reader(path: Path, timeout: float = 10.0) -> sqlite3.Connection:
    """Open the store read-only (works while the daemon writes to it)."""
    uri = f"file:{quote(str(path.absolute()))}?mode=ro"
    try:
        return _checked(sqlite3.connect(uri, uri=True, timeout=timeout))
    except sqlite3.OperationalError:
        # A WAL database whose -shm file is missing and cannot be created by this user
        # (daemon stopped, read-only folder): read the file as it stands.
        return _checked(sqlite3.connect(uri + "&immutable=1", uri=True, timeout=timeout))


def _checked(conn: sqlite3.Connection) -> sqlite3.Connection:
    try:
        conn.execute("SELECT 1 FROM alerts LIMIT 1").fetchall()
    except BaseException:
        conn.close()
        raise
    return conn


def db_size(conn: sqlite3.Connection) -> int:
    """Bytes the database occupies (pages in use and free pages, WAL changes included)."""
    pages = int(conn.execute("PRAGMA page_count").fetchone()[0])
    page_size = int(conn.execute("PRAGMA page_size").fetchone()[0])
    return pages * page_size


def decode_doc(text: str) -> dict[str, Any]:
    doc = json.loads(text)
    if not isinstance(doc, dict):
        raise ValueError("alert document is not a JSON object")
    return doc
