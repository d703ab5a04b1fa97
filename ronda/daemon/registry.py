"""Config ``type:`` names to component classes, one table per stage."""

from __future__ import annotations

from detectors.net.beacon import BeaconDetector
from detectors.net.dns_tunnel import DnsTunnelDetector
from detectors.net.flood import FloodDetector
from detectors.net.intel import IntelDetector
from detectors.net.portscan import PortscanDetector
from detectors.net.ssh_conn_bf import SshConnBfDetector
from detectors.netrules.detector import NetRulesDetector
from detectors.netrules.eve_alerts import SuricataDetector
from detectors.sigma.detector import SigmaDetector
from responders.alertmanager import AlertmanagerResponder
from responders.elasticsearch import ElasticsearchResponder
from responders.jsonl import JsonlResponder
from responders.sqlite import SqliteStore
from ronda.component import Detector, Responder, Source
from sensor.logfile import LogfileSource
from sensor.net.capture import CaptureSource
from sensor.net.source import PcapSource
from sensor.replayfile import ReplayFileSource
from sensor.syslog import SyslogSource

SOURCES: dict[str, type[Source]] = {
    "logfile": LogfileSource,
    "syslog": SyslogSource,
    "file": ReplayFileSource,
    "pcap": PcapSource,
    "capture": CaptureSource,
}

DETECTORS: dict[str, type[Detector]] = {
    "sigma": SigmaDetector,
    "portscan": PortscanDetector,
    "flood": FloodDetector,
    "ssh_conn_bf": SshConnBfDetector,
    "dns_tunnel": DnsTunnelDetector,
    "beacon": BeaconDetector,
    "intel": IntelDetector,
    "netrules": NetRulesDetector,
    "suricata": SuricataDetector,
}

RESPONDERS: dict[str, type[Responder]] = {
    "sqlite": SqliteStore,
    "jsonl": JsonlResponder,
    "alertmanager": AlertmanagerResponder,
    "elasticsearch": ElasticsearchResponder,
}

# Responders that change the world (block addresses, restore files): off in replay
# unless --respond is given.
WORLD_CHANGING: frozenset[str] = frozenset()

SECTIONS: dict[str, dict[str, type[Source]] | dict[str, type[Detector]]
               | dict[str, type[Responder]]] = {
    "sources": SOURCES,
    "detectors": DETECTORS,
    "responders": RESPONDERS,
}
