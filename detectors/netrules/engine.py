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
from detectors.netrules.prefilter import Prefilter, buffer_key
from detectors.netrules.rule import PAYLOAD, Rule
from detectors.netrules.state import Flowbits, Thresholds
from detectors.netrules.vars import Group, matches, to_ip
from ronda.schema import Event

APP_PROTOS = {"http": {"http", "tcp", "ip", "tcp-stream", "tcp-pkt"},
              "dns": {"dns", "udp", "tcp", "ip"},
              "tls": {"tls", "tcp", "ip", "tcp-stream", "tcp-pkt"}}
EXCERPT = 120
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

    def unconditional(self, ends: Ends) -> set[int]:
        """The candidates without content for an event with these endpoints."""
        out = set(self.always)
        by_host = self.by_host
        if by_host:
            for ip in (ends[0], ends[2]):
                found = by_host.get(ip)
                if found:
                    out.update(found)
        return out


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
        group = self.groups.get(event.dataset)
        if group is None:
            return []
        bufs = event_buffers(event)
        lowers = {k: v.lower() for k, v in bufs.items()}
        if event.dataset == "network.flow":
            return self._flow(event, group, bufs, lowers)
        for name in self._dotted.intersection(bufs):
            dotted = name + "+dot"
            bufs[dotted] = b"." + bufs[name]
            lowers[dotted] = b"." + lowers[name]
        ends = _ends(event.fields)
        cands = group.unconditional(ends)
        for name in group.prefilter.buffers:
            if name in lowers:
                group.prefilter.candidates(name, lowers[name], cands)
        hits: list[Hit] = []
        for idx in sorted(cands):
            rule = group.rules[idx]
            if rule.proto not in APP_PROTOS.get(event.dataset, ()) or (rule.to_client and \
                    event.dataset != "dns"):
                continue
            reverse = self._header(rule, ends, rule.to_client)
            if reverse is None:
                continue
            hit = self._content(rule, bufs, lowers, reverse)
            if hit is not None and self._finish(rule, event):
                hits.append(hit)
        return hits

    def _flow(self, event: Event, group: _Group, bufs: dict[str, bytes],
              lowers: dict[str, bytes]) -> list[Hit]:
        f = event.fields
        transport = f.get("network.transport")
        app = f.get("network.protocol")
        ends = _ends(f)
        cands = group.unconditional(ends)
        for d in ("to_server", "to_client"):
            low = lowers.get(f"{PAYLOAD}:{d}")
            if low is not None:
                group.prefilter.candidates(PAYLOAD, low, cands)
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
                if self._header(rule, ends, reverse) is None:
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
    def _header(rule: Rule, ends: Ends, reverse: bool) -> bool | None:
        """Whether the header matches with the event's client as the rule's source
        (``reverse``: the server as source); ``<>`` tries both. None: no match."""
        cip, cport, sip, sport = ends
        options = [reverse, not reverse] if rule.bidirectional else [reverse]
        for rev in options:
            a, ap, b, bp = (sip, sport, cip, cport) if rev else (cip, cport, sip, sport)
            if (matches(rule.src, a) and matches(rule.sport, ap) and matches(rule.dst, b)
                    and matches(rule.dport, bp)):
                return rev
        return None

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


def _ends(f: dict[str, Any]) -> Ends:
    """Client address and port, server address and port, parsed once per event."""
    return (to_ip(f.get("source.ip")), f.get("source.port"), to_ip(f.get("destination.ip")),
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
