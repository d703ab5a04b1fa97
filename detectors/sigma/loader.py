"""Sigma rule files -> pySigma rule objects, with one problem line per rule that fails.

A rule file holds one or more YAML documents (``---``); each is a rule, a correlation rule
or a filter (Sigma specification 2.x), or a collection action (``action: global`` /
``reset`` / ``repeat``, from specification 1). Samples files (``*.samples.yml``) beside the
rules are not rules and are left out. Nothing here raises on bad input: a file that cannot
be read, a YAML error, a document that is not a rule, a rule pySigma rejects -- each
becomes a :class:`Problem` naming the file, the line, the rule id and title, and the
reason, and loading goes on with the next document.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import yaml
from sigma.correlations import SigmaCorrelationRule
from sigma.exceptions import SigmaError, SigmaRuleLocation
from sigma.filters import SigmaFilter
from sigma.rule import SigmaRule

from detectors.rulefile import RULE_SUFFIXES, display_path
from detectors.sigma.prepare import normalise, one_line, shape_problem

SAMPLE_SUFFIXES = (".samples.yml", ".samples.yaml")
MAX_NODES = 50_000
"""YAML nodes per document (aliases count each time they are used)."""

_Loader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

ProblemKind = Literal["skip", "inactive"]


@dataclass(frozen=True)
class Problem:
    """A rule Ronda does not run (``skip``) or cannot feed (``inactive``)."""

    kind: ProblemKind
    file: str
    line: int | None
    rule_id: str = ""
    title: str = ""
    reason: str = ""

    def text(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        label = " ".join(x for x in (self.rule_id, self.title) if x)
        tag = "SKIP" if self.kind == "skip" else "INACTIVE"
        return f"{tag} {where} {label}: {self.reason}" if label else f"{tag} {where}: {self.reason}"


@dataclass
class LoadedRule:
    rule: SigmaRule | SigmaCorrelationRule
    file: str
    path: Path
    line: int
    origin: int
    """Index of the configured path the rule came from."""

    @property
    def id(self) -> str:
        return str(self.rule.id) if self.rule.id is not None else ""

    @property
    def title(self) -> str:
        return one_line(self.rule.title)


@dataclass
class LoadedFilter:
    filter: SigmaFilter
    file: str
    line: int


@dataclass
class LoadResult:
    rules: list[LoadedRule] = field(default_factory=list)
    filters: list[LoadedFilter] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    files: list[tuple[Path, int]] = field(default_factory=list)


def reason_of(exc: BaseException) -> str:
    """One line for an exception (pySigma's text without its ' in <path>' suffix)."""
    if isinstance(exc, SigmaError) and exc.args:
        return one_line(exc.args[0], 300)
    if isinstance(exc, RecursionError):
        return "nested too deeply"
    text = one_line(exc, 300)
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def is_samples_file(path: Path) -> bool:
    return path.name.endswith(SAMPLE_SUFFIXES)


def rule_files(paths: Sequence[Path]) -> tuple[list[tuple[Path, int]], list[str]]:
    """Rule files under each path (recursively, sorted) with the index of the path, and
    one line per path that does not exist."""
    files: list[tuple[Path, int]] = []
    missing: list[str] = []
    seen: set[Path] = set()
    for origin, path in enumerate(paths):
        if path.is_dir():
            found = sorted(
                p for p in path.rglob("*")
                if p.suffix in RULE_SUFFIXES and not is_samples_file(p) and p.is_file()
            )
        elif path.is_file():
            found = [path]
        else:
            missing.append(f"{display_path(path)}: no such rule file or folder")
            continue
        for p in found:
            key = p.resolve()
            if key not in seen:
                seen.add(key)
                files.append((p, origin))
    return files, missing


def load_paths(paths: Sequence[Path]) -> LoadResult:
    result = LoadResult()
    result.files, result.missing = rule_files(paths)
    for path, origin in result.files:
        load_file(path, origin, result)
    _drop_duplicate_ids(result)
    return result


def load_file(path: Path, origin: int, result: LoadResult) -> None:
    name = display_path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        result.problems.append(Problem("skip", name, None, reason=f"cannot read: {exc}"))
        return
    state = _Collection()
    try:
        for node, data in _documents(text):
            _load_document(path, name, origin, node, data, state, result)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        what = one_line("; ".join(s for s in (exc.context, exc.problem) if s) or "invalid YAML")
        line = mark.line + 1 if mark is not None else None
        result.problems.append(Problem("skip", name, line, reason=f"YAML syntax error: {what}"))
    except yaml.YAMLError as exc:
        result.problems.append(Problem("skip", name, None, reason=f"YAML error: {one_line(exc)}"))
    except RecursionError:
        result.problems.append(Problem("skip", name, None, reason="YAML nested too deeply"))


@dataclass
class _Collection:
    """Specification 1 collection actions within one file."""

    global_rule: dict[str, Any] = field(default_factory=dict)
    previous: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class _Unreadable:
    """A document whose YAML is well-formed but holds an impossible value."""

    reason: str


def _documents(text: str) -> Iterator[tuple[yaml.Node, Any]]:
    """The documents of a YAML stream; a value that cannot be built (a date like
    2024-13-45) spoils its own document only."""
    loader = _Loader(text)
    try:
        while loader.check_node():
            node = loader.get_node()
            if node is None:
                continue
            try:
                data = loader.construct_document(node)
            except (yaml.YAMLError, ValueError, TypeError, OverflowError) as exc:
                loader.constructed_objects = {}
                loader.recursive_objects = {}
                loader.state_generators = []
                loader.deep_construct = False
                reason = one_line(getattr(exc, "problem", None) or exc)
                data = _Unreadable(f"invalid YAML value: {reason}")
            yield node, data
    finally:
        loader.dispose()


def _load_document(
    path: Path, name: str, origin: int, node: yaml.Node, data: Any,
    state: _Collection, result: LoadResult,
) -> None:
    line = node.start_mark.line + 1
    if data is None:
        return
    if isinstance(data, _Unreadable):
        result.problems.append(Problem("skip", name, line, reason=data.reason))
        return
    if not isinstance(data, dict):
        result.problems.append(
            Problem("skip", name, line, reason="not a Sigma rule (expected a mapping)")
        )
        return
    rid, title = _label(data)

    def skip(reason: str) -> None:
        result.problems.append(Problem("skip", name, line, rid, title, reason))

    problem = _check_nodes(node)
    if problem is not None:
        skip(problem)
        return
    action = data.get("action")
    if action == "global":
        state.global_rule = {k: v for k, v in data.items() if k != "action"}
        state.previous = state.global_rule
        return
    if action == "reset":
        state.global_rule = {}
        return
    if action == "repeat":
        data = _deep_update(copy.deepcopy(state.previous), {k: v for k, v in data.items()
                                                             if k != "action"})
    elif action is not None:
        skip(f"unknown collection action {one_line(action, 40)!r}")
        return
    shape = shape_problem(data)
    if shape is not None:
        skip(shape)
        return
    source = SigmaRuleLocation(path, line)
    try:
        if "correlation" in data:
            parsed: Any = SigmaCorrelationRule.from_dict(data, collect_errors=True, source=source)
        elif "filter" in data:
            parsed = SigmaFilter.from_dict(normalise(data), collect_errors=True, source=source)
        else:
            if action is None:
                state.previous = data
                if state.global_rule:
                    data = _deep_update(copy.deepcopy(data), copy.deepcopy(state.global_rule))
            parsed = SigmaRule.from_dict(normalise(data), collect_errors=True, source=source)
    except Exception as exc:
        skip(reason_of(exc))
        return
    if parsed.errors:
        skip(reason_of(parsed.errors[0]))
        return
    if isinstance(parsed, SigmaFilter):
        result.filters.append(LoadedFilter(parsed, name, line))
        return
    if parsed.id is None:
        skip("no id (Ronda needs one for alerts and samples)")
        return
    result.rules.append(LoadedRule(parsed, name, path, line, origin))


def _label(data: dict[str, Any]) -> tuple[str, str]:
    rid = data.get("id")
    title = data.get("title")
    return (
        one_line(rid, 60) if isinstance(rid, str | int) else "",
        one_line(title) if isinstance(title, str) else "",
    )


def _check_nodes(root: yaml.Node) -> str | None:
    """Duplicate keys (pySigma's own loader rejects them) and alias bombs."""
    stack = [root]
    count = 0
    while stack:
        node = stack.pop()
        count += 1
        if count > MAX_NODES:
            return f"rule too large (more than {MAX_NODES} YAML nodes)"
        if isinstance(node, yaml.MappingNode):
            seen: set[Any] = set()
            for key_node, value_node in node.value:
                if isinstance(key_node, yaml.ScalarNode):
                    key = key_node.value
                    if key in seen:
                        line = key_node.start_mark.line + 1
                        return f"duplicate key {one_line(key, 60)!r} (line {line})"
                    seen.add(key)
                stack.append(key_node)
                stack.append(value_node)
        elif isinstance(node, yaml.SequenceNode):
            stack.extend(node.value)
    return None


def _deep_update(dest: dict[Any, Any], src: dict[Any, Any]) -> dict[Any, Any]:
    for k, v in src.items():
        if isinstance(v, dict) and isinstance(dest.get(k), dict):
            dest[k] = _deep_update(dest[k], v)
        else:
            dest[k] = v
    return dest


def _drop_duplicate_ids(result: LoadResult) -> None:
    first: dict[str, LoadedRule] = {}
    kept: list[LoadedRule] = []
    for loaded in result.rules:
        prev = first.get(loaded.id)
        if prev is not None:
            result.problems.append(Problem(
                "skip", loaded.file, loaded.line, loaded.id, loaded.title,
                f"duplicate id (first defined at {prev.file}:{prev.line})",
            ))
            continue
        first[loaded.id] = loaded
        kept.append(loaded)
    result.rules = kept
