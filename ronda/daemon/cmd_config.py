"""``ronda config check`` (``ronda rules ...`` lives in :mod:`ronda.daemon.cmd_rules`)."""

from __future__ import annotations

import argparse

from ronda.clock import SystemClock
from ronda.daemon.build import build, check_config, make_context
from ronda.daemon.common import load_from_args, setup_logging


def cmd_config_check(args: argparse.Namespace) -> int:
    loaded = load_from_args(args)
    checked = check_config(loaded)
    log = setup_logging("warning")
    ctx = make_context(loaded, SystemClock(), log)
    comps = build(loaded, ctx, with_sources=False, with_responders=False)
    rules = sum(int(ctx.metrics.value("ronda_rules_loaded", detector=d.name))
                for d in comps.detectors)
    counts = ", ".join(f"{len(v)} {k}" for k, v in checked.items())
    print(f"{loaded.display}: OK ({counts}; {rules} rules)")
    return 0
