"""The daemon reads every line exactly once through rotation, SIGTERM restarts and
kill -9 (at least once), checked through a JSON-lines event sink."""

from __future__ import annotations

import json
import os
import shutil
import signal
import threading
import time
from collections import Counter
from pathlib import Path

import pytest

from tests.integration.daemon import Daemon, wait_for, write_config

pytestmark = pytest.mark.slow


def _config(tmp_path: Path, log: Path, sink: Path) -> Path:
    return write_config(tmp_path / "ronda.yaml", {
        "sensor": {"name": "test"},
        "pipeline": {"checkpoint_interval": "0.5s"},
        "sources": {"app": {"type": "logfile", "path": str(log), "format": "json",
                            "rotate_grace": "2s"}},
        "responders": {"sink": {"type": "jsonl", "path": str(sink), "events": True}},
    })


def _seqs(sink: Path) -> Counter[int]:
    seen: Counter[int] = Counter()
    if not sink.exists():
        return seen
    with open(sink, encoding="utf-8") as fh:
        for line in fh:
            if not line.endswith("\n"):
                break
            doc = json.loads(line)
            if "seq" in doc:
                seen[int(doc["seq"])] += 1
    return seen


class Writer(threading.Thread):
    """Writes seq-numbered JSON lines at full speed, rotating the file ``rotations`` times."""

    def __init__(self, path: Path, total: int, rotations: int, style: str,
                 pause_every: int = 0) -> None:
        super().__init__(daemon=True)
        self.path, self.total, self.rotations, self.style = path, total, rotations, style
        self.pause_every = pause_every
        self.written = 0

    def run(self) -> None:
        every = self.total // (self.rotations + 1)
        fh = open(self.path, "a", encoding="utf-8")  # noqa: SIM115
        pad = "x" * 40
        n_rot = 0
        for seq in range(self.total):
            fh.write(f'{{"seq": {seq}, "pad": "{pad}"}}\n')
            self.written = seq + 1
            if self.pause_every and seq % self.pause_every == 0:
                fh.flush()
                time.sleep(0.001)
            if seq and seq % every == 0 and n_rot < self.rotations:
                fh.flush()
                n_rot += 1
                rotated = self.path.with_name(f"{self.path.name}.{n_rot}")
                style = self.style if self.style != "mixed" else (
                    "rename" if n_rot % 2 else "copytruncate")
                if style == "rename":
                    fh.close()
                    os.rename(self.path, rotated)
                    fh = open(self.path, "a", encoding="utf-8")  # noqa: SIM115
                else:
                    shutil.copyfile(self.path, rotated)
                    os.truncate(self.path, 0)
        fh.close()


@pytest.mark.parametrize("style", ["rename", "copytruncate"])
def test_rotation_every_line_exactly_once(tmp_path: Path, style: str) -> None:
    log, sink = tmp_path / "app.log", tmp_path / "events.jsonl"
    log.touch()
    d = Daemon(_config(tmp_path, log, sink), tmp_path / "state", tmp_path / "ronda.out").start()
    w = Writer(log, 100_000, 10, style)
    w.start()
    w.join()
    wait_for(lambda: len(_seqs(sink)) >= 100_000, 180, "all lines")
    code, _ = d.stop()
    assert code == 0
    seen = _seqs(sink)
    assert len(seen) == 100_000 and set(seen.values()) == {1}, (
        f"missing {100_000 - len(seen)}, duplicated {sum(1 for v in seen.values() if v > 1)}")
    rotations = d.log_path.read_text()
    assert "Traceback" not in rotations


def test_sigterm_restart_loses_nothing_and_reads_nothing_twice(tmp_path: Path) -> None:
    log, sink = tmp_path / "app.log", tmp_path / "events.jsonl"
    log.touch()
    cfg = _config(tmp_path, log, sink)
    w = Writer(log, 60_000, 4, "mixed", pause_every=200)
    d = Daemon(cfg, tmp_path / "state", tmp_path / "ronda.out").start()
    w.start()
    wait_for(lambda: len(_seqs(sink)) > 5_000, 60, "a first part")
    code, took = d.stop(signal.SIGTERM)
    assert code == 0 and took < 10
    stopped_at = len(_seqs(sink))
    time.sleep(0.5)  # the writer goes on (and rotates) while the daemon is down
    d = Daemon(cfg, tmp_path / "state", tmp_path / "ronda.out").start()
    w.join()
    wait_for(lambda: len(_seqs(sink)) >= 60_000, 120, "all lines after restart")
    code, _ = d.stop(signal.SIGTERM)
    assert code == 0
    seen = _seqs(sink)
    assert stopped_at < 60_000
    assert len(seen) == 60_000, f"missing {60_000 - len(seen)}"
    assert set(seen.values()) == {1}, "a line was read twice"


def test_kill_9_restart_loses_nothing(tmp_path: Path) -> None:
    log, sink = tmp_path / "app.log", tmp_path / "events.jsonl"
    log.touch()
    cfg = _config(tmp_path, log, sink)
    w = Writer(log, 60_000, 2, "rename", pause_every=200)
    d = Daemon(cfg, tmp_path / "state", tmp_path / "ronda.out").start()
    w.start()
    wait_for(lambda: len(_seqs(sink)) > 10_000, 60, "a first part")
    d.stop(signal.SIGKILL)
    d = Daemon(cfg, tmp_path / "state", tmp_path / "ronda.out").start()
    w.join()
    wait_for(lambda: len(_seqs(sink)) >= 60_000, 120, "all lines after kill -9")
    code, _ = d.stop(signal.SIGTERM)
    assert code == 0
    assert len(_seqs(sink)) == 60_000


def test_sighup_reload_keeps_old_rules_when_broken(tmp_path: Path) -> None:
    rules = tmp_path / "rules"
    rules.mkdir()
    rule = ("- id: t-fail\n  name: failures\n  category: brute-force\n  severity: high\n"
            "  where: {event.outcome: failure}\n  group_by: [source.ip]\n  window: 60s\n"
            "  threshold: 3\n")
    (rules / "r.yml").write_text(rule)
    log = tmp_path / "app.log"
    log.touch()
    cfg = write_config(tmp_path / "ronda.yaml", {
        "sources": {"app": {"type": "logfile", "path": str(log), "format": "json"}},
        "detectors": {"t": {"type": "threshold", "rules": [str(rules)]}},
        "responders": {"store": {"type": "sqlite"}},
    })
    d = Daemon(cfg, tmp_path / "state", tmp_path / "ronda.out").start()
    (rules / "r.yml").write_text(rule.replace("window: 60s", "window: whenever"))
    d.send(signal.SIGHUP)
    wait_for(lambda: d.metric("ronda_rule_reloads_total", result="failed") == 1, 20, "reload")
    errors = [ln for ln in d.log().splitlines() if " ERROR " in ln]
    assert len(errors) == 1 and "r.yml:" in errors[0] and "window" in errors[0]
    now = time.time()
    with open(log, "a") as fh:
        for i in range(3):
            fh.write(json.dumps({"@timestamp": now + i, "event": {"outcome": "failure"},
                                 "source": {"ip": "192.0.2.50"}}) + "\n")
    wait_for(lambda: d.metric("ronda_alerts_total", category="brute-force") == 1, 20,
             "an alert from the old rules")
    (rules / "r.yml").write_text(rule.replace("threshold: 3", "threshold: 2"))
    d.send(signal.SIGHUP)
    wait_for(lambda: d.metric("ronda_rule_reloads_total", result="ok") == 1, 20, "reload ok")
    code, took = d.stop()
    assert code == 0 and took < 10
