"""DNS tunnelling from ``dns`` events (``dns.question.name``).

Configured as::

    detectors:
      dns-tunnel: {type: dns_tunnel, window: 5m, unique_threshold: 100, allow: [sophosxl.net]}

Two rules, per (client ``source.ip``, registered domain) within the window:

* encoded queries: the subdomain part (the name minus its registered domain) is long and
  random-looking (at least ``min_length`` characters with Shannon entropy at least
  ``min_entropy`` bits per character, or one label of ``max_label`` characters or more);
  ``encoded_threshold`` such distinct names alert (a retry of a name does not count).
* volume: ``unique_threshold`` distinct subdomains of one registered domain.

The registered domain is approximated (see :mod:`detectors.net.domains`). Names under an
``allow`` domain (CDNs, anti-virus and DNSBL lookups, reverse lookups) never count.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

from pydantic import Field

from detectors.net.common import (
    SAMPLES,
    Counters,
    DistinctWindow,
    Episode,
    LruTable,
    RateWindow,
    newest,
)
from detectors.net.domains import SuffixSet, normalize, registered_domain, shannon_entropy
from ronda.component import Context, Detector, DetectorConfig
from ronda.durations import Duration
from ronda.schema import Alert, Event, RuleRef, Severity

RULESET = "ronda-net"
ENCODED = RuleRef(
    id="ronda-dns-tunnel-encoded", name="DNS tunnelling: encoded query names",
    ruleset=RULESET, category="dns-tunnel",
    description="Long, high-entropy subdomains of one domain: data encoded in queries.")
VOLUME = RuleRef(
    id="ronda-dns-tunnel-volume", name="DNS tunnelling: many unique subdomains",
    ruleset=RULESET, category="dns-tunnel",
    description="One client asked for many distinct subdomains of one domain.")
TECHNIQUES = ("T1071.004", "T1572")
DEFAULT_ALLOW = (
    "in-addr.arpa", "ip6.arpa", "akamaiedge.net", "akadns.net", "akamai.net",
    "cloudfront.net", "edgekey.net", "fastly.net", "trafficmanager.net", "azureedge.net",
    "sophosxl.net", "e5.sk", "avqs.mcafee.com", "spamhaus.org", "spamcop.net",
    "barracudacentral.org", "sorbs.net", "surbl.org", "uribl.com",
)
MAX_NAME_CHARS = 120


class DnsTunnelConfig(DetectorConfig):
    type: Literal["dns_tunnel"]
    window: Duration = 300.0
    min_length: int = Field(default=30, ge=1)
    """Subdomain length (characters, dots excluded) from which entropy is tested."""
    min_entropy: float = Field(default=3.8, ge=0)
    """Shannon entropy (bits per character) of an encoded subdomain."""
    max_label: int = Field(default=52, ge=1, le=63)
    """A label this long is encoded whatever its entropy."""
    encoded_threshold: int = Field(default=5, ge=1)
    unique_threshold: int = Field(default=100, ge=2)
    allow: list[str] = Field(default_factory=lambda: list(DEFAULT_ALLOW))
    """Domains (with their subdomains) never examined. Replaces the default list."""
    extra_allow: list[str] = Field(default_factory=list)
    """Domains added to ``allow`` (keeps the defaults)."""
    max_groups: int = Field(default=10_000, ge=1)
    """(client, domain) groups kept; least recently seen evicted beyond."""
    severity: Severity = Severity.HIGH


class _Group:
    __slots__ = ("encoded", "names", "samples")

    def __init__(self) -> None:
        self.names = DistinctWindow()
        self.encoded = RateWindow()
        self.samples: list[str] = []


def encoded(sub: str, cfg: DnsTunnelConfig) -> bool:
    """Does the subdomain part look like data?"""
    labels = sub.split(".")
    if max(len(label) for label in labels) >= cfg.max_label:
        return True
    flat = "".join(labels)
    return len(flat) >= cfg.min_length and shannon_entropy(flat) >= cfg.min_entropy


def dns_evidence(f: dict[str, Any], name: str) -> str:
    if len(name) > MAX_NAME_CHARS:
        name = name[:MAX_NAME_CHARS] + "..."
    qtype = f.get("dns.question.type") or "?"
    rcode = f.get("dns.response_code")
    tail = f" ({rcode})" if rcode else ""
    return f"{f.get('source.ip')} -> {f.get('destination.ip', '?')} {qtype} {name}{tail}"


class DnsTunnelDetector(Detector):
    config_model = DnsTunnelConfig
    config: DnsTunnelConfig

    def __init__(self, name: str, config: DnsTunnelConfig, ctx: Context) -> None:
        super().__init__(name, config, ctx)
        self._counters = Counters(name, ctx)
        self._allow = SuffixSet([*config.allow, *config.extra_allow])
        self._max_values = config.unique_threshold * 2
        self._groups: LruTable[tuple[str, str], _Group] = LruTable(config.max_groups, _Group)

    def reload(self) -> int:
        self._counters.rules_loaded.set(2)
        return 2

    def rule_info(self) -> list[tuple[RuleRef, Severity]]:
        return [(ENCODED, self.config.severity), (VOLUME, self.config.severity)]

    def group_counts(self) -> dict[str, int]:
        return {"groups": len(self._groups)}

    def process(self, events: Sequence[Event]) -> list[Alert]:
        cfg = self.config
        window = cfg.window
        alerts: list[Alert] = []
        for event in events:
            if event.dataset != "dns":
                continue
            f = event.fields
            raw, src = f.get("dns.question.name"), f.get("source.ip")
            if not isinstance(raw, str) or not isinstance(src, str):
                continue
            name = normalize(raw)
            if self._allow.match(name) is not None:
                continue
            domain = registered_domain(name)
            if len(name) <= len(domain):
                continue
            sub = name[: len(name) - len(domain) - 1]
            ts = event.timestamp
            group = self._groups.get((src, domain))
            text = dns_evidence(f, name)
            names = group.names
            h = hash(sub)
            repeat = h in names.values  # a retry or a cached name: not new data
            n = names.add(h, ts, window, self._max_values)
            if names.touch(ts, window, text):
                group.samples.clear()
            if len(group.samples) < SAMPLES:
                group.samples.append(name[:MAX_NAME_CHARS])
            new = names.due(n, cfg.unique_threshold)
            if new:
                alerts.append(self._alert(VOLUME, names, n, new, group, event, domain))
            if not repeat and encoded(sub, cfg):
                enc = group.encoded
                m = int(enc.add(ts, 1, window))
                enc.touch(ts, window, text)
                new = enc.due(m, cfg.encoded_threshold)
                if new:
                    alerts.append(self._alert(ENCODED, enc, m, new, group, event, domain))
        self._groups.prune(newest(events) - 2 * window, lambda g: g.names.last)
        self._counters.done(len(events), len(alerts), self._groups.take_evicted())
        return alerts

    def _alert(self, ref: RuleRef, episode: Episode, n: int, new: int, group: _Group,
               event: Event, domain: str) -> Alert:
        f = event.fields
        src = f["source.ip"]
        what = "encoded queries" if ref is ENCODED else "distinct subdomains"
        fields: dict[str, Any] = {"source.ip": src, "dns.question.registered_domain": domain,
                                  "ronda.dns.count": n, "ronda.dns.samples": list(group.samples)}
        if f.get("destination.ip") is not None:
            fields["destination.ip"] = f["destination.ip"]
        return Alert(
            rule=ref, severity=self.config.severity,
            message=(f"{ref.name} from {src}: {n} {what} under {domain} in "
                     f"{self.config.window:g}s"),
            first_seen=episode.start, last_seen=episode.last, key=f"{src}|{domain}", count=new,
            techniques=TECHNIQUES, fields=fields, evidence=tuple(episode.evidence),
            sensor=self.ctx.sensor, detector=self.name, source=event.source)
