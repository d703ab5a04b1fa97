"""Regenerate the bundled demo logs (ronda/data/demo/). Deterministic: seeded.

    python scripts/make_demo_logs.py

The scenario, on the web server of a (fictional) regency government site:
- ordinary visitors and staff browse the site and log in over SSH from the office LAN;
- 203.0.113.45 runs an SSH password brute force against root and admin;
- 198.51.100.23 sweeps SSH user names (oracle, test, ubuntu, ...);
- 192.0.2.77 probes the website for sensitive files and admin panels (a 404 storm).
Addresses of the attackers are from the documentation ranges (RFC 5737).
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta, timezone
from pathlib import Path

OUT = Path(__file__).resolve().parent.parent / "ronda" / "data" / "demo"
WIB = timezone(timedelta(hours=7))
START = datetime(2026, 11, 20, 9, 0, 0, tzinfo=WIB)
SITE_PAGES = ["/", "/berita", "/berita/2026/11/rapat-koordinasi-pemda", "/profil/visi-misi",
              "/layanan/perizinan", "/pengumuman?page=2", "/cari?q=jadwal+posyandu",
              "/wp-content/themes/pemkab/style.css", "/wp-content/uploads/2026/11/banner.jpg",
              "/wp-includes/js/jquery/jquery.min.js", "/api/v1/agenda?bulan=11",
              "/kontak", "/favicon.ico", "/ppid/informasi-publik"]
AGENTS = ["Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
          "Chrome/130.0 Safari/537.36",
          "Mozilla/5.0 (Linux; Android 14; SM-A546E) AppleWebKit/537.36 (KHTML, like Gecko) "
          "Chrome/130.0 Mobile Safari/537.36",
          "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"]
PROBES = ["/.env", "/.git/config", "/wp-login.php", "/xmlrpc.php", "/phpmyadmin/",
          "/pma/", "/admin/", "/administrator/", "/backup.zip", "/backup.sql", "/db.sql",
          "/wp-config.php.bak", "/config.php.save", "/phpinfo.php", "/info.php",
          "/.aws/credentials",
          "/server-status", "/vendor/phpunit/phpunit/src/Util/PHP/eval-stdin.php",
          "/_ignition/execute-solution", "/cgi-bin/.%2e/.%2e/etc/passwd", "/shell.php",
          "/wp-content/plugins/wp-file-manager/readme.txt", "/.DS_Store", "/old/", "/test.php"]


def access_line(t: datetime, ip: str, path: str, status: int, size: int, agent: str,
                method: str = "GET") -> str:
    stamp = t.strftime("%d/%b/%Y:%H:%M:%S %z")
    return (f'{ip} - - [{stamp}] "{method} {path} HTTP/1.1" {status} {size} '
            f'"-" "{agent}"')


def auth_line(t: datetime, pid: int, msg: str) -> str:
    # journalctl -o short-iso: the offset makes the demo independent of the machine's zone.
    return f"{t.strftime('%Y-%m-%dT%H:%M:%S%z')} web-pemkab sshd[{pid}]: {msg}"


def main() -> None:
    rnd = random.Random(2026)
    OUT.mkdir(parents=True, exist_ok=True)
    web: list[tuple[datetime, str]] = []
    for i in range(600):
        t = START + timedelta(seconds=i * 6 + rnd.randint(0, 5))
        ip = f"10.20.{rnd.randint(1, 9)}.{rnd.randint(2, 250)}"
        web.append((t, access_line(t, ip, rnd.choice(SITE_PAGES), 200,
                                   rnd.randint(800, 90000), rnd.choice(AGENTS))))
    scan_start = START + timedelta(minutes=20)
    words = ["admin", "backup", "old", "test", "dev", "db", "dump", "site", "web", "www"]
    exts = ["zip", "tar.gz", "sql", "php", "bak", "txt", "rar", "7z", "conf", "log", "inc",
            "old", "swp"]
    sweep = PROBES + [f"/{w}.{e}" for w in words for e in exts]
    for i in range(150):
        t = scan_start + timedelta(seconds=i * 0.35)
        path = sweep[i]
        web.append((t, access_line(t, "192.0.2.77", path, 404, 153,
                                   "Mozilla/5.0 (X11; Linux x86_64) Nuclei - Open-source")))
    web.sort(key=lambda x: x[0])
    (OUT / "access.log").write_text("".join(line + "\n" for _, line in web), encoding="utf-8")

    auth: list[tuple[datetime, str]] = []
    pid = 41000
    for i in range(12):
        t = START + timedelta(minutes=i * 9, seconds=rnd.randint(0, 50))
        pid += 1
        auth.append((t, auth_line(t, pid, f"Accepted publickey for operator from 10.20.1."
                                          f"{10 + i} port {50000 + i} ssh2: ED25519 SHA256:x")))
    bf_start = START + timedelta(minutes=31)
    for i in range(48):
        t = bf_start + timedelta(seconds=i * 2.5)
        pid += 1
        user = "root" if i % 3 else "admin"
        invalid = "invalid user " if user == "admin" else ""
        auth.append((t, auth_line(t, pid, f"Failed password for {invalid}{user} from "
                                          f"203.0.113.45 port {40000 + i} ssh2")))
    sweep = ["oracle", "test", "ubuntu", "pi", "postgres", "git", "ftpuser", "deploy"]
    for i, user in enumerate(sweep):
        t = START + timedelta(minutes=45, seconds=i * 7)
        pid += 1
        auth.append((t, auth_line(t, pid, f"Invalid user {user} from 198.51.100.23 port "
                                          f"{52000 + i}")))
        auth.append((t + timedelta(seconds=1), auth_line(
            t + timedelta(seconds=1), pid, f"Failed password for invalid user {user} from "
                                            f"198.51.100.23 port {52000 + i} ssh2")))
    auth.sort(key=lambda x: x[0])
    (OUT / "auth.log").write_text("".join(line + "\n" for _, line in auth), encoding="utf-8")


if __name__ == "__main__":
    main()
