"""CrowdSec as a benchmark peer: replay one nginx access log offline, time it, count alerts.

Uses Debian's crowdsec 1.4 package unpacked by scripts/install-crowdsec.sh into
.cache/crowdsec (nothing installed, no service). :func:`prepare` builds a scratch config
dir from the templates beside this file:

- ``config.yaml.in`` -> config.yaml (paths, a free local port for the local API);
- the hub items of ``items.txt`` enabled the way cscli and Debian's postinst do it:
  ``config/<type>/[<stage>/]<name>.yaml`` symlinked to the hub file, collections resolved
  through the hub's ``.index.json``. cscli itself cannot be used for that offline: in 1.4
  ``cscli collections install`` always downloads the item from hub-cdn.crowdsec.net;
- the data files the enabled scenarios name, copied from the package's data dir (one is
  shipped under its upstream name: ``path_traversal.txt`` for ``http_path_traversal.txt``);
- a local API machine (``cscli machines add --auto``, which only writes the sqlite db and
  the credentials file).

:meth:`Peer.run` then times ``crowdsec -c config.yaml -dsn file://LOG -type nginx -no-capi``:
time-machine mode, the file read once, the agent exits when acquisition is done and the
buckets have drained. The local API runs inside that process (127.0.0.1 only) because the
1.4 agent pushes its alerts there and will not start without it; the Central API is off.
Alerts are counted from the run's sqlite db.
"""

from __future__ import annotations

import json
import os
import resource
import shutil
import socket
import sqlite3
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from string import Template
from typing import Any

import yaml

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
PREFIX = ROOT / ".cache" / "crowdsec"
TYPES = ("parsers", "scenarios", "postoverflows", "collections")


class NotRunnable(Exception):
    """CrowdSec cannot be run here; the message says why."""


@dataclass
class RunResult:
    seconds: float
    cpu: float
    """User + system seconds of the crowdsec process (all its threads)."""
    alerts: int
    by_scenario: dict[str, int]


def _children_cpu() -> float:
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    return ru.ru_utime + ru.ru_stime


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _items(path: Path) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.split("#", 1)[0].strip()
        if line:
            kind, name = line.split()
            out.append((kind, name))
    return out


class Peer:
    def __init__(self, workdir: Path, prefix: Path = PREFIX, pin: list[str] | None = None):
        self.prefix = prefix
        self.dir = workdir
        self.pin = pin or []
        self.crowdsec = prefix / "usr" / "bin" / "crowdsec"
        self.cscli = prefix / "usr" / "bin" / "cscli"
        self.hub = prefix / "usr" / "share" / "crowdsec" / "hub"
        self.config = workdir / "config" / "config.yaml"
        self.enabled: list[str] = []

    def version(self) -> str:
        r = subprocess.run([str(self.crowdsec), "-version"], capture_output=True, text=True)
        for line in (r.stdout + r.stderr).splitlines():
            if "version:" in line:
                return line.split("version:", 1)[1].strip()
        return "?"

    # setup ----------------------------------------------------------------------------
    def prepare(self) -> None:
        if not self.crowdsec.is_file() or not (self.hub / ".index.json").is_file():
            where = self.crowdsec
            if where.is_relative_to(ROOT):
                where = where.relative_to(ROOT)
            raise NotRunnable(f"{where} is missing "
                              "(scripts/install-crowdsec.sh unpacks Debian's package)")
        cfg = self.dir / "config"
        data = self.dir / "data"
        cfg.mkdir(parents=True, exist_ok=True)
        data.mkdir(parents=True, exist_ok=True)
        values = {"dir": str(self.dir), "hub": str(self.hub), "port": str(_free_port())}
        tpl = Template((HERE / "config.yaml.in").read_text(encoding="utf-8"))
        self.config.write_text(tpl.substitute(values), encoding="utf-8")
        for name in ("profiles.yaml", "simulation.yaml", "acquis.yaml"):
            shutil.copy(HERE / name, cfg / name)
        patterns = cfg / "patterns"
        if not patterns.exists():
            patterns.symlink_to(self.prefix / "etc" / "crowdsec" / "patterns")
        index: dict[str, Any] = json.loads((self.hub / ".index.json").read_text("utf-8"))
        done: set[tuple[str, str]] = set()
        for kind, name in _items(HERE / "items.txt"):
            self._enable(index, kind, name, done)
        self.enabled = sorted(f"{k}:{n}" for k, n in done)
        self._copy_data(cfg)

    def _enable(self, index: dict[str, Any], kind: str, name: str,
                done: set[tuple[str, str]]) -> None:
        if (kind, name) in done:
            return
        item = index.get(kind, {}).get(name)
        if item is None:
            raise NotRunnable(f"hub item {kind} {name} is not in the offline hub")
        done.add((kind, name))
        rel = Path(item["path"])  # e.g. parsers/s01-parse/crowdsecurity/nginx-logs.yaml
        # cscli's layout: the author directory is dropped (config/parsers/s01-parse/x.yaml)
        link = self.dir / "config" / rel.parent.parent / rel.name
        link.parent.mkdir(parents=True, exist_ok=True)
        if not link.is_symlink():
            link.symlink_to(self.hub / rel)
        for sub in TYPES:
            for child in item.get(sub) or []:
                self._enable(index, sub, child, done)

    def _copy_data(self, cfg: Path) -> None:
        shipped = self.prefix / "usr" / "share" / "crowdsec" / "data"
        for path in sorted(cfg.rglob("*.yaml")):
            if not path.is_symlink():
                continue
            for doc in yaml.safe_load_all(path.read_text(encoding="utf-8")):
                for entry in (doc or {}).get("data") or []:
                    dest = self.dir / "data" / entry["dest_file"]
                    if dest.exists():
                        continue
                    candidates = [shipped / entry["dest_file"]]
                    if entry.get("source_url"):
                        candidates.append(shipped / entry["source_url"].rsplit("/", 1)[-1])
                    for src in candidates:
                        if src.is_file():
                            shutil.copy(src, dest)
                            break
                    else:
                        raise NotRunnable(f"data file {entry['dest_file']} (for {path.name}) "
                                          "is not in the package's data dir")

    # runs -------------------------------------------------------------------------------
    def _reset_db(self) -> None:
        db = self.dir / "data" / "crowdsec.db"
        for p in (db, db.with_name("crowdsec.db-wal"), db.with_name("crowdsec.db-shm")):
            p.unlink(missing_ok=True)
        creds = self.dir / "config" / "local_api_credentials.yaml"
        r = subprocess.run([str(self.cscli), "-c", str(self.config), "--error", "machines",
                            "add", "bench", "--auto", "--force", "-f", str(creds)],
                           capture_output=True, text=True)
        if r.returncode != 0:
            raise NotRunnable(f"cscli machines add failed: {r.stderr.strip()[-500:]}")

    def command(self, log: Path) -> list[str]:
        return [*self.pin, str(self.crowdsec), "-c", str(self.config),
                "-dsn", f"file://{log.resolve()}", "-type", "nginx", "-no-capi"]

    def run(self, log: Path, timeout: float | None = None) -> RunResult:
        self._reset_db()
        env = {**os.environ, "TZ": "UTC"}
        c0 = _children_cpu()
        t0 = time.perf_counter()
        r = subprocess.run(self.command(log), capture_output=True, text=True, env=env,
                           timeout=timeout, cwd=self.dir)
        took = time.perf_counter() - t0
        cpu = _children_cpu() - c0
        if r.returncode != 0:
            tail = "\n".join(ln for ln in (r.stdout + r.stderr).splitlines()
                             if "fatal" in ln or "error" in ln.lower())[-1500:]
            raise NotRunnable(f"crowdsec exited with {r.returncode}: {tail}")
        return RunResult(took, cpu, *self.count_alerts())

    def count_alerts(self) -> tuple[int, dict[str, int]]:
        con = sqlite3.connect(self.dir / "data" / "crowdsec.db")
        try:
            rows = con.execute("SELECT scenario, COUNT(*) FROM alerts GROUP BY scenario")
            by = {str(s): int(n) for s, n in rows}
        finally:
            con.close()
        return sum(by.values()), by
