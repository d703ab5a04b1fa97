"""Domain names: registered domain (a public-suffix approximation), suffix sets, entropy.

``registered_domain`` keeps the last two labels, or three when the second-to-last is a
well-known second level under a two-letter country TLD (``go.id``, ``co.id``, ``ac.id``,
``co.uk``, ``com.au``, ``co.jp``...). It is an approximation of the Public Suffix List:
the real list needs a download (``tldextract`` fetches it), and a tunnel detector only
needs a stable grouping key. Private suffixes (``blogspot.com``, ``herokuapp.com``) are
not known: add their owners to the allowlist if they are noisy.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable

CC_SECOND_LEVELS = frozenset({
    # Indonesia (PANDI): go.id, co.id, ac.id, or.id, web.id, sch.id, my.id, net.id...
    "go", "co", "ac", "or", "web", "sch", "my", "net", "mil", "biz", "desa", "ponpes",
    # generic second levels used under many ccTLDs (co.uk, com.au, gov.uk, ne.jp...)
    "com", "org", "gov", "edu", "ltd", "plc", "nhs", "ne", "gob", "nic", "mod", "police",
    "info", "nom", "int",
})


def normalize(name: str) -> str:
    """Lower case, no trailing dot."""
    name = name.strip().lower()
    return name[:-1] if name.endswith(".") else name


def registered_domain(name: str) -> str:
    """``a.b.evil.example`` -> ``evil.example``; ``x.kominfo.go.id`` -> ``kominfo.go.id``.

    ``name`` must already be normalised. A name of one or two labels is its own."""
    labels = name.split(".")
    if len(labels) <= 2:
        return name
    tld, sld = labels[-1], labels[-2]
    if len(tld) == 2 and sld in CC_SECOND_LEVELS:
        return ".".join(labels[-3:])
    return ".".join(labels[-2:])


def shannon_entropy(text: str) -> float:
    """Bits per character of ``text``'s character distribution."""
    n = len(text)
    if not n:
        return 0.0
    return -sum(c / n * math.log2(c / n) for c in Counter(text).values())


class SuffixSet:
    """Domains matched with their subdomains: ``evil.example`` holds ``a.evil.example``."""

    def __init__(self, domains: Iterable[str] = ()) -> None:
        self._set: set[str] = set()
        for domain in domains:
            self.add(domain)

    def __len__(self) -> int:
        return len(self._set)

    def add(self, domain: str) -> None:
        domain = normalize(domain)
        if domain.startswith("*."):
            domain = domain[2:]
        self._set.add(domain)

    def match(self, name: str) -> str | None:
        """The listed domain that ``name`` (normalised) is or is under, or None."""
        s = self._set
        if not s:
            return None
        while True:
            if name in s:
                return name
            dot = name.find(".")
            if dot < 0:
                return None
            name = name[dot + 1:]
