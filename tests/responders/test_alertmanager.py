"""AlertmanagerResponder against a fake Alertmanager (http.server on 127.0.0.1).

Time is a ManualClock and rounds are driven by ``tick()`` (``background=False``), so
resends, resolution and backoff are tested without sleeping.
"""

from __future__ import annotations

import base64
import logging
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from responders.alertmanager import AlertmanagerConfig, AlertmanagerResponder
from ronda.clock import ManualClock
from ronda.component import Context
from ronda.metrics import Metrics
from ronda.schema import Alert, RuleRef, Severity
from tests.responders.fake_alertmanager import FakeAlertmanager, closed_port

T0 = 1_700_000_000.0  # 2023-11-14T22:13:20Z
T0_ISO = "2023-11-14T22:13:20.000Z"
IP = "198.51.100.7"
LOGGER = "ronda.test.alertmanager"


@pytest.fixture
def am() -> Iterator[FakeAlertmanager]:
    fake = FakeAlertmanager()
    yield fake
    fake.stop()


@pytest.fixture
def am2() -> Iterator[FakeAlertmanager]:
    fake = FakeAlertmanager()
    yield fake
    fake.stop()


def make_alert(count: int = 1, severity: Severity = Severity.HIGH, ip: str | None = IP,
               first_seen: float = T0, rule: str = "ronda-ssh-brute-force") -> Alert:
    return Alert(
        rule=RuleRef(id=rule, name="SSH brute force", ruleset="sigma",
                     category="brute-force", description="Many failed SSH logins."),
        severity=severity,
        message=f"SSH brute force from {ip}: {count} failures",
        first_seen=first_seen,
        last_seen=first_seen + count,
        key=ip or "",
        count=count,
        fields={"source.ip": ip} if ip else {},
        evidence=(f"sshd[1]: Failed password for root from {ip} port 4242 ssh2",),
        sensor="gw-01",
    )


def make(tmp_path: Path, urls: list[str], background: bool = False,
         **settings: Any) -> tuple[AlertmanagerResponder, Context, ManualClock]:
    clock = ManualClock(T0)
    ctx = Context("gw-01", clock, Metrics(), tmp_path / "state", logging.getLogger(LOGGER),
                  tmp_path)
    config = AlertmanagerConfig.model_validate({"type": "alertmanager", "urls": urls,
                                                **settings})
    return AlertmanagerResponder("page", config, ctx, background=background), ctx, clock


def metric(ctx: Context, name: str, **labels: str) -> float:
    return ctx.metrics.value(name, component="page", **labels)


def test_posts_labels_annotations_and_starts_at(tmp_path: Path,
                                               am: FakeAlertmanager) -> None:
    page, ctx, _ = make(tmp_path, [am.url + "/"])
    alert = make_alert(count=3)
    page.handle([alert])
    assert am.posts == []  # handle never touches the network
    assert metric(ctx, "ronda_alertmanager_pending", url=am.url) == 1
    page.tick()
    [post] = am.posts
    assert post["path"] == "/api/v2/alerts"
    assert post["headers"]["Content-Type"] == "application/json"
    assert "Authorization" not in post["headers"]
    [doc] = post["body"]
    assert doc["labels"] == {
        "alertname": "ronda-ssh-brute-force", "rule_id": "ronda-ssh-brute-force",
        "category": "brute-force", "severity": "high", "sensor": "gw-01",
        "source_ip": IP, "ronda": "true",
    }
    notes = doc["annotations"]
    assert notes["summary"] == f"SSH brute force from {IP}: 3 failures"
    assert notes["event_id"] == alert.id
    assert notes["count"] == "3"
    assert notes["rule_name"] == "SSH brute force"
    assert notes["description"].splitlines() == [
        "Many failed SSH logins.",
        f"SSH brute force: 3 times, first seen {T0_ISO}, last seen 2023-11-14T22:13:23.000Z.",
        f"Evidence: sshd[1]: Failed password for root from {IP} port 4242 ssh2",
    ]
    assert "kibana" not in notes
    assert doc["startsAt"] == T0_ISO
    assert "endsAt" not in doc and "generatorURL" not in doc
    assert metric(ctx, "ronda_received_total") == 1
    assert metric(ctx, "ronda_emitted_total") == 1
    assert metric(ctx, "ronda_alertmanager_active_alerts") == 1
    assert metric(ctx, "ronda_alertmanager_pending", url=am.url) == 0


def test_no_source_ip_label_without_source_ip_and_long_text_is_cut(
        tmp_path: Path, am: FakeAlertmanager) -> None:
    page, _, _ = make(tmp_path, [am.url])
    alert = make_alert(ip=None).model_copy(update={"message": "x" * 5000,
                                                   "evidence": ("y" * 5000,)})
    page.handle([alert])
    page.tick()
    [doc] = am.alerts()
    assert "source_ip" not in doc["labels"]
    assert len(doc["annotations"]["summary"]) == 1024
    assert len(doc["annotations"]["description"]) == 1024
    assert doc["annotations"]["description"].endswith("…")


def test_min_severity_defaults_to_high(tmp_path: Path, am: FakeAlertmanager) -> None:
    page, ctx, _ = make(tmp_path, [am.url])
    page.handle([make_alert(severity=Severity.LOW), make_alert(severity=Severity.MEDIUM)])
    page.tick()
    assert am.posts == []
    assert metric(ctx, "ronda_received_total") == 2
    low, _, _ = make(tmp_path / "low", [am.url], min_severity="medium")
    low.handle([make_alert(severity=Severity.LOW), make_alert(severity=Severity.MEDIUM)])
    low.tick()
    assert [a["labels"]["severity"] for a in am.alerts()] == ["medium"]


def test_resends_active_alerts_every_resend_interval(tmp_path: Path,
                                                     am: FakeAlertmanager) -> None:
    page, ctx, clock = make(tmp_path, [am.url])
    page.handle([make_alert()])
    page.tick()
    clock.advance(59)
    page.tick()
    assert len(am.posts) == 1
    clock.advance(1)
    page.tick()
    page.tick()
    assert len(am.posts) == 2
    assert "endsAt" not in am.posts[1]["body"][0]
    assert metric(ctx, "ronda_emitted_total") == 2


def test_resolves_quiet_alert_once_with_ends_at(tmp_path: Path, am: FakeAlertmanager) -> None:
    page, ctx, clock = make(tmp_path, [am.url], resend_interval="5m", resolve_after="10m")
    page.handle([make_alert()])
    page.tick()
    clock.advance(599)
    page.tick()  # a resend, still firing
    assert [("endsAt" in a) for a in am.alerts()] == [False, False]
    clock.advance(1)
    page.tick()
    last = am.alerts()[-1]
    assert last["endsAt"] == "2023-11-14T22:23:20.000Z"
    assert last["startsAt"] == T0_ISO
    assert metric(ctx, "ronda_alertmanager_active_alerts") == 0
    clock.advance(3600)
    page.tick()
    assert len(am.alerts()) == 3  # resolved once, then forgotten


def test_repeat_postpones_resolution(tmp_path: Path, am: FakeAlertmanager) -> None:
    page, _, clock = make(tmp_path, [am.url], resolve_after="10m")
    page.handle([make_alert(count=1)])
    page.tick()
    clock.advance(500)
    page.handle([make_alert(count=7)])  # same id, larger count
    page.tick()
    assert am.alerts()[-1]["annotations"]["count"] == "7"
    clock.advance(500)  # 1000 s after the start, 500 s after the repeat
    page.tick()
    assert all("endsAt" not in a for a in am.alerts())
    clock.advance(100)
    page.tick()
    last = am.alerts()[-1]
    assert "endsAt" in last and last["annotations"]["count"] == "7"


def test_same_label_set_is_one_alert_and_the_newest_wins(tmp_path: Path,
                                                          am: FakeAlertmanager) -> None:
    page, ctx, clock = make(tmp_path, [am.url])
    old, new = make_alert(first_seen=T0), make_alert(first_seen=T0 + 5, count=2)
    page.handle([old])
    clock.advance(5)
    page.handle([new])
    page.tick()
    [doc] = am.alerts()
    assert doc["annotations"]["event_id"] == new.id
    assert metric(ctx, "ronda_alertmanager_active_alerts") == 2
    clock.advance(596)  # the old one goes quiet first: the label set stays firing
    page.tick()
    assert all("endsAt" not in a for a in am.alerts())
    assert metric(ctx, "ronda_alertmanager_active_alerts") == 1
    clock.advance(5)
    page.tick()
    assert am.alerts()[-1]["annotations"]["event_id"] == new.id
    assert "endsAt" in am.alerts()[-1]


def test_dead_url_gets_alerts_after_it_comes_back_with_backoff(
        tmp_path: Path, am: FakeAlertmanager, am2: FakeAlertmanager,
        caplog: pytest.LogCaptureFixture) -> None:
    page, ctx, clock = make(tmp_path, [am2.url, am.url], retry_initial="1s", retry_max="60s")
    am2.stop()
    with caplog.at_level(logging.INFO, logger=LOGGER):
        page.handle([make_alert()])
        page.tick()  # failure 1: next try after 1 s
        assert len(am.posts) == 1  # the live one is not held up
        assert metric(ctx, "ronda_alertmanager_pending", url=am2.url) == 1
        clock.advance(1)
        page.tick()  # failure 2: next try after 2 s
        am2.start()
        clock.advance(1.5)
        page.tick()
        page.flush()  # flush honours the backoff too
        assert am2.posts == []
        clock.advance(0.5)
        page.tick()
    assert [a["annotations"]["event_id"] for a in am2.alerts()] == [make_alert().id]
    assert metric(ctx, "ronda_alertmanager_pending", url=am2.url) == 0
    assert len(am.posts) == 1  # no duplicate to the live one
    assert metric(ctx, "ronda_errors_total") == 2
    assert metric(ctx, "ronda_emitted_total") == 2  # once per URL
    messages = [r.getMessage() for r in caplog.records]
    assert sum("unreachable" in m for m in messages) == 1
    assert sum("reachable again after 2 failed attempts" in m for m in messages) == 1


def test_http_5xx_and_429_are_retried(tmp_path: Path, am: FakeAlertmanager) -> None:
    page, ctx, clock = make(tmp_path, [am.url])
    page.handle([make_alert()])
    for status in (500, 429):
        am.status = status
        page.tick()
        clock.advance(60)
    assert metric(ctx, "ronda_alertmanager_pending", url=am.url) == 1
    am.status = 200
    page.tick()
    assert len(am.posts) == 3
    assert am.posts[2]["body"] == am.posts[0]["body"]
    assert metric(ctx, "ronda_alertmanager_pending", url=am.url) == 0
    assert metric(ctx, "ronda_emitted_total") == 1
    assert metric(ctx, "ronda_errors_total") == 2


def test_http_400_drops_the_batch_and_counts_an_error(
        tmp_path: Path, am: FakeAlertmanager, caplog: pytest.LogCaptureFixture) -> None:
    page, ctx, clock = make(tmp_path, [am.url])
    am.status, am.reply = 400, b'{"message": "start time must be before end time"}'
    with caplog.at_level(logging.ERROR, logger=LOGGER):
        page.handle([make_alert()])
        page.tick()
        page.tick()
    assert len(am.posts) == 1  # not retried
    assert metric(ctx, "ronda_errors_total") == 1
    assert metric(ctx, "ronda_emitted_total") == 0
    assert metric(ctx, "ronda_alertmanager_pending", url=am.url) == 0
    [line] = [r.getMessage() for r in caplog.records]
    assert "HTTP 400" in line and "start time must be before end time" in line
    am.status = 200
    clock.advance(60)
    page.tick()  # a later resend is a fresh attempt
    assert len(am.posts) == 2


def test_basic_auth_from_password_file(tmp_path: Path, am: FakeAlertmanager,
                                       caplog: pytest.LogCaptureFixture) -> None:
    (tmp_path / "am.pass").write_text("s3cr3t-pw\n", encoding="utf-8")
    with caplog.at_level(logging.DEBUG, logger=LOGGER):
        page, _, _ = make(tmp_path, [am.url], username="ronda", password_file="am.pass")
        page.handle([make_alert()])
        page.tick()
    token = base64.b64encode(b"ronda:s3cr3t-pw").decode()
    assert am.posts[0]["headers"]["Authorization"] == f"Basic {token}"
    assert all("s3cr3t" not in r.getMessage() for r in caplog.records)


def test_basic_auth_from_environment(tmp_path: Path, am: FakeAlertmanager,
                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RONDA_AM_PASSWORD", "env-pw")
    page, _, _ = make(tmp_path, [am.url], username="ronda", password_env="RONDA_AM_PASSWORD")
    page.handle([make_alert()])
    page.tick()
    token = base64.b64encode(b"ronda:env-pw").decode()
    assert am.posts[0]["headers"]["Authorization"] == f"Basic {token}"


def test_missing_password_file_or_variable_is_a_clear_error(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ValueError, match=r"password_file .*missing\.pass cannot be read"):
        make(tmp_path, ["http://127.0.0.1:9093"], username="u", password_file="missing.pass")
    monkeypatch.delenv("RONDA_NO_SUCH_VAR", raising=False)
    with pytest.raises(ValueError, match="environment variable RONDA_NO_SUCH_VAR is not set"):
        make(tmp_path, ["http://127.0.0.1:9093"], username="u", password_env="RONDA_NO_SUCH_VAR")
    (tmp_path / "empty.pass").write_text("\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"empty\.pass is empty"):
        make(tmp_path, ["http://127.0.0.1:9093"], username="u", password_file="empty.pass")


@pytest.mark.parametrize(("settings", "message"), [
    ({"urls": []}, "at least one Alertmanager URL"),
    ({"urls": ["ftp://am:9093"]}, "expected http://HOST:PORT"),
    ({"urls": ["http://"]}, "expected http://HOST:PORT"),
    ({"urls": ["http://u:pw@am:9093"]}, "must not contain credentials"),
    ({"urls": ["http://am:9093", "http://am:9093/"]}, "listed twice"),
    ({"username": "u"}, "username needs password_file or password_env"),
    ({"password_env": "X"}, "need a username"),
    ({"username": "u", "password_env": "X", "password_file": "f"}, "not both"),
    ({"retry_initial": "10s", "retry_max": "5s"}, "retry_max must not be smaller"),
    ({"timeout": 0}, "greater than zero"),
    ({"kibana_url": "kibana:5601"}, "invalid kibana_url"),
    ({"max_active": 0}, "greater than or equal to 1"),
])
def test_config_validation(settings: dict[str, Any], message: str) -> None:
    body = {"type": "alertmanager", "urls": ["http://127.0.0.1:9093"], **settings}
    with pytest.raises(ValidationError, match=message):
        AlertmanagerConfig.model_validate(body)


def test_config_defaults_and_single_url() -> None:
    cfg = AlertmanagerConfig.model_validate({"type": "alertmanager",
                                             "urls": "https://am.example/alertmanager/"})
    assert cfg.urls == ["https://am.example/alertmanager"]
    assert cfg.min_severity is Severity.HIGH
    assert (cfg.timeout, cfg.resend_interval, cfg.resolve_after) == (5.0, 60.0, 600.0)
    assert (cfg.retry_initial, cfg.retry_max, cfg.max_active) == (1.0, 60.0, 10_000)
    assert cfg.username is None and cfg.kibana_url is None


def test_kibana_link(tmp_path: Path, am: FakeAlertmanager) -> None:
    page, _, _ = make(tmp_path, [am.url], kibana_url="https://kibana.example:5601/")
    alert = make_alert()
    page.handle([alert])
    page.tick()
    [doc] = am.alerts()
    link = (
        "https://kibana.example:5601/app/discover#/?_g=(time:(from:'2023-11-14T21:13:20.000Z',"
        f"to:now))&_a=(query:(language:kuery,query:'event.id:%22{alert.id}%22'))"
    )
    assert doc["annotations"]["kibana"] == link
    assert doc["generatorURL"] == link


def test_max_active_resolves_the_oldest(tmp_path: Path, am: FakeAlertmanager) -> None:
    page, ctx, clock = make(tmp_path, [am.url], max_active=2)
    for i in range(3):
        page.handle([make_alert(ip=f"203.0.113.{i}")])
        clock.advance(1)
    assert metric(ctx, "ronda_alertmanager_active_alerts") == 2
    assert metric(ctx, "ronda_dropped_total", reason="active_limit") == 1
    page.tick()
    state = {a["labels"]["source_ip"]: "endsAt" in a for a in am.alerts()}
    assert state == {"203.0.113.0": True, "203.0.113.1": False, "203.0.113.2": False}


def test_two_responders_share_the_gauges(tmp_path: Path) -> None:
    first, ctx, _ = make(tmp_path, ["http://127.0.0.1:1"])
    config = AlertmanagerConfig.model_validate({"type": "alertmanager",
                                                "urls": ["http://127.0.0.1:2"]})
    second = AlertmanagerResponder("page2", config, ctx, background=False)
    second.handle([make_alert()])
    assert ctx.metrics.value("ronda_alertmanager_active_alerts", component="page2") == 1
    assert ctx.metrics.value("ronda_alertmanager_active_alerts", component="page") == 0
    assert ctx.metrics.value("ronda_alertmanager_pending", component="page2",
                             url="http://127.0.0.1:2") == 1
    first.close()


def test_sender_thread_posts_after_handle(tmp_path: Path, am: FakeAlertmanager) -> None:
    page, _, _ = make(tmp_path, [am.url], background=True)
    page.handle([make_alert()])
    assert am.posted.wait(30)
    page.close()
    assert len(am.alerts()) == 1
    assert page._thread is not None and not page._thread.is_alive()


def test_flush_and_close_with_alertmanager_down_return(tmp_path: Path) -> None:
    page, ctx, _ = make(tmp_path, [f"http://127.0.0.1:{closed_port()}"], background=True)
    page.handle([make_alert()])
    page.flush()  # refused: returns, keeps the alert pending
    page.close()
    assert page._thread is not None and not page._thread.is_alive()
    assert metric(ctx, "ronda_errors_total") >= 1
    page.close()  # twice is harmless


def test_close_with_silent_alertmanager_is_bounded_by_timeout(tmp_path: Path) -> None:
    with socket.socket() as silent:  # accepts connections (backlog), never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        url = f"http://127.0.0.1:{silent.getsockname()[1]}"
        page, ctx, _ = make(tmp_path, [url], timeout="200ms")
        page.handle([make_alert()])
        page.flush()
        page.close()
    assert metric(ctx, "ronda_errors_total") == 2  # flush timed out; close ignores backoff
    assert metric(ctx, "ronda_alertmanager_pending", url=url) == 1
