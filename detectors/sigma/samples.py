"""Rule samples: log lines (or events) that must make a rule fire, and ones that must not.

Beside each rule file ``foo.yml`` sits ``foo.samples.yml``::

    format: nginx              # a log format (nginx, apache, sshd, syslog, json) or `events`
    match:                     # each entry must make the rule fire
      - '1.2.3.4 - - [20/Nov/2026:09:00:00 +0700] "GET /?id=1%27%20UNION%20SELECT ..." ...'
      - ['line 1', 'line 2']   # a list: one scenario replayed in order (correlations)
    nomatch:                   # each entry must not make the rule fire
      - '...'

With ``format: events`` the entries are mappings ``{dataset, fields, message, timestamp}``
(``timestamp`` optional: epoch seconds or ISO 8601), or lists of them. A samples file
holds one such mapping (for the file's rules that no other rule of the file correlates:
the correlation rule of a base + correlation file), or several (a YAML list or ``---``
documents), each naming its rule with ``rule: <id or name>``.

Each scenario starts from empty correlation state and runs through the whole compiled rule
set; the rule *fires* when an alert with its id comes out, correlation alerts included.
At the end of a scenario event time moves on, so windows waiting for their end close.
Every rule needs samples, except base rules that only feed correlations (``generate:
false``) and inactive rules (no Ronda source produces their logsource), which are listed
as untested. Parsers come from the caller (``sensor`` is not imported here).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml

from detectors.rulefile import display_path
from detectors.sigma.compile import Compiled, compile_rules
from detectors.sigma.correlation import CorrelationSet
from detectors.sigma.engine import Engine
from detectors.sigma.loader import SAMPLE_SUFFIXES
from detectors.sigma.prepare import one_line
from ronda.clock import ManualClock
from ronda.component import Context
from ronda.metrics import Metrics
from ronda.schema import Event

ParserFactory = Callable[[str], Callable[[str], "Event | None"]]
"""Log format -> line parser (``lambda fmt: make_parser(fmt, clock)``)."""

EVENTS = "events"
T0 = 1_800_000_000.0
"""Timestamp of the first event of a ``format: events`` scenario without timestamps."""
FLUSH_SECONDS = 366 * 86400.0
SPEC_KEYS = frozenset({"rule", "format", "match", "nomatch"})


@dataclass
class Target:
    """A rule that samples can exercise."""

    id: str
    name: str
    title: str
    file: str
    line: int
    active: bool
    exempt: bool
    """Needs no samples of its own (only feeds a correlation)."""


@dataclass
class SampleReport:
    rules: int = 0
    samples: int = 0
    failures: list[str] = field(default_factory=list)
    untested: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.failures

    def summary(self) -> str:
        extra = f" ({len(self.untested)} inactive rules untested)" if self.untested else ""
        return f"{self.rules} rules, {self.samples} samples, {len(self.failures)} failures{extra}"


def sample_context(name: str = "samples") -> Context:
    return Context(sensor=name, clock=ManualClock(T0), metrics=Metrics(),
                   state_dir=Path("."), log=logging.getLogger("ronda.samples"))


def check_paths(
    paths: Sequence[Path],
    parsers: ParserFactory,
    placeholders: dict[str, list[str | int]] | None = None,
    max_groups: int = 100_000,
) -> SampleReport:
    """Compile ``paths`` once and run every rule's samples (see :func:`run_samples`)."""
    compiled = compile_rules(paths, placeholders, CorrelationSet.check)
    engine = Engine(compiled, sample_context(), "samples", max_groups)
    report = run_samples(compiled, engine, parsers)
    report.failures[:0] = [f"FAIL {m}" for m in compiled.missing]
    return report


def run_samples(compiled: Compiled, engine: Engine, parsers: ParserFactory) -> SampleReport:
    report = SampleReport()
    skipped = [*compiled.skipped, *engine.problems]
    report.rules = len({p.rule_id or p.file for p in skipped})
    for problem in skipped:
        where = f"{problem.file}:{problem.line}" if problem.line else problem.file
        label = " ".join(x for x in (problem.rule_id, problem.title) if x)
        report.failures.append(f"FAIL {where} {label}: cannot load: {problem.reason}"
                               if label else f"FAIL {where}: cannot load: {problem.reason}")
    targets = _targets(compiled, engine)
    report.rules += len(targets)
    by_file: dict[str, list[Target]] = {}
    for target in targets:
        by_file.setdefault(target.file, []).append(target)
    paths = {display_path(p): p for p in compiled.files}
    covered: set[str] = set()
    for file, in_file in by_file.items():
        path = paths.get(file)
        samples = _samples_path(path) if path is not None else None
        if samples is None:
            continue
        specs, problems = read_samples(samples)
        sname = display_path(samples)
        report.failures.extend(f"FAIL {sname}{p}" for p in problems)
        if problems:
            covered.update(t.id for t in in_file)
        tops = _tops(in_file, compiled)
        for spec in specs:
            chosen = _choose(spec, in_file, tops, targets)
            if isinstance(chosen, str):
                report.failures.append(f"FAIL {sname}:{spec.line}: {chosen}")
                continue
            for target in chosen:
                covered.add(target.id)
                _run_spec(spec, target, sname, engine, parsers, report)
    for target in targets:
        if target.id in covered or target.exempt:
            continue
        if not target.active:
            report.untested.append(f"UNTESTED {target.file}:{target.line} {target.id} "
                                   f"{target.title}: inactive, no samples")
            continue
        report.failures.append(
            f"FAIL {target.file}:{target.line} {target.id} {target.title}: no samples "
            f"(expected {_expected(target.file)})"
        )
    return report


@dataclass
class Scenario:
    kind: str
    number: int
    line: int
    entries: list[Any]


@dataclass
class Spec:
    rule: str | None
    format: str
    line: int
    scenarios: list[Scenario]


def read_samples(path: Path) -> tuple[list[Spec], list[str]]:
    """The specs of a samples file, and problems (each ``:<line>: <text>``)."""
    try:
        text = path.read_text(encoding="utf-8")
        loader = yaml.SafeLoader(text)
        try:
            nodes = []
            while loader.check_node():
                node = loader.get_node()
                if node is not None:
                    nodes.append(node)
        finally:
            loader.dispose()
    except (OSError, UnicodeDecodeError) as exc:
        return [], [f": cannot read samples: {one_line(exc)}"]
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else 1
        return [], [f":{line}: YAML syntax error: {one_line(exc.problem or exc)}"]
    except (yaml.YAMLError, RecursionError) as exc:
        return [], [f": YAML error: {one_line(exc)}"]
    specs: list[Spec] = []
    problems: list[str] = []
    for node in nodes:
        items = node.value if isinstance(node, yaml.SequenceNode) else [node]
        for item in items:
            spec = _spec(item, problems)
            if spec is not None:
                specs.append(spec)
    return specs, problems


def _spec(node: yaml.Node, problems: list[str]) -> Spec | None:
    line = node.start_mark.line + 1
    if not isinstance(node, yaml.MappingNode):
        problems.append(f":{line}: expected a mapping with format, match and nomatch")
        return None
    data: dict[str, yaml.Node] = {}
    for key, value in node.value:
        name = key.value if isinstance(key, yaml.ScalarNode) else None
        if name not in SPEC_KEYS:
            problems.append(f":{key.start_mark.line + 1}: unknown key {one_line(name, 40)!r} "
                            f"(expected {', '.join(sorted(SPEC_KEYS))})")
            return None
        data[str(name)] = value
    fmt = data.get("format")
    if not isinstance(fmt, yaml.ScalarNode) or not fmt.value:
        problems.append(f":{line}: 'format' is required (a log format or 'events')")
        return None
    rule = data.get("rule")
    scenarios: list[Scenario] = []
    for kind in ("match", "nomatch"):
        seq = data.get(kind)
        if seq is None:
            continue
        if not isinstance(seq, yaml.SequenceNode):
            problems.append(f":{seq.start_mark.line + 1}: '{kind}' must be a list")
            return None
        loader = yaml.SafeLoader("")
        for number, entry in enumerate(seq.value, 1):
            value = loader.construct_document(entry)
            entries = value if isinstance(value, list) else [value]
            scenarios.append(Scenario(kind, number, entry.start_mark.line + 1, entries))
        loader.dispose()
    rid = str(rule.value) if isinstance(rule, yaml.ScalarNode) else None
    return Spec(rid, str(fmt.value), line, scenarios)


def _run_spec(spec: Spec, target: Target, sname: str, engine: Engine,
              parsers: ParserFactory, report: SampleReport) -> None:
    label = f"{target.id} {target.title}"
    try:
        parse = None if spec.format == EVENTS else parsers(spec.format)
    except ValueError as exc:
        report.failures.append(f"FAIL {sname}:{spec.line}: {label}: {one_line(exc)}")
        return
    for sc in spec.scenarios:
        report.samples += 1
        what = f"{sc.kind} sample {sc.number}"
        events, problem = _events(sc, parse, spec.format)
        if problem is not None:
            report.failures.append(f"FAIL {sname}:{sc.line}: {label}: {what}: {problem}")
            continue
        engine.reset()
        alerts = engine.process(events)
        if events:
            alerts.extend(engine.advance(max(e.timestamp for e in events) + FLUSH_SECONDS))
        engine.reset()
        fired = any(a.rule.id == target.id for a in alerts)
        if sc.kind == "match" and not fired:
            hint = "" if target.active else " (the rule is inactive)"
            report.failures.append(f"FAIL {sname}:{sc.line}: {label}: {what} did not fire{hint}")
        elif sc.kind == "nomatch" and fired:
            report.failures.append(f"FAIL {sname}:{sc.line}: {label}: {what} fired")


def _events(sc: Scenario, parse: Callable[[str], Event | None] | None,
            fmt: str) -> tuple[list[Event], str | None]:
    events: list[Event] = []
    for i, entry in enumerate(sc.entries, 1):
        where = f"entry {i}: " if len(sc.entries) > 1 else ""
        if parse is not None:
            if not isinstance(entry, str):
                return [], f"{where}expected a {fmt} log line"
            event = parse(entry)
            if event is None:
                return [], f"{where}does not parse as {fmt}"
        else:
            event_or_problem = _event(entry, T0 + len(events))
            if isinstance(event_or_problem, str):
                return [], where + event_or_problem
            event = event_or_problem
        event.source = event.source or "samples"
        events.append(event)
    return events, None


def _event(entry: Any, default_ts: float) -> Event | str:
    if not isinstance(entry, dict):
        return "expected an event mapping {dataset, fields, message, timestamp}"
    unknown = set(entry) - {"dataset", "fields", "message", "timestamp"}
    if unknown:
        return f"unknown event key {sorted(map(str, unknown))[0]!r}"
    dataset, fields = entry.get("dataset"), entry.get("fields", {})
    if not isinstance(dataset, str) or not dataset:
        return "'dataset' is required"
    if not isinstance(fields, dict):
        return "'fields' must be a mapping"
    ts = entry.get("timestamp", default_ts)
    if isinstance(ts, str):
        try:
            ts = datetime.fromisoformat(ts.replace("Z", "+00:00"))
        except ValueError:
            return f"invalid timestamp {one_line(ts, 40)!r}"
    if isinstance(ts, datetime):  # without a zone: UTC
        ts = (ts if ts.tzinfo else ts.replace(tzinfo=UTC)).timestamp()
    if isinstance(ts, bool) or not isinstance(ts, int | float):
        return "'timestamp' must be epoch seconds or ISO 8601"
    message = entry.get("message", "")
    return Event(dataset=dataset, timestamp=float(ts), fields={str(k): v for k, v in
                 fields.items()}, message=str(message))


def _targets(compiled: Compiled, engine: Engine) -> list[Target]:
    dropped = {p.rule_id for p in engine.problems}
    exempt: set[str] = set()
    for corr in compiled.correlations:
        if not corr.rule.generate and corr.id not in dropped:
            exempt.update(str(ref.rule.id) for ref in corr.rule.referenced_rules)
    out = [
        Target(r.id, r.name, r.ref.name, r.file, r.line, bool(r.datasets), r.id in exempt)
        for r in compiled.rules
    ]
    out.extend(
        Target(c.id, str(c.rule.name or ""), one_line(c.rule.title), c.file, c.line,
               c.active, c.id in exempt)
        for c in compiled.correlations if c.id not in dropped
    )
    return out


def _tops(in_file: list[Target], compiled: Compiled) -> list[Target]:
    """The file's rules that no correlation of the same file references."""
    ids = {t.id for t in in_file}
    referenced: set[str] = set()
    for corr in compiled.correlations:
        if corr.id in ids:
            referenced.update(str(ref.rule.id) for ref in corr.rule.referenced_rules)
    return [t for t in in_file if t.id not in referenced]


def _choose(spec: Spec, in_file: list[Target], tops: list[Target],
            targets: list[Target]) -> list[Target] | str:
    if spec.rule is None:
        return tops
    for pool in (in_file, targets):
        found = [t for t in pool if spec.rule in (t.id, t.name)]
        if found:
            return found[:1]
    return f"samples for unknown rule {one_line(spec.rule, 60)!r}"


def _samples_path(rule_file: Path) -> Path | None:
    for suffix in SAMPLE_SUFFIXES:
        candidate = rule_file.with_name(rule_file.stem + suffix)
        if candidate.is_file():
            return candidate
    return None


def _expected(file: str) -> str:
    path = Path(file)
    return str(path.with_name(path.stem + SAMPLE_SUFFIXES[0]))
