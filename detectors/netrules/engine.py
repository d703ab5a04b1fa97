"""Rules against events: prefilter, header, flow, content, flowbits, thresholds.

Each rule runs on one kind of event (the dataset of its buffers): ``http``, ``dns``,
``tls`` for sticky buffers, ``network.flow`` for raw payload content and header-only
rules. Payload content is checked against the first bytes of each direction of a flow
that the sensor sampled (``ronda.payload.to_server`` / ``to_client``) when the flow ends.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from detectors.netrules.buffers import event_buffers
from detectors.netrules.content import match_items
from detectors.netrules.fits import fits
from detectors.netrules.prefilter import Prefilter, buffer_key
from detectors.netrules.rule import PAYLOAD, Rule
from detectors.netrules.state import Flowbits, Thresholds
from detectors.netrules.vars import Group, to_ip
from ronda.schema import Event

APP_PROTOS = {"http": {"http", "tcp", "ip", "tcp-stream", "tcp-pkt"},
              "dns": {"dns", "udp", "tcp", "ip"},
              "tls": {"tls", "tcp", "ip", "tcp-stream", "tcp-pkt"}}
EXCERPT = 120
MAX_HEADS = 16
PAYLOAD_KEYS = ((f"{PAYLOAD}:to_server", "ronda.payload.to_server", False),
                (f"{PAYLOAD}:to_client", "ronda.payload.to_client", True))
Ends = tuple[Any, Any, Any, Any]


@dataclass(frozen=True, slots=True)
class Hit:
    rule: Rule
    buffer: str
    excerpt: str
    reverse: bool  # the rule's source is the event's destination (server)


class _Group:
    def __init__(self, rules: list[Rule]) -> None:
        # rules that set flowbits run before rules that check them
        self.rules = sorted(rules, key=lambda r: r.checks_flowbits)
        self.prefilter = Prefilter(self.rules)
        self.headers = [Header(r) for r in self.rules]
        # the buffers these rules read: only those are made for an event
        self.wanted = frozenset(n for r in self.rules for n in r.buffers)
        # raw payload rules by header (address and port expressions), like Suricata's
        # signature group heads: a flow's payload samples are scanned only for the
        # directions some header fits (a header check costs far less than a scan of up
        # to 2 x payload_bytes). Beyond MAX_HEADS distinct headers every sample is scanned.
        heads: dict[tuple[object, ...], list[int]] = {}
        for idx, rule in enumerate(self.rules):
            if PAYLOAD in rule.buffers:
                key = (rule.src, rule.sport, rule.dst, rule.dport, rule.bidirectional)
                heads.setdefault(key, []).append(idx)
        self.heads = ([(self.headers[ids[0]], frozenset(ids)) for ids in heads.values()]
                      if len(heads) <= MAX_HEADS else None)
        # rules without content whose source or destination is a list of single addresses
        # (reputation lists): found by address instead of tried one by one
        self.by_host: dict[object, list[int]] = {}
        self.always: list[int] = []
        for idx in self.prefilter.always:
            hosts = _host_list(self.rules[idx])
            if hosts is None:
                self.always.append(idx)
                continue
            for h in hosts:
                self.by_host.setdefault(h, []).append(idx)

    def unconditional(self, f: dict[str, Any], out: set[int]) -> None:
        """Add the candidates without content for an event with these fields."""
        out.update(self.always)
        by_host = self.by_host
        if by_host:
            for name in ("source.ip", "destination.ip"):
                found = by_host.get(_ip(f.get(name)))
                if found:
                    out.update(found)


class Header:
    """A rule's header (addresses, ports, direction) as compiled predicates."""

    __slots__ = ("bidirectional", "dport", "dst", "sport", "src")

    def __init__(self, rule: Rule) -> None:
        self.src, self.sport = fits(rule.src), fits(rule.sport)
        self.dst, self.dport = fits(rule.dst), fits(rule.dport)
        self.bidirectional = rule.bidirectional

    def fits(self, ends: Ends, reverse: bool) -> bool | None:
        """Whether the header matches with the event's client as the rule's source
        (``reverse``: the server as source); ``<>`` tries both. None: no match."""
        cip, cport, sip, sport = ends
        for rev in ((reverse, not reverse) if self.bidirectional else (reverse,)):
            a, ap, b, bp = (sip, sport, cip, cport) if rev else (cip, cport, sip, sport)
            if self.src(a) and self.sport(ap) and self.dst(b) and self.dport(bp):
                return rev
        return None


def _host_list(rule: Rule) -> frozenset[object] | None:
    for side in (rule.src, rule.dst):
        if isinstance(side, Group) and side.pos_hosts and not side.pos and not side.neg \
                and not side.neg_hosts:
            return side.pos_hosts
    return None


class Engine:
    def __init__(self, rules: Sequence[Rule], max_flows: int, max_tracked: int) -> None:
        by_ds: dict[str, list[Rule]] = {}
        for rule in rules:
            by_ds.setdefault(rule.dataset, []).append(rule)
        self.groups = {ds: _Group(rs) for ds, rs in by_ds.items()}
        # buffers some rule reads with a dot in front (dotprefix): only those are made
        self._dotted = frozenset(k for r in rules for k in r.dotprefix)
        self.flowbits = Flowbits(max_flows)
        self.thresholds = Thresholds(max_tracked)

    def match(self, event: Event) -> list[Hit]:
        """The rules that fire on ``event``. Cheap for the many events no rule can match:
        only the buffers the event's rules read are made, the prefilter runs first, and
        the endpoints are parsed only for candidates."""
        group = self.groups.get(event.dataset)
        if group is None:
            return []
        if event.dataset == "network.flow":
            return self._flow(event, group)
        bufs = event_buffers(event, group.wanted)
        lowers = _Lowers(bufs)
        for name in self._dotted.intersection(bufs):
            bufs[name + "+dot"] = b"." + bufs[name]
        cands: set[int] = set()
        group.unconditional(event.fields, cands)
        for name in group.prefilter.buffers:
            if name in bufs:
                group.prefilter.candidates(name, lowers[name], cands)
        if not cands:
            return []
        ends = _ends(event.fields)
        hits: list[Hit] = []
        for idx in sorted(cands):
            rule = group.rules[idx]
            if rule.proto not in APP_PROTOS.get(event.dataset, ()) or (rule.to_client and \
                    event.dataset != "dns"):
                continue
            reverse = group.headers[idx].fits(ends, rule.to_client)
            if reverse is None:
                continue
            hit = self._content(rule, bufs, lowers, reverse)
            if hit is not None and self._finish(rule, event):
                hits.append(hit)
        return hits

    def _flow(self, event: Event, group: _Group) -> list[Hit]:
        """Header-only rules and raw payload rules on a flow's payload samples."""
        f = event.fields
        cands: set[int] = set()
        group.unconditional(f, cands)
        heads = group.heads
        scans: list[tuple[str, list[frozenset[int]] | None]] = []
        ends: Ends | None = None
        for key, field_name, reverse in PAYLOAD_KEYS:
            if not f.get(field_name):
                continue
            if heads is None:
                scans.append((key, None))
                continue
            if ends is None:
                ends = _ends(f)
            fits_here = [ids for head, ids in heads if head.fits(ends, reverse) is not None]
            if fits_here:
                scans.append((key, fits_here))
        if not cands and not scans:
            return []
        bufs = event_buffers(event, group.wanted)
        lowers = _Lowers(bufs)
        for key, fitting in scans:
            if key not in bufs:
                continue
            if fitting is None:
                group.prefilter.candidates(PAYLOAD, lowers[key], cands)
                continue
            found: set[int] = set()
            group.prefilter.candidates(PAYLOAD, lowers[key], found)
            for ids in fitting:
                cands.update(found & ids)
        if not cands:
            return []
        if ends is None:
            ends = _ends(f)
        transport = f.get("network.transport")
        app = f.get("network.protocol")
        hits: list[Hit] = []
        for idx in sorted(cands):
            rule = group.rules[idx]
            if rule.proto not in ("ip", "tcp-pkt", "tcp-stream", "pkthdr", transport, app):
                continue
            if "established" in rule.flow and not _established(f):
                continue
            if "not_established" in rule.flow and _established(f):
                continue
            hit = None
            for d, reverse in (("to_server", False), ("to_client", True)):
                if (reverse and rule.to_server) or (not reverse and rule.to_client):
                    continue
                if group.headers[idx].fits(ends, reverse) is None:
                    continue
                if not rule.buffers:
                    hit = Hit(rule, "", "", reverse)
                    break
                buf = bufs.get(f"{PAYLOAD}:{d}")
                if buf is None:
                    continue
                pos = match_items(rule.buffers[PAYLOAD], buf, lowers[f"{PAYLOAD}:{d}"])
                if pos is not None:
                    hit = Hit(rule, f"payload {d}", _excerpt(buf, pos), reverse)
                    break
            if hit is not None and self._finish(rule, event):
                hits.append(hit)
        return hits

    @staticmethod
    def _content(rule: Rule, bufs: dict[str, bytes], lowers: dict[str, bytes],
                 reverse: bool) -> Hit | None:
        first: tuple[str, str] | None = None
        for name, items in rule.buffers.items():
            key = buffer_key(rule, name)
            buf = bufs.get(key)
            if buf is None:
                return None
            pos = match_items(items, buf, lowers[key])
            if pos is None:
                return None
            if first is None:
                first = (name, _excerpt(buf, pos))
        name, excerpt = first or ("", "")
        return Hit(rule, name, excerpt, reverse)

    def _finish(self, rule: Rule, event: Event) -> bool:
        """Flowbits and thresholds of a matching rule; whether it alerts."""
        f = event.fields
        flow = f.get("network.community_id") or f.get("ronda.suricata.flow_id")  # EVE
        flow_key = str(flow) if isinstance(flow, str | int) else None
        if rule.flowbits:
            if not self.flowbits.check(flow_key, rule.flowbits):
                return False
            self.flowbits.apply(flow_key, rule.flowbits)
        if rule.noalert:
            return False
        th = rule.threshold
        if th is not None:
            return self.thresholds.allow(rule.sid, th, str(f.get("source.ip", "")),
                                         str(f.get("destination.ip", "")), event.timestamp)
        return True


class _Lowers(dict[str, bytes]):
    """The lower-cased buffers, made when first asked for (most are never asked for)."""

    def __init__(self, bufs: dict[str, bytes]) -> None:
        super().__init__()
        self.bufs = bufs

    def __missing__(self, key: str) -> bytes:
        low = self[key] = self.bufs[key].lower()
        return low


_IPS: dict[str, int | None] = {}  # address text -> to_ip (a network's addresses recur)
MAX_IPS = 65536


def _ip(value: object) -> int | None:
    """:func:`to_ip`, looked up (bounded cache)."""
    if not isinstance(value, str):
        return None
    got = _IPS.get(value, -1)
    if got == -1:
        if len(_IPS) >= MAX_IPS:
            _IPS.clear()
        got = _IPS[value] = to_ip(value)
    return got


def _ends(f: dict[str, Any]) -> Ends:
    """Client address and port, server address and port, parsed once per event."""
    return (_ip(f.get("source.ip")), f.get("source.port"), _ip(f.get("destination.ip")),
            f.get("destination.port"))


def _established(f: dict[str, Any]) -> bool:
    if f.get("network.transport") == "tcp":
        hist = f.get("ronda.flow.history")
        return isinstance(hist, str) and "h" in hist
    packets = f.get("destination.packets")
    return isinstance(packets, int) and packets > 0


def _excerpt(buf: bytes, pos: int) -> str:
    start = max(0, pos - 20)
    return buf[start:start + EXCERPT].decode("utf-8", "backslashreplace")
