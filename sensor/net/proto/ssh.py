"""SSH version banners (RFC 4253 4.2): one ``ssh`` event per connection.

A TCP flow is SSH when one of its first ``SNIFF_PACKETS`` packets starts with ``SSH-`` (or
has any payload, to port 22 or 2222).
Each side's banner is the first line starting with ``SSH-`` in its first bytes (a server
may send other lines first); at most ``MAX_BANNER`` bytes per side are looked at. The event
goes out once both banners are seen, or when the flow ends.
"""

from __future__ import annotations

from typing import Any

from ronda.schema import Event
from sensor.net.flowrecord import Flow
from sensor.net.hooks import EmitEvent, Packet
from sensor.net.proto.common import SNIFF_PACKETS, Errors, flow_fields

MAX_BANNER = 1024
PORTS = frozenset({22, 2222})  # claimed on any payload: a server may greet with other lines


class _State:
    __slots__ = ("bufs", "done", "seen", "ts", "versions")

    def __init__(self, ts: float) -> None:
        self.ts = ts
        self.bufs = (bytearray(), bytearray())  # originator, responder
        self.versions: list[str | None] = [None, None]
        self.seen = [False, False]  # side finished (banner found or gave up)
        self.done = False


class SshObserver:
    name = "ssh"
    payload_only = True

    def __init__(self, source: str = "", errors: Errors | None = None) -> None:
        self.source = source
        self.errors: Errors = errors if errors is not None else Errors()

    def on_packet(self, flow: Flow, pkt: Packet, from_orig: bool, payload: memoryview,
                  emit: EmitEvent) -> None:
        if flow.protocol != "ssh":
            if (flow.protocol or flow.proto != 6 or flow.o_pkts + flow.r_pkts > SNIFF_PACKETS
                    or (bytes(payload[:4]) != b"SSH-" and flow.resp_port not in PORTS)):
                return
            flow.protocol = "ssh"
            st = _State(pkt.ts)
            if flow.ext is None:
                flow.ext = {"ssh": st}
            else:
                flow.ext["ssh"] = st
        else:
            found: _State | None = flow.ext.get("ssh") if flow.ext else None
            if found is None or found.done:
                return
            st = found
        side = 0 if from_orig else 1
        if st.seen[side]:
            return
        buf = st.bufs[side]
        buf += payload[:MAX_BANNER - len(buf)]
        if not 32 <= buf[0] < 127:  # banners and greeting lines are text
            self.errors["ssh_malformed"] += 1
            st.seen[side] = True
            buf.clear()
            if st.seen[1 - side]:
                self.on_flow_end(flow, "", emit)
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

    def on_flow_end(self, flow: Flow, reason: str, emit: EmitEvent) -> None:
        ext: dict[str, Any] | None = flow.ext
        st: _State | None = None if ext is None else ext.get("ssh")
        if st is not None and not st.done and st.versions != [None, None]:
            self._emit(flow, st, emit)
