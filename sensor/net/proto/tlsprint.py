"""The fingerprint fields of a hello, computed once per distinct hello.

A site's clients send a few dozen distinct ClientHellos (browser and library builds), so
JA3, JA4 and the cipher names are worked out once for each and then looked up: the key is
every hello field the fingerprints read. The cache is bounded (cleared when full); an
entry never depends on anything but its key, so a miss only costs the computation.
"""

from __future__ import annotations

from sensor.net.proto.ja3 import ja3_string, ja3s_string, md5
from sensor.net.proto.ja4 import ja4_hash_raw, ja4_parts
from sensor.net.proto.tlsmsg import Hello, is_grease
from sensor.net.proto.tlsnames import cipher_name

MAX_PRINTS = 4096
HelloKey = tuple[int, tuple[int, ...], tuple[int, ...], tuple[int, ...], tuple[int, ...],
                 tuple[int, ...], tuple[bytes, ...], tuple[int, ...]]


class ClientPrint:
    __slots__ = ("alpn", "ciphers", "ja3", "ja3_string", "ja4", "ja4_r", "version")

    def __init__(self, ch: Hello) -> None:
        self.ja3_string = ja3_string(ch)
        self.ja3 = md5(self.ja3_string)
        a, b, c = ja4_parts(ch)
        self.ja4_r = f"{a}_{b}_{c}"
        self.ja4 = ja4_hash_raw(self.ja4_r)
        self.ciphers = tuple(cipher_name(x) for x in ch.ciphers if not is_grease(x))
        self.alpn = tuple(x.decode("ascii", "backslashreplace") for x in ch.alpn)
        offered = [v for v in ch.versions if not is_grease(v)]
        self.version = max(offered) if offered else ch.version  # highest offered


class ServerPrint:
    __slots__ = ("cipher", "ja3s", "ja3s_string", "next_protocol", "version")

    def __init__(self, sh: Hello) -> None:
        self.version = sh.versions[0] if sh.versions else sh.version
        self.cipher = cipher_name(sh.ciphers[0])
        self.ja3s_string = ja3s_string(sh)
        self.ja3s = md5(self.ja3s_string)
        self.next_protocol = (sh.alpn[0].decode("ascii", "backslashreplace") if sh.alpn
                              else None)


def hello_key(h: Hello) -> HelloKey:
    return (h.version, tuple(h.ciphers), tuple(h.extensions), tuple(h.groups),
            tuple(h.point_formats), tuple(h.sig_algs), tuple(h.alpn), tuple(h.versions))


class Prints:
    """The fingerprints of the hellos seen, by hello."""

    def __init__(self, size: int = MAX_PRINTS) -> None:
        self.size = size
        self._client: dict[HelloKey, ClientPrint] = {}
        self._server: dict[HelloKey, ServerPrint] = {}

    def client(self, ch: Hello) -> ClientPrint:
        key = hello_key(ch)
        got = self._client.get(key)
        if got is None:
            if len(self._client) >= self.size:
                self._client.clear()
            got = self._client[key] = ClientPrint(ch)
        return got

    def server(self, sh: Hello) -> ServerPrint:
        key = hello_key(sh)
        got = self._server.get(key)
        if got is None:
            if len(self._server) >= self.size:
                self._server.clear()
            got = self._server[key] = ServerPrint(sh)
        return got
