"""A parsed rule and the parts of its options that are not content matching."""

from __future__ import annotations

from dataclasses import dataclass, field

from detectors.netrules.content import Item
from detectors.netrules.vars import Expr

PAYLOAD = "payload"
"""The raw stream sample (no sticky buffer)."""

HTTP_START = "http.start"
"""Request line and header block: also where raw payload content of an HTTP rule looks."""

HTTP_BUFFERS = frozenset({"http.uri", "http.method", "http.host", "http.user_agent",
                          "http.header", "http.request_line", HTTP_START})
BUFFER_DATASET = {**{b: "http" for b in HTTP_BUFFERS}, "dns.query": "dns", "tls.sni": "tls",
                  PAYLOAD: "network.flow"}


@dataclass(frozen=True, slots=True)
class Threshold:
    kind: str  # limit, threshold, both, detection_filter
    track: str  # by_src, by_dst, by_rule, by_both
    count: int
    seconds: float


@dataclass(slots=True)
class Flowbit:
    cmd: str  # set, unset, toggle, isset, isnotset, noalert
    names: tuple[str, ...] = ()
    any_of: bool = False  # a|b (isset: one of them) instead of a&b


@dataclass(slots=True)
class Rule:
    sid: int
    msg: str
    action: str
    proto: str
    src: Expr
    sport: Expr
    bidirectional: bool
    dst: Expr
    dport: Expr
    rev: int = 1
    classtype: str = ""
    priority: int | None = None
    references: list[str] = field(default_factory=list)
    metadata: dict[str, list[str]] = field(default_factory=dict)
    flow: frozenset[str] = frozenset()
    buffers: dict[str, list[Item]] = field(default_factory=dict)
    dotprefix: frozenset[str] = frozenset()
    threshold: Threshold | None = None
    flowbits: list[Flowbit] = field(default_factory=list)
    noalert: bool = False
    file: str = ""
    line: int = 0
    ruleset: str = ""

    @property
    def dataset(self) -> str:
        """The event kind the rule runs on (its first buffer; flows without one)."""
        for name in self.buffers:
            return BUFFER_DATASET[name]
        return "network.flow"

    @property
    def to_client(self) -> bool:
        return bool(self.flow & {"to_client", "from_server"})

    @property
    def to_server(self) -> bool:
        return bool(self.flow & {"to_server", "from_client"})

    @property
    def checks_flowbits(self) -> bool:
        return any(f.cmd in ("isset", "isnotset") for f in self.flowbits)

    @property
    def where(self) -> str:
        return f"{self.file}:{self.line}"
