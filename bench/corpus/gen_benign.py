"""Deterministic benign access log of an Indonesian local-government site (false-alarm corpus).

``python bench/corpus/gen_benign.py [OUT] [--lines N] [--seed S]`` writes N (20,000) nginx
"combined" lines for one day of ``diskominfo.sukamaju.go.id`` (a fictional regency's
communication office) to ``bench/corpus/benign_gov.log.gz`` (gzip when OUT ends in .gz).
The same seed always gives the same bytes.

How it is built
---------------
The day (19 Nov 2026, +0700) is filled with *sessions*, not independent lines, so that
assets follow pages, referrers point at the page that loaded them and caches answer 304:

- **citizens** (about 70% of sessions): mobile (Android Chrome on the phones common in
  Indonesia, Samsung Internet, iOS Safari, Facebook/Instagram in-app browsers, Opera Mini) and
  desktop browsers, arriving from Google, Facebook, WhatsApp, Instagram or directly; they read
  news posts (``/berita/2026/11/<slug>/``), category and tag pages with pagination
  (``/category/berita/page/3/``), PPID and service pages, agendas, galleries, search the site
  in Indonesian (``/?s=`` with quotes, apostrophes such as Jum'at and Qur'an, hashtags,
  parentheses, slashes, ampersands, percent signs, numbers), download documents
  (``/wp-content/uploads/2026/11/Laporan%20Keuangan%202025.pdf``, partial 206 answers) and
  load the WordPress theme/plugin assets (``?ver=``), Google Fonts-like woff2 files and
  ``wp-json`` / ``admin-ajax.php`` calls that themes make (view counters, load-more).
- **the Laravel side** of the same site (PPID and public-service apps): ``/build/assets/*.js``
  with Vite hashes, ``/storage/...`` documents, ``/api/v1/pengumuman?page=2&per_page=10``,
  Livewire (``/livewire/update`` POSTs, ``livewire.min.js?id=``), signed URLs
  (``?expires=&signature=<64 hex>``), ``/sanctum/csrf-cookie``.
- **staff** on the office LAN (10.20.0.0/16): WordPress and Laravel logins (GET then POST
  with a 302 redirect; a few mistyped passwords answered 200), the block editor
  (``/wp-json/wp/v2/posts/<id>?_locale=user``, ``users/me``, ``users?who=authors``),
  ``load-scripts.php``, media uploads (``async-upload.php``), heartbeat AJAX, Joomla-style
  legacy links.
- **crawlers and bots** with their published user agents and address ranges: Googlebot
  (desktop and smartphone), Bingbot, YandexBot, Applebot, PetalBot, Bytespider, AhrefsBot,
  SemrushBot, DuckDuckBot, GPTBot, facebookexternalhit, WhatsApp and Telegram link previews,
  Twitterbot; they fetch robots.txt, sitemaps, feeds, AMP pages, old Joomla URLs of the
  site's previous CMS (301/404), ``?p=`` shortlinks, and (as real crawlers do) relative
  ``javascript:void(0)`` links resolved as paths.
- **monitors**: UptimeRobot and an internal Zabbix/Go health check (HEAD and GET), WordPress's
  own ``wp-cron.php`` calls from the server.
- **legitimate errors**: 404s for missing images, favicon/apple-touch-icon, ``/ads.txt``,
  ``sw.js``; 301s for slashless URLs; 304s for cached assets.

Content is written for such a site: news slugs about stunting, Musrenbang, CPNS/PPPK
selection, WTP audit opinions, anti-gambling (judi online) campaigns and blocking of
gambling sites (real Diskominfo news topics, which contain words such as "judi online" and
"slot" that a naive rule would flag), and search phrases citizens type.

Addresses: citizens come from RFC 5737 documentation networks (fixed broadband) and the
RFC 6598 shared address space 100.64.0.0/10 (standing in for mobile carriers' CGNAT pools),
staff from 10.20.0.0/16; crawlers from their operators' published ranges. No real visitor
data was used: everything is generated from the word lists below.

The corpus measures false alarms: ``tests/detectors/sigma/test_pack.py`` replays it
through the nginx parser and the Sigma detector over ``rules/sigma`` and requires alerts on
at most 0.1% of lines. The word lists were written before the rules were tuned against this
file and were not edited to hide alerts (see ``bench/corpus/README.md``).
"""

from __future__ import annotations

import argparse
import gzip
import random
import sys
from collections.abc import Sequence
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any
from urllib.parse import quote, quote_plus

HOST = "diskominfo.sukamaju.go.id"
SITE = f"https://{HOST}"
DAY = datetime(2026, 11, 19, 0, 0, 0, tzinfo=timezone(timedelta(hours=7)))
DEFAULT_OUT = Path(__file__).with_name("benign_gov.log.gz")

sys.path.insert(0, str(Path(__file__).resolve().parent))
from benign_agents import CRAWLERS, DESKTOP_UAS, MOBILE_UAS, ua_windows  # noqa: E402
from benign_content import (  # noqa: E402
    CATEGORIES,
    DOCS,
    KECAMATAN,
    LARAVEL_APIS,
    LARAVEL_ASSETS,
    LARAVEL_PAGES,
    NEWS_SLUGS,
    PAGES,
    REFERRERS_EXT,
    SEARCHES,
    TAGS,
    WP_ASSETS,
)


def _expand(rng: str, r: random.Random) -> str:
    out = []
    for part in rng.split("."):
        if part.startswith("{"):
            lo, hi = part[1:-1].split("-")
            out.append(str(r.randint(int(lo), int(hi))))
        else:
            out.append(part)
    return ".".join(out)


def _pick(r: random.Random, weighted: Sequence[tuple[Any, float]]) -> Any:
    total = sum(w for _, w in weighted)
    x = r.uniform(0, total)
    for item, w in weighted:
        x -= w
        if x <= 0:
            return item
    return weighted[-1][0]


class Day:
    """Collects (timestamp, line) and renders combined-format lines."""

    def __init__(self, seed: int) -> None:
        self.r = random.Random(seed)
        self.lines: list[tuple[float, int, str]] = []
        self._n = 0

    def add(self, t: datetime, ip: str, method: str, url: str, status: int, size: int,
            ref: str, ua: str, user: str = "-") -> None:
        stamp = t.strftime("%d/%b/%Y:%H:%M:%S %z")
        line = (f'{ip} - {user} [{stamp}] "{method} {url} HTTP/{self._version()}" {status} '
                f'{size} "{ref}" "{ua}"')
        self.lines.append((t.timestamp(), self._n, line))
        self._n += 1

    def _version(self) -> str:
        return "2.0" if self.r.random() < 0.55 else "1.1"


def start_time(r: random.Random) -> datetime:
    """Diurnal: quiet at night, peaks in office hours and after evening prayers."""
    hour = _pick(r, [(h, w) for h, w in enumerate(
        [2, 1, 1, 1, 2, 4, 7, 10, 14, 16, 16, 15, 12, 13, 14, 13, 11, 9, 8, 10, 11, 10, 7, 4])])
    return DAY + timedelta(hours=hour, seconds=r.uniform(0, 3599))


def citizen_ip(r: random.Random) -> str:
    x = r.random()
    if x < 0.6:  # mobile carriers' CGNAT pools (RFC 6598 shared space)
        return f"100.{r.randint(64, 127)}.{r.randint(0, 255)}.{r.randint(1, 254)}"
    if x < 0.8:
        return f"198.51.100.{r.randint(1, 254)}"
    return f"192.0.2.{r.randint(1, 254)}"


def news_url(r: random.Random) -> str:
    slug = r.choice(NEWS_SLUGS)
    return f"/berita/2026/{r.choice(['10', '11', '11', '11'])}/{slug}/"


def search_url(r: random.Random) -> str:
    q = quote_plus(r.choice(SEARCHES))
    if r.random() < 0.15:
        return f"/page/{r.randint(2, 4)}/?s={q}"
    return f"/?s={q}"


def with_tracking(r: random.Random, url: str, ref: str) -> str:
    sep = "&" if "?" in url else "?"
    if "facebook" in ref and r.random() < 0.7:
        tok = "".join(r.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-")
                      for _ in range(60))
        return f"{url}{sep}fbclid=IwZXh0bgNhZW0CMTEAAR{tok}"
    if "whatsapp" in ref and r.random() < 0.5:
        return f"{url}{sep}utm_source=whatsapp&utm_medium=social&utm_campaign=siaran-pers"
    if r.random() < 0.05:
        return (f"{url}{sep}_gl=1*{r.randint(100000, 999999):x}*_ga*MTIzNDU2Nzg5MC4xNzMyMDAwMDAw"
                "*_ga_Q7XK2M5ZP1*MTczMjAwMDAwMC4xLjEuMTczMjAwMDEwMC4wLjAuMA..")
    return url


def assets_for(d: Day, t: datetime, ip: str, page: str, ua: str, cached: bool) -> datetime:
    r = d.r
    if page.endswith("/feed/"):
        return t
    n = r.randint(0, 3) if cached else r.randint(4, 11)  # a warm cache asks for little
    for a in r.sample(WP_ASSETS, n):
        t += timedelta(milliseconds=r.randint(20, 400))
        status, size = (304, 0) if cached and r.random() < 0.8 else (200, r.randint(900, 180000))
        d.add(t, ip, "GET", a, status, size, SITE + page, ua)
    # images of the page
    for _ in range(r.randint(0, 4)):
        t += timedelta(milliseconds=r.randint(20, 300))
        img = (f"/wp-content/uploads/2026/{r.choice(['10', '11'])}/"
               f"IMG-202611{r.randint(1, 19):02d}-"
               f"WA{r.randint(0, 99):04d}-{r.choice(['768x432', '1024x576', '300x200', 'scaled'])}"
               f".{r.choice(['jpg', 'jpeg', 'webp'])}")
        status = 200 if r.random() < 0.97 else 404
        d.add(t, ip, "GET", img, status, r.randint(9000, 400000) if status == 200 else 548,
              SITE + page, ua)
    if r.random() < 0.35:  # theme view counter / statistics
        t += timedelta(milliseconds=r.randint(100, 900))
        d.add(t, ip, "POST", "/wp-admin/admin-ajax.php", 200, r.randint(1, 40), SITE + page, ua)
    if r.random() < 0.2:
        t += timedelta(milliseconds=r.randint(100, 900))
        d.add(t, ip, "GET", f"/wp-json/wp-statistics/v2/hit?_={int(t.timestamp() * 1000)}&"
              f"source_type=post&source_id={r.randint(100, 4200)}&referred=&page_uri="
              + quote(page, safe=""), 200, 61, SITE + page, ua)
    return t


def citizen_session(d: Day) -> None:
    r = d.r
    mobile = r.random() < 0.78
    ua = _pick(r, MOBILE_UAS if mobile else DESKTOP_UAS)(r)
    ip = citizen_ip(r)
    t = start_time(r)
    ref = r.choice(REFERRERS_EXT) if r.random() < 0.7 else "-"
    cached = False
    for step in range(r.randint(1, 6)):
        kind = _pick(r, [("news", 40), ("page", 20), ("search", 15), ("list", 12),
                         ("doc", 6), ("feed", 2), ("laravel", 8)])
        if kind == "news":
            page = news_url(r)
        elif kind == "page":
            page = r.choice(PAGES)
        elif kind == "search":
            page = search_url(r)
        elif kind == "list":
            if r.random() < 0.5:
                page = f"/category/{r.choice(CATEGORIES)}/" + (
                    f"page/{r.randint(2, 9)}/" if r.random() < 0.6 else "")
            else:
                page = f"/tag/{r.choice(TAGS)}/" + (
                    f"page/{r.randint(2, 4)}/" if r.random() < 0.3 else "")
        elif kind == "doc":
            doc = r.choice(DOCS)
            url = f"/wp-content/uploads/2026/{r.choice(['09', '10', '11'])}/{quote(doc)}"
            if r.random() < 0.3:  # PDF viewers fetch ranges
                d.add(t, ip, "GET", url, 206, r.randint(32768, 65536), ref, ua)
                t += timedelta(milliseconds=r.randint(200, 2000))
            d.add(t, ip, "GET", url, 200 if r.random() < 0.95 else 404,
                  r.randint(80_000, 4_000_000), ref, ua)
            t += timedelta(seconds=r.randint(5, 90))
            continue
        elif kind == "feed":
            page = r.choice(["/feed/", "/berita/feed/", "/comments/feed/"])
        else:
            laravel_session(d, t, ip, ua, ref)
            return
        url = with_tracking(r, page, ref) if step == 0 else page
        status = 200
        if page.endswith("/page/9/") or (kind == "list" and r.random() < 0.03):
            status = 404
        d.add(t, ip, "GET", url, status, r.randint(18_000, 95_000) if status == 200 else 14_213,
              ref, ua)
        t = assets_for(d, t, ip, page, ua, cached)
        cached = True
        if r.random() < 0.15:
            t += timedelta(milliseconds=r.randint(500, 3000))
            d.add(t, ip, "GET", f"/wp-json/wp/v2/posts?per_page=4&categories={r.randint(2, 30)}"
                  f"&_embed=wp:featuredmedia&page={r.randint(1, 5)}", 200, r.randint(4000, 40000),
                  SITE + page, ua)
        ref = SITE + page
        t += timedelta(seconds=r.randint(8, 240))
    if r.random() < 0.06:  # a contact form
        form = r.randint(10, 99)
        d.add(t, ip, "POST", f"/wp-json/contact-form-7/v1/contact-forms/{form}/feedback",
              200, 254, SITE + "/kontak/", ua)


def laravel_session(d: Day, t: datetime, ip: str, ua: str, ref: str) -> None:
    r = d.r
    for i in range(r.randint(1, 5)):
        page = r.choice(LARAVEL_PAGES)
        d.add(t, ip, "GET", page, 200, r.randint(9000, 60000), ref, ua)
        for a in r.sample(LARAVEL_ASSETS, r.randint(2, 5)):
            t += timedelta(milliseconds=r.randint(20, 300))
            d.add(t, ip, "GET", a, 304 if i else 200, 0 if i else r.randint(1500, 250000),
                  SITE + page, ua)
        if r.random() < 0.5:
            t += timedelta(milliseconds=r.randint(200, 900))
            api = r.choice(LARAVEL_APIS).format(p=r.randint(1, 6), k=r.choice(KECAMATAN))
            d.add(t, ip, "GET", api, 200, r.randint(800, 24000), SITE + page, ua)
        if "permohonan" in page or "survei" in page or r.random() < 0.2:
            t += timedelta(seconds=r.randint(5, 60))
            d.add(t, ip, "POST", "/livewire/update", 200, r.randint(300, 9000), SITE + page, ua)
            if r.random() < 0.2:
                exp = int(t.timestamp()) + 300
                sig = "".join(r.choice("0123456789abcdef") for _ in range(64))
                d.add(t, ip, "POST", f"/livewire/upload-file?expires={exp}&signature={sig}",
                      200, 87, SITE + page, ua)
        if r.random() < 0.15:
            t += timedelta(seconds=r.randint(2, 20))
            exp = int(t.timestamp()) + 3600
            sig = "".join(r.choice("0123456789abcdef") for _ in range(64))
            d.add(t, ip, "GET", f"/storage/dokumen/2026/{r.choice(['perbup', 'sk', 'lampiran'])}-"
                  f"{r.randint(1, 80)}.pdf?expires={exp}&signature={sig}", 200,
                  r.randint(50_000, 2_000_000), SITE + page, ua)
        ref = SITE + page
        t += timedelta(seconds=r.randint(5, 120))


def staff_session(d: Day) -> None:
    r = d.r
    ip = f"10.20.{r.randint(1, 12)}.{r.randint(10, 250)}"
    ua = ua_windows(r)
    t = DAY + timedelta(hours=r.choice([7, 8, 8, 9, 9, 10, 11, 13, 14, 15, 19]),
                        seconds=r.uniform(0, 3599))
    if r.random() < 0.3:  # the Laravel back office
        d.add(t, ip, "GET", "/login", 200, 7421, "-", ua)
        t += timedelta(seconds=r.randint(1, 3))
        d.add(t, ip, "GET", "/sanctum/csrf-cookie", 204, 0, SITE + "/login", ua)
        t += timedelta(seconds=r.randint(5, 20))
        d.add(t, ip, "POST", "/login", 302, 350, SITE + "/login", ua)
        for _ in range(r.randint(3, 12)):
            t += timedelta(seconds=r.randint(10, 300))
            page = r.choice(["/admin", "/admin/pengumuman", "/admin/pengumuman/create",
                             f"/admin/pengumuman/{r.randint(100, 400)}/edit", "/admin/permohonan",
                             "/admin/permohonan?tableFilters[status][value]=baru&page=2"])
            d.add(t, ip, "GET", page, 200, r.randint(20000, 80000), SITE + "/admin", ua)
            d.add(t, ip, "POST", "/livewire/update", 200, r.randint(500, 20000), SITE + page, ua)
        d.add(t, ip, "POST", "/logout", 302, 350, SITE + "/admin", ua)
        return
    d.add(t, ip, "GET", "/wp-login.php", 200, 6105, "-", ua)
    t += timedelta(seconds=r.randint(5, 25))
    if r.random() < 0.06:  # a mistyped password: WordPress shows the form again
        d.add(t, ip, "POST", "/wp-login.php", 200, 6890, SITE + "/wp-login.php", ua)
        t += timedelta(seconds=r.randint(5, 25))
    d.add(t, ip, "POST", "/wp-login.php", 302, 0, SITE + "/wp-login.php", ua)
    t += timedelta(seconds=1)
    d.add(t, ip, "GET", "/wp-admin/", 200, r.randint(60000, 90000), SITE + "/wp-login.php", ua)
    d.add(t, ip, "GET", "/wp-admin/load-styles.php?c=0&dir=ltr&load%5Bchunk_0%5D=dashicons,"
          "admin-bar,common,forms,admin-menu,dashboard,list-tables,edit,revisions,media,themes,"
          "about,nav-menus,wp-pointer,widgets&load%5Bchunk_1%5D=,site-icon,l10n,buttons,wp-auth-"
          "check&ver=6.7.1", 200, 84112, SITE + "/wp-admin/", ua)
    d.add(t, ip, "GET", "/wp-admin/load-scripts.php?c=0&load%5Bchunk_0%5D=jquery-core,jquery-"
          "migrate,utils&ver=6.7.1", 200, 41233, SITE + "/wp-admin/", ua)
    for _ in range(r.randint(3, 14)):
        t += timedelta(seconds=r.randint(10, 400))
        post = r.randint(3000, 4300)
        act = _pick(r, [("edit", 35), ("list", 20), ("media", 15), ("ajax", 20), ("plugin", 10)])
        if act == "edit":
            d.add(t, ip, "GET", f"/wp-admin/post.php?post={post}&action=edit", 200, 120000,
                  SITE + "/wp-admin/edit.php", ua)
            for api in ("/wp-json/wp/v2/users/me?_locale=user",
                        "/wp-json/wp/v2/users?context=view&who=authors&per_page=50&_fields=id%2Cname"
                        "&_locale=user",
                        f"/wp-json/wp/v2/posts/{post}/autosaves?_locale=user",
                        "/wp-json/wp/v2/categories?per_page=100&orderby=name&order=asc&_fields=id"
                        "%2Cname%2Cparent&context=view&_locale=user",
                        "/wp-json/wp/v2/media?per_page=20&orderby=date&order=desc&media_type=image"
                        "&_locale=user"):
                t += timedelta(milliseconds=r.randint(50, 600))
                d.add(t, ip, "GET", api, 200, r.randint(200, 9000),
                      SITE + f"/wp-admin/post.php?post={post}&action=edit", ua)
            t += timedelta(seconds=r.randint(60, 900))
            d.add(t, ip, "POST", f"/wp-json/wp/v2/posts/{post}?_locale=user", 200, 5210,
                  SITE + f"/wp-admin/post.php?post={post}&action=edit", ua)
        elif act == "list":
            d.add(t, ip, "GET", r.choice(["/wp-admin/edit.php", "/wp-admin/edit.php?post_type=page",
                                          "/wp-admin/edit.php?post_status=draft&post_type=post",
                                          "/wp-admin/edit.php?s=pppk&post_status=all&post_type=post"
                                          "&action=-1&m=0&cat=0&paged=1&action2=-1"]),
                  200, 90000, SITE + "/wp-admin/", ua)
        elif act == "media":
            d.add(t, ip, "GET", "/wp-admin/upload.php?mode=grid", 200, 70000,
                  SITE + "/wp-admin/", ua)
            d.add(t, ip, "POST", "/wp-admin/async-upload.php", 200, 1300,
                  SITE + "/wp-admin/upload.php?mode=grid", ua)
        elif act == "ajax":
            d.add(t, ip, "POST", "/wp-admin/admin-ajax.php", 200, r.randint(40, 400),
                  SITE + "/wp-admin/post.php", ua)
        else:
            d.add(t, ip, "GET", r.choice(["/wp-admin/admin.php?page=wpcf7",
                                          "/wp-admin/admin.php?page=wp-statistics-overview",
                                          "/wp-admin/plugins.php", "/wp-admin/update-core.php",
                                          "/wp-admin/options-general.php", "/wp-admin/about.php"]),
                  200, 60000, SITE + "/wp-admin/", ua)


def crawler_session(d: Day) -> None:
    r = d.r
    crawler: tuple[str, int, list[str], list[str]] = _pick(r, [(c, c[1]) for c in CRAWLERS])
    name, _, uas, ranges = crawler
    ua = r.choice(uas)
    ip = _expand(r.choice(ranges), r)
    t = start_time(r)
    for _ in range(r.randint(1, 8)):
        kind = _pick(r, [("robots", 6), ("sitemap", 8), ("news", 40), ("page", 14), ("list", 10),
                         ("amp", 5), ("old", 6), ("short", 4), ("jsvoid", 2), ("feed", 3),
                         ("img", 6), ("laravel", 4)])
        status, size = 200, r.randint(15000, 90000)
        if kind == "robots":
            url, size = "/robots.txt", 312
        elif kind == "sitemap":
            url = r.choice(["/sitemap_index.xml", "/post-sitemap.xml", "/post-sitemap2.xml",
                            "/page-sitemap.xml", "/category-sitemap.xml", "/wp-sitemap.xml",
                            "/news-sitemap.xml"])
        elif kind == "news":
            url = news_url(r)
        elif kind == "page":
            url = r.choice(PAGES)
        elif kind == "list":
            url = f"/category/{r.choice(CATEGORIES)}/page/{r.randint(2, 30)}/"
            if r.random() < 0.1:
                status, size = 404, 14213
        elif kind == "amp":
            url = news_url(r) + "amp/"
        elif kind == "old":  # links of the site's former Joomla CMS
            url = r.choice([f"/index.php?option=com_content&view=article&id={r.randint(10, 900)}"
                            f"&Itemid={r.randint(100, 140)}",
                            f"/index.php/berita/{r.randint(100, 999)}-{r.choice(NEWS_SLUGS)[:30]}",
                            "/index.php?option=com_content&view=category&layout=blog&id=8&Itemid=105",
                            f"/images/stories/berita/{r.randint(2013, 2019)}/"
                            f"foto{r.randint(1, 99)}.jpg"])
            status, size = (301, 178) if r.random() < 0.6 else (404, 14213)
        elif kind == "short":
            url = r.choice([f"/?p={r.randint(100, 4300)}", f"/?page_id={r.randint(2, 120)}",
                            f"/?cat={r.randint(1, 30)}"])
            status, size = 301, 0
        elif kind == "jsvoid":  # crawlers resolving href="javascript:void(0)" as a path
            url = r.choice(PAGES[1:]) + "javascript:void(0)"
            status, size = 404, 14213
        elif kind == "feed":
            url = r.choice(["/feed/", f"/category/{r.choice(CATEGORIES)}/feed/", "/feed/?paged=2"])
        elif kind == "img":
            url = (f"/wp-content/uploads/2026/{r.choice(['09', '10', '11'])}/"
                   f"{r.choice(['banner', 'foto', 'IMG', 'infografis'])}-{r.randint(1, 400)}.jpg")
            status = 200 if r.random() < 0.9 else 404
        else:
            url = r.choice(LARAVEL_PAGES)
        if name == "facebook" or name == "telegram" or name == "twitter":
            url = news_url(r)
        d.add(t, ip, "GET", url, status, size, "-", ua)
        t += timedelta(seconds=r.randint(1, 120))


def preview_session(d: Day) -> None:
    """WhatsApp link previews come from the sharer's phone."""
    r = d.r
    ip, t = citizen_ip(r), start_time(r)
    ua = f"WhatsApp/2.{r.choice(['24.22.79', '24.23.78', '24.24.75'])} {r.choice(['A', 'i'])}"
    page = news_url(r)
    d.add(t, ip, "GET", page, 200, r.randint(20000, 80000), "-", ua)
    d.add(t + timedelta(milliseconds=400), ip, "GET",
          f"/wp-content/uploads/2026/11/IMG-202611{r.randint(1, 19):02d}-WA{r.randint(0, 99):04d}"
          "-1024x576.jpg", 200, r.randint(40000, 200000), "-", ua)


def monitor_session(d: Day) -> None:
    r = d.r
    kind = r.random()
    t = DAY + timedelta(seconds=r.uniform(0, 86399))
    if kind < 0.45:
        d.add(t, f"69.162.124.{r.randint(224, 238)}", "HEAD", "/", 200, 0, SITE,
              "Mozilla/5.0+(compatible; UptimeRobot/2.0; http://www.uptimerobot.com/)")
    elif kind < 0.7:
        d.add(t, "10.20.0.5", "GET", r.choice(["/", "/wp-json/", "/api/v1/health"]), 200,
              r.randint(100, 90000), "-", "Zabbix")
    elif kind < 0.85:
        d.add(t, "10.20.0.6", "GET", "/api/v1/health", 200, 17, "-", "Go-http-client/1.1")
    else:
        d.add(t, "10.20.0.10", "POST", f"/wp-cron.php?doing_wp_cron={t.timestamp():.10f}", 200, 0,
              "-", f"WordPress/6.7.1; {SITE}")


def stray_session(d: Day) -> None:
    """Ordinary misses: browsers and apps asking for things the site does not have."""
    r = d.r
    ip, t = citizen_ip(r), start_time(r)
    ua = _pick(r, MOBILE_UAS)(r)
    url = r.choice(["/favicon.ico", "/apple-touch-icon.png", "/apple-touch-icon-precomposed.png",
                    "/ads.txt", "/sw.js", "/manifest.json", "/berita", "/ppid", "/kontak",
                    "/.well-known/traffic-advice", "/wp-content/uploads/2025/02/foto-lama.jpg",
                    "/berita/2025/01/jadwal-lama/", "/?amp=1", "/index.html"])
    status = 301 if url in ("/berita", "/ppid", "/kontak") else (
        200 if url in ("/favicon.ico", "/?amp=1") else 404)
    d.add(t, ip, "GET", url, status, 178 if status == 301 else 14213, "-", ua)


SESSIONS = [(citizen_session, 64), (staff_session, 3), (crawler_session, 22),
            (preview_session, 3), (monitor_session, 5), (stray_session, 3)]


def generate(lines: int = 20_000, seed: int = 20261119) -> list[str]:
    d = Day(seed)
    while len(d.lines) < lines:
        _pick(d.r, SESSIONS)(d)
    # keep exactly `lines`: drop the surplus of the last session, then sort by time
    kept = sorted(d.lines[:lines])
    return [line for _, _, line in kept]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out", nargs="?", type=Path, default=DEFAULT_OUT)
    ap.add_argument("--lines", type=int, default=20_000)
    ap.add_argument("--seed", type=int, default=20261119)
    args = ap.parse_args()
    data = ("\n".join(generate(args.lines, args.seed)) + "\n").encode()
    if args.out.suffix == ".gz":
        with open(args.out, "wb") as fh, gzip.GzipFile(fileobj=fh, mode="wb", mtime=0,
                                                       filename="") as gz:
            gz.write(data)
    else:
        args.out.write_bytes(data)
    print(f"{args.out}: {args.lines} lines")


if __name__ == "__main__":
    main()
