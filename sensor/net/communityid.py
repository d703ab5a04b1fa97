"""Community ID v1 flow hashes (https://github.com/corelight/community-id-spec).

``1:`` + base64(SHA-1(seed (2 bytes) + addresses + protocol + 0 + ports)), the endpoints
ordered so that both directions of a flow hash alike. ICMP and ICMPv6 use the type and
code as ports, a request/reply type pairing with its counterpart (two-way) and any other
type staying one-way (never reordered).
"""

from __future__ import annotations

import binascii
import hashlib
import struct

# Counterpart types, as in the reference implementation.
ICMP4_COUNTERPART = {8: 0, 0: 8, 13: 14, 14: 13, 15: 16, 16: 15, 10: 9, 17: 18, 18: 17}
ICMP6_COUNTERPART = {128: 129, 129: 128, 133: 134, 134: 133, 135: 136, 136: 135,
                     130: 131, 131: 130, 139: 140, 140: 139, 144: 145, 145: 144}
PORT_PROTOS = frozenset({6, 17, 132, 1, 58})
_PORTS4 = struct.Struct("!H4s4sBxHH").pack
_PORTS6 = struct.Struct("!H16s16sBxHH").pack


def community_id(saddr: bytes, daddr: bytes, proto: int, sport: int = 0, dport: int = 0,
                 seed: int = 0) -> str:
    """The Community ID of a flow (addresses packed, 4 or 16 bytes). For ICMP, ``sport``
    is the type and ``dport`` the code."""
    one_way = False
    if proto == 1 or proto == 58:
        pair = (ICMP4_COUNTERPART if proto == 1 else ICMP6_COUNTERPART).get(sport)
        if pair is None:
            one_way = True
        else:
            dport = pair
    if not one_way and not (saddr < daddr or (saddr == daddr and sport < dport)):
        saddr, daddr, sport, dport = daddr, saddr, dport, sport
    if proto in PORT_PROTOS:
        pack = _PORTS4 if len(saddr) == 4 else _PORTS6
        data = pack(seed, saddr, daddr, proto, sport, dport)
    else:
        data = struct.pack("!H", seed) + saddr + daddr + struct.pack("!BB", proto, 0)
    digest = hashlib.sha1(data, usedforsecurity=False).digest()
    return "1:" + binascii.b2a_base64(digest, newline=False).decode()
