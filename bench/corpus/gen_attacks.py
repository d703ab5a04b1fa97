"""Deterministic attack corpus built from public payload lists (detection-rate corpus).

``python bench/corpus/gen_attacks.py`` reads ``bench/corpus/payloads/<category>.txt`` and
writes ``bench/corpus/attacks.log`` (nginx combined lines) and
``bench/corpus/attacks.labels.tsv`` (one row per line: line number, category, family,
payload list, payload index). The same seed always gives the same bytes.

Built separately from the rules' own samples: every payload comes from the lists in
``payloads/`` (SecLists, PayloadsAllTheThings, sqlmap's payload templates via SecLists,
tool defaults; each file's header names its source, commit and licence, and says when a
list was written for Ronda instead). Nothing here is copied from ``*.samples.yml``.

How a payload becomes a request, as attack tools send them:

- **sqli**: appended to the original value of a typical parameter (``/berita.php?id=12``,
  ``/index.php?option=com_content&view=article&id=``, ``?kode=``, ``/api/v1/berita?kategori=``),
  sqlmap's placeholders filled in ([RANDNUM] -> 4 digits, [SLEEPTIME] -> 5,
  [DELIMITER_START] -> qxxxq ...).
- **xss**: the value of a reflected parameter (``?s=``, ``/cari?q=``, ``?nama=``, ``?pesan=``).
- **path-traversal**: the value of a file-style parameter (``?page=``, ``?file=``,
  ``/download.php?file=``, ``?lang=``, ``?template=``).
- **rce**: command injection after a value of a ping/diagnostic parameter
  (``?ip=127.0.0.1``, ``?host=``, ``?domain=``); template injection as a search/name value.
- **php-injection**: the value of ``?page=``, ``?code=``, ``?data=``, ``?id=``.
- **webshell**: GET and POST of each known backdoor name at the root and under upload
  folders, some with a ``?cmd=`` style parameter.
- **sensitive-file**: GET of each file at the root or under a sub-site (``/wp/``,
  ``/laravel/``), answered 404/403 mostly.
- **scanner**: each tool's default User-Agent with the path it typically asks first.
- **brute-force**: POSTs to wp-login.php, xmlrpc.php and Joomla's administrator.
- **gambling-spam**: doorway paths, spam queries, gambling search referrers and sites.
- **cve**: requests shaped like public exploits/nuclei templates for 16 CVEs; each row is
  labelled with the category of what it does (rce, path-traversal, ...) and family ``cve``.

Each payload is sent in two of three encodings, chosen at random per payload: *raw* (what
curl or a script sends: only space, ``#`` and non-ASCII percent-encoded), *percent*
(everything but unreserved characters encoded, like encodeURIComponent) and *form*
(``+`` for spaces, like a browser form). Payloads that already contain %XX escapes keep
them as written. Lines are escaped the way nginx writes them (``"`` and ``\\`` and
control bytes as ``\\xHH``). User agents are ordinary browsers, curl, python-requests or
Go -- never a scanner's name, so that payload rules, not User-Agent rules, are measured
(except in the scanner category).
"""

from __future__ import annotations

import argparse
import random
import re
import string
from datetime import datetime, timedelta, timezone
from pathlib import Path
from urllib.parse import quote, quote_plus

HERE = Path(__file__).resolve().parent
PAYLOADS = HERE / "payloads"
START = datetime(2026, 11, 20, 1, 0, 0, tzinfo=timezone(timedelta(hours=7)))
TARGET = "diskominfo.sukamaju.go.id"
UAS = [
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/120.0.0.0 Safari/537.36",
    "Mozilla/5.0 (X11; Linux x86_64; rv:109.0) Gecko/20100101 Firefox/115.0",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/119.0.0.0 Safari/537.36",
    "curl/7.88.1", "curl/8.5.0", "python-requests/2.31.0", "Go-http-client/1.1",
    "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/120.0.0.0 Mobile Safari/537.36",
]
GOOGLEBOT = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"
SQLI_TARGETS = ["/berita.php?id=12", "/index.php?option=com_content&view=article&id=45",
                "/produk/detail.php?kode=7", "/api/v1/berita?kategori=3",
                "/pengumuman.php?id=128&page=1", "/index.php?page=profil&id=2"]
XSS_TARGETS = ["/?s=", "/cari?q=", "/kontak.php?nama=", "/index.php?pesan=",
               "/pengaduan?judul=", "/login.php?redirect="]
LFI_TARGETS = ["/index.php?page=", "/download.php?file=", "/view.php?file=",
               "/index.php?lang=", "/index.php?template=", "/lampiran.php?doc="]
CMD_TARGETS = ["/ping.php?ip=127.0.0.1", "/tools/cek.php?host=localhost",
               "/cgi-bin/diag.cgi?domain=example.go.id", "/api/v1/ping?addr=10.0.0.1"]
SSTI_TARGETS = ["/?s=", "/profil?nama=", "/preview?template=", "/cari?q="]
PHP_TARGETS = ["/index.php?page=", "/index.php?code=", "/api.php?data=", "/view.php?id=",
               "/index.php?x="]
SHELL_DIRS = ["/", "/wp-content/uploads/2026/11/", "/images/", "/wp-content/plugins/",
              "/uploads/", "/assets/"]
SENSITIVE_PREFIX = ["/", "/", "/", "/wp/", "/laravel/", "/public/"]


def load(name: str) -> list[str]:
    out = []
    for line in (PAYLOADS / f"{name}.txt").read_text(encoding="utf-8").splitlines():
        if line.startswith("#") or not line.strip():
            continue
        out.append(line)
    return out


def nginx_escape(s: str) -> str:
    """How nginx writes $request / $http_* in access_log: ", \\ and non-printables as \\xHH."""
    out = []
    for ch in s:
        o = ord(ch)
        if ch in '"\\' or o < 0x20 or o == 0x7F:
            out.append(f"\\x{o:02X}")
        elif o > 0x7F:
            out.extend(f"\\x{b:02X}" for b in ch.encode())
        else:
            out.append(ch)
    return "".join(out)


_HAS_ESC = re.compile(r"%[0-9A-Fa-f]{2}")


def encode(payload: str, how: str) -> str:
    keep_pct = bool(_HAS_ESC.search(payload))
    if how == "raw":
        out = []
        for ch in payload:
            if ch == " ":
                out.append("%20")
            elif ch == "#":
                out.append("%23")
            elif ord(ch) > 0x7E or ord(ch) < 0x20:
                out.append(quote(ch, safe=""))
            else:
                out.append(ch)
        return "".join(out)
    safe = "%" if keep_pct else ""
    if how == "percent":
        return quote(payload, safe=safe + "-_.!~*'()")
    return quote_plus(payload, safe=safe)


def path_encode(p: str) -> str:
    return quote(p, safe="/%~!$&'()*+,;=:@")


class Corpus:
    def __init__(self, seed: int) -> None:
        self.r = random.Random(seed)
        self.t = START
        self.lines: list[str] = []
        self.labels: list[tuple[str, str, str, int]] = []

    def ip(self) -> str:
        return f"203.0.113.{self.r.randint(1, 254)}"

    def add(self, cat: str, family: str, src: str, idx: int, method: str, url: str,
            status: int | None = None, ua: str | None = None, ref: str = "-") -> None:
        r = self.r
        self.t += timedelta(seconds=r.randint(1, 40))
        status = status if status is not None else r.choice([200, 200, 403, 404, 404, 500, 302])
        size = 0 if status in (302, 304) else r.randint(150, 30000)
        ua = ua if ua is not None else r.choice(UAS)
        stamp = self.t.strftime("%d/%b/%Y:%H:%M:%S %z")
        self.lines.append(
            f'{self.ip()} - - [{stamp}] "{method} {nginx_escape(url)} HTTP/1.1" {status} {size} '
            f'"{nginx_escape(ref)}" "{nginx_escape(ua)}"')
        self.labels.append((cat, family, src, idx))

    def encodings(self) -> list[str]:
        return self.r.sample(["raw", "percent", "form"], 2)


def fill_sqlmap(p: str, r: random.Random) -> str:
    def num() -> str:
        return str(r.randint(1000, 9999))

    def word(n: int = 4) -> str:
        return "".join(r.choice(string.ascii_letters) for _ in range(n))

    p = re.sub(r"\[RANDNUM\d?\]", lambda m: num(), p)  # each occurrence its own number...
    p = p.replace("[RANDSTR]", word()).replace("[SLEEPTIME]", "5").replace("__TIME__", "5")
    p = p.replace("[ORIGVALUE]", "12")
    p = p.replace("[DELIMITER_START]", "q" + word(3).lower() + "q")
    p = p.replace("[DELIMITER_STOP]", "q" + word(3).lower() + "q")
    return p


def fill_sqlmap_consistent(p: str, r: random.Random) -> str:
    """sqlmap reuses one value per placeholder name within a payload (8745=8745)."""
    values: dict[str, str] = {}

    def sub(m: re.Match[str]) -> str:
        return values.setdefault(m.group(0), str(r.randint(1000, 9999)))

    p = re.sub(r"\[RANDNUM\d?\]", sub, p)
    return fill_sqlmap(p, r)


def build(seed: int = 20261120) -> Corpus:
    c = Corpus(seed)
    r = c.r
    for i, p in enumerate(load("sqli")):
        p = fill_sqlmap_consistent(p, r)
        for how in c.encodings():
            target = r.choice(SQLI_TARGETS)
            value = (" " if p[:1].isalpha() else "") + p
            c.add("sqli", "payload", "sqli.txt", i, "GET", target + encode(value, how))
    for i, p in enumerate(load("xss")):
        for how in c.encodings():
            c.add("xss", "payload", "xss.txt", i, "GET", r.choice(XSS_TARGETS) + encode(p, how))
    for i, p in enumerate(load("path-traversal")):
        for how in c.encodings():
            c.add("path-traversal", "payload", "path-traversal.txt", i, "GET",
                  r.choice(LFI_TARGETS) + encode(p, how))
    in_ssti = False
    rce = (PAYLOADS / "rce.txt").read_text(encoding="utf-8").splitlines()
    idx = -1
    for line in rce:
        if line.startswith("## "):
            in_ssti = "ssti" in line
            continue
        if line.startswith("#") or not line.strip():
            continue
        idx += 1
        for how in c.encodings():
            if in_ssti:
                url = r.choice(SSTI_TARGETS) + encode(line, how)
            else:
                url = r.choice(CMD_TARGETS) + encode(line, how)
            c.add("rce", "payload", "rce.txt", idx, r.choice(["GET", "GET", "POST"]), url)
    for i, p in enumerate(load("php-injection")):
        for how in c.encodings():
            c.add("php-injection", "payload", "php-injection.txt", i, "GET",
                  r.choice(PHP_TARGETS) + encode(p, how))
    for i, name in enumerate(load("webshell")):
        for _ in range(2):
            base = r.choice(SHELL_DIRS) + path_encode(name)
            if r.random() < 0.35:
                c.add("webshell", "payload", "webshell.txt", i, "POST",
                      base + r.choice(["?cmd=id", "?x=uname%20-a", "?act=upload", ""]),
                      status=r.choice([200, 404]))
            else:
                c.add("webshell", "payload", "webshell.txt", i, "GET", base,
                      status=r.choice([200, 404, 404, 404]))
    for i, name in enumerate(load("sensitive-file")):
        for _ in range(2):
            c.add("sensitive-file", "payload", "sensitive-file.txt", i, "GET",
                  r.choice(SENSITIVE_PREFIX) + path_encode(name),
                  status=r.choice([404, 404, 404, 403, 200]))
    for i, row in enumerate(load("scanner")):
        ua, path = row.split("\t")
        for _ in range(2):
            c.add("scanner", "tool", "scanner.txt", i, "GET", path, ua=ua,
                  status=r.choice([200, 404, 404, 403]))
    for i, row in enumerate(load("brute-force")):
        method, path, status, ua, ref = row.split("\t")
        ref = ref.replace("TARGET", TARGET)
        for _ in range(3):
            c.add("brute-force", "request", "brute-force.txt", i, method, path,
                  status=int(status), ua=ua, ref=ref)
    for i, row in enumerate(load("gambling-spam")):
        where, text = row.split("\t")
        for _ in range(2):
            if where == "path":
                c.add("gambling-spam", where, "gambling-spam.txt", i, "GET", text,
                      status=r.choice([200, 404]), ua=r.choice([*UAS[:3], GOOGLEBOT]))
            elif where == "query":
                c.add("gambling-spam", where, "gambling-spam.txt", i, "GET", "/" + text,
                      status=200)
            else:
                page = r.choice(["/", "/berita/", "/ppid/", "/profil/visi-misi/"])
                c.add("gambling-spam", where, "gambling-spam.txt", i, "GET", page,
                      status=200, ua=r.choice(UAS[:3]), ref=text)
    for i, row in enumerate(load("cve")):
        cve, cat, method, url, ua, ref = row.split("\t")
        for _ in range(2):
            c.add(cat, "cve:" + cve, "cve.txt", i, method, url,
                  ua=None if ua == "-" else ua, ref=ref)
    return c


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=HERE / "attacks.log")
    ap.add_argument("--labels", type=Path, default=HERE / "attacks.labels.tsv")
    ap.add_argument("--seed", type=int, default=20261120)
    args = ap.parse_args()
    c = build(args.seed)
    args.out.write_text("\n".join(c.lines) + "\n", encoding="utf-8")
    with open(args.labels, "w", encoding="utf-8") as fh:
        fh.write("line\tcategory\tfamily\tsource\tindex\n")
        for n, (cat, fam, src, idx) in enumerate(c.labels, 1):
            fh.write(f"{n}\t{cat}\t{fam}\t{src}\t{idx}\n")
    print(f"{args.out}: {len(c.lines)} lines")


if __name__ == "__main__":
    main()
