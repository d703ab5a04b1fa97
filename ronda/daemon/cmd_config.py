"""``ronda config check`` and ``ronda rules list|validate``."""

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


def cmd_rules(args: argparse.Namespace) -> int:
    loaded = load_from_args(args)
    log = setup_logging("warning")
    ctx = make_context(loaded, SystemClock(), log)
    comps = build(loaded, ctx, with_sources=False, with_responders=False)
    total = 0
    for d in comps.detectors:
        total += int(ctx.metrics.value("ronda_rules_loaded", detector=d.name))
        if args.action == "list":
            for ref, severity in d.rule_info():
                print(f"{d.name}\t{ref.id}\t{severity.value}\t{ref.category}\t{ref.name}")
    if args.action == "validate":
        print(f"{total} rules valid in {len(comps.detectors)} detectors")
    return 0
