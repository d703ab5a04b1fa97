"""The embedded alert store: every alert in a local SQLite file, for ``ronda alerts``.

Configured as::

    responders:
      store: {type: sqlite, path: alerts.db, max_age: 90d, max_size: 1GiB}

A relative ``path`` is inside the state folder. The file is in WAL mode, so the CLI can
read it (read-only, :mod:`responders.alertquery`) while the daemon writes. Each
``handle`` batch is one transaction; an alert update (same id, larger count) replaces
the stored row. Retention runs when the store opens and then every
``retention_interval`` (by the injected clock): rows whose ``last_seen`` is older than
``max_age`` go, and while the database is larger than ``max_size`` the oldest rows go
in chunks and the freed pages are returned to the file system (incremental vacuum).

A failed write rolls the batch back and raises (the pipeline counts it in ``errors`` and
logs it); writing the same alerts again never duplicates a row. Retention failures are
counted and logged here and do not stop the store.
"""

from __future__ import annotations

import math
import os
import sqlite3
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator

from responders.alertdb import UPSERT, Row, alert_row, db_size, open_writer
from ronda.component import Context, Responder, ResponderConfig
from ronda.durations import Duration, Size
from ronda.schema import Alert


class SqliteConfig(ResponderConfig):
    type: Literal["sqlite"]
    path: str = "alerts.db"
    """Database file; relative paths are inside the state folder."""
    max_age: Duration = Field(default="90d", validate_default=True)
    """Alerts not seen for this long are deleted."""
    max_size: Size = Field(default="1GiB", validate_default=True)
    """Above this size the oldest alerts are deleted."""
    retention_interval: Duration = Field(default="10m", validate_default=True)
    """How often retention runs."""

    @field_validator("max_age", "max_size", "retention_interval")
    @classmethod
    def _positive(cls, value: float) -> float:
        if value <= 0:
            raise ValueError("must be greater than zero")
        return value


class SqliteStore(Responder):
    """Keeps alerts in SQLite (upsert by alert id), with age and size retention."""

    config_model = SqliteConfig
    config: SqliteConfig

    def __init__(self, name: str, config: SqliteConfig, ctx: Context) -> None:
        super().__init__(name, config, ctx)
        self.path = self.db_path(config, ctx.state_dir)
        self._conn: sqlite3.Connection | None = None
        self._lock = threading.Lock()
        self._next_retention = -math.inf
        m = ctx.metrics
        self._received = m.received.labels(component=name)
        self._emitted = m.emitted.labels(component=name)
        self._errors = m.errors.labels(component=name)

    @staticmethod
    def db_path(config: SqliteConfig, state_dir: Path) -> Path:
        """Where the store of ``config`` lives: ``path``, relative to the state folder."""
        path = Path(config.path).expanduser()
        return path if path.is_absolute() else state_dir / path

    def open(self) -> None:
        """Open (or create) the database and run retention. Called on first use anyway."""
        with self._lock:
            self._connection()

    def handle(self, alerts: Sequence[Alert]) -> None:
        self._received.inc(len(alerts))
        floor = self.config.min_severity.rank
        rows = [alert_row(a) for a in alerts if a.severity.rank >= floor]
        with self._lock:
            conn = self._connection()
            if rows:
                before = conn.total_changes
                self._write(conn, rows)
                self._emitted.inc(conn.total_changes - before)
            self._maybe_retain(conn)

    def flush(self) -> None:
        """Everything handled so far is committed; make it durable (sync the WAL)."""
        with self._lock:
            if self._conn is None:
                return
            self._maybe_retain(self._conn)
            try:
                fd = os.open(f"{self.path}-wal", os.O_RDONLY)
            except FileNotFoundError:
                return
            try:
                os.fsync(fd)
            finally:
                os.close(fd)

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None

    def retain(self, now: float | None = None) -> int:
        """Apply max_age and max_size now; return the number of rows deleted."""
        with self._lock:
            return self._retain(self._connection(), now)

    def _connection(self) -> sqlite3.Connection:
        if self._conn is None:
            self._conn = open_writer(self.path)
            self.ctx.log.info("%s: alert store %s opened", self.name, self.path)
            self._maybe_retain(self._conn)
        return self._conn

    def _write(self, conn: sqlite3.Connection, rows: Sequence[Row]) -> None:
        try:
            conn.execute("BEGIN IMMEDIATE")
            conn.executemany(UPSERT, rows)
            conn.execute("COMMIT")
        except sqlite3.Error:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise

    def _maybe_retain(self, conn: sqlite3.Connection) -> None:
        now = self.ctx.clock.now()
        if now < self._next_retention:
            return
        self._next_retention = now + self.config.retention_interval
        try:
            self._retain(conn, now)
        except sqlite3.Error as exc:
            self._errors.inc()
            self.ctx.log.warning("%s: retention failed: %s", self.name, exc)
            if conn.in_transaction:
                conn.execute("ROLLBACK")

    def _retain(self, conn: sqlite3.Connection, now: float | None) -> int:
        now = self.ctx.clock.now() if now is None else now
        cur = conn.execute(
            "DELETE FROM alerts WHERE last_seen < ?", (now - self.config.max_age,)
        )
        deleted = max(cur.rowcount, 0)
        if deleted:
            _vacuum(conn)
        deleted += self._trim_to_size(conn)
        if deleted:
            self.ctx.log.info("%s: retention deleted %d alerts", self.name, deleted)
            conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
        return deleted

    def _trim_to_size(self, conn: sqlite3.Connection) -> int:
        limit = self.config.max_size
        size = db_size(conn)
        if size <= limit:
            return 0
        _vacuum(conn)
        deleted = 0
        while (size := db_size(conn)) > limit:
            total = int(conn.execute("SELECT count(*) FROM alerts").fetchone()[0])
            if total == 0:
                break
            excess = (size - limit) / size
            chunk = min(total, max(1, math.ceil(total * excess)))
            cur = conn.execute(
                "DELETE FROM alerts WHERE id IN "
                "(SELECT id FROM alerts ORDER BY last_seen, id LIMIT ?)",
                (chunk,),
            )
            deleted += max(cur.rowcount, 0)
            _vacuum(conn)
        return deleted


def _vacuum(conn: sqlite3.Connection) -> None:
    """Return all free pages to the file system. (Through ``execute`` the pragma would run
    one step, freeing one page; ``executescript`` runs it to the end.)"""
    conn.executescript("PRAGMA incremental_vacuum;")
