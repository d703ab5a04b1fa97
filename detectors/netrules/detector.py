"""The ``netrules`` detector: Suricata-compatible rules (a subset) over network events.

Configured as::

    detectors:
      netrules:
        type: netrules
        rules: [../rules/suricata]       # .rules files or folders, from the config folder
        vars: {HOME_NET: "[10.20.0.0/16]", HTTP_PORTS: "[80,8080]"}

Sticky-buffer rules (``http.uri``, ``dns.query``, ``tls.sni``...) run on the sensor's
protocol events; raw ``content`` runs on the first bytes of each direction of a flow
(``ronda.payload.*``, a stream-depth-like limit) when the flow ends. Rules using a
keyword outside the subset are skipped and counted by keyword (:meth:`skipped_by_keyword`);
broken rules are listed with file:line (:meth:`problems`).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal, cast

from pydantic import Field

from detectors.net.common import Counters
from detectors.netrules.classify import category, severity
from detectors.netrules.engine import Engine, Hit
from detectors.netrules.parser import Loaded, load_text
from detectors.netrules.vars import Parser, normalise_vars
from ronda.component import Context, Detector, DetectorConfig
from ronda.errors import RuleError
from ronda.schema import Alert, Category, Event, RuleRef, Severity

MAX_FILE_BYTES = 64 << 20
MAX_LOGGED = 20


class NetRulesConfig(DetectorConfig):
    type: Literal["netrules"]
    rules: list[str] = Field(min_length=1)
    """.rules files or folders of them, relative to the config file."""
    vars: dict[str, str | list[str]] = Field(default_factory=dict)
    max_flowbits_flows: int = Field(default=100_000, ge=1)
    max_threshold_entries: int = Field(default=100_000, ge=1)


def rule_files(paths: Sequence[Path]) -> list[Path]:
    out: list[Path] = []
    for p in paths:
        if p.is_dir():
            out.extend(sorted(p.rglob("*.rules")))
        else:
            out.append(p)
    return out


def load_rules(paths: Sequence[Path], variables: dict[str, str]) -> Loaded:
    """Parse every file; RuleError when a file is missing or unreadable."""
    exprs = Parser(variables)
    loaded = Loaded()
    errors: list[str] = []
    for path in rule_files(paths):
        try:
            if path.stat().st_size > MAX_FILE_BYTES:
                errors.append(f"{path}: larger than {MAX_FILE_BYTES >> 20} MiB")
                continue
            text = path.read_text("utf-8", errors="replace")
        except OSError as exc:
            errors.append(f"{path}: cannot read: {exc.strerror or exc}")
            continue
        loaded.files += 1
        load_text(text, str(path), exprs, loaded)
    if errors:
        raise RuleError(*errors)
    return loaded


class NetRulesDetector(Detector):
    config_model = NetRulesConfig
    config: NetRulesConfig

    def __init__(self, name: str, config: NetRulesConfig, ctx: Context) -> None:
        super().__init__(name, config, ctx)
        self._counters = Counters(name, ctx)
        self._vars = normalise_vars(config.vars)
        self._loaded = Loaded()
        self._engine = Engine([], config.max_flowbits_flows, config.max_threshold_entries)
        self._refs: dict[int, tuple[RuleRef, Severity]] = {}

    def reload(self) -> int:
        cfg = self.config
        loaded = load_rules([self.ctx.resolve(p) for p in cfg.rules], self._vars)
        engine = Engine(loaded.rules, cfg.max_flowbits_flows, cfg.max_threshold_entries)
        refs = {r.sid: (_ref(r), severity(r)) for r in loaded.rules}
        self._loaded, self._engine, self._refs = loaded, engine, refs
        for problem in loaded.problems[:MAX_LOGGED]:
            self.ctx.log.warning("%s: %s", self.name, problem)
        if len(loaded.problems) > MAX_LOGGED:
            self.ctx.log.warning("%s: %d more rules could not be read (ronda rules validate "
                                 "lists them)", self.name, len(loaded.problems) - MAX_LOGGED)
        if loaded.skipped:
            self.ctx.log.info("%s: %s", self.name, self.skipped_summary())
        self._counters.rules_loaded.set(len(loaded.rules))
        return len(loaded.rules)

    def problems(self) -> list[str]:
        """Rules that could not be read, as ``file:line: reason``."""
        return list(self._loaded.problems)

    def skipped_by_keyword(self) -> dict[str, int]:
        """Rules skipped for a keyword outside the subset, by keyword."""
        return dict(self._loaded.skipped.most_common())

    def skipped_summary(self) -> str:
        skipped: Counter[str] = self._loaded.skipped
        total = sum(skipped.values())
        parts = ", ".join(f"{n} {k}" for k, n in skipped.most_common())
        return f"skipped {total} rules: {parts}" if total else "skipped 0 rules"

    def skips(self) -> list[str]:
        """Rules skipped for a keyword outside the subset: ``file:line sid:N msg: keyword``."""
        return list(self._loaded.skips)

    def validation_lines(self) -> list[str]:
        """What ``ronda rules validate`` prints for this detector: one line per broken
        rule (``file:line: reason``), one ``SKIP file:line sid:N msg: keyword`` line per
        rule outside the subset, then the summary with the skips counted by keyword."""
        lines = [f"{self.name}: {p}" for p in self._loaded.problems]
        lines.extend(f"SKIP {s}" for s in self._loaded.skips)
        lines.append(f"{self.name}: {len(self._loaded.rules)} rules loaded from "
                     f"{self._loaded.files} files, {len(self._loaded.problems)} broken, "
                     f"{self.skipped_summary()}")
        return lines

    def rule_info(self) -> list[tuple[RuleRef, Severity]]:
        return list(self._refs.values())

    def process(self, events: Sequence[Event]) -> list[Alert]:
        alerts: list[Alert] = []
        engine = self._engine
        for event in events:
            for hit in engine.match(event):
                alerts.append(self._alert(hit, event))
        evicted = engine.flowbits.take_evicted() + engine.thresholds.take_evicted()
        self._counters.done(len(events), len(alerts), evicted)
        return alerts

    def _alert(self, hit: Hit, event: Event) -> Alert:
        rule = hit.rule
        ref, sev = self._refs[rule.sid]
        f = event.fields
        fields: dict[str, Any] = {k: f[k] for k in (
            "source.ip", "source.port", "destination.ip", "destination.port",
            "network.transport", "network.protocol", "network.community_id",
            "url.original", "url.domain", "http.request.method", "user_agent.original",
            "dns.question.name", "tls.client.server_name") if k in f}
        fields.update({"ronda.netrules.sid": rule.sid, "ronda.netrules.rev": rule.rev,
                       "ronda.netrules.action": rule.action})
        if rule.classtype:
            fields["ronda.netrules.classtype"] = rule.classtype
        if hit.buffer:
            fields["ronda.netrules.buffer"] = hit.buffer
        evidence = [f"{hit.buffer}: {hit.excerpt}"] if hit.buffer else []
        if event.message:
            evidence.append(event.message[:300])
        src = f.get("source.ip")
        return Alert(rule=ref, severity=sev, message=f"{rule.msg or ref.id} ({src})",
                     first_seen=event.timestamp, last_seen=event.timestamp,
                     key=str(src or ""), fields=fields, evidence=tuple(evidence),
                     sensor=self.ctx.sensor, detector=self.name, source=event.source)


def _ref(rule: Any) -> RuleRef:
    refs = tuple(_reference(r) for r in rule.references)
    return RuleRef(id=f"sid:{rule.sid}", name=rule.msg or f"sid:{rule.sid}",
                   ruleset=rule.ruleset, category=cast(Category, category(rule)),
                   description=f"{rule.where} rev {rule.rev}" if rule.file else "",
                   references=refs)


def _reference(text: str) -> str:
    kind, _, value = text.partition(",")
    kind, value = kind.strip().lower(), value.strip()
    if kind == "url":
        return value if value.startswith("http") else "http://" + value
    if kind == "cve":
        return f"https://www.cve.org/CVERecord?id=CVE-{value.removeprefix('CVE-')}"
    return f"{kind}:{value}" if value else kind
