"""Reading the alert store: filters, ordering, id prefixes and clear errors."""

from __future__ import annotations

import logging
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from responders.alertquery import get_alert, list_alerts
from responders.sqlite import SqliteConfig, SqliteStore
from ronda.clock import ManualClock
from ronda.component import Context
from ronda.errors import InputError
from ronda.metrics import Metrics
from ronda.schema import Alert, RuleRef, Severity

T0 = 1_700_000_000.0


def make_alert(n: int, *, rule: str = "ronda-ssh-brute-force", category: str = "brute-force",
               severity: Severity = Severity.HIGH, ip: str | None = "203.0.113.5",
               last: float = T0) -> Alert:
    fields: dict[str, Any] = {} if ip is None else {"source.ip": ip}
    return Alert(
        rule=RuleRef(id=rule, name=rule, ruleset="test", category=category),  # type: ignore[arg-type]
        severity=severity,
        message=f"alert {n}",
        first_seen=last - 10,
        last_seen=last,
        key=f"k{n}",
        fields=fields,
        sensor="gw-01",
    )


def store_with(tmp_path: Path, alerts: list[Alert]) -> Path:
    ctx = Context("gw-01", ManualClock(T0), Metrics(), tmp_path, logging.getLogger("t"), tmp_path)
    config = SqliteConfig.model_validate({"type": "sqlite", "max_age": "100000d"})
    store = SqliteStore("store", config, ctx)
    store.handle(alerts)
    store.close()
    return store.path


@pytest.fixture()
def db(tmp_path: Path) -> Path:
    return store_with(tmp_path, [
        make_alert(1, last=T0 + 1, severity=Severity.LOW, ip="198.51.100.1"),
        make_alert(2, last=T0 + 2, severity=Severity.MEDIUM, category="scanner",
                   rule="ronda-http-404-storm"),
        make_alert(3, last=T0 + 3, severity=Severity.HIGH),
        make_alert(4, last=T0 + 4, severity=Severity.CRITICAL, category="webshell",
                   rule="webshell-upload", ip=None),
    ])


def messages(docs: list[dict[str, Any]]) -> list[str]:
    return [d["message"] for d in docs]


def test_newest_first_and_ecs_documents(db: Path) -> None:
    docs = list_alerts(db)
    assert messages(docs) == ["alert 4", "alert 3", "alert 2", "alert 1"]
    assert docs[0]["event"]["kind"] == "alert"
    assert docs[0]["rule"]["id"] == "webshell-upload"
    assert docs[1]["source"]["ip"] == "203.0.113.5"


def test_filters(db: Path) -> None:
    assert messages(list_alerts(db, since=T0 + 3)) == ["alert 4", "alert 3"]
    assert messages(list_alerts(db, min_severity=Severity.MEDIUM)) == [
        "alert 4", "alert 3", "alert 2"]
    assert messages(list_alerts(db, min_severity=Severity.CRITICAL)) == ["alert 4"]
    assert messages(list_alerts(db, category="brute-force")) == ["alert 3", "alert 1"]
    assert messages(list_alerts(db, rule="ronda-http-404-storm")) == ["alert 2"]
    assert messages(list_alerts(db, source_ip="198.51.100.1")) == ["alert 1"]
    assert messages(list_alerts(db, category="brute-force", since=T0 + 2)) == ["alert 3"]
    assert messages(list_alerts(db, limit=2)) == ["alert 4", "alert 3"]
    assert list_alerts(db, category="sqli") == []


def test_bad_filter_values(db: Path) -> None:
    with pytest.raises(InputError, match="unknown category 'sql'"):
        list_alerts(db, category="sql")
    with pytest.raises(InputError, match="invalid limit 0"):
        list_alerts(db, limit=0)


def test_get_alert_by_prefix(db: Path) -> None:
    full = make_alert(3, last=T0 + 3).id
    doc = get_alert(db, full)
    assert doc is not None and doc["message"] == "alert 3"
    doc = get_alert(db, full[:8].upper())
    assert doc is not None and doc["event"]["id"] == full
    used = {make_alert(n, last=T0 + n).id[0] for n in range(1, 5)}
    unused = next(c for c in "0123456789abcdef" if c not in used)
    assert get_alert(db, unused) is None

def test_get_alert_ambiguous_prefix(tmp_path: Path) -> None:
    alerts = [make_alert(n, last=T0 + n) for n in range(17)]  # 17 ids: two share a first digit
    db = store_with(tmp_path, alerts)
    firsts = [a.id[0] for a in alerts]
    shared = next(c for c in firsts if firsts.count(c) > 1)
    with pytest.raises(InputError, match=f"alert id '{shared}' is ambiguous"):
        get_alert(db, shared)


def test_get_alert_rejects_non_hex(db: Path) -> None:
    with pytest.raises(InputError, match="invalid alert id 'xyz'"):
        get_alert(db, "xyz")
    with pytest.raises(InputError, match="invalid alert id"):
        get_alert(db, "")


def test_missing_and_unreadable_stores(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="does not exist"):
        list_alerts(tmp_path / "nope.db")
    with pytest.raises(InputError, match="is not a file"):
        get_alert(tmp_path, "ab")
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"this is not a database at all" * 100)
    with pytest.raises(InputError, match=r"cannot read alert store .*junk\.db"):
        list_alerts(junk)
    other = tmp_path / "other.db"
    sqlite3.connect(other).execute("CREATE TABLE t (x)").connection.close()
    with pytest.raises(InputError, match="not a Ronda alert store"):
        list_alerts(other)


def test_reading_does_not_change_the_file(db: Path) -> None:
    before = db.read_bytes()
    list_alerts(db)
    get_alert(db, make_alert(1, last=T0 + 1).id)
    assert db.read_bytes() == before
