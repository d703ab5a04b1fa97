"""pySigma's condition tree (after the processing pipeline) -> Ronda's matcher tree.

pySigma has already applied the value modifiers (``contains`` became wildcards,
``base64offset`` an expansion, ``re`` a regular expression ...) and resolved the condition
(``1 of selection_*``, ``them``, ``not``, parentheses). What is left is a tree of AND, OR,
NOT and field/value leaves, which this module maps to :mod:`.ir` nodes. A construct Ronda
cannot evaluate raises :class:`Unsupported` with the reason.

Matching semantics (documented in the README):

- strings match the whole value, case-insensitively unless ``|cased``; ``*`` and ``?`` are
  wildcards (``\\*``, ``\\?`` and ``\\\\`` escape them);
- keyword detections (no field) match anywhere in the raw message;
- ``|re`` searches (unanchored; anchor with ``^``/``$``), case-sensitively unless ``|i``;
- numbers compare numerically with numeric values and textually with strings.
"""

from __future__ import annotations

import ipaddress
import re
from typing import Any

from sigma.conditions import (
    ConditionAND,
    ConditionFieldEqualsValueExpression,
    ConditionNOT,
    ConditionOR,
    ConditionValueExpression,
)
from sigma.rule import SigmaRule
from sigma.types import (
    Placeholder,
    SigmaBool,
    SigmaCasedString,
    SigmaCIDRExpression,
    SigmaCompareExpression,
    SigmaExists,
    SigmaExpansion,
    SigmaFieldReference,
    SigmaNull,
    SigmaNumber,
    SigmaQueryExpression,
    SigmaRegularExpression,
    SigmaRegularExpressionFlag,
    SigmaString,
    SigmaTimestampPart,
    SpecialChars,
)

from detectors.sigma.ir import Const, Leaf, Node, all_of, any_of, negate


class Unsupported(Exception):
    """A construct Ronda cannot evaluate; ``str()`` is the reason."""


_REGEX_FLAGS = {
    SigmaRegularExpressionFlag.IGNORECASE: re.IGNORECASE,
    SigmaRegularExpressionFlag.MULTILINE: re.MULTILINE,
    SigmaRegularExpressionFlag.DOTALL: re.DOTALL,
}

MAX_DEPTH = 200


def translate_rule(rule: SigmaRule) -> Node:
    """The rule's detection as one node (several conditions are OR-ed)."""
    nodes: list[Node] = []
    for condition in rule.detection.parsed_condition:
        tree = condition.parse()
        if tree is None:
            raise Unsupported("the detection is empty")
        nodes.append(translate(tree))
    if not nodes:
        raise Unsupported("the rule has no condition")
    node = any_of(nodes)
    if isinstance(node, Const):
        raise Unsupported(f"the condition is always {str(node.value).lower()}")
    return node


def translate(tree: Any, depth: int = 0) -> Node:
    if depth > MAX_DEPTH:
        raise Unsupported("the condition is nested too deeply")
    if isinstance(tree, ConditionAND):
        return all_of([translate(arg, depth + 1) for arg in tree.args])
    if isinstance(tree, ConditionOR):
        return any_of([translate(arg, depth + 1) for arg in tree.args])
    if isinstance(tree, ConditionNOT):
        if len(tree.args) != 1:
            raise Unsupported("'not' needs exactly one operand")
        return negate(translate(tree.args[0], depth + 1))
    if isinstance(tree, ConditionFieldEqualsValueExpression):
        return value_node(tree.field, tree.value, depth)
    if isinstance(tree, ConditionValueExpression):
        return value_node(None, tree.value, depth)
    raise Unsupported(f"unexpected condition element {type(tree).__name__}")


def value_node(field: str | None, value: Any, depth: int = 0) -> Node:
    """The test of one value against one field (``None``: keyword over the message)."""
    if isinstance(value, SigmaExpansion):
        return any_of([value_node(field, v, depth + 1) for v in value.values])
    if isinstance(value, SigmaString):  # SigmaCasedString too
        return string_node(field, value, isinstance(value, SigmaCasedString))
    if isinstance(value, SigmaRegularExpression):
        return regex_node(field, value)
    if isinstance(value, SigmaTimestampPart):
        if field is None:
            raise Unsupported("timestamp-part modifiers need a field")
        return Leaf(field, "timepart", (value.timestamp_part.name.lower(), value.number))
    if isinstance(value, SigmaNumber):
        if field is None:
            return Leaf(None, "contains", str(value.number))
        return Leaf(field, "num", ("eq", value.number))
    if isinstance(value, SigmaCompareExpression):
        if field is None:
            raise Unsupported("numeric comparisons (lt, gt ...) need a field")
        return Leaf(field, "num", (value.op.name.lower(), value.number.number))
    if isinstance(value, SigmaBool):
        if field is None:
            return Leaf(None, "contains", str(value.boolean).lower())
        return Leaf(field, "bool", value.boolean)
    if isinstance(value, SigmaNull):
        if field is None:
            raise Unsupported("a null keyword needs a field")
        return Leaf(field, "null", None)
    if isinstance(value, SigmaExists):
        if field is None:
            raise Unsupported("'exists' needs a field")
        return Leaf(field, "exists", bool(value.exists))
    if isinstance(value, SigmaCIDRExpression):
        if field is None:
            raise Unsupported("'cidr' needs a field")
        return Leaf(field, "cidr", (_network(value.network),))
    if isinstance(value, SigmaFieldReference):
        if field is None:
            raise Unsupported("'fieldref' needs a field")
        return Leaf(field, "fieldref", (value.field, value.starts_with, value.ends_with))
    if isinstance(value, SigmaQueryExpression):
        raise Unsupported("query expressions (SIEM-specific placeholders) cannot run in Ronda")
    raise Unsupported(f"value type {type(value).__name__} is not supported")


def string_node(field: str | None, value: SigmaString, cased: bool) -> Node:
    parts = _parts(value)
    if field is None:  # keywords match anywhere in the message
        if not parts or parts[0] is not SpecialChars.WILDCARD_MULTI:
            parts.insert(0, SpecialChars.WILDCARD_MULTI)
        if parts[-1] is not SpecialChars.WILDCARD_MULTI:
            parts.append(SpecialChars.WILDCARD_MULTI)
    parts = _normalise(parts, cased)
    if SpecialChars.WILDCARD_SINGLE in parts:
        pattern = "".join(
            ".*" if p is SpecialChars.WILDCARD_MULTI
            else "." if p is SpecialChars.WILDCARD_SINGLE
            else re.escape(str(p))
            for p in parts
        )
        return Leaf(field, "wildcard", pattern, cased)
    texts = [p for p in parts if isinstance(p, str)]
    star = SpecialChars.WILDCARD_MULTI
    if not parts:
        return Leaf(field, "eq", "", cased)
    if star not in parts:
        return Leaf(field, "eq", texts[0], cased)
    if parts == [star]:
        return Const(True) if field is None else Leaf(field, "any", None)
    if len(parts) == 2:
        return Leaf(field, "startswith" if parts[1] is star else "endswith", texts[0], cased)
    if len(parts) == 3 and parts[0] is star and parts[2] is star:
        return Leaf(field, "contains", texts[0], cased)
    globs: list[str] = []
    prev_star = True
    for p in parts:
        if p is star:
            if prev_star:
                globs.append("")
            prev_star = True
        else:
            globs.append(str(p))
            prev_star = False
    if prev_star:
        globs.append("")
    return Leaf(field, "glob", tuple(globs), cased)


def regex_node(field: str | None, value: SigmaRegularExpression) -> Node:
    if value.regexp.contains_placeholder():
        raise Unsupported(_placeholder_reason(value.regexp))
    pattern = str(value.regexp)
    flags = 0
    for flag in value.flags:
        flags |= _REGEX_FLAGS[flag]
    try:
        re.compile(pattern, flags)
    except (re.error, OverflowError, RecursionError) as exc:
        raise Unsupported(f"invalid regular expression {pattern!r}: {exc}") from None
    return Leaf(field, "regex", (pattern, flags))


def _parts(value: SigmaString) -> list[str | SpecialChars]:
    out: list[str | SpecialChars] = []
    for part in value.s:
        if isinstance(part, Placeholder):
            raise Unsupported(_placeholder_reason(value))
        out.append(part)
    return out


def _normalise(parts: list[str | SpecialChars], cased: bool) -> list[str | SpecialChars]:
    """Join adjacent text, fold runs of ``*``, lowercase unless cased."""
    out: list[str | SpecialChars] = []
    for p in parts:
        if isinstance(p, str):
            if not p:
                continue
            text = p if cased else p.lower()
            if out and isinstance(out[-1], str):
                out[-1] = out[-1] + text
            else:
                out.append(text)
        elif p is SpecialChars.WILDCARD_MULTI and out and out[-1] is SpecialChars.WILDCARD_MULTI:
            continue
        else:
            out.append(p)
    return out


def _placeholder_reason(value: SigmaString) -> str:
    names = sorted({p.name for p in value.s if isinstance(p, Placeholder)})
    shown = ", ".join(f"%{n}%" for n in names)
    return (
        f"placeholder {shown} has no values (set them under 'placeholders:' in the sigma "
        "detector's config)"
    )


def _network(net: ipaddress.IPv4Network | ipaddress.IPv6Network) -> tuple[int, int, int]:
    return (net.version, int(net.network_address), int(net.broadcast_address))
