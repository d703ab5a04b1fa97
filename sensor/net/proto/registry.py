"""The protocol observers by name, and the factory packet sources call."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Literal

from sensor.net.hooks import FlowObserver
from sensor.net.proto.buffers import DEFAULT_BUDGET, Budget
from sensor.net.proto.common import Errors
from sensor.net.proto.dispatch import ProtocolDispatch
from sensor.net.proto.dns import DnsObserver
from sensor.net.proto.http import HttpObserver
from sensor.net.proto.ssh import SshObserver
from sensor.net.proto.tls import TlsObserver

ProtocolName = Literal["dns", "http", "tls", "ssh"]
ALL: tuple[ProtocolName, ...] = ("dns", "tls", "ssh", "http")
PROTOCOLS: dict[str, type[DnsObserver | HttpObserver | TlsObserver | SshObserver]] = {
    "dns": DnsObserver, "http": HttpObserver, "tls": TlsObserver, "ssh": SshObserver}


def make_observers(names: Iterable[str], source: str = "", errors: Errors | None = None, *,
                   buffer_bytes: int = DEFAULT_BUDGET) -> list[FlowObserver]:
    """The observers for the protocols ``names`` (duplicates ignored; [] for none) of the
    source named ``source``: one ``ProtocolDispatch`` in front of the parsers. Their
    malformed-data counts go into ``errors`` (by reason), which the source adds to
    ``ronda_packets_decode_errors_total``. The parsers' buffers share one budget of
    ``buffer_bytes`` (``buffer_budget`` finds it, for a gauge of ``Budget.used``)."""
    wanted = set(names)
    unknown = wanted - set(PROTOCOLS)
    if unknown:
        raise ValueError(f"unknown protocol(s): {', '.join(sorted(unknown))} "
                         f"(expected {', '.join(ALL)})")
    errs = errors if errors is not None else Errors()
    budget = Budget(buffer_bytes, errs)
    parsers = [PROTOCOLS[n](source, errs, budget) for n in ALL if n in wanted]
    return [ProtocolDispatch(parsers, budget)] if parsers else []


def buffer_budget(observers: Sequence[FlowObserver]) -> Budget | None:
    """The buffer budget of the protocol parsers among ``observers`` (None: no parsers)."""
    for obs in observers:
        if isinstance(obs, ProtocolDispatch):
            return obs.budget
    return None
