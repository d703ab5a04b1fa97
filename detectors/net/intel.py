"""Traffic to or from addresses and domains on threat-intel lists.

Configured as::

    detectors:
      intel:
        type: intel
        lists:
          - {path: /etc/ronda/intel/feodo-ips.txt, name: feodo, severity: critical}
          - /etc/ronda/intel/local-blocklist.txt      # name: file stem, severity: high

Lists are plain files (see :mod:`detectors.net.intel_lists`), read at start and again on
reload (SIGHUP); a missing file keeps the running lists, a bad line is logged as
``FILE:LINE: ...``, counted (``ronda_dropped_total{reason="bad_indicator"}``) and
skipped. Any event is examined: addresses in ``ip_fields`` (exact address or the most
specific CIDR, in a few dict probes per address whatever the list sizes) and names in
``domain_fields`` (a listed domain matches itself and its subdomains). Repeated matches
of the same indicator between the same endpoints within ``suppress`` update one alert
(its count grows) instead of raising new ones.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from detectors.net.common import Counters, Episode, LruTable, last_of, newest
from detectors.net.domains import normalize
from detectors.net.intel_lists import Indicator, IntelIndex
from ronda.component import Context, Detector, DetectorConfig
from ronda.durations import Duration
from ronda.errors import RuleError
from ronda.schema import Alert, Event, RuleRef, Severity

RULESET = "ronda-intel"
IP_FIELDS = ("source.ip", "destination.ip", "dns.resolved_ip")
DOMAIN_FIELDS = ("dns.question.name", "url.domain", "tls.client.server_name",
                 "destination.domain")
MAX_PROBLEMS_LOGGED = 20


def _path_or_list(value: Any) -> Any:
    return {"path": value} if isinstance(value, str) else value


class IntelListConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    path: str
    name: str = ""
    """Shown in alerts and in the rule id ``intel:NAME``; default: the file name's stem."""
    severity: Severity = Severity.HIGH


class IntelConfig(DetectorConfig):
    type: Literal["intel"]
    lists: list[Annotated[IntelListConfig, BeforeValidator(_path_or_list)]]
    ip_fields: list[str] = Field(default_factory=lambda: list(IP_FIELDS))
    domain_fields: list[str] = Field(default_factory=lambda: list(DOMAIN_FIELDS))
    suppress: Duration = 600.0
    """Matches of one indicator between the same endpoints this close update one alert."""
    max_groups: int = Field(default=100_000, ge=1)
    """Open alerts remembered for ``suppress``; least recently matched evicted beyond."""


class _Match(Episode):
    __slots__ = ("count",)

    def __init__(self) -> None:
        super().__init__()
        self.count = 0


class IntelDetector(Detector):
    config_model = IntelConfig
    config: IntelConfig

    def __init__(self, name: str, config: IntelConfig, ctx: Context) -> None:
        super().__init__(name, config, ctx)
        self._counters = Counters(name, ctx)
        self._bad = ctx.metrics.dropped.labels(component=name, reason="bad_indicator")
        self._index = IntelIndex()
        self._refs: list[tuple[RuleRef, Severity]] = []
        self._open: LruTable[str, _Match] = LruTable(config.max_groups, _Match)
        self.problems: list[str] = []

    @property
    def indicator_count(self) -> int:
        return len(self._index)

    def reload(self) -> int:
        index = IntelIndex()
        refs: list[tuple[RuleRef, Severity]] = []
        errors: list[str] = []
        for i, entry in enumerate(self.config.lists):
            path = self.ctx.resolve(entry.path)
            try:
                text = path.read_text(encoding="utf-8", errors="replace")
            except OSError as exc:
                errors.append(f"{path}: cannot read intel list: {exc.strerror or exc}")
                continue
            index.load(i, path, text)
            refs.append((_ref(entry, path), entry.severity))
        if errors:
            raise RuleError(*errors)
        for line in index.problems[:MAX_PROBLEMS_LOGGED]:
            self.ctx.log.warning("%s: %s", self.name, line)
        if len(index.problems) > MAX_PROBLEMS_LOGGED:
            self.ctx.log.warning("%s: %d more bad intel lines skipped", self.name,
                                 len(index.problems) - MAX_PROBLEMS_LOGGED)
        if index.problems:
            self._bad.inc(len(index.problems))
        self._index, self._refs, self.problems = index, refs, index.problems
        self._counters.rules_loaded.set(len(refs))
        self.ctx.log.info("%s: %d indicators in %d lists", self.name, len(index), len(refs))
        return len(refs)

    def rule_info(self) -> list[tuple[RuleRef, Severity]]:
        return list(self._refs)

    def process(self, events: Sequence[Event]) -> list[Alert]:
        index = self._index
        alerts: list[Alert] = []
        if not len(index):
            self._counters.done(len(events), 0, 0)
            return alerts
        ip_fields, domain_fields = self.config.ip_fields, self.config.domain_fields
        for event in events:
            f = event.fields
            for name in ip_fields:
                value = f.get(name)
                if value is None:
                    continue
                for item in value if isinstance(value, list) else (value,):
                    if isinstance(item, str):
                        hit = index.match_ip(item)
                        if hit is not None:
                            alert = self._hit(hit, name, item, event)
                            if alert is not None:
                                alerts.append(alert)
            for name in domain_fields:
                value = f.get(name)
                if isinstance(value, str) and value:
                    hit = index.match_domain(normalize(value))
                    if hit is not None:
                        alert = self._hit(hit, name, value, event)
                        if alert is not None:
                            alerts.append(alert)
        self._open.prune(newest(events) - self.config.suppress, last_of)
        self._counters.done(len(events), len(alerts), self._open.take_evicted())
        return alerts

    def _hit(self, hit: Indicator, field: str, value: str, event: Event) -> Alert | None:
        f = event.fields
        src, dst = f.get("source.ip"), f.get("destination.ip")
        ref, severity = self._refs[hit.list_index]
        key = f"{hit.text}|{src or '-'}|{dst or '-'}"
        ts = event.timestamp
        match = self._open.get(f"{hit.list_index}|{key}")
        if match.touch(ts, self.config.suppress, _evidence(event, field, value)):
            match.count = 0
        match.count += 1
        new = match.due(match.count, 1)
        if not new:
            return None
        listname = ref.id.split(":", 1)[1]
        fields: dict[str, Any] = {k: f[k] for k in ("source.ip", "destination.ip",
                                                    "destination.port", "network.transport")
                                  if f.get(k) is not None}
        fields.update({"ronda.intel.list": listname, "ronda.intel.indicator": hit.text,
                       "ronda.intel.field": field, "ronda.intel.value": value,
                       "ronda.intel.dataset": event.dataset})
        if field == "url.domain":
            fields["url.domain"] = value
        flow = f"{src} -> {dst}" if src and dst else str(src or dst or "")
        return Alert(
            rule=ref, severity=severity,
            message=(f"{field} {value} is on intel list {listname} ({hit.text})"
                     + (f": {flow}" if flow else "")),
            first_seen=match.start, last_seen=match.last, key=key, count=new,
            fields=fields, evidence=tuple(match.evidence), sensor=self.ctx.sensor,
            detector=self.name, source=event.source)


def _ref(entry: IntelListConfig, path: Path) -> RuleRef:
    name = entry.name or path.stem
    return RuleRef(id=f"intel:{name}", name=f"Threat-intel match: {name}", ruleset=RULESET,
                   category="intel-match",
                   description=f"Traffic to or from an indicator listed in {path}.")


def _evidence(event: Event, field: str, value: str) -> str:
    text = event.message[:200] if event.message else f"{event.dataset} event"
    return f"{field}={value}: {text}"
