"""The daemon reads every line exactly once through rotation, SIGTERM restarts and
kill -9 (at least once), checked through a JSON-lines event sink."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import threading
import time
from collections import Counter
from pathlib import Path
from typing import TextIO

import pytest

from tests.integration.daemon import Daemon, wait_for, write_config

pytestmark = pytest.mark.slow


def _config(tmp_path: Path, log: Path, sink: Path) -> Path:
    return write_config(tmp_path / "ronda.yaml", {
        "sensor": {"name": "test"},
        "pipeline": {"checkpoint_interval": "0.5s"},
        "sources": {"app": {"type": "logfile", "path": str(log), "format": "json",
                            "rotate_grace": "2s"}},
        # A lossless archive: this responder makes detection wait rather than drop.
        "responders": {"sink": {"type": "jsonl", "path": str(sink), "events": True,
                                "overflow": "block"}},
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


def _sample(text: str, name: str, label: str = "") -> float:
    return sum(float(line.rsplit(" ", 1)[1]) for line in text.splitlines()
               if line.startswith(name) and label in line)


class RotationMonitor(threading.Thread):
    """Follows ``ronda_file_rotations_total`` so a rotation waits until the daemon has
    followed the previous one. The writer never waits: it goes on at full speed, as an
    application does; only logrotate's next run is spaced out, as it is in real life
    (no tailer can follow a file renamed twice before it looked once, nor recover lines
    that were copied and truncated away before it read the file at all)."""

    def __init__(self, daemon: Daemon | None) -> None:
        super().__init__(daemon=True)
        self.d, self.count, self.done = daemon, 0, threading.Event()
        self.received = 0

    def run(self) -> None:
        while not self.done.is_set() and self.d is not None:
            with contextlib.suppress(OSError, AssertionError):
                text = self.d.metrics_text()
                self.count = int(_sample(text, "ronda_file_rotations_total"))
                self.received = int(_sample(text, "ronda_received_total", 'component="app"'))
            time.sleep(0.01)


class Writer(threading.Thread):
    """Appends seq-numbered JSON lines at full speed from ``start`` to ``stop``, rotating
    (``rename``: logrotate ``create``; ``copytruncate``) at the given seqs once the daemon
    has followed the rotation before."""

    def __init__(self, path: Path, start: int, stop: int, rotate_at: list[int], style: str,
                 monitor: RotationMonitor | None, pause_every: int = 0) -> None:
        super().__init__(daemon=True)
        self.path, self.start_seq, self.stop_seq = path, start, stop
        self.rotate_at, self.style, self.monitor = list(rotate_at), style, monitor
        self.pause_every = pause_every
        self.rotations = 0
        self.last_rotation_seq = -1

    def rotate(self, fh: TextIO) -> TextIO:
        fh.flush()
        n = len(list(self.path.parent.glob(self.path.name + ".*"))) + 1
        rotated = self.path.with_name(f"{self.path.name}.{n}")
        if self.style == "rename":
            fh.close()
            os.rename(self.path, rotated)
            fh = open(self.path, "a", encoding="utf-8")  # noqa: SIM115
        else:
            shutil.copyfile(self.path, rotated)
            os.truncate(self.path, 0)
        self.rotations += 1
        return fh

    def may_rotate(self) -> bool:
        m = self.monitor
        return m is None or (m.count >= self.rotations
                             and m.received > self.last_rotation_seq + 1)

    def run(self) -> None:
        fh: TextIO = open(self.path, "a", encoding="utf-8")  # noqa: SIM115
        pad = "x" * 40
        for seq in range(self.start_seq, self.stop_seq):
            fh.write(f'{{"seq": {seq}, "pad": "{pad}"}}\n')
            if self.pause_every and seq % self.pause_every == 0:
                fh.flush()
                time.sleep(0.001)
            if self.rotate_at and seq >= self.rotate_at[0]:
                if self.may_rotate():
                    self.rotate_at.pop(0)
                    fh = self.rotate(fh)
                    self.last_rotation_seq = seq
                else:  # logrotate's next run is due: slow down until it can happen
                    fh.flush()
                    time.sleep(0.001)
        fh.close()


def _run(d: Daemon, w: Writer) -> RotationMonitor:
    mon = RotationMonitor(d)
    w.monitor = mon
    mon.start()
    w.start()
    return mon


@pytest.mark.parametrize("style", ["rename", "copytruncate"])
def test_rotation_every_line_exactly_once(tmp_path: Path, style: str) -> None:
    log, sink = tmp_path / "app.log", tmp_path / "events.jsonl"
    log.touch()
    d = Daemon(_config(tmp_path, log, sink), tmp_path / "state", tmp_path / "ronda.out").start()
    w = Writer(log, 0, 100_000, [9_000 * (i + 1) for i in range(10)], style, None)
    mon = _run(d, w)
    w.join()
    wait_for(lambda: len(_seqs(sink)) >= 100_000, 180, "all lines")
    mon.done.set()
    assert w.rotations == 10 and not w.rotate_at
    wait_for(lambda: d.metric("ronda_file_rotations_total", style=style) == 10, 30, "rotations")
    code, _ = d.stop()
    assert code == 0
    seen = _seqs(sink)
    assert len(seen) == 100_000 and set(seen.values()) == {1}, (
        f"missing {100_000 - len(seen)}, duplicated {sum(1 for v in seen.values() if v > 1)}")
    assert "Traceback" not in d.log()


def test_sigterm_restart_loses_nothing_and_reads_nothing_twice(tmp_path: Path) -> None:
    log, sink = tmp_path / "app.log", tmp_path / "events.jsonl"
    log.touch()
    cfg = _config(tmp_path, log, sink)
    d = Daemon(cfg, tmp_path / "state", tmp_path / "ronda.out").start()
    w = Writer(log, 0, 30_000, [10_000], "rename", None, pause_every=100)
    mon = _run(d, w)
    wait_for(lambda: len(_seqs(sink)) > 5_000, 60, "a first part")
    code, took = d.stop(signal.SIGTERM)  # in the middle of the stream
    mon.done.set()
    assert code == 0 and took < 10
    w.join()
    stopped_at = len(_seqs(sink))
    # While the daemon is down the log rotates and grows.
    down = Writer(log, 30_000, 40_000, [30_000], "rename", None)
    down.run()
    d = Daemon(cfg, tmp_path / "state", tmp_path / "ronda.out").start()
    # Before the copytruncate the daemon has caught up: a copy made before the tailer
    # ever looked at the file cannot be told apart from any other old file.
    wait_for(lambda: len(_seqs(sink)) >= 40_000, 60, "catching up after restart")
    w = Writer(log, 40_000, 60_000, [50_000], "copytruncate", None, pause_every=100)
    mon = _run(d, w)
    w.join()
    wait_for(lambda: len(_seqs(sink)) >= 60_000, 120, "all lines after restart")
    mon.done.set()
    code, _ = d.stop(signal.SIGTERM)
    assert code == 0
    seen = _seqs(sink)
    assert stopped_at < 30_000
    assert len(seen) == 60_000, f"missing {60_000 - len(seen)}"
    assert set(seen.values()) == {1}, "a line was read twice"


def test_kill_9_restart_loses_nothing(tmp_path: Path) -> None:
    log, sink = tmp_path / "app.log", tmp_path / "events.jsonl"
    log.touch()
    cfg = _config(tmp_path, log, sink)
    d = Daemon(cfg, tmp_path / "state", tmp_path / "ronda.out").start()
    w = Writer(log, 0, 30_000, [10_000], "rename", None, pause_every=100)
    mon = _run(d, w)
    wait_for(lambda: len(_seqs(sink)) > 10_000, 60, "a first part")
    d.stop(signal.SIGKILL)
    mon.done.set()
    w.join()
    d = Daemon(cfg, tmp_path / "state", tmp_path / "ronda.out").start()
    w = Writer(log, 30_000, 60_000, [45_000], "rename", None, pause_every=100)
    mon = _run(d, w)
    w.join()
    wait_for(lambda: len(_seqs(sink)) >= 60_000, 120, "all lines after kill -9")
    mon.done.set()
    code, _ = d.stop(signal.SIGTERM)
    assert code == 0
    assert len(_seqs(sink)) == 60_000


def test_sighup_reload_keeps_old_rules_when_broken(tmp_path: Path) -> None:
    rules = tmp_path / "rules"
    rules.mkdir()
    (rules / "base.yml").write_text(
        "title: failure\nid: 0b6f3c1d-2a4e-4f5b-8c7d-9e0a1b2c3d4e\nname: t_failure\n"
        "logsource: {product: linux, service: sshd}\n"
        "detection:\n  selection: {event.outcome: failure}\n  condition: selection\n")
    rule = ("title: failures\nid: 7a8b9c0d-1e2f-4a3b-9c4d-5e6f7a8b9c0d\n"
            "tags: [ronda.category.brute-force]\n"
            "correlation:\n  type: event_count\n  rules: [t_failure]\n"
            "  group-by: [source.ip]\n  timespan: 60s\n  condition: {gte: 3}\nlevel: high\n")
    (rules / "r.yml").write_text(rule)
    log = tmp_path / "app.log"
    log.touch()
    cfg = write_config(tmp_path / "ronda.yaml", {
        "sources": {"app": {"type": "logfile", "path": str(log), "format": "json"}},
        # Two configured files: a configured file of which no rule loads fails the reload.
        "detectors": {"t": {"type": "sigma",
                            "rules": [str(rules / "base.yml"), str(rules / "r.yml")]}},
        "responders": {"store": {"type": "sqlite"}},
    })
    d = Daemon(cfg, tmp_path / "state", tmp_path / "ronda.out").start()
    (rules / "r.yml").write_text(rule.replace("timespan: 60s", "timespan: whenever"))
    d.send(signal.SIGHUP)
    wait_for(lambda: d.metric("ronda_rule_reloads_total", result="failed") == 1, 20, "reload")
    errors = [ln for ln in d.log().splitlines() if " ERROR " in ln]
    assert len(errors) == 1 and "r.yml: not one rule could be loaded" in errors[0], errors
    now = time.time()
    with open(log, "a") as fh:
        for i in range(3):
            fh.write(json.dumps({"@timestamp": now + i,
                                 "event": {"dataset": "sshd.auth", "outcome": "failure"},
                                 "source": {"ip": "192.0.2.50"}}) + "\n")
    wait_for(lambda: d.metric("ronda_alerts_total", category="brute-force") == 1, 20,
             "an alert from the old rules")
    (rules / "r.yml").write_text(rule.replace("gte: 3", "gte: 2"))
    d.send(signal.SIGHUP)
    wait_for(lambda: d.metric("ronda_rule_reloads_total", result="ok") == 1, 20, "reload ok")
    with open(log, "a") as fh:  # two failures now make an alert
        for i in range(2):
            fh.write(json.dumps({"@timestamp": time.time() + i,
                                 "event": {"dataset": "sshd.auth", "outcome": "failure"},
                                 "source": {"ip": "192.0.2.51"}}) + "\n")
    wait_for(lambda: d.metric("ronda_alerts_total", category="brute-force") == 2, 20,
             "an alert from the new threshold")
    code, took = d.stop()
    assert code == 0 and took < 10


def test_several_rotations_while_down(tmp_path: Path) -> None:
    """Down across three renames: the generations in between are read, none twice."""
    log, sink = tmp_path / "app.log", tmp_path / "events.jsonl"
    log.touch()
    cfg = _config(tmp_path, log, sink)
    d = Daemon(cfg, tmp_path / "state", tmp_path / "ronda.out").start()
    Writer(log, 0, 5_000, [], "rename", None).run()
    wait_for(lambda: len(_seqs(sink)) >= 5_000, 60, "the first part")
    assert d.stop()[0] == 0
    Writer(log, 5_000, 20_000, [7_000, 12_000, 16_000], "rename", None).run()
    d = Daemon(cfg, tmp_path / "state", tmp_path / "ronda.out").start()
    wait_for(lambda: len(_seqs(sink)) >= 20_000, 60, "all lines")
    time.sleep(1)
    assert d.stop()[0] == 0
    seen = _seqs(sink)
    assert len(seen) == 20_000 and set(seen.values()) == {1}
