"""TLS ClientHello / ServerHello: SNI, ALPN, JA3 (salesforce) and JA4 (FoxIO) vectors."""

from __future__ import annotations

import hashlib
import struct
from pathlib import Path

from sensor.net.proto.ja3 import ja3_string
from sensor.net.proto.ja4 import ja4, ja4_hash_raw
from sensor.net.proto.tlsmsg import Hello, handshake, parse_hello
from sensor.net.proto.tlsprint import Prints
from tests.sensor.net.test_proto_helpers import CLIENT, SERVER, errors, of, run, tcp_session

# A Chrome 143 ClientHello as browserleaks.com reported it (ja4_ro: the original order):
# ja3 98487aa16281980e7d1120d399efb6a4, ja4 t13d1516h2_8daaf6152771_d8a2da3f94cd.
CIPHERS = [0x1301, 0x1302, 0x1303, 0xC02B, 0xC02F, 0xC02C, 0xC030, 0xCCA9, 0xCCA8, 0xC013,
           0xC014, 0x009C, 0x009D, 0x002F, 0x0035]
EXTS = [0x002D, 0x0033, 0x0010, 0xFE0D, 0x0017, 0x44CD, 0x0000, 0x000B, 0x000A, 0x002B,
        0xFF01, 0x0023, 0x0012, 0x0005, 0x000D, 0x001B]
SIGALGS = [0x0403, 0x0804, 0x0401, 0x0503, 0x0805, 0x0501, 0x0806, 0x0601]
GROUPS = [0x11EC, 0x001D, 0x0017, 0x0018]
JA3_STRING = ("771,4865-4866-4867-49195-49199-49196-49200-52393-52392-49171-49172-156-157-47-"
              "53,45-51-16-65037-23-17613-0-11-10-43-65281-35-18-5-13-27,4588-29-23-24,0")
JA3 = "98487aa16281980e7d1120d399efb6a4"
JA4 = "t13d1516h2_8daaf6152771_d8a2da3f94cd"


def _u16(values: list[int]) -> bytes:
    return b"".join(struct.pack("!H", v) for v in values)


def _vec(data: bytes, size: int = 2) -> bytes:
    return len(data).to_bytes(size, "big") + data


def _ext(et: int, data: bytes) -> bytes:
    return struct.pack("!HH", et, len(data)) + data


def _ext_data(et: int, sni: str) -> bytes:
    if et == 0x0000:
        name = sni.encode()
        return _vec(b"\x00" + _vec(name))
    if et == 0x0010:
        return _vec(b"\x02h2\x08http/1.1")
    if et == 0x000A:
        return _vec(_u16([0x4A4A, *GROUPS]))
    if et == 0x000B:
        return b"\x01\x00"
    if et == 0x000D:
        return _vec(_u16(SIGALGS))
    if et == 0x002B:
        return _vec(_u16([0x7A7A, 0x0304, 0x0303]), 1)
    if et == 0x0033:
        return _vec(_u16([0x4A4A, 1]) + b"\0" + _u16([0x1D, 32]) + b"k" * 32)
    if et in (0x0017, 0xFF01, 0x0023, 0x0012):
        return b"" if et != 0xFF01 else b"\x00"
    return b"\x01\x00" * 3  # opaque enough for the fingerprint


def client_hello(sni: str = "www.example.go.id", ciphers: list[int] | None = None,
                 exts: list[int] | None = None) -> bytes:
    """A TLS record holding a ClientHello with GREASE in ciphers, extensions, groups and
    versions (which JA3 and JA4 both ignore)."""
    ext_ids = [0x0A0A, *(EXTS if exts is None else exts), 0x1A1A]
    extensions = b"".join(_ext(e, _ext_data(e, sni) if e not in (0x0A0A, 0x1A1A) else b"")
                          for e in ext_ids)
    body = (b"\x03\x03" + b"r" * 32 + _vec(b"s" * 32, 1)
            + _vec(_u16([0xDADA, *(CIPHERS if ciphers is None else ciphers)]))
            + b"\x01\x00" + _vec(extensions))
    hs = b"\x01" + _vec(body, 3)
    return b"\x16\x03\x01" + _vec(hs)


def server_hello() -> bytes:
    exts = _ext(0x002B, b"\x03\x04") + _ext(0x0033, _u16([0x1D, 32]) + b"K" * 32) + \
        _ext(0x0010, _vec(b"\x02h2"))
    body = b"\x03\x03" + b"R" * 32 + _vec(b"s" * 32, 1) + b"\x13\x01\x00" + _vec(exts)
    return b"\x16\x03\x03" + _vec(b"\x02" + _vec(body, 3)) + b"\x14\x03\x03\x00\x01\x01"


def test_ja3_and_ja4_of_a_known_client_hello() -> None:
    got = handshake(client_hello())
    assert got is not None
    hello = parse_hello(*got)
    assert ja3_string(hello) == JA3_STRING
    assert hashlib.md5(JA3_STRING.encode()).hexdigest() == JA3
    assert ja4(hello) == JA4
    # the example of the JA4 specification (technical_details/JA4.md)
    assert ja4_hash_raw(
        "t13d1516h2_002f,0035,009c,009d,1301,1302,1303,c013,c014,c02b,c02c,c02f,c030,cca8,"
        "cca9_0005,000a,000b,000d,0012,0015,0017,001b,0023,002b,002d,0033,4469,ff01_0403,"
        "0804,0401,0503,0805,0501,0806,0601") == "t13d1516h2_8daaf6152771_e5627efa2ab1"


def test_ja4_without_sni_alpn_or_versions() -> None:
    rec = client_hello(ciphers=[0x002F, 0xC02F], exts=[0x000A, 0x000B, 0x000D])
    got = handshake(rec)
    assert got is not None
    h = parse_hello(*got)
    a = ja4(h).split("_")[0]
    assert a == "t12i020300"
    assert ja3_string(h) == "771,47-49199,10-11-13,4588-29-23-24,0"


def test_handshake_over_two_segments_with_server_hello(tmp_path: Path) -> None:
    rec = client_hello()
    pk = tcp_session(53000, 443, [(True, rec[:100]), (True, rec[100:]),
                                  (False, server_hello()), (True, b"\x17\x03\x03\x00\x05hello")])
    events, src = run(tmp_path, pk)
    (tls,) = of(events, "tls")
    f = tls.fields
    assert f["tls.client.server_name"] == "www.example.go.id"
    assert (f["tls.client.ja3"], f["ronda.tls.ja3_string"], f["tls.client.ja4"]) == (
        JA3, JA3_STRING, JA4)
    assert f["ronda.tls.alpn"] == ["h2", "http/1.1"] and f["tls.next_protocol"] == "h2"
    assert (f["tls.version"], f["tls.version_protocol"]) == ("1.3", "tls")
    assert f["tls.cipher"] == "TLS_AES_128_GCM_SHA256"
    assert f["tls.client.supported_ciphers"][0] == "TLS_AES_128_GCM_SHA256"
    assert len(f["tls.client.supported_ciphers"]) == 15
    assert f["tls.server.ja3s"] == hashlib.md5(b"771,4865,43-51-16").hexdigest()
    assert (f["source.ip"], f["destination.ip"], f["destination.port"]) == (CLIENT, SERVER, 443)
    assert of(events, "network.flow")[0].fields["network.protocol"] == "tls"
    assert errors(src) == {}


def test_client_hello_alone_and_broken_hellos(tmp_path: Path) -> None:
    rec = client_hello(sni="only.example")
    broken = bytearray(client_hello())
    broken[6:9] = b"\x00\x00\x30"  # a handshake length that cuts the cipher list
    pk = (tcp_session(53001, 443, [(True, rec)], close=False)
          + tcp_session(53002, 443, [(True, bytes(broken))])
          + tcp_session(53003, 8443, [(True, rec), (False, b"\x15\x03\x03\x00\x02\x02\x28")]))
    events, src = run(tmp_path, pk)
    tls = of(events, "tls")
    assert sorted(e.fields["destination.port"] for e in tls) == [443, 8443]
    assert all("tls.cipher" not in e.fields for e in tls)
    assert {e.fields["tls.version"] for e in tls} == {"1.3"}  # the highest offered
    assert errors(src) == {"tls_malformed": 1.0}


def test_fingerprints_are_cached_by_hello_and_the_cache_is_bounded() -> None:
    def hello(ciphers: list[int] | None = None, exts: list[int] | None = None) -> Hello:
        got = handshake(client_hello(ciphers=ciphers, exts=exts))
        assert got is not None
        return parse_hello(*got)

    prints = Prints(size=2)
    first = prints.client(hello())
    assert (first.ja3, first.ja3_string, first.ja4) == (JA3, JA3_STRING, JA4)
    assert prints.client(hello()) is first  # the same hello again: looked up
    other = prints.client(hello(ciphers=[0x002F, 0xC02F], exts=[0x000A]))
    assert other.ja4.startswith("t12i0201") and other.ja3 != JA3
    prints.client(hello(ciphers=[0x002F]))  # a third: the full cache was cleared
    again = prints.client(hello())
    assert again is not first and (again.ja3, again.ja4) == (JA3, JA4)
