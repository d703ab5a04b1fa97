"""Threshold rules: the YAML model, its validation, and the compiled form the detector runs.

A rule file is a YAML list of rules (or a mapping whose ``rules:`` key holds the list)::

    - id: ronda-ssh-brute-force          # unique across all files
      name: SSH brute force
      description: Many failed SSH logins from one address
      category: brute-force               # ronda.schema.CATEGORIES
      severity: high                      # low | medium | high | critical
      technique: T1110.001                # MITRE ATT&CK id, or a list of them
      references: [https://...]           # optional
      dataset: sshd.auth                  # optional: a dataset or a list of them
      where: {event.outcome: failure}     # optional; see detectors.conditions
      group_by: [source.ip]               # fields that make the group (a field or list)
      window: 60s                         # ronda.durations
      threshold: 10                       # fire when the count reaches this
      distinct: user.name                 # optional: count distinct values instead
      message: "... {source.ip} ... {count} ... {window}"   # optional template

Template placeholders: ``{count}``, ``{window}``, ``{threshold}``, ``{key}``, ``{name}``,
``{id}``, ``{distinct}`` and any event field (``{source.ip}``); ``{{``/``}}`` are
literal braces; a field the event lacks renders as ``-``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, field_validator

from detectors.conditions import Condition, compile_where
from detectors.rulefile import (
    RuleDoc,
    find_rule_files,
    load_rule_docs,
    sort_by_line,
    validation_problems,
)
from ronda.durations import Duration
from ronda.errors import RuleError
from ronda.schema import CATEGORIES, Category, RuleRef, Severity

RULESET = "ronda-thresholds"

_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:-]*$")
_TECHNIQUE = re.compile(r"^T\d{4}(\.\d{3})?$")
_TOKEN = re.compile(r"\{\{|\}\}|\{([^{}]*)\}|[{}]")

TemplatePart = tuple[str, str | None]


def _as_list(value: Any) -> Any:
    return [value] if isinstance(value, str) else value


def _severity(value: Any) -> Any:
    if isinstance(value, str):
        return Severity.parse(value)
    return value


def _category(value: Any) -> Any:
    if isinstance(value, str) and value not in CATEGORIES:
        raise ValueError(f"unknown category {value!r} (expected one of {', '.join(CATEGORIES)})")
    return value


StrList = Annotated[list[str], BeforeValidator(_as_list)]


class ThresholdRule(BaseModel):
    """One rule as written in a file (validated; unknown keys rejected)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str
    name: str = Field(min_length=1)
    description: str = ""
    category: Annotated[Category, BeforeValidator(_category)]
    severity: Annotated[Severity, BeforeValidator(_severity)]
    technique: StrList = []
    references: StrList = []
    dataset: StrList = []
    where: Any = None
    group_by: StrList
    window: Duration
    threshold: int = Field(ge=1)
    distinct: str | None = None
    message: str | None = None

    @field_validator("id")
    @classmethod
    def _check_id(cls, value: str) -> str:
        if not _ID.match(value):
            raise ValueError(
                f"invalid id {value!r} (letters, digits and _ . : - ; starting with a letter "
                "or digit)"
            )
        return value

    @field_validator("technique")
    @classmethod
    def _check_technique(cls, value: list[str]) -> list[str]:
        for item in value:
            if not _TECHNIQUE.match(item):
                raise ValueError(
                    f"invalid ATT&CK technique {item!r} (expected e.g. T1110 or T1110.001)"
                )
        return value

    @field_validator("group_by", "dataset")
    @classmethod
    def _check_names(cls, value: list[str]) -> list[str]:
        if any(not item.strip() for item in value):
            raise ValueError("empty name in list")
        if len(set(value)) != len(value):
            raise ValueError("names must not repeat")
        return value

    @field_validator("window")
    @classmethod
    def _check_window(cls, value: float) -> float:
        if value <= 0:
            raise ValueError("window must be longer than zero")
        return value

    @field_validator("distinct")
    @classmethod
    def _check_distinct(cls, value: str | None) -> str | None:
        if value is not None and not value.strip():
            raise ValueError("empty field name")
        return value

    @field_validator("message")
    @classmethod
    def _check_message(cls, value: str | None) -> str | None:
        if value is not None:
            compile_template(value)
        return value


@dataclass(frozen=True, eq=False)
class CompiledRule:
    """A validated rule in the form the detector runs."""

    id: str
    ref: RuleRef
    severity: Severity
    techniques: tuple[str, ...]
    datasets: frozenset[str] | None
    conditions: tuple[Condition, ...]
    group_by: tuple[str, ...]
    window: float
    window_text: str
    threshold: int
    distinct: str | None
    template: tuple[TemplatePart, ...]
    fingerprint: str
    origin: str

    def render(self, values: dict[str, Any], fields: dict[str, Any]) -> str:
        """Fill the message template: ``values`` first, then event ``fields``."""
        out: list[str] = []
        for literal, name in self.template:
            out.append(literal)
            if name is not None:
                value = values[name] if name in values else fields.get(name)
                out.append(_text(value))
        return "".join(out)


def compile_template(text: str) -> tuple[TemplatePart, ...]:
    """Split a message template into (literal, placeholder) parts; ValueError if malformed."""
    parts: list[TemplatePart] = []
    literal = ""
    pos = 0
    for match in _TOKEN.finditer(text):
        literal += text[pos : match.start()]
        pos = match.end()
        token = match.group(0)
        if token in ("{{", "}}"):
            literal += token[0]
        elif match.group(1) is not None:
            name = match.group(1).strip()
            if not name:
                raise ValueError("empty placeholder {} in message (write {{ for a brace)")
            parts.append((literal, name))
            literal = ""
        else:
            raise ValueError(
                f"unbalanced {token!r} in message at character {match.start() + 1} "
                "(write {{ or }} for a literal brace)"
            )
    parts.append((literal + text[pos:], None))
    return tuple(parts)


def format_window(seconds: float) -> str:
    """``60`` -> ``60s``, ``300`` -> ``5m``, ``7200`` -> ``2h``, ``1.5`` -> ``1.5s``."""
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size and seconds % size == 0:
            return f"{int(seconds // size)}{unit}"
    return f"{seconds:g}s"


def compile_rule(doc: RuleDoc) -> tuple[CompiledRule | None, list[str]]:
    """Validate and compile one rule; return it (or None) and its problem lines."""
    if not isinstance(doc.data, dict):
        return None, [doc.problem((), f"expected a mapping of keys, got {_kind(doc.data)}")]
    problems: list[str] = []
    model: ThresholdRule | None = None
    try:
        model = ThresholdRule.model_validate(doc.data)
    except ValidationError as exc:
        problems.extend(validation_problems(doc, exc))
    conditions, where_problems = compile_where(doc.data.get("where"))
    problems.extend(doc.problem(loc, msg) for loc, msg in where_problems)
    if model is None or problems:
        return None, problems

    raw_window = doc.data.get("window")
    window_text = raw_window.strip() if isinstance(raw_window, str) else format_window(model.window)
    template = compile_template(model.message or _default_message(model))
    ref = RuleRef(
        id=model.id,
        name=model.name,
        ruleset=RULESET,
        category=model.category,
        description=model.description,
        references=tuple(model.references),
    )
    fingerprint = repr(
        (sorted(model.dataset), model.where, model.group_by, model.window, model.threshold,
         model.distinct)
    )
    rule = CompiledRule(
        id=model.id,
        ref=ref,
        severity=model.severity,
        techniques=tuple(model.technique),
        datasets=frozenset(model.dataset) or None,
        conditions=conditions,
        group_by=tuple(model.group_by),
        window=model.window,
        window_text=window_text,
        threshold=model.threshold,
        distinct=model.distinct,
        template=template,
        fingerprint=fingerprint,
        origin=f"{doc.file}:{doc.line}",
    )
    return rule, []


def load_rules(paths: Sequence[Path]) -> list[CompiledRule]:
    """Load every rule under ``paths``; raise RuleError listing all problems, if any."""
    files, problems = find_rule_files(paths)
    rules: list[CompiledRule] = []
    defined: dict[str, str] = {}
    for path in files:
        docs, file_problems = load_rule_docs(path)
        for doc in docs:
            rid = doc.rule_id
            if rid is not None:
                if rid in defined:
                    first = defined[rid]
                    file_problems.append(
                        doc.problem(("id",), f"duplicate id (first defined at {first})")
                    )
                    continue
                defined[rid] = f"{doc.file}:{doc.line}"
            rule, rule_problems = compile_rule(doc)
            file_problems.extend(rule_problems)
            if rule is not None:
                rules.append(rule)
        problems.extend(sort_by_line(file_problems))
    if problems:
        raise RuleError(*problems)
    return rules


def _default_message(model: ThresholdRule) -> str:
    name = model.name.replace("{", "{{").replace("}", "}}")
    what = "distinct {distinct}" if model.distinct else "matching events"
    source = " from {key}" if model.group_by else ""
    return f"{name}: {{count}} {what}{source} in {{window}}"


def _text(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, list | tuple):
        return ", ".join(_text(v) for v in value)
    return str(value)


def _kind(value: Any) -> str:
    names = {list: "a list", str: "a text", type(None): "nothing"}
    return names.get(type(value), type(value).__name__)
