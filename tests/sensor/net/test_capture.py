"""The ``capture`` source live, inside two namespaces joined by a veth pair made by the test:
the source captures on A's end, traffic comes from B."""

from __future__ import annotations

import importlib.util
import shutil
import threading
from pathlib import Path

import pytest

from ronda.errors import ConfigError
from ronda.schema import Event
from sensor.net.capture import CaptureConfig, CaptureSource
from sensor.net.capture_netns import VethPair
from sensor.net.flowrecord import Flow
from sensor.net.hooks import EmitEvent, Packet
from tests.sensor.net.capture_helpers import (
    MIXED,
    Running,
    in_ns,
    net,
    tcp_server,
    traffic_from_b,
    wait_events,
)
from tests.sensor.net.helpers import context

__all__ = ["net"]  # the fixture


def _flows(events: list[Event]) -> list[Event]:
    return [e for e in events if e.dataset == "network.flow"]


def _tuples(events: list[Event]) -> set[tuple[object, ...]]:
    f = "source.ip", "source.port", "destination.ip", "destination.port", "network.transport"
    return {tuple(e.fields.get(k) for k in f) for e in _flows(events)}


def test_flows_from_live_traffic_have_the_right_five_tuples(net: VethPair,
                                                             tmp_path: Path) -> None:
    server = tcp_server(net, 8080)
    run = Running(net, tmp_path)
    try:
        traffic_from_b(net, MIXED)
        # the TCP connection ends by FIN: its event comes while the capture runs
        wait_events(run, lambda evs: any(e.fields.get("destination.port") == 8080
                                         for e in _flows(evs)))
    finally:
        took = run.finish()
        server.close()
    assert took < 1.0
    tuples = _tuples(run.events)
    assert (net.ip_b, None, net.ip_a, None, "icmp") in tuples or any(
        t[0] == net.ip_b and t[2] == net.ip_a and t[4] == "icmp" for t in tuples)
    assert any(t[0] == net.ip_b and t[2] == net.ip_a and t[3] == 8080 and t[4] == "tcp"
               for t in tuples)
    assert (net.ip_b, 40053, net.ip_a, 53, "udp") in tuples
    flows = _flows(run.events)
    tcp = next(e for e in flows if e.fields.get("destination.port") == 8080)
    assert tcp.fields["event.reason"] == "end"
    assert tcp.fields["source.packets"] >= 3  # SYN, ACK, data, FIN...
    reasons = {e.fields["event.reason"] for e in flows if e is not tcp}
    assert "shutdown" in reasons  # the UDP and ICMP flows were flushed at stop
    assert run.metric("ronda_received_total") >= 8
    assert run.metric("ronda_capture_kernel_packets_total") >= run.metric(
        "ronda_received_total")
    assert run.metric("ronda_capture_kernel_drops_total") == 0
    assert run.metric("ronda_emitted_total") == len(run.events)


def test_bpf_filter_runs_in_the_kernel(net: VethPair, tmp_path: Path) -> None:
    server = tcp_server(net, 8080)
    run = Running(net, tmp_path, bpf="tcp port 8080")
    try:
        traffic_from_b(net, MIXED)
        wait_events(run, lambda evs: len(_flows(evs)) > 0)
    finally:
        run.finish()
        server.close()
    assert {e.fields["network.transport"] for e in run.events} == {"tcp"}
    assert {e.fields["destination.port"] for e in run.events} == {8080}
    assert {e.dataset for e in run.events} == {"network.flow", "http"}  # parsers run too
    # only the TCP segments passed the filter: no ARP, no UDP, no ICMP reached user space
    assert run.metric("ronda_capture_kernel_packets_total") == run.metric(
        "ronda_received_total")
    assert run.src.ctx.metrics.total("ronda_packets_skipped_total") == 0


class PayloadSizes:
    name = "sizes"
    payload_only = True

    def __init__(self) -> None:
        self.sizes: list[tuple[int, int]] = []

    def on_packet(self, flow: Flow, pkt: Packet, from_orig: bool, payload: memoryview,
                  emit: EmitEvent) -> None:
        self.sizes.append((pkt.payload_len, len(payload)))

    def on_flow_end(self, flow: Flow, reason: str, emit: EmitEvent) -> None:
        pass


def test_snaplen_cuts_packets_in_the_kernel_and_observers_see_payloads(
        net: VethPair, tmp_path: Path) -> None:
    run = Running(net, tmp_path, snaplen=64, bpf="udp", start=False)
    sizes = PayloadSizes()
    run.src.observers.append(sizes)
    run.start()
    try:
        traffic_from_b(net, "import socket\nsocket.socket(socket.AF_INET, "
                            "socket.SOCK_DGRAM).sendto(b'x' * 1000, (A, 9999))")
        wait_events(run, lambda evs: bool(sizes.sizes), timeout=3)
    finally:
        run.finish()
    assert sizes.sizes == [(1000, 64 - 14 - 20 - 8)]
    (udp,) = run.events
    assert udp.fields["source.bytes"] == 1028  # the wire length, not the captured one


def test_idle_flows_end_on_wall_time_when_the_link_is_quiet(net: VethPair,
                                                            tmp_path: Path) -> None:
    run = Running(net, tmp_path, bpf="udp", idle_timeout={"udp": "1s"})
    try:
        traffic_from_b(net, "import socket\nsocket.socket(socket.AF_INET, "
                            "socket.SOCK_DGRAM).sendto(b'q', (A, 5353))")
        wait_events(run, lambda evs: len(evs) > 0, timeout=5)
        assert [e.fields["event.reason"] for e in run.events] == ["idle"]
    finally:
        run.finish()


def test_bad_interface_is_one_config_error_line(net: VethPair, tmp_path: Path) -> None:
    src = CaptureSource("lan", CaptureConfig(interface="nosuch0"), context(tmp_path))
    with pytest.raises(ConfigError) as err:
        in_ns(net.a, src.prepare)
    assert err.value.lines == ("interface nosuch0: no such interface",)


def test_bad_filter_is_one_config_error_line(net: VethPair, tmp_path: Path) -> None:
    src = CaptureSource("lan", CaptureConfig(interface=net.if_a, bpf="tcp port"),
                        context(tmp_path))
    with pytest.raises(ConfigError) as err:
        in_ns(net.a, src.prepare)
    (line,) = err.value.lines
    assert line.startswith("bpf 'tcp port': ") and "syntax error" in line


def test_pyshark_backend_names_the_package_when_missing(tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "pyshark" else real(name, *a))
    src = CaptureSource("lan", CaptureConfig(interface="lo", backend="pyshark"),
                        context(tmp_path))
    with pytest.raises(ConfigError) as err:
        src.prepare()
    assert err.value.lines == ("backend pyshark needs the Python package 'pyshark' "
                               "(pip install pyshark); or use backend: packet",)


def test_dissect_needs_the_pyshark_backend() -> None:
    from pydantic import ValidationError

    with pytest.raises(ValidationError, match="dissect needs backend: pyshark"):
        CaptureConfig(interface="lo", dissect=["sip"])
    with pytest.raises(ValidationError, match="dissect"):
        CaptureConfig(interface="lo", backend="pyshark", dissect=["Bad Name"])
    assert CaptureConfig(interface="lo", backend="pyshark", dissect=["smb2"]).dissect == ["smb2"]


@pytest.mark.skipif(importlib.util.find_spec("pyshark") is None or not shutil.which("tshark"),
                    reason="backend pyshark needs pyshark (pip install pyshark) and tshark")
def test_pyshark_backend_feeds_the_same_engine(net: VethPair, tmp_path: Path) -> None:
    server = tcp_server(net, 8080)
    run = Running(net, tmp_path, backend="pyshark", bpf="not arp", dissect=["dns"])
    try:
        traffic_from_b(net, "import time\ntime.sleep(3)\n" + MIXED)  # tshark starting
        wait_events(run, lambda evs: any(e.fields.get("destination.port") == 8080
                                         for e in _flows(evs)), timeout=20)
    finally:
        took = run.finish()
        server.close()
    assert took < 5
    tuples = _tuples(run.events)
    assert (net.ip_b, 40053, net.ip_a, 53, "udp") in tuples
    assert any(t[3] == 8080 and t[4] == "tcp" for t in tuples)
    assert run.metric("ronda_received_total") >= 8
    assert run.src.ctx.metrics.total("ronda_capture_kernel_drops_total") == 0  # not exported
    # tshark's own dissection of the DNS query, as the ``dissect`` list asked
    dns = [e for e in run.events if e.dataset == "tshark.dns"]
    assert dns and dns[0].fields["tshark.dns.qry.name"] == "example.com"
    assert dns[0].fields["source.port"] == 40053 and dns[0].fields["destination.port"] == 53
    assert not any(e.dataset.startswith("tshark.") and e.dataset != "tshark.dns"
                   for e in run.events)


def test_link_down_and_up_resumes_and_a_deleted_interface_ends_the_run(
        net: VethPair, tmp_path: Path) -> None:
    run = Running(net, tmp_path, bpf="udp", start=False)
    failure: list[BaseException] = []

    def body() -> None:
        try:
            run.src.run(run._emit, run.stop)
        except OSError as exc:
            failure.append(exc)

    run.thread = threading.Thread(target=body)
    run.start()
    send = ("import socket\nsocket.socket(socket.AF_INET, socket.SOCK_DGRAM)"
            ".sendto(b'q', (A, {port}))")
    try:
        net.run(net.a, ["ip", "link", "set", net.if_a, "down"])
        net.run(net.a, ["ip", "link", "set", net.if_a, "up"])
        wait_for_link = "import time\ntime.sleep(1.5)\n"  # carrier back on both ends
        traffic_from_b(net, wait_for_link + send.format(port=7001))
        ring = run.src.ring
        assert ring is not None
        wait_events(run, lambda evs: ring.packets > 0, timeout=3)
        assert ring.packets == 1
        net.run(net.a, ["ip", "link", "del", net.if_a])
        run.thread.join(5)
        assert not run.thread.is_alive()
    finally:
        run.finish()
    assert failure and "was removed" in str(failure[0])
    assert any(e.fields.get("destination.port") == 7001 for e in run.events)
