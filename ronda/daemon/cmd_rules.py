"""``ronda rules list|validate|test``.

- ``list``: the rules every configured detector runs (tab-separated).
- ``validate [PATHS...]``: load the configured detectors' rules (or the Sigma rule files
  and folders given) and report every rule that does not run: ``SKIP <file>:<line> <id>
  <title>: <reason>`` and ``INACTIVE ...``; exit 0 unless a path does not exist, the
  config is bad or a configured path yields no rule at all (exit 2).
- ``export --format elasticsearch [PATHS...]``: the Sigma rules as Elastic Security
  detection rules (NDJSON), see :mod:`detectors.sigma.export`.
- ``test [PATHS...]``: run every Sigma rule's samples (the sigma detectors' rule paths,
  or the paths given); one ``FAIL`` line per failure and a summary; exit 1 on a failure or
  a rule without samples, 2 on unreadable input.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from detectors.sigma.compile import Compiled, compile_rules
from detectors.sigma.correlation import CorrelationSet
from detectors.sigma.detector import SigmaConfig, SigmaDetector
from detectors.sigma.engine import Engine
from detectors.sigma.export import EVENT_INDICES as EXPORT_INDICES
from detectors.sigma.samples import T0, SampleReport, check_paths
from ronda.clock import ManualClock, SystemClock
from ronda.component import Context
from ronda.config import LoadedConfig
from ronda.daemon.build import _construct, check_config, make_context
from ronda.daemon.common import load_from_args, setup_logging
from ronda.errors import InputError, RondaError, RuleError
from ronda.schema import Event
from sensor.parsers import make_parser


def cmd_rules(args: argparse.Namespace) -> int:
    if args.action == "list":
        return _list(args)
    if args.action == "validate":
        return _validate(args)
    if args.action == "export":
        return _export(args)
    return _test(args)


def _setup(args: argparse.Namespace) -> tuple[LoadedConfig, Context, dict[str, tuple[type[Any],
                                                                                   Any]]]:
    loaded = load_from_args(args)
    checked = check_config(loaded)
    log = setup_logging("error")
    ctx = make_context(loaded, SystemClock(), log)
    return loaded, ctx, checked["detectors"]


def _list(args: argparse.Namespace) -> int:
    loaded, ctx, detectors = _setup(args)
    for name, (cls, cfg) in detectors.items():
        det = _construct(loaded, "detectors", name, cls, cfg, ctx)
        det.reload()
        for ref, severity in det.rule_info():
            print(f"{det.name}\t{ref.id}\t{severity.value}\t{ref.category}\t{ref.name}")
    return 0


def _sigma_configs(detectors: dict[str, tuple[type[Any], Any]]) -> dict[str, SigmaConfig]:
    return {name: cfg for name, (cls, cfg) in detectors.items() if cls is SigmaDetector}


def _placeholders(configs: dict[str, SigmaConfig]) -> dict[str, list[str | int]]:
    merged: dict[str, list[str | int]] = {}
    for cfg in configs.values():
        merged.update(cfg.placeholders)
    return merged


def _explicit(args: argparse.Namespace) -> list[Path]:
    paths = [Path(p) for p in (getattr(args, "paths", None) or [])]
    missing = [f"{p}: no such rule file or folder" for p in paths if not p.exists()]
    if missing:
        raise InputError(*missing)
    return paths


def _validate(args: argparse.Namespace) -> int:
    paths = _explicit(args)
    loaded, ctx, detectors = _setup(args)
    sigma = _sigma_configs(detectors)
    errors: list[str] = []
    total = 0
    if paths:
        compiled = compile_rules(paths, _placeholders(sigma), CorrelationSet.check)
        total += _report_sigma("sigma", compiled, ctx, 100_000, errors)
        print(f"{total} rules valid in {len(paths)} paths")
        return _finish(errors)
    for name, (cls, cfg) in detectors.items():
        if cls is SigmaDetector:
            compiled = compile_rules([ctx.resolve(p) for p in cfg.rules], cfg.placeholders,
                                     CorrelationSet.check)
            total += _report_sigma(name, compiled, ctx, cfg.max_groups, errors)
            errors.extend(f"{name}: {path}: not one rule could be loaded from it"
                          for path in compiled.barren)
            continue
        try:
            det = _construct(loaded, "detectors", name, cls, cfg, ctx)
            total += det.reload()
            for line in getattr(det, "validation_lines", list)():
                print(line)
        except RondaError as exc:
            errors.extend(exc.lines)
    print(f"{total} rules valid in {len(detectors)} detectors")
    return _finish(errors)


def _report_sigma(name: str, compiled: Compiled, ctx: Context, max_groups: int,
                  errors: list[str]) -> int:
    engine = Engine(compiled, ctx, name, max_groups)
    problems = [*compiled.skipped, *engine.problems]
    for problem in problems:
        print(problem.text())
    for problem in compiled.inactive:
        print(problem.text())
    errors.extend(f"{name}: {m}" for m in compiled.missing)
    count = engine.rule_count()
    print(f"{name}: {count} rules loaded ({len(compiled.rules)} detection, "
          f"{count - len(compiled.rules)} correlation), {len(problems)} skipped, "
          f"{len(compiled.inactive)} inactive, from {len(compiled.files)} files")
    return count


def _finish(errors: list[str]) -> int:
    if errors:
        raise RuleError(*errors)
    return 0


def _parsers() -> Callable[[str], Callable[[str], Event | None]]:
    clock = ManualClock(T0)
    return lambda fmt: make_parser(fmt, clock)


def _test(args: argparse.Namespace) -> int:
    paths = _explicit(args)
    _, ctx, detectors = _setup(args)
    sigma = _sigma_configs(detectors)
    runs: list[tuple[list[Path], SigmaConfig | None]] = []
    if paths:
        runs.append((paths, None))
    else:
        runs.extend(([ctx.resolve(p) for p in cfg.rules], cfg) for cfg in sigma.values())
        if not runs:
            raise InputError("no sigma detector in the config: name rule files or folders "
                             "(ronda rules test PATH...)")
    total = SampleReport()
    placeholders = _placeholders(sigma)
    for run_paths, cfg in runs:
        missing = [p for p in run_paths if not p.exists()]
        if missing:
            raise InputError(*(f"{p}: no such rule file or folder" for p in missing))
        report = check_paths(run_paths, _parsers(),
                             cfg.placeholders if cfg is not None else placeholders,
                             cfg.max_groups if cfg is not None else 100_000)
        total.rules += report.rules
        total.samples += report.samples
        total.failures.extend(report.failures)
        total.untested.extend(report.untested)
    for line in total.failures:
        print(line)
    if getattr(args, "verbose", False):
        for line in total.untested:
            print(line)
    print(total.summary())
    return 0 if total.ok else 1


def _export(args: argparse.Namespace) -> int:
    """``ronda rules export --format elasticsearch``: Elastic Security detection rules."""
    from sigma.collection import SigmaCollection

    from detectors.sigma.attack import attack_data
    from detectors.sigma.export import export_elasticsearch
    from detectors.sigma.loader import load_paths

    paths = _explicit(args)
    _, ctx, detectors = _setup(args)
    sigma = _sigma_configs(detectors)
    if not paths:
        paths = [ctx.resolve(p) for cfg in sigma.values() for p in cfg.rules]
        if not paths:
            raise InputError("no sigma detector in the config: name rule files or folders "
                             "(ronda rules export PATH...)")
    attack = Path(args.attack_data) if args.attack_data else None
    if attack is not None and not attack.is_file():
        raise InputError(f"{attack}: no such file (--attack-data takes MITRE's "
                         "enterprise-attack.json)")
    loaded = load_paths(paths)
    if loaded.missing:
        raise InputError(*loaded.missing)
    collection = SigmaCollection([r.rule for r in loaded.rules])
    collection.resolve_rule_references()
    with attack_data(attack):
        result = export_elasticsearch(collection, args.index or EXPORT_INDICES,
                                      _placeholders(sigma))
    text = result.ndjson()
    if args.output == "-":
        sys.stdout.write(text)
    else:
        Path(args.output).write_text(text, encoding="utf-8")
    for problem in loaded.problems:
        if problem.kind == "skip":
            print(problem.text(), file=sys.stderr)
    for line in result.skipped:
        print(f"SKIP {line}", file=sys.stderr)
    print(f"exported {len(result.rules)} rules as Elastic Security detection rules "
          f"({result.building_blocks} building blocks left out, "
          f"{len(result.skipped) + sum(p.kind == 'skip' for p in loaded.problems)} skipped)",
          file=sys.stderr)
    return 0
