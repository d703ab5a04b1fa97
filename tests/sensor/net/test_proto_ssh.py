"""SSH version banners, one event per connection."""

from __future__ import annotations

from pathlib import Path

from tests.sensor.net.helpers import T0
from tests.sensor.net.test_proto_helpers import CLIENT, SERVER, errors, of, run, tcp_session

SERVER_BANNER = b"SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3\r\n"
CLIENT_BANNER = b"SSH-2.0-libssh_0.9.6\r\n"


def test_banners_of_both_sides(tmp_path: Path) -> None:
    pk = tcp_session(41000, 22, [(False, SERVER_BANNER), (True, CLIENT_BANNER),
                                 (True, b"\x00\x00\x01\x2c\x06\x14" + b"k" * 100)])
    # short connections of a brute force: banner exchange only, one without the client's
    for i in range(3):
        pk += tcp_session(41001 + i, 22, [(False, SERVER_BANNER)]
                          + ([(True, CLIENT_BANNER)] if i else []), t0=T0 + 1 + i)
    # a server that greets with other lines first (RFC 4253 4.2), banner split
    pk += tcp_session(41010, 2222, [(False, b"Welcome\r\nSSH-2.0-drop"),
                                    (False, b"bear_2022.83\r\n"), (True, CLIENT_BANNER)],
                      t0=T0 + 5)
    events, src = run(tmp_path, pk)
    ssh = sorted(of(events, "ssh"), key=lambda e: e.fields["source.port"])
    assert len(ssh) == 5
    f = ssh[0].fields
    assert f["ronda.ssh.server_version"] == "SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3"
    assert f["ronda.ssh.client_version"] == "SSH-2.0-libssh_0.9.6"
    assert f["ronda.ssh.server_software"] == "OpenSSH_9.2p1"
    assert f["ronda.ssh.client_software"] == "libssh_0.9.6"
    assert (f["source.ip"], f["destination.ip"], f["destination.port"]) == (CLIENT, SERVER, 22)
    assert f["network.protocol"] == "ssh"
    assert "ronda.ssh.client_version" not in ssh[1].fields
    assert ssh[4].fields["ronda.ssh.server_version"] == "SSH-2.0-dropbear_2022.83"
    flows = of(events, "network.flow")
    assert {e.fields.get("network.protocol") for e in flows} == {"ssh"}
    assert errors(src) == {}
