"""SSH version banners (RFC 4253 4.2): one ``ssh`` event per connection.

A TCP flow is SSH when one of its first ``SNIFF_PACKETS`` packets starts with ``SSH-`` (or
has any payload, to port 22 or 2222).
Each side's banner is the first line starting with ``SSH-`` in its first bytes (a server
may send other lines first); at most ``MAX_BANNER`` bytes per side are looked at. The event
goes out once both banners are seen, or when the flow ends. A banner being joined is held
to the source's buffer budget (``buffers.Budget``): one dropped for want of it counts as
``proto_buffer_budget`` and that side is given up.
"""

from __future__ import annotations

from ronda.schema import Event
from sensor.net.flowrecord import Flow
from sensor.net.hooks import EmitEvent, Packet
from sensor.net.proto.base import FlowState, ProtocolParser
from sensor.net.proto.common import flow_fields

MAX_BANNER = 1024
PORTS = frozenset({22, 2222})  # claimed on any payload: a server may greet with other lines


class _State(FlowState):
    __slots__ = ("seen", "ts", "versions")

    def __init__(self, ts: float) -> None:
        super().__init__()
        self.ts = ts
        self.versions: list[str | None] = [None, None]  # originator, responder
        self.seen = [False, False]  # side finished (banner found or gave up)


class SshObserver(ProtocolParser[_State]):
    name = "ssh"
    first_bytes = frozenset(b"S")
    ports = PORTS

    def sniff(self, flow: Flow, payload: memoryview) -> bool:
        return flow.proto == 6 and (flow.resp_port in PORTS or (
            len(payload) >= 4 and payload[0] == 0x53 and bytes(payload[:4]) == b"SSH-"))

    def new_state(self, flow: Flow, pkt: Packet, from_orig: bool) -> _State:
        return _State(pkt.ts)

    def feed(self, flow: Flow, st: _State, buf: bytearray, pkt: Packet, from_orig: bool,
             payload: memoryview, emit: EmitEvent) -> None:
        side = 0 if from_orig else 1
        if st.seen[side]:
            return
        buf += payload[:MAX_BANNER - len(buf)]
        if not 32 <= buf[0] < 127:  # banners and greeting lines are text
            self.errors["ssh_malformed"] += 1
            buf.clear()
            self._side_done(flow, st, side, emit)
            return
        for line in bytes(buf).split(b"\n")[:-1] if b"\n" in buf else ():
            if line.startswith(b"SSH-"):
                st.versions[side] = line.rstrip(b"\r").decode("utf-8", "backslashreplace")
                st.seen[side] = True
                break
        else:
            if len(buf) >= MAX_BANNER:
                self.errors["ssh_malformed"] += 1
                st.seen[side] = True
        if st.seen[side]:
            buf.clear()
            if st.seen[1 - side]:
                self._emit(flow, st, emit)

    def dropped(self, flow: Flow, st: _State, buf: bytearray, from_orig: bool,
                emit: EmitEvent) -> None:
        self._side_done(flow, st, 0 if from_orig else 1, emit)

    def _side_done(self, flow: Flow, st: _State, side: int, emit: EmitEvent) -> None:
        """No banner from ``side``: once the other side is finished too, report what was
        seen (or nothing) and look no further."""
        st.seen[side] = True
        if st.seen[1 - side]:
            self.finish(flow, st, emit)
            st.done = True

    def _emit(self, flow: Flow, st: _State, emit: EmitEvent) -> None:
        st.done = True
        f = flow_fields(flow)
        f.update({"event.category": ["network"], "event.type": ["protocol"],
                  "event.action": "ssh_banner"})
        client, server = st.versions
        for who, banner in (("client", client), ("server", server)):
            if banner is None:
                continue
            f[f"ronda.ssh.{who}_version"] = banner
            parts = banner.split("-", 2)
            if len(parts) == 3:
                f[f"ronda.ssh.{who}_protocol"] = parts[1]
                f[f"ronda.ssh.{who}_software"] = parts[2].split(" ", 1)[0]
        message = f"SSH {f['source.ip']} -> {f['destination.ip']}: {client or '-'} / " \
                  f"{server or '-'}"
        emit(Event("ssh", st.ts, f, message, self.source))

    def finish(self, flow: Flow, st: _State, emit: EmitEvent) -> None:
        if not st.done and st.versions != [None, None]:
            self._emit(flow, st, emit)
