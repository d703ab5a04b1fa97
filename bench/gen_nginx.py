"""Deterministic synthetic nginx access log for benchmarks (combined format).

Mostly ordinary traffic to a regency government site, with 404 probes from scanners
(wp-login.php, phpMyAdmin, webmail, cgi-bin: what fail2ban's nginx-botsearch looks for),
scattered and in bursts of 100 from one address every 5,000 lines.
"""

from __future__ import annotations

import random
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

PAGES = ["/", "/berita", "/berita/2026/11/rapat-koordinasi-pemda?utm_source=wa",
         "/profil/visi-misi", "/layanan/perizinan", "/pengumuman?page=2",
         "/cari?q=jadwal+posyandu+kecamatan", "/wp-content/themes/pemkab/style.css?ver=6.4",
         "/wp-content/uploads/2026/11/banner.jpg", "/wp-includes/js/jquery/jquery.min.js",
         "/api/v1/agenda?bulan=11&tahun=2026", "/kontak", "/favicon.ico",
         "/ppid/informasi-publik", "/storage/dokumen/perbup-12-2026.pdf"]
PROBES = ["/wp-login.php", "/phpmyadmin/index.php", "/pma/", "/admin/phpMyAdmin/",
          "/roundcube/", "/webmail/", "/cgi-bin/test.cgi", "/wp-admin.php", "/.env",
          "/mysqladmin/", "/xampp/phpmyadmin/"]
AGENTS = ["Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
          "Chrome/130.0.0.0 Safari/537.36",
          "Mozilla/5.0 (Linux; Android 14; SM-A546E) AppleWebKit/537.36 (KHTML, like Gecko) "
          "Chrome/130.0.0.0 Mobile Safari/537.36",
          "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
          "Mozilla/5.0 zgrab/0.x"]


def generate(path: Path, lines: int, seed: int = 1) -> None:
    rnd = random.Random(seed)
    t = datetime(2026, 11, 20, 0, 0, 0, tzinfo=timezone(timedelta(hours=7)))
    with open(path, "w", encoding="utf-8") as fh:
        for i in range(lines):
            if i % 7 == 0:
                t += timedelta(seconds=1)
            stamp = t.strftime("%d/%b/%Y:%H:%M:%S %z")
            if i % 5000 < 100:  # a scanner burst: 100 probes from one address
                ip = f"198.51.100.{(i // 5000) % 250 + 1}"
                path_ = f"{rnd.choice(PROBES)}?{i % 5000}"
                status, size, ua = 404, 153, AGENTS[3]
            elif rnd.random() < 0.06:
                ip = f"203.0.113.{rnd.randint(1, 40)}"
                path_, status, size, ua = rnd.choice(PROBES), 404, 153, AGENTS[3]
            else:
                ip = f"10.{rnd.randint(0, 3)}.{rnd.randint(0, 255)}.{rnd.randint(1, 254)}"
                path_ = rnd.choice(PAGES)
                status = 200 if rnd.random() < 0.95 else rnd.choice([301, 304, 404])
                size, ua = rnd.randint(200, 120_000), rnd.choice(AGENTS[:3])
            fh.write(f'{ip} - - [{stamp}] "GET {path_} HTTP/1.1" {status} {size} '
                     f'"https://pemkab.example.go.id/" "{ua}"\n')


if __name__ == "__main__":
    generate(Path(sys.argv[1]), int(sys.argv[2]) if len(sys.argv) > 2 else 200_000)
