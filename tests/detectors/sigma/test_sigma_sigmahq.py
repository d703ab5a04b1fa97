"""SigmaHQ-style rules (taxonomy field names, keywords, spec-1 dates) load unmodified and
match real nginx / auth.log lines through Ronda's parsers."""

from __future__ import annotations

from pathlib import Path

from detectors.sigma.compile import compile_rules
from detectors.sigma.correlation import CorrelationSet
from detectors.sigma.engine import Engine
from detectors.sigma.ruleset import Ruleset
from ronda.schema import Severity
from tests.detectors.sigma.sigma_support import DATA, make_ctx, parsers

SIGMAHQ = DATA / "sigmahq"


def nginx(request: str, status: int = 200, ua: str = "Mozilla/5.0", ip: str = "198.51.100.9"
          ) -> str:
    return f'{ip} - - [20/Nov/2026:09:00:00 +0700] "{request}" {status} 512 "-" "{ua}"'


def fired(ruleset: Ruleset, fmt: str, line: str) -> set[str]:
    event = parsers(fmt)(line)
    assert event is not None, line
    return {r.ref.name for r in ruleset.match(event)}


def test_everything_loads_without_skips() -> None:
    compiled = compile_rules([SIGMAHQ], None, CorrelationSet.check)
    assert compiled.skipped == []
    assert len(compiled.rules) == 12 and len(compiled.correlations) == 1
    inactive = sorted(p.rule_id for p in compiled.inactive)
    assert inactive == ["0b0ba7c0-02d8-4d43-a0fd-15e04c2ef6ac",
                        "880973f3-9708-491c-a77b-2a35a1921158"]
    text = compiled.inactive[0].text()
    assert text.startswith("INACTIVE ") and "no Ronda source produces logsource" in text


def test_web_rules_match_nginx_lines() -> None:
    ruleset = Ruleset(compile_rules([SIGMAHQ / "web"]).rules)
    assert fired(ruleset, "nginx", nginx("GET /shell.php?c=whoami HTTP/1.1")) == {
        "Webshell Detection With Command Line Keywords", "Windows Webshell Strings"}
    assert fired(ruleset, "nginx", nginx("GET /index.php?page=../../../etc/passwd HTTP/1.1")) \
        == {"Path Traversal Exploitation Attempts"}
    assert fired(ruleset, "nginx", nginx(
        "GET /?x=%24%7B%28%23a%3D%40ognl HTTP/1.1")) == {"Java Payload Strings"}
    assert fired(ruleset, "nginx", nginx(
        "GET /berita?id=1%20UNION%20SELECT%201,2 HTTP/1.1")) == {"SQL Injection Strings In URI"}
    assert fired(ruleset, "nginx", nginx("GET /a HTTP/1.1", ua="gobuster/3.1")) == {
        "Suspicious User-Agents Related To Recon Tools"}
    assert fired(ruleset, "nginx", nginx("GET /.git/config HTTP/1.1", 404)) == {
        "Source Code Enumeration Detection by Keyword"}
    # the SQLi rule ignores 404s and non-GET requests; benign traffic fires nothing
    assert fired(ruleset, "nginx", nginx("GET /?id=1%20UNION%20SELECT%201 HTTP/1.1", 404)) == set()
    assert fired(ruleset, "nginx", nginx("POST /?id=1%20UNION%20SELECT%201 HTTP/1.1")) == set()
    assert fired(ruleset, "nginx", nginx("GET /berita/2026/11/rapat HTTP/1.1")) == set()
    assert fired(ruleset, "apache", nginx("GET /shell.php?c=whoami HTTP/1.1"))


def test_linux_rules_match_auth_log_lines() -> None:
    ruleset = Ruleset(compile_rules([SIGMAHQ / "linux"]).rules)
    line = "Nov 20 09:00:00 web1 sshd[99]: error: Corrupted MAC on input. [preauth]"
    assert fired(ruleset, "sshd", line) == {"Suspicious OpenSSH Daemon Error"}
    sudo = "Nov 20 09:00:00 web1 sudo:   alice : TTY=pts/0 ; PWD=/home/alice ; USER=#-1 ; " \
           "COMMAND=/bin/bash"
    assert fired(ruleset, "sshd", sudo) == {"Sudo Privilege Escalation CVE-2019-14287 - Builtin"}
    ok = "Nov 20 09:00:00 web1 sudo:   alice : TTY=pts/0 ; PWD=/home/alice ; USER=root ; " \
         "COMMAND=/bin/bash"
    assert fired(ruleset, "sshd", ok) == set()


def test_metadata_of_sigmahq_rules() -> None:
    compiled = compile_rules([SIGMAHQ])
    by_id = {r.id: r for r in compiled.rules}
    sqli = by_id["5513deaf-f49a-46c2-a6c8-3f111b5cb453"]
    assert sqli.ref.category == "sqli" and sqli.severity is Severity.HIGH
    assert sqli.techniques == ("T1190",) and sqli.ref.ruleset == "sigma"
    assert by_id["7745c2ea-24a5-4290-b680-04359cb84b35"].ref.category == "path-traversal"
    assert by_id["7ff9db12-1b94-4a79-ba68-a2402c5d6729"].ref.category == "webshell"
    assert by_id["7ff9db12-1b94-4a79-ba68-a2402c5d6729"].techniques[0] == "T1505.003"
    assert by_id["583aa0a2-30b1-4d62-8bf3-ab73689efe6c"].ref.category == "rce"
    assert by_id["19aa4f58-94ca-45ff-bc34-92e533c0994a"].ref.category == "scanner"
    assert by_id["953d460b-f810-420a-97a2-cfca4c98e602"].ref.category == "sensitive-file"
    assert by_id["7fcc54cb-f27d-4684-84b7-436af096f858"].severity is Severity.CRITICAL
    assert by_id["f698fb2a-f888-4b4f-b309-fcc56d7096b5"].severity is Severity.LOW


def test_sigmahq_correlation_with_mapped_fields(tmp_path: Path) -> None:
    compiled = compile_rules([SIGMAHQ / "linux"], None, CorrelationSet.check)
    engine = Engine(compiled, make_ctx(tmp_path), "sigma", 1000)
    parse = parsers("sshd")
    events = [parse(f"Nov 20 09:00:{i:02d} web1 sshd[{i}]: Failed password for root from "
                    f"203.0.113.45 port {4000 + i} ssh2") for i in range(5)]
    alerts = engine.process([e for e in events if e is not None])
    names = [a.rule.name for a in alerts]
    # the base rule has generate: false by default: only the correlation alerts
    assert names == ["Potential Brute Force - Public IP Targeting Commonly Abused Accounts "
                     "- Linux"]
    assert alerts[0].fields.get("source.ip") == "203.0.113.45"
    private = [parse(f"Nov 20 09:01:{i:02d} web1 sshd[{i}]: Failed password for root from "
                     f"10.0.0.5 port {4000 + i} ssh2") for i in range(6)]
    assert engine.process([e for e in private if e is not None]) == []
