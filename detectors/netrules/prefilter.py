"""Multi-pattern prefilter: one Aho-Corasick automaton per buffer over one content of
each rule (its ``fast_pattern``, else its longest positive content), lower-cased so
that ``nocase`` contents are found too. A rule is a candidate when its pattern occurs;
the full match decides. Rules without a positive content are always candidates."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import ahocorasick

from detectors.netrules.content import Content
from detectors.netrules.rule import Rule


def fast_pattern(items: Sequence[object]) -> bytes | None:
    """The content a rule is prefiltered on in one buffer (lower-cased), or None."""
    positives = [c for c in items if isinstance(c, Content) and not c.negated]
    if not positives:
        return None
    flagged = [c for c in positives if c.fast_pattern]
    best = flagged[0] if flagged else max(positives, key=lambda c: len(c.pattern))
    return best.pattern.lower()


def buffer_key(rule: Rule, name: str) -> str:
    """The buffer a rule scans (``dotprefix`` makes a transformed one)."""
    return name + "+dot" if name in rule.dotprefix else name


class Prefilter:
    def __init__(self, rules: Sequence[Rule]) -> None:
        patterns: dict[str, dict[str, list[int]]] = {}
        self.always: list[int] = []
        for idx, rule in enumerate(rules):
            best: tuple[str, bytes] | None = None
            for name, items in rule.buffers.items():
                pat = fast_pattern(items)
                if pat is not None and (best is None or len(pat) > len(best[1])):
                    best = (buffer_key(rule, name), pat)
            if best is None:
                self.always.append(idx)
                continue
            by_pat = patterns.setdefault(best[0], {})
            by_pat.setdefault(best[1].decode("latin-1"), []).append(idx)
        self.automata: dict[str, ahocorasick.Automaton] = {}
        for name, by_pat in patterns.items():
            auto = ahocorasick.Automaton()
            for word, ids in by_pat.items():
                auto.add_word(word, tuple(ids))
            auto.make_automaton()
            self.automata[name] = auto

    @property
    def buffers(self) -> Iterable[str]:
        return self.automata.keys()

    def candidates(self, name: str, lower: bytes, out: set[int]) -> None:
        """Add the rules whose pattern for buffer ``name`` occurs in ``lower``."""
        auto = self.automata.get(name)
        if auto is None or not lower:
            return
        for _, ids in auto.iter(lower.decode("latin-1")):
            out.update(ids)
