"""Compiled base rules grouped by dataset, evaluated behind the literal prefilter.

Rules with the same detection (the same matcher tree) share one matcher: a rule copied
under a new id costs one more entry in a tuple, not another evaluation. Each dataset has
its own :class:`~detectors.sigma.index.GroupIndex`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from detectors.sigma.index import GroupIndex
from detectors.sigma.ir import Node
from detectors.sigma.view import View
from ronda.schema import Event, RuleRef, Severity


@dataclass(frozen=True, eq=False)
class CompiledRule:
    """A base (detection) rule ready to run."""

    id: str
    ref: RuleRef
    severity: Severity
    techniques: tuple[str, ...]
    datasets: frozenset[str]
    node: Node
    file: str
    line: int
    logsource: str = ""
    name: str = ""
    """The Sigma ``name`` (rules and correlations may reference it instead of the id)."""


@dataclass(frozen=True)
class _Group:
    index: GroupIndex
    rules: tuple[tuple[CompiledRule, ...], ...]
    """Per matcher bit: the rules sharing that matcher."""


class Ruleset:
    """Immutable rules; the per-value memory inside is not thread-safe (one detector
    thread evaluates)."""

    def __init__(self, rules: Sequence[CompiledRule]) -> None:
        self.rules = tuple(rules)
        per_dataset: dict[str, dict[Node, list[CompiledRule]]] = {}
        for rule in self.rules:
            for dataset in sorted(rule.datasets):
                per_dataset.setdefault(dataset, {}).setdefault(rule.node, []).append(rule)
        self._groups: dict[str, _Group] = {}
        for dataset, by_node in per_dataset.items():
            nodes = list(by_node)
            self._groups[dataset] = _Group(
                GroupIndex(nodes), tuple(tuple(by_node[n]) for n in nodes)
            )

    @property
    def datasets(self) -> frozenset[str]:
        return frozenset(self._groups)

    def match(self, event: Event) -> list[CompiledRule]:
        """The rules whose detection matches the event (in load order per matcher)."""
        group = self._groups.get(event.dataset)
        if group is None:
            return []
        hit = group.index.match(View(event))
        if not hit:
            return []
        rules = group.rules
        if not hit & (hit - 1):  # one matcher: the usual case
            return list(rules[hit.bit_length() - 1])
        out: list[CompiledRule] = []
        while hit:
            low = hit & -hit
            hit ^= low
            out.extend(rules[low.bit_length() - 1])
        return out

    def match_all(self, event: Event) -> list[CompiledRule]:
        """Like :meth:`match`, evaluating every matcher (tests compare the two)."""
        group = self._groups.get(event.dataset)
        if group is None:
            return []
        hit = group.index.match_all(View(event))
        out: list[CompiledRule] = []
        for i, rules in enumerate(group.rules):
            if hit >> i & 1:
                out.extend(rules)
        return out

    def stats(self, dataset: str) -> tuple[int, int, int]:
        """(matchers, matchers evaluated without a literal, fields looked at) of a dataset."""
        group = self._groups.get(dataset)
        if group is None:
            return (0, 0, 0)
        index = group.index
        return (index.size, index.unfiltered, len(index.fields))
