"""SqliteStore: schema, upserts, retention, and reading while it writes."""

from __future__ import annotations

import logging
import sqlite3
import threading
from pathlib import Path
from typing import Any

import pytest

from responders.alertdb import db_size
from responders.alertquery import get_alert, list_alerts
from responders.sqlite import SqliteConfig, SqliteStore
from ronda.clock import ManualClock
from ronda.component import Context
from ronda.metrics import Metrics
from ronda.schema import Alert, RuleRef, Severity

T0 = 1_700_000_000.0
DAY = 86400.0


def make_alert(n: int = 0, *, rule: str = "ronda-ssh-brute-force", category: str = "brute-force",
               severity: Severity = Severity.HIGH, ip: str | None = "203.0.113.5",
               first: float = T0, last: float | None = None, count: int = 1,
               message: str = "") -> Alert:
    fields: dict[str, Any] = {} if ip is None else {"source.ip": ip}
    return Alert(
        rule=RuleRef(id=rule, name=rule, ruleset="test", category=category),  # type: ignore[arg-type]
        severity=severity,
        message=message or f"alert {n}",
        first_seen=first,
        last_seen=first if last is None else last,
        key=f"{ip}#{n}",
        count=count,
        fields=fields,
        sensor="gw-01",
        detector="thr",
    )


def make_store(tmp_path: Path, clock: ManualClock | None = None, **settings: Any
               ) -> tuple[SqliteStore, Context]:
    ctx = Context(
        sensor="gw-01",
        clock=clock or ManualClock(T0),
        metrics=Metrics(),
        state_dir=tmp_path / "state",
        log=logging.getLogger("test.sqlite"),
        base_dir=tmp_path,
    )
    config = SqliteConfig.model_validate({"type": "sqlite", **settings})
    return SqliteStore("store", config, ctx), ctx


def test_config_defaults() -> None:
    config = SqliteConfig(type="sqlite")
    assert config.path == "alerts.db"
    assert config.max_age == 90 * DAY
    assert config.max_size == 1024**3
    assert config.retention_interval == 600.0
    with pytest.raises(ValueError, match="invalid duration"):
        SqliteConfig.model_validate({"type": "sqlite", "max_age": "soon"})
    with pytest.raises(ValueError, match="greater than zero"):
        SqliteConfig.model_validate({"type": "sqlite", "max_size": 0})


def test_creates_database_in_state_dir(tmp_path: Path) -> None:
    store, _ = make_store(tmp_path, path="db/alerts.db")
    store.handle([make_alert()])
    path = tmp_path / "state" / "db" / "alerts.db"
    assert store.path == path and path.exists()
    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert conn.execute("PRAGMA auto_vacuum").fetchone()[0] == 2  # incremental
    indexes = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='index'")}
    for column in ("last_seen", "severity", "rule_id", "source_ip", "category"):
        assert f"alerts_{column}" in indexes
    row = conn.execute("SELECT id, severity, rule_id, category, source_ip, count FROM alerts")
    assert row.fetchall() == [
        (make_alert().id, 3, "ronda-ssh-brute-force", "brute-force", "203.0.113.5", 1)
    ]
    conn.close()
    store.close()


def test_absolute_path_and_reopen(tmp_path: Path) -> None:
    path = tmp_path / "abs" / "store.db"
    store, _ = make_store(tmp_path, path=str(path))
    store.handle([make_alert(1)])
    store.close()
    store, _ = make_store(tmp_path, path=str(path))
    store.handle([make_alert(2)])
    store.close()
    assert len(list_alerts(path)) == 2


def test_upsert_replaces_count_and_last_seen(tmp_path: Path) -> None:
    store, ctx = make_store(tmp_path)
    first = make_alert()
    store.handle([first])
    update = first.model_copy(update={"count": 7, "last_seen": T0 + 60, "message": "seen 7x"})
    stale = first.model_copy(update={"count": 3, "last_seen": T0 + 20})
    store.handle([update])
    store.handle([stale])  # a late retry of an older state must not win
    store.flush()
    docs = list_alerts(store.path)
    assert len(docs) == 1
    assert docs[0]["event"]["id"] == first.id
    assert docs[0]["ronda"]["count"] == 7
    assert docs[0]["message"] == "seen 7x"
    row = sqlite3.connect(store.path).execute("SELECT count, first_seen, last_seen FROM alerts")
    assert row.fetchone() == (7, T0, T0 + 60)
    assert ctx.metrics.value("ronda_received_total", component="store") == 3
    assert ctx.metrics.value("ronda_emitted_total", component="store") == 2
    store.close()


def test_one_batch_is_one_transaction_with_duplicates(tmp_path: Path) -> None:
    store, _ = make_store(tmp_path)
    a = make_alert()
    store.handle([a, a.model_copy(update={"count": 2}), make_alert(1)])
    assert sorted(d["ronda"]["count"] for d in list_alerts(store.path)) == [1, 2]
    store.close()


def test_min_severity(tmp_path: Path) -> None:
    store, _ = make_store(tmp_path, min_severity="high")
    store.handle([make_alert(1, severity=Severity.LOW), make_alert(2, severity=Severity.CRITICAL)])
    assert [d["ronda"]["severity"] for d in list_alerts(store.path)] == ["critical"]
    store.close()


def test_retention_by_age(tmp_path: Path) -> None:
    clock = ManualClock(T0)
    path = tmp_path / "state" / "alerts.db"
    store, _ = make_store(tmp_path, clock, max_age="30d", retention_interval="1h")
    store.handle([
        make_alert(1, first=T0 - 40 * DAY),
        make_alert(2, first=T0 - 40 * DAY, last=T0 - 10 * DAY),
        make_alert(3, first=T0 - 29 * DAY),
    ])
    # Retention ran when the store opened (empty); the next run is an hour later.
    assert len(list_alerts(path)) == 3
    clock.advance(1800)
    store.handle([])
    assert len(list_alerts(path)) == 3
    clock.advance(1800)
    store.flush()
    assert sorted(d["message"] for d in list_alerts(path)) == ["alert 2", "alert 3"]
    clock.advance(2 * DAY)
    assert store.retain() == 1
    assert [d["message"] for d in list_alerts(path)] == ["alert 2"]
    store.close()


def test_retention_on_open(tmp_path: Path) -> None:
    clock = ManualClock(T0)
    store, _ = make_store(tmp_path, clock, max_age="1d")
    store.handle([make_alert(1), make_alert(2, first=T0 + DAY)])
    store.close()
    clock.advance(1.5 * DAY)
    store, _ = make_store(tmp_path, clock, max_age="1d")
    store.open()
    assert [d["message"] for d in list_alerts(store.path)] == ["alert 2"]
    store.close()


def test_retention_by_size(tmp_path: Path) -> None:
    clock = ManualClock(T0)
    limit = 256 * 1024
    store, _ = make_store(tmp_path, clock, max_size=limit, retention_interval="1m")
    filler = "x" * 2000
    for batch in range(10):
        store.handle([make_alert(batch * 100 + i, first=T0 + batch * 100 + i, message=filler)
                      for i in range(100)])
    conn = sqlite3.connect(store.path)
    assert db_size(conn) > 4 * limit
    clock.advance(60)
    store.flush()
    assert db_size(conn) <= limit
    (remaining,) = conn.execute("SELECT count(*) FROM alerts").fetchone()
    assert 0 < remaining < 1000
    (oldest,) = conn.execute("SELECT min(last_seen) FROM alerts").fetchone()
    (newest,) = conn.execute("SELECT max(last_seen) FROM alerts").fetchone()
    assert newest == T0 + 999  # the newest alerts are the ones kept
    assert oldest == T0 + 1000 - remaining
    conn.close()
    store.close()
    assert store.path.stat().st_size <= limit


def test_reader_works_during_a_write_transaction(tmp_path: Path) -> None:
    store, _ = make_store(tmp_path)
    store.handle([make_alert(1)])
    writer = sqlite3.connect(store.path, isolation_level=None)
    writer.execute("BEGIN IMMEDIATE")
    writer.execute("DELETE FROM alerts")
    # The write lock is held and the delete is not committed: readers see the last commit.
    assert [d["message"] for d in list_alerts(store.path)] == ["alert 1"]
    assert get_alert(store.path, make_alert(1).id[:10]) is not None
    writer.execute("ROLLBACK")
    writer.close()
    store.close()


def test_concurrent_reader_while_writing(tmp_path: Path) -> None:
    store, _ = make_store(tmp_path)
    store.open()
    errors: list[BaseException] = []
    seen: list[int] = []
    done = threading.Event()

    def read() -> None:
        try:
            while not done.is_set():
                seen.append(len(list_alerts(store.path, limit=10_000)))
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    reader = threading.Thread(target=read)
    reader.start()
    try:
        for batch in range(50):
            store.handle([make_alert(batch * 20 + i, first=T0 + batch) for i in range(20)])
    finally:
        done.set()
        reader.join()
    assert errors == []
    assert seen == sorted(seen)  # each read sees a committed prefix, never less
    assert all(n % 20 == 0 for n in seen)  # whole batches only: one transaction each
    assert len(list_alerts(store.path, limit=10_000)) == 1000
    store.close()


def test_open_failure_raises(tmp_path: Path) -> None:
    (tmp_path / "state").mkdir()
    (tmp_path / "state" / "alerts.db").mkdir()  # a folder where the file should be
    store, _ = make_store(tmp_path)
    with pytest.raises(sqlite3.Error):  # the pipeline counts and logs it
        store.handle([make_alert()])


def test_db_path() -> None:
    state = Path("/var/lib/ronda")
    assert SqliteStore.db_path(SqliteConfig(type="sqlite"), state) == state / "alerts.db"
    absolute = SqliteConfig(type="sqlite", path="/data/a.db")
    assert SqliteStore.db_path(absolute, state) == Path("/data/a.db")


def test_flush_and_close_before_use_are_harmless(tmp_path: Path) -> None:
    store, _ = make_store(tmp_path)
    store.flush()
    store.close()
    assert not store.path.exists()
