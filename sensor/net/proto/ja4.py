"""JA4 TLS client fingerprint (FoxIO, github.com/FoxIO-LLC/ja4, technical_details/JA4.md).

``a_b_c``: ``a`` is protocol (``t`` TCP, ``q`` QUIC), TLS version (highest supported
version, else the hello's), ``d``/``i`` (SNI or not), two-digit cipher and extension counts
and the first and last characters of the first ALPN value; ``b`` the first 12 hex digits of
SHA-256 of the sorted cipher list; ``c`` the same of the sorted extensions without SNI and
ALPN, ``_``, then the signature algorithms in their order. GREASE is ignored throughout.
"""

from __future__ import annotations

import hashlib

from sensor.net.proto.tlsmsg import EXT_ALPN, EXT_SNI, Hello, is_grease

VERSIONS = {0x0304: "13", 0x0303: "12", 0x0302: "11", 0x0301: "10", 0x0300: "s3",
            0x0002: "s2", 0xFEFF: "d1", 0xFEFD: "d2", 0xFEFC: "d3"}
EMPTY = "000000000000"


def _alnum(b: int) -> bool:
    return 0x30 <= b <= 0x39 or 0x41 <= b <= 0x5A or 0x61 <= b <= 0x7A


def _alpn(values: list[bytes]) -> str:
    if not values or not values[0]:
        return "00"
    v = values[0]
    if _alnum(v[0]) and _alnum(v[-1]):
        return chr(v[0]) + chr(v[-1])
    hx = v.hex()
    return hx[0] + hx[-1]


def _hash(text: str) -> str:
    return hashlib.sha256(text.encode("ascii")).hexdigest()[:12] if text else EMPTY


def ja4_parts(h: Hello, transport: str = "t") -> tuple[str, str, str]:
    """``(a, raw b, raw c)``: the readable head and the lists ``ja4_r`` shows."""
    versions = [v for v in h.versions if not is_grease(v)]
    version = VERSIONS.get(max(versions) if versions else h.version, "00")
    ciphers = [c for c in h.ciphers if not is_grease(c)]
    exts = [e for e in h.extensions if not is_grease(e)]
    a = (f"{transport}{version}{'d' if EXT_SNI in exts else 'i'}"
         f"{min(len(ciphers), 99):02d}{min(len(exts), 99):02d}{_alpn(h.alpn)}")
    b = ",".join(f"{c:04x}" for c in sorted(ciphers))
    c = ",".join(f"{e:04x}" for e in sorted(exts) if e != EXT_SNI and e != EXT_ALPN)
    sigs = ",".join(f"{s:04x}" for s in h.sig_algs if not is_grease(s))
    if sigs:
        c = f"{c}_{sigs}"
    return a, b, c


def ja4(h: Hello, transport: str = "t") -> str:
    a, b, c = ja4_parts(h, transport)
    return f"{a}_{_hash(b)}_{_hash(c)}"


def ja4_hash_raw(raw: str) -> str:
    """The JA4 of a ``ja4_r`` string (``a_ciphers_extensions_sigalgs``)."""
    a, b, c = raw.split("_", 2)
    return f"{a}_{_hash(b)}_{_hash(c)}"
