"""Rule paths -> compiled base rules, checked correlation rules and problem lines.

Steps: load the files (:mod:`.loader`); apply Sigma filters; run Ronda's processing
pipeline on every rule (:mod:`.pipeline`); translate each base rule's detection
(:mod:`.translate`); resolve each correlation rule's references and ask the correlation
engine whether it can run it. Every rule that fails a step is skipped with a reason;
rules whose logsource no Ronda source produces are kept but reported ``inactive``.
"""

from __future__ import annotations

import copy
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from sigma.collection import SigmaCollection
from sigma.correlations import SigmaCorrelationRule
from sigma.rule import SigmaRule

from detectors.rulefile import display_path
from detectors.sigma.loader import LoadedRule, LoadResult, Problem, load_paths, reason_of
from detectors.sigma.meta import MetaError, rule_ref, severity_of, techniques_of
from detectors.sigma.pipeline import datasets_for, describe_logsource, ronda_pipeline
from detectors.sigma.ruleset import CompiledRule
from detectors.sigma.translate import Unsupported, translate_rule

CorrelationCheck = Callable[[SigmaCorrelationRule], "str | None"]


@dataclass
class CompiledCorrelation:
    rule: SigmaCorrelationRule
    file: str
    line: int
    base_ids: frozenset[str]
    active: bool

    @property
    def id(self) -> str:
        return str(self.rule.id)


@dataclass
class Compiled:
    """Everything a set of rule paths gave: what runs, and what does not and why."""

    rules: list[CompiledRule] = field(default_factory=list)
    correlations: list[CompiledCorrelation] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    barren: list[str] = field(default_factory=list)
    """Configured paths with rule files of which not one rule loaded."""
    files: list[Path] = field(default_factory=list)

    @property
    def skipped(self) -> list[Problem]:
        return [p for p in self.problems if p.kind == "skip"]

    @property
    def inactive(self) -> list[Problem]:
        return [p for p in self.problems if p.kind == "inactive"]


def compile_rules(
    paths: Sequence[Path],
    placeholders: Mapping[str, Sequence[str | int]] | None = None,
    check_correlation: CorrelationCheck | None = None,
) -> Compiled:
    with warnings.catch_warnings():  # re's FutureWarnings about odd patterns: not for users
        warnings.simplefilter("ignore")
        return _compile(paths, placeholders, check_correlation)


def _compile(
    paths: Sequence[Path],
    placeholders: Mapping[str, Sequence[str | int]] | None,
    check_correlation: CorrelationCheck | None,
) -> Compiled:
    loaded = load_paths(paths)
    out = Compiled(problems=list(loaded.problems), missing=list(loaded.missing),
                   files=[p for p, _ in loaded.files])
    base = [r for r in loaded.rules if isinstance(r.rule, SigmaRule)]
    correlations = [r for r in loaded.rules if isinstance(r.rule, SigmaCorrelationRule)]
    compiled_ids: dict[str, CompiledRule] = {}
    for item in base:
        rule = _compile_base(item, loaded, placeholders, out.problems)
        if rule is not None:
            out.rules.append(rule)
            compiled_ids[rule.id] = rule
    _compile_correlations(loaded, correlations, compiled_ids, placeholders,
                          check_correlation, out)
    out.barren = _barren(paths, loaded, out)
    return out


def _compile_base(
    item: LoadedRule, loaded: LoadResult,
    placeholders: Mapping[str, Sequence[str | int]] | None, problems: list[Problem],
) -> CompiledRule | None:
    rule = item.rule
    assert isinstance(rule, SigmaRule)
    try:
        for flt in loaded.filters:
            copy.deepcopy(flt.filter).apply_on_rule(rule)  # changes the rule in place
        ronda_pipeline(placeholders).apply(rule)
        node = translate_rule(rule)
        ref = rule_ref(rule)
    except (Unsupported, MetaError) as exc:
        problems.append(Problem("skip", item.file, item.line, item.id, item.title, str(exc)))
        return None
    except Exception as exc:
        problems.append(Problem("skip", item.file, item.line, item.id, item.title,
                                reason_of(exc)))
        return None
    datasets = datasets_for(rule.logsource)
    logsource = describe_logsource(rule.logsource)
    if not datasets:
        problems.append(Problem("inactive", item.file, item.line, item.id, item.title,
                                f"inactive: no Ronda source produces logsource {logsource}"))
    return CompiledRule(
        id=item.id, ref=ref, severity=severity_of(rule), techniques=techniques_of(rule),
        datasets=datasets, node=node, file=item.file, line=item.line, logsource=logsource,
        name=str(rule.name or ""),
    )


def _compile_correlations(
    loaded: LoadResult, items: list[LoadedRule], compiled: dict[str, CompiledRule],
    placeholders: Mapping[str, Sequence[str | int]] | None,
    check: CorrelationCheck | None, out: Compiled,
) -> None:
    if not items:
        return
    collection = SigmaCollection([r.rule for r in loaded.rules], resolve_references=False)
    accepted: dict[str, CompiledCorrelation] = {}
    skipped = {p.rule_id for p in out.problems if p.kind == "skip" and p.rule_id}
    pending = list(items)
    while pending:  # a correlation may build on another one: until nothing changes
        progress = False
        for item in list(pending):
            waiting = {p.id for p in pending if p is not item}
            verdict = _check_correlation(item, collection, compiled, accepted, waiting,
                                         skipped, placeholders, check)
            if verdict == "wait":
                continue
            pending.remove(item)
            progress = True
            if isinstance(verdict, CompiledCorrelation):
                accepted[item.id] = verdict
                out.correlations.append(verdict)
                if not verdict.active:
                    out.problems.append(Problem(
                        "inactive", item.file, item.line, item.id, item.title,
                        "inactive: every rule it correlates is inactive"))
            else:
                out.problems.append(Problem("skip", item.file, item.line, item.id, item.title,
                                            verdict))
        if not progress:
            for item in pending:
                out.problems.append(Problem("skip", item.file, item.line, item.id, item.title,
                                            "references a correlation rule that was skipped"))
            break


def _check_correlation(
    item: LoadedRule, collection: SigmaCollection, compiled: dict[str, CompiledRule],
    accepted: dict[str, CompiledCorrelation], waiting: set[str], skipped: set[str],
    placeholders: Mapping[str, Sequence[str | int]] | None, check: CorrelationCheck | None,
) -> CompiledCorrelation | str:
    rule = item.rule
    assert isinstance(rule, SigmaCorrelationRule)
    try:
        rule.resolve_rule_references(collection)
    except Exception as exc:
        for ref in rule.rules or ():
            if ref.reference in skipped:
                return f"uses rule {ref.reference} which was skipped"
        return f"cannot resolve its rules: {reason_of(exc)}"
    base_ids: set[str] = set()
    for ref in rule.referenced_rules:
        target = ref.rule
        tid = str(target.id) if target.id is not None else ""
        if isinstance(target, SigmaCorrelationRule):
            if tid in waiting:
                return "wait"
            if tid not in accepted:
                return f"uses correlation {tid} which was skipped"
            base_ids |= accepted[tid].base_ids
        elif tid not in compiled:
            return f"uses rule {tid or ref.reference} which was skipped"
        else:
            base_ids.add(tid)
    try:
        ronda_pipeline(placeholders).apply(rule)
        reason = check(rule) if check is not None else None
    except Exception as exc:
        return reason_of(exc)
    if reason:
        return reason
    active = any(compiled[b].datasets for b in base_ids if b in compiled)
    return CompiledCorrelation(rule, item.file, item.line, frozenset(base_ids), active)


def _barren(paths: Sequence[Path], loaded: LoadResult, out: Compiled) -> list[str]:
    with_files = {origin for _, origin in loaded.files}
    ok_ids = {r.id for r in out.rules} | {c.id for c in out.correlations}
    good = {r.origin for r in loaded.rules if r.id in ok_ids}
    return [display_path(p) for i, p in enumerate(paths) if i in with_files and i not in good]
