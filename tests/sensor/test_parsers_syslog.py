"""Syslog header, the ``syslog`` format and the syslog-transport dispatcher."""

from __future__ import annotations

import pytest

from ronda.clock import ManualClock
from sensor.parsers import (
    SYSLOG_FORMATS,
    SyslogHeaderParser,
    make_parser,
    make_syslog_message_parser,
)
from tests.sensor.conftest import local_ts

T0 = 1795230000.0  # 2026-11-21T10:00:00+07:00


def test_rfc5424_full(fixed_clock: ManualClock) -> None:
    line = ('<165>1 2026-11-21T10:00:00.003+07:00 mymachine.example.com evntslog 8710 ID47 '
            '[exampleSDID@32473 iut="3" eventSource="Appl\\"ic\\]ation"][meta@1 seq="7"] '
            '\ufeffAn application event log entry')  # fmt: skip
    e = make_parser("syslog", fixed_clock)(line)
    assert e is not None
    assert e.dataset == "syslog" and e.message == line
    assert e.timestamp == pytest.approx(T0 + 0.003)
    assert e.fields == {
        "host.hostname": "mymachine.example.com",
        "process.name": "evntslog",
        "process.pid": 8710,
        "log.syslog.priority": 165,
        "log.syslog.facility.code": 20,
        "log.syslog.facility.name": "local4",
        "log.syslog.severity.code": 5,
        "log.syslog.severity.name": "Notice",
        "log.syslog.version": "1",
        "log.syslog.msgid": "ID47",
        "log.syslog.structured_data": {
            "exampleSDID@32473": {"iut": "3", "eventSource": 'Appl"ic]ation'},
            "meta@1": {"seq": "7"},
        },
        "ronda.syslog.message": "An application event log entry",
        "event.kind": "event",
    }


def test_rfc5424_nil_values(fixed_clock: ManualClock) -> None:
    e = make_parser("syslog", fixed_clock)("<14>1 - - - - - -")
    assert e is not None
    assert e.timestamp == fixed_clock.now()
    assert e.fields["ronda.syslog.message"] == ""
    for absent in ("host.hostname", "process.name", "process.pid", "log.syslog.msgid"):
        assert absent not in e.fields
    e = make_parser("syslog", fixed_clock)("<14>1 2026-11-21T03:00:00Z host app worker-1 - - hi")
    assert e is not None
    assert e.timestamp == T0
    assert e.fields["log.syslog.procid"] == "worker-1" and "process.pid" not in e.fields
    e = make_parser("syslog", fixed_clock)("<14>1 2026-11-21T03:00:00Z host app - - [a@1]")
    assert e is not None
    assert e.fields["log.syslog.structured_data"] == {"a@1": {}}
    assert e.fields["ronda.syslog.message"] == ""


def test_rfc3164_forms(fixed_clock: ManualClock) -> None:
    p = make_parser("syslog", fixed_clock)
    e = p("<34>Nov 21 10:00:00 mymachine su[99]: 'su root' failed for lonvick on /dev/pts/8")
    assert e is not None
    assert e.timestamp == local_ts(2026, 11, 21, 10, 0, 0)
    assert e.fields["log.syslog.facility.name"] == "auth"
    assert e.fields["log.syslog.severity.name"] == "Critical"
    assert e.fields["host.hostname"] == "mymachine"
    assert e.fields["process.name"] == "su" and e.fields["process.pid"] == 99
    assert e.fields["ronda.syslog.message"] == "'su root' failed for lonvick on /dev/pts/8"
    e = p("Nov  3 04:05:06 gw kernel: [123.456] nft drop IN=eth0 SRC=1.2.3.4")
    assert e is not None
    assert e.timestamp == local_ts(2026, 11, 3, 4, 5, 6)
    assert "log.syslog.priority" not in e.fields
    assert e.fields["process.name"] == "kernel" and "process.pid" not in e.fields
    e = p("2026-11-21T10:00:00.123456+07:00 gw postfix/smtpd[812]: connect from x[1.2.3.4]")
    assert e is not None
    assert e.timestamp == pytest.approx(T0 + 0.123456)
    assert e.fields["process.name"] == "postfix/smtpd"
    e = p("<13>Nov 21 10:00:00 logger: no hostname here")
    assert e is not None
    assert "host.hostname" not in e.fields
    assert e.fields["process.name"] == "logger"
    e = p("<13>myapp: no time, no host")
    assert e is not None
    assert e.timestamp == fixed_clock.now()
    assert e.fields["process.name"] == "myapp"
    e = p("Nov 21 10:00:00 gw last message repeated 3 times")
    assert e is not None
    assert "process.name" not in e.fields
    assert e.fields["ronda.syslog.message"] == "last message repeated 3 times"


@pytest.mark.parametrize(
    "line",
    ["", "plain text", "<>x", "<abc>x", "<192>Nov 21 10:00:00 h a: x", "<013>h a: x",
     "<13>1 2026-11-21T10:00:00 h", "<13>1 2026-11-21 h a p m - x", "<13>1 nottime h a p m - x",
     "<13>1 - h a p m [unterminated x", "<13>1 - h a p m [a b=c] x", "<13>1 - h a p m [a]x",
     "Nov 21 1:00:00 h a: x", "99 is not a time"],
)  # fmt: skip
def test_not_syslog(line: str, fixed_clock: ManualClock) -> None:
    assert make_parser("syslog", fixed_clock)(line) is None
    assert SyslogHeaderParser(fixed_clock)(line) is None


def test_header_parser_is_reusable(fixed_clock: ManualClock) -> None:
    head = SyslogHeaderParser(fixed_clock)("<86>Nov 21 10:00:00 h sshd[4]: hello")
    assert head is not None
    assert (head.priority, head.hostname, head.app, head.pid, head.message) == (
        86, "h", "sshd", 4, "hello")  # fmt: skip


def test_dispatch_formats() -> None:
    assert SYSLOG_FORMATS == ("auto", "nginx", "apache", "sshd", "syslog", "json")
    with pytest.raises(ValueError, match="unknown format 'x'"):
        make_syslog_message_parser("x", ManualClock())


ACCESS = '203.0.113.7 - - [21/Nov/2026:10:00:00 +0700] "GET /shell.php?cmd=id HTTP/1.1" 200 12'


@pytest.mark.parametrize(("app", "dataset"), [
    ("nginx", "nginx.access"), ("nginx_access", "nginx.access"), ("apache2", "apache.access"),
    ("httpd", "apache.access"), ("apache", "apache.access")])  # fmt: skip
def test_auto_web(app: str, dataset: str, fixed_clock: ManualClock) -> None:
    line = f"<190>Nov 21 10:00:05 www-opd1 {app}: {ACCESS}"
    e = make_syslog_message_parser("auto", fixed_clock)(line)
    assert e is not None
    assert e.dataset == dataset
    assert e.message == line
    assert e.timestamp == T0  # the access line's own time
    assert e.fields["host.hostname"] == "www-opd1"
    assert e.fields["url.query"] == "cmd=id"
    assert e.fields["source.ip"] == "203.0.113.7"
    assert e.fields["log.syslog.facility.name"] == "local7"
    assert "ronda.syslog.message" not in e.fields


def test_auto_web_json_and_error_log(fixed_clock: ManualClock) -> None:
    p = make_syslog_message_parser("auto", fixed_clock)
    e = p('<190>Nov 21 10:00:05 www nginx: {"remote_addr":"1.2.3.4","status":403,'
          '"request_uri":"/.env","time_iso8601":"2026-11-21T10:00:00+07:00"}')  # fmt: skip
    assert e is not None
    assert e.dataset == "nginx.access"
    assert e.fields["url.path"] == "/.env" and e.fields["host.hostname"] == "www"
    assert e.timestamp == T0
    e = p("<187>Nov 21 10:00:05 www nginx: 2026/11/21 10:00:05 [error] 77#77: *9 open() failed")
    assert e is not None
    assert e.dataset == "syslog"
    assert e.fields["process.name"] == "nginx"


def test_auto_auth_and_other(fixed_clock: ManualClock) -> None:
    p = make_syslog_message_parser("auto", fixed_clock)
    e = p("<38>1 2026-11-21T10:00:00+07:00 bastion sshd 812 - - Failed password for root from "
          "203.0.113.9 port 4444 ssh2")  # fmt: skip
    assert e is not None
    assert e.dataset == "sshd.auth"
    assert e.fields["event.action"] == "ssh_login" and e.fields["host.hostname"] == "bastion"
    e = p("<85>Nov 21 10:00:00 bastion sudo:    alice : TTY=pts/0 ; PWD=/ ; USER=root ; "
          "COMMAND=/bin/id")  # fmt: skip
    assert e is not None
    assert e.dataset == "system.auth" and e.fields["event.action"] == "sudo_command"
    e = p("<86>Nov 21 10:00:00 bastion CRON[5]: pam_unix(cron:session): session closed for user "
          "root")  # fmt: skip
    assert e is not None
    assert e.dataset == "system.auth"  # authpriv facility
    e = p("<30>Nov 21 10:00:00 bastion systemd[1]: Started Daily apt upgrade.")
    assert e is not None
    assert e.dataset == "syslog"
    assert p("no header at all") is None


def test_explicit_formats_over_syslog(fixed_clock: ManualClock) -> None:
    line = f"<190>Nov 21 10:00:05 www-opd1 web: {ACCESS}"
    e = make_syslog_message_parser("nginx", fixed_clock)(line)
    assert e is not None and e.dataset == "nginx.access"
    assert e.fields["host.hostname"] == "www-opd1" and e.fields["process.name"] == "web"
    e = make_syslog_message_parser("apache", fixed_clock)(ACCESS)  # no header at all
    assert e is not None and e.dataset == "apache.access"
    assert make_syslog_message_parser("nginx", fixed_clock)("<13>Nov 21 10:00:00 h a: x") is None
    e = make_syslog_message_parser("syslog", fixed_clock)(line)
    assert e is not None and e.dataset == "syslog"
    e = make_syslog_message_parser("sshd", fixed_clock)("<13>Nov 21 10:00:00 h sshd[1]: x")
    assert e is not None and e.dataset == "sshd.auth"
    e = make_syslog_message_parser("json", fixed_clock)('<13>Nov 21 10:00:00 h app: {"a": 1}')
    assert e is not None and e.dataset == "json" and e.fields["a"] == 1
    assert e.fields["host.hostname"] == "h"
    e = make_syslog_message_parser("json", fixed_clock)('{"a": 2}')
    assert e is not None and e.fields == {"a": 2}
