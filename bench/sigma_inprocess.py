"""The in-process measurement of bench_sigma.py (run in a fresh interpreter): build the
sigma detector, then parse and detect batch by batch, timed in CPU time."""

from __future__ import annotations

import cProfile
import os
import pstats
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(ROOT))

BATCH = 2000


def inprocess(cfg: Path, log: Path, repeat: int, profile: bool) -> dict[str, Any]:
    """Runs in its own interpreter (see run_inprocess): build the detector, parse, detect.
    Best of ``repeat`` for each phase, wall and CPU; then, with ``profile``, one more
    parse + detect pass under cProfile."""
    from ronda.clock import EventClock
    from ronda.config import load_config
    from ronda.daemon.build import build, make_context
    from ronda.daemon.common import setup_logging
    from sensor.parsers import make_parser

    text = log.read_text(encoding="utf-8").splitlines()
    inf = float("inf")
    best: dict[str, Any] = {f"{p}_{u}": inf for p in ("load", "parse", "detect")
                            for u in ("s", "cpu")}
    hot: dict[str, Any] = {}
    perf, cpu = time.perf_counter, time.process_time
    for i in range(repeat + (1 if profile else 0)):
        loaded = load_config(cfg, display=str(cfg), sets=())
        logger = setup_logging("warning")
        clock = EventClock()
        ctx = make_context(loaded, clock, logger, cfg.parent / "state")
        w0, c0 = perf(), cpu()
        comps = build(loaded, ctx, with_sources=False, with_responders=False)
        load = (perf() - w0, cpu() - c0)
        (det,) = comps.detectors
        parser = make_parser("nginx", clock)
        prof = cProfile.Profile() if profile and i == repeat else None
        if prof is not None:
            prof.enable()
        # batch by batch, as the pipeline does (holding every event of the file at once
        # would make the garbage collector, not the parser, the cost of parsing)
        parse = [0.0, 0.0]
        detect = [0.0, 0.0]
        alerts = events = 0
        for j in range(0, len(text), BATCH):
            w0, c0 = perf(), cpu()
            batch = [e for e in map(parser, text[j:j + BATCH]) if e is not None]
            w1, c1 = perf(), cpu()
            if batch:
                clock.observe(max(e.timestamp for e in batch))
                alerts += len(det.process(batch))
            w2, c2 = perf(), cpu()
            parse[0] += w1 - w0
            parse[1] += c1 - c0
            detect[0] += w2 - w1
            detect[1] += c2 - c1
            events += len(batch)
        if prof is not None:
            prof.disable()
            hot = _hotspots(prof)
            continue
        for name, (wall, used) in (("load", load), ("parse", parse), ("detect", detect)):
            best[f"{name}_s"] = min(best[f"{name}_s"], wall)
            best[f"{name}_cpu"] = min(best[f"{name}_cpu"], used)
        best["alerts"] = alerts
        best["events"] = events
        best["rules"] = len(det.rule_info())
    best["lines"] = len(text)
    best["hotspots"] = hot
    return best


def _short(filename: str) -> str:
    for base in (str(ROOT) + os.sep, sys.prefix + os.sep, sys.base_prefix + os.sep):
        if filename.startswith(base):
            return filename[len(base):]
    return filename


def _hotspots(prof: cProfile.Profile, top: int = 15) -> dict[str, Any]:
    """The functions and the files with the largest own time, as shares of the profile."""
    raw: dict[Any, Any] = pstats.Stats(prof).stats  # type: ignore[attr-defined]
    rows: list[tuple[str, float, float]] = []
    per_file: dict[str, float] = {}
    for (filename, line, func), (_cc, _nc, tt, ct, _callers) in raw.items():
        name = _short(filename)
        rows.append((f"{name}:{line}:{func}", tt, ct))
        key = name if name.startswith(("detectors", "ronda", "sensor")) else "(other)"
        if filename == "~":
            key = "(builtins)"
        per_file[key] = per_file.get(key, 0.0) + tt
    total = sum(r[1] for r in rows) or 1.0
    rows.sort(key=lambda r: r[1], reverse=True)
    files = sorted(per_file.items(), key=lambda kv: kv[1], reverse=True)
    return {"functions": [(n, tt / total, ct / total) for n, tt, ct in rows[:top]],
            "files": [(n, tt / total) for n, tt in files[:10]]}


