"""Config ``type:`` names to component classes, one table per stage."""

from __future__ import annotations

import importlib
from collections.abc import Iterator, Mapping
from typing import Generic, TypeVar

from ronda.component import Detector, Responder, Source

C = TypeVar("C")


class Lazy(Mapping[str, type[C]], Generic[C]):
    """Type names to classes, each imported when first asked for: a daemon that uses
    neither Elasticsearch nor Sigma does not pay for importing them at start-up."""

    def __init__(self, paths: dict[str, str]) -> None:
        self._paths = paths  # type name -> "module:Class"
        self._loaded: dict[str, type[C]] = {}

    def __getitem__(self, name: str) -> type[C]:
        cls = self._loaded.get(name)
        if cls is None:
            module, attr = self._paths[name].split(":")
            cls = self._loaded[name] = getattr(importlib.import_module(module), attr)
        return cls

    def __iter__(self) -> Iterator[str]:
        return iter(self._paths)

    def __len__(self) -> int:
        return len(self._paths)


SOURCES: Lazy[Source] = Lazy({
    "logfile": "sensor.logfile:LogfileSource",
    "syslog": "sensor.syslog:SyslogSource",
    "file": "sensor.replayfile:ReplayFileSource",
    "pcap": "sensor.net.source:PcapSource",
    "capture": "sensor.net.capture:CaptureSource",
})

DETECTORS: Lazy[Detector] = Lazy({
    "sigma": "detectors.sigma.detector:SigmaDetector",
    "portscan": "detectors.net.portscan:PortscanDetector",
    "flood": "detectors.net.flood:FloodDetector",
    "ssh_conn_bf": "detectors.net.ssh_conn_bf:SshConnBfDetector",
    "dns_tunnel": "detectors.net.dns_tunnel:DnsTunnelDetector",
    "beacon": "detectors.net.beacon:BeaconDetector",
    "intel": "detectors.net.intel:IntelDetector",
    "netrules": "detectors.netrules.detector:NetRulesDetector",
    "suricata": "detectors.netrules.eve_alerts:SuricataDetector",
})

RESPONDERS: Lazy[Responder] = Lazy({
    "sqlite": "responders.sqlite:SqliteStore",
    "jsonl": "responders.jsonl:JsonlResponder",
    "alertmanager": "responders.alertmanager:AlertmanagerResponder",
    "elasticsearch": "responders.elasticsearch:ElasticsearchResponder",
})

# Responders that change the world (block addresses, restore files): off in replay
# unless --respond is given.
WORLD_CHANGING: frozenset[str] = frozenset()

SECTIONS: dict[str, Lazy[Source] | Lazy[Detector] | Lazy[Responder]] = {
    "sources": SOURCES,
    "detectors": DETECTORS,
    "responders": RESPONDERS,
}
