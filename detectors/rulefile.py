"""Rule files: YAML with line numbers, and problem lines that name the file, line and key.

A rule file holds a YAML list of rules, or a mapping whose ``rules:`` key holds that
list. Every rule comes back as a :class:`RuleDoc` that remembers where each of its keys
was written, so that a validation problem can be reported as one line::

    rules/thresholds/ssh.yml:12 rule 'ronda-ssh-brute-force' window: invalid duration 'abc' ...

Problems are collected, not raised one by one: a loader reports everything wrong with a
rule set in one go (the caller raises :class:`ronda.errors.RuleError` with the lines).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

RULE_SUFFIXES = (".yml", ".yaml")

Loc = tuple[str | int, ...]

_LINE = re.compile(r"^.*?:(\d+)(?::| rule )")


@dataclass(frozen=True)
class RuleDoc:
    """One rule as written: its data, and where it and each of its keys stand."""

    data: Any
    file: str
    line: int
    index: int
    lines: Mapping[Loc, int]

    @property
    def rule_id(self) -> str | None:
        if isinstance(self.data, dict):
            rid = self.data.get("id")
            if isinstance(rid, str) and rid:
                return rid
        return None

    @property
    def label(self) -> str:
        rid = self.rule_id
        return f"rule {rid!r}" if rid is not None else f"rule #{self.index + 1}"

    def line_of(self, loc: Sequence[str | int]) -> int:
        """Line of the deepest key of ``loc`` that was written in the file."""
        path = tuple(loc)
        while path:
            if path in self.lines:
                return self.lines[path]
            path = path[:-1]
        return self.line

    def problem(self, loc: Sequence[str | int], message: str) -> str:
        where = f"{self.file}:{self.line_of(loc)} {self.label}"
        return f"{where} {format_loc(loc)}: {message}" if loc else f"{where}: {message}"


def format_loc(loc: Sequence[str | int]) -> str:
    """``("where", "url.path", "prefix")`` -> ``where.url.path.prefix``; ints as ``[i]``."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


def display_path(path: Path) -> str:
    """The path as users recognise it: relative to the working folder when inside it."""
    if path.is_absolute():
        try:
            return str(path.relative_to(Path.cwd()))
        except ValueError:
            return str(path)
    return os.path.normpath(path)


def find_rule_files(paths: Iterable[Path]) -> tuple[list[Path], list[str]]:
    """Expand files and folders (``*.yml``/``*.yaml``, recursively, sorted) into rule files.

    Returns the files and one problem line per path that does not exist.
    """
    files: list[Path] = []
    problems: list[str] = []
    seen: set[Path] = set()
    for path in paths:
        if path.is_dir():
            found = sorted(
                p for p in path.rglob("*") if p.suffix in RULE_SUFFIXES and p.is_file()
            )
        elif path.is_file():
            found = [path]
        else:
            problems.append(f"{display_path(path)}: no such rule file or folder")
            continue
        for p in found:
            key = p.resolve()
            if key not in seen:
                seen.add(key)
                files.append(p)
    return files, problems


def load_rule_docs(path: Path) -> tuple[list[RuleDoc], list[str]]:
    """Read one rule file. Returns its rules and the problems found in its shape."""
    name = display_path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        return [], [f"{name}: cannot read rule file: {exc}"]
    try:
        node, data = _compose_and_construct(text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        if exc.context_mark is not None and "<stream end>" in (exc.problem or ""):
            mark = exc.context_mark  # "unexpected end of file": point at what is unclosed
        line = mark.line + 1 if mark is not None else 1
        what = "; ".join(s for s in (exc.context, exc.problem) if s) or "invalid YAML"
        return [], [f"{name}:{line}: YAML syntax error: {what}"]
    except yaml.YAMLError as exc:
        return [], [f"{name}:1: YAML syntax error: {exc}"]
    except RecursionError:
        return [], [f"{name}:1: YAML nested too deeply"]
    if node is None or data is None:
        return [], []

    problems: list[str] = []
    items: list[tuple[Any, yaml.Node]] = []
    if isinstance(node, yaml.SequenceNode) and isinstance(data, list):
        items = list(zip(data, node.value, strict=True))
    elif isinstance(node, yaml.MappingNode) and isinstance(data, dict):
        for key_node, value_node in node.value:
            key = key_node.value if isinstance(key_node, yaml.ScalarNode) else None
            line = key_node.start_mark.line + 1
            if key != "rules":
                problems.append(f"{name}:{line}: unknown top-level key {key!r} (expected 'rules')")
            elif isinstance(value_node, yaml.SequenceNode) and isinstance(data["rules"], list):
                items = list(zip(data["rules"], value_node.value, strict=True))
            elif data["rules"] is not None:
                problems.append(f"{name}:{line}: 'rules' must hold a list of rules")
        if "rules" not in data and not problems:
            problems.append(f"{name}:{node.start_mark.line + 1}: expected a list of rules")
    else:
        problems.append(
            f"{name}:{node.start_mark.line + 1}: expected a list of rules or a mapping "
            "with key 'rules'"
        )

    docs: list[RuleDoc] = []
    for index, (item, item_node) in enumerate(items):
        lines: dict[Loc, int] = {}
        dups: list[tuple[Loc, int]] = []
        _index_node(item_node, (), lines, dups)
        doc = RuleDoc(item, name, item_node.start_mark.line + 1, index, lines)
        for loc, _line in dups:
            problems.append(doc.problem(loc, "duplicate key"))
        docs.append(doc)
    return docs, problems


def validation_problems(doc: RuleDoc, error: ValidationError) -> list[str]:
    """One problem line per pydantic error, with the key path and its line."""
    out: list[str] = []
    for err in error.errors(include_url=False):
        loc = tuple(err["loc"])
        kind = err["type"]
        if kind == "missing":
            message = "missing required key"
        elif kind == "extra_forbidden":
            message = "unknown key"
        elif kind in ("value_error", "assertion_error"):
            message = str(err["msg"]).split(", ", 1)[-1]
        else:
            message = f"{err['msg']} (got {_short(err.get('input'))})"
        out.append(doc.problem(loc, message))
    return out


def sort_by_line(problems: list[str]) -> list[str]:
    """Problems of one file in line order (stable: same-line problems keep their order)."""

    def line(problem: str) -> int:
        match = _LINE.match(problem)
        return int(match.group(1)) if match else 0

    return sorted(problems, key=line)


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _compose_and_construct(text: str) -> tuple[yaml.Node | None, Any]:
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        data = loader.construct_document(node) if node is not None else None
    finally:
        loader.dispose()
    return node, data


def _index_node(
    node: yaml.Node, path: Loc, lines: dict[Loc, int], dups: list[tuple[Loc, int]]
) -> None:
    """Record the line of every key and list item below ``node``."""
    if isinstance(node, yaml.MappingNode):
        seen: set[str] = set()
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode):
                continue
            key = str(key_node.value)
            sub = (*path, key)
            line = key_node.start_mark.line + 1
            if key in seen:
                dups.append((sub, line))
            seen.add(key)
            lines[sub] = line
            _index_node(value_node, sub, lines, dups)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            sub = (*path, i)
            lines[sub] = item.start_mark.line + 1
            _index_node(item, sub, lines, dups)
