"""JA3 and JA3S (github.com/salesforce/ja3): MD5 of the hello's fields as decimal lists.

GREASE values (RFC 8701) are left out of every list, as JA3 specifies.
"""

from __future__ import annotations

import hashlib

from sensor.net.proto.tlsmsg import Hello, is_grease


def _join(values: list[int]) -> str:
    return "-".join(str(v) for v in values if not is_grease(v))


def ja3_string(h: Hello) -> str:
    """``SSLVersion,Ciphers,Extensions,EllipticCurves,EllipticCurvePointFormats``."""
    return ",".join((str(h.version), _join(h.ciphers), _join(h.extensions), _join(h.groups),
                     "-".join(str(v) for v in h.point_formats)))


def ja3s_string(h: Hello) -> str:
    """``SSLVersion,Cipher,Extensions`` of a ServerHello."""
    return ",".join((str(h.version), _join(h.ciphers), _join(h.extensions)))


def md5(text: str) -> str:
    return hashlib.md5(text.encode("ascii"), usedforsecurity=False).hexdigest()
