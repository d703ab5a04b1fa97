"""The command-line contract: demo, replay, alerts, config check, bad input exits 2."""

import json
import re
from pathlib import Path

from ronda.schema import CATEGORIES
from tests.integration.daemon import ROOT, ronda, write_config

DEMO = ROOT / "ronda" / "data" / "demo"
# Sigma correlation rules in rules/sigma/correlation/.
SSH_BRUTE_FORCE = "abd3ec39-c6ac-4221-98e9-0aa4c8bec31d"
HTTP_404_STORM = "0338b69a-0d5b-44e5-96d8-4759806c8b29"
SSH_USER_SWEEP = "f7bc2026-4e1f-4f30-8c00-3be81ac73d03"


def test_demo_prints_a_brute_force_alert() -> None:
    r = ronda("demo")
    assert r.returncode == 0, r.stderr
    # The table's RULE column shows rule names (the ids are UUIDs).
    assert "SSH brute force" in r.stdout
    assert "203.0.113.45" in r.stdout
    assert "HTTP 404 storm" in r.stdout
    assert "SSH user sweep" in r.stdout


def test_replay_sshd_jsonl_prints_valid_ecs(tmp_path: Path) -> None:
    r = ronda("replay", f"sshd:{DEMO / 'auth.log'}", "--output", "jsonl",
              "--state-dir", str(tmp_path))
    assert r.returncode == 0, r.stderr
    docs = [json.loads(line) for line in r.stdout.splitlines()]
    assert docs, "no alerts"
    ids = set()
    for d in docs:
        assert d["event"]["kind"] == "alert"
        assert d["@timestamp"].endswith("Z")
        assert d["rule"]["category"] in CATEGORIES
        assert d["ecs"]["version"]
        assert d["ronda"]["count"] >= 1
        assert d["event"]["id"] not in ids
        ids.add(d["event"]["id"])
    brute = [d for d in docs if d["rule"]["id"] == SSH_BRUTE_FORCE]
    assert brute and brute[0]["source"]["ip"] == "203.0.113.45"
    assert brute[0]["threat"]["technique"]["id"]
    # Deterministic ids: the same input gives the same documents.
    again = ronda("replay", f"sshd:{DEMO / 'auth.log'}", "--output", "jsonl", "--no-store")
    assert [json.loads(x)["event"]["id"] for x in again.stdout.splitlines()] == \
        [d["event"]["id"] for d in docs]


def test_replay_then_alerts_list_and_show(tmp_path: Path) -> None:
    r = ronda("replay", str(DEMO / "access.log"), str(DEMO / "auth.log"), "--output", "none",
              "--state-dir", str(tmp_path))
    assert r.returncode == 0, r.stderr
    r = ronda("alerts", "list", "--state-dir", str(tmp_path), "--json", "--since", "3650d")
    assert r.returncode == 0, r.stderr
    docs = [json.loads(x) for x in r.stdout.splitlines()]
    assert {SSH_BRUTE_FORCE, HTTP_404_STORM} <= {d["rule"]["id"] for d in docs}
    r = ronda("alerts", "list", "--state-dir", str(tmp_path), "--category", "brute-force",
              "--severity", "high", "--json", "--since", "3650d")
    cats = {json.loads(x)["rule"]["category"] for x in r.stdout.splitlines()}
    assert cats == {"brute-force"}
    r = ronda("alerts", "list", "--state-dir", str(tmp_path), "--since", "3650d")
    assert "FIRST SEEN" in r.stdout and "SSH brute force" in r.stdout
    first = docs[0]["event"]["id"]
    r = ronda("alerts", "show", first[:10], "--state-dir", str(tmp_path))
    assert r.returncode == 0 and json.loads(r.stdout)["event"]["id"] == first
    r = ronda("alerts", "show", "ffffffffffffff", "--state-dir", str(tmp_path))
    assert r.returncode == 2 and r.stderr.count("\n") == 1
    r = ronda("alerts", "list", "--state-dir", str(tmp_path), "--category", "nope")
    assert r.returncode == 2 and "unknown category 'nope'" in r.stderr


def test_bad_config_gives_one_line_and_exit_2(tmp_path: Path) -> None:
    cfg = tmp_path / "ronda.yaml"
    cfg.write_text("sensor: {name: t}\nsources:\n  web:\n    type: logfile\n"
                   "    path: /tmp/x.log\n    format: ngnix\n")
    for cmd in (["config", "check"], ["run"]):
        r = ronda(*cmd, "-c", str(cfg), "--state-dir", str(tmp_path))
        assert r.returncode == 2, r.stderr
        lines = r.stderr.strip().splitlines()
        assert len(lines) == 1, r.stderr
        assert lines[0].endswith(":6 sources.web.format: unknown format 'ngnix' (expected one "
                                 "of nginx, apache, sshd, syslog, json)")
        assert "Traceback" not in r.stderr
    cfg.write_text("sources:\n  web: {type: tail, path: /x}\n")
    r = ronda("config", "check", "-c", str(cfg))
    assert r.returncode == 2
    assert r.stderr.strip().endswith(":2 sources.web.type: unknown source type 'tail' "
                                     "(expected one of capture, file, logfile, pcap, syslog)")


def test_bad_rule_file_gives_one_line_and_exit_2(tmp_path: Path) -> None:
    # A rule folder of which not one rule loads stops the start: exit 2, a line naming the
    # detector and folder, then one line per problem (file:line, rule, reason).
    rules = tmp_path / "rules"
    rules.mkdir()
    (rules / "bad.yml").write_text(
        "title: Brute\nid: 5f0c7e3e-7d4e-4a53-9d6c-2f1e3a4b5c6d\ncorrelation:\n"
        "  type: event_count\n  rules: [failed]\n  group-by: [source.ip]\n"
        "  timespan: soon\n  condition: {gte: 3}\nlevel: high\n")
    cfg = write_config(tmp_path / "c.yaml", {
        "detectors": {"t": {"type": "sigma", "rules": [str(rules)]}}})
    r = ronda("config", "check", "-c", str(cfg))
    assert r.returncode == 2
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 2 and lines[0].startswith("t: "), r.stderr
    assert lines[0].endswith("not one rule could be loaded from it"), r.stderr
    assert "bad.yml:1 " in lines[1] and "Timespan 'soon' is invalid" in lines[1], r.stderr
    (rules / "bad.yml").write_text("title: x\nname: [unclosed\n")
    r = ronda("run", "-c", str(cfg), "--state-dir", str(tmp_path))
    assert r.returncode == 2, r.stderr
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 2 and "bad.yml:3: YAML syntax error" in lines[1], r.stderr
    assert "Traceback" not in r.stderr
    # A rule path that does not exist: one line.
    cfg = write_config(tmp_path / "c.yaml", {
        "detectors": {"t": {"type": "sigma", "rules": [str(tmp_path / "nope")]}}})
    r = ronda("config", "check", "-c", str(cfg))
    assert r.returncode == 2
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].endswith("nope: no such rule file or folder"), r.stderr


def test_replay_bad_inputs(tmp_path: Path) -> None:
    r = ronda("replay", str(tmp_path / "missing.log"))
    assert r.returncode == 2 and "no such file" in r.stderr
    r = ronda("replay", f"pcapng:{DEMO / 'auth.log'}")
    assert r.returncode == 2 and "unknown input kind 'pcapng'" in r.stderr
    empty = tmp_path / "empty.log"
    empty.write_text("")
    r = ronda("replay", str(empty))
    assert r.returncode == 2 and "cannot tell the log format" in r.stderr
    bad = tmp_path / "access.log.2.gz"
    bad.write_bytes(b"\x1f\x8b\x08\x00" + b"garbage" * 20)
    for spec in (str(bad), f"nginx:{bad}"):
        r = ronda("replay", spec, "--no-store", "--output", "none")
        assert r.returncode == 2 and "cannot read" in r.stderr, r.stderr
        assert "Traceback" not in r.stderr
    r = ronda("replay", f"sshd:{tmp_path}")
    assert r.returncode == 2 and "not a regular file" in r.stderr


def test_config_check_and_version() -> None:
    r = ronda("config", "check", "-c", "config/ronda.yaml")
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith("config/ronda.yaml: OK")
    r = ronda("version")
    assert r.returncode == 0 and r.stdout.startswith("ronda ")


def test_rules_list_and_validate() -> None:
    r = ronda("rules", "list", "-c", "config/ronda.yaml")
    assert r.returncode == 0, r.stderr
    rows = [line.split("\t") for line in r.stdout.splitlines()]
    assert ["sigma", SSH_BRUTE_FORCE, "high", "brute-force", "SSH brute force"] in rows
    r = ronda("rules", "validate", "-c", "config/ronda.yaml")
    assert r.returncode == 0, r.stderr
    valid = re.search(r"^(\d+) rules valid in 1 detectors$", r.stdout, re.M)
    assert valid and int(valid.group(1)) >= 100, r.stdout


def test_startup_problems_are_one_line_and_exit_2(tmp_path: Path) -> None:
    import socket

    from tests.integration.daemon import free_port
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        r = ronda("run", "--state-dir", str(tmp_path), "--set",
                  f"sources.forwarded.listen=127.0.0.1:{port}", "--set",
                  f"metrics.listen=127.0.0.1:{free_port()}", timeout=60)
    assert r.returncode == 2, r.stderr
    assert r.stderr.strip().endswith("Address already in use") and r.stderr.count("\n") == 1
    cases = {
        "empty.yaml": "sensor: {name: x}\n",
        "dir.yaml": f"sources:\n  web: {{type: logfile, path: {tmp_path}, format: nginx}}\n",
        "q.yaml": "sources:\n  web: {type: logfile, path: /x.log, format: nginx,"
                  " queue_size: 0}\n",
        "deep.yaml": "a: " + "[" * 3000 + "]" * 3000 + "\n",
        "user.yaml": "state_dir: ~nosuchuser/x\nsources:\n  web: {type: logfile, path: /x.log,"
                     " format: nginx}\n",
    }
    for name, text in cases.items():
        (tmp_path / name).write_text(text)
        r = ronda("run", "-c", str(tmp_path / name), timeout=60)
        assert r.returncode == 2, (name, r.stderr)
        assert r.stderr.count("\n") == 1 and "Traceback" not in r.stderr, (name, r.stderr)


def test_replay_of_files_from_different_days_finds_every_attack(tmp_path: Path) -> None:
    """Inputs are merged in time order: today's log does not hide yesterday's attack."""
    def auth(day: int, ip: str) -> str:
        return "".join(
            f"2026-11-{day:02d}T10:00:{i:02d}+0700 web sshd[{100 + i}]: Failed password for "
            f"root from {ip} port {4000 + i} ssh2\n" for i in range(12))
    (tmp_path / "auth.log.1").write_text(auth(19, "203.0.113.9"))
    (tmp_path / "auth.log").write_text(auth(20, "203.0.113.10"))
    for _ in range(3):
        r = ronda("replay", f"sshd:{tmp_path / 'auth.log'}", f"sshd:{tmp_path / 'auth.log.1'}",
                  "--no-store", "--output", "jsonl")
        assert r.returncode == 0, r.stderr
        brute = [d for d in map(json.loads, r.stdout.splitlines())
                 if d["rule"]["id"] == SSH_BRUTE_FORCE]
        assert sorted(d["source"]["ip"] for d in brute) == ["203.0.113.10", "203.0.113.9"]
