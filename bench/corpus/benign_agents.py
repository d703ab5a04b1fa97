"""User agents and crawlers of the benign corpus (see gen_benign.py): the phones and
browsers common in Indonesia, and crawlers with their published agents and ranges."""

from __future__ import annotations

import random

# ---------------------------------------------------------------------------------------
# User agents
# ---------------------------------------------------------------------------------------
ANDROID_MODELS = ["SM-A155F", "SM-A556E", "SM-A057F", "SM-A145F", "CPH2591", "CPH2565",
                  "V2247", "V2332", "23124RN87G", "2312DRAABG", "RMX3830", "RMX3710",
                  "Infinix X6528", "TECNO BG6", "22120RN86G", "SM-S921B", "2201117TG"]
CHROME_VERS = ["129.0.6668.100", "130.0.6723.102", "130.0.6723.117", "131.0.6778.39",
               "131.0.6778.69", "131.0.6778.81"]


def ua_android(r: random.Random) -> str:
    v = r.choice(CHROME_VERS).split(".")[0]
    return (f"Mozilla/5.0 (Linux; Android {r.choice(['11', '12', '13', '14', '14', '15'])}; "
            f"{r.choice(ANDROID_MODELS)}) AppleWebKit/537.36 (KHTML, like Gecko) "
            f"Chrome/{v}.0.0.0 Mobile Safari/537.36")


def ua_samsung(r: random.Random) -> str:
    return ("Mozilla/5.0 (Linux; Android 14; SAMSUNG SM-A556E) AppleWebKit/537.36 (KHTML, like "
            f"Gecko) SamsungBrowser/{r.choice(['25.0', '26.0', '27.0'])} Chrome/121.0.0.0 "
            "Mobile Safari/537.36")


def ua_iphone(r: random.Random) -> str:
    ios = r.choice(["17_6_1", "18_0_1", "18_1", "18_1_1"])
    return (f"Mozilla/5.0 (iPhone; CPU iPhone OS {ios} like Mac OS X) AppleWebKit/605.1.15 "
            f"(KHTML, like Gecko) Version/{ios.split('_')[0]}.0 Mobile/15E148 Safari/604.1")


def ua_fb_inapp(r: random.Random) -> str:
    return (f"Mozilla/5.0 (Linux; Android 13; {r.choice(ANDROID_MODELS)} Build/TP1A.220624.014; "
            "wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/130.0.6723.102 "
            "Mobile Safari/537.36 [FB_IAB/FB4A;FBAV/487.0.0.40.109;]")


def ua_instagram(r: random.Random) -> str:
    return ("Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 "
            "(KHTML, like Gecko) Mobile/22B83 Instagram 356.0.0.25.109 (iPhone14,7; iOS 18_1; "
            "id_ID; id; scale=3.00; 1170x2532; 658741369)")


def ua_opera_mini(r: random.Random) -> str:
    return ("Opera/9.80 (Android; Opera Mini/76.0.2254/191.303; U; id) Presto/2.12.423 "
            "Version/12.16")


def ua_windows(r: random.Random) -> str:
    v = r.choice(CHROME_VERS).split(".")[0]
    if r.random() < 0.3:
        return (f"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like "
                f"Gecko) Chrome/{v}.0.0.0 Safari/537.36 Edg/{v}.0.0.0")
    if r.random() < 0.15:
        return ("Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:132.0) Gecko/20100101 "
                "Firefox/132.0")
    return (f"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
            f"Chrome/{v}.0.0.0 Safari/537.36")


def ua_mac(r: random.Random) -> str:
    return ("Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like "
            "Gecko) Version/18.1 Safari/605.1.15")


MOBILE_UAS = [(ua_android, 55), (ua_samsung, 8), (ua_iphone, 12), (ua_fb_inapp, 9),
              (ua_instagram, 4), (ua_opera_mini, 2)]
DESKTOP_UAS = [(ua_windows, 85), (ua_mac, 15)]

# (name, weight, user agents, address ranges as (prefix, third-octet range or None))
CRAWLERS = [
    ("googlebot", 30, ["Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
                       "Mozilla/5.0 (Linux; Android 6.0.1; Nexus 5X Build/MMB29P) "
                       "AppleWebKit/537.36 "
                       "(KHTML, like Gecko) Chrome/131.0.6778.69 Mobile Safari/537.36 (compatible; "
                       "Googlebot/2.1; +http://www.google.com/bot.html)",
                       "Googlebot-Image/1.0"], ["66.249.{64-79}.{1-254}"]),
    ("bingbot", 10, ["Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)",
                     "Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; bingbot/2.0; "
                     "+http://www.bing.com/bingbot.htm) Chrome/116.0.1938.76 Safari/537.36"],
     ["40.77.167.{1-254}", "157.55.39.{1-254}", "207.46.13.{1-254}"]),
    ("yandex", 4, ["Mozilla/5.0 (compatible; YandexBot/3.0; +http://yandex.com/bots)"],
     ["213.180.203.{1-254}", "5.255.253.{1-254}"]),
    ("applebot", 3, ["Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, "
                     "like Gecko) Version/17.4 Safari/605.1.15 (Applebot/0.1; "
                     "+http://www.apple.com/go/applebot)"], ["17.241.{219-227}.{1-254}"]),
    ("petalbot", 6, ["Mozilla/5.0 (Linux; Android 7.0;) AppleWebKit/537.36 (KHTML, like Gecko) "
                     "Mobile Safari/537.36 (compatible; PetalBot;+https://webmaster.petalsearch.com/site/petalbot)"],
     ["114.119.{128-159}.{1-254}"]),
    ("bytespider", 6, ["Mozilla/5.0 (Linux; Android 5.0) AppleWebKit/537.36 (KHTML, like Gecko) "
                       "Mobile Safari/537.36 (compatible; Bytespider; "
                       "spider-feedback@bytedance.com)"],
     ["47.128.{16-127}.{1-254}"]),
    ("ahrefs", 4, ["Mozilla/5.0 (compatible; AhrefsBot/7.0; +http://ahrefs.com/robot/)"],
     ["54.36.148.{1-254}", "5.39.1.{1-254}"]),
    ("semrush", 3, ["Mozilla/5.0 (compatible; SemrushBot/7~bl; +http://www.semrush.com/bot.html)"],
     ["185.191.171.{1-254}"]),
    ("duckduckbot", 1, ["DuckDuckBot/1.1; (+http://duckduckgo.com/duckduckbot.html)"],
     ["20.191.45.{200-215}"]),
    ("gptbot", 2, ["Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; GPTBot/1.2; "
                   "+https://openai.com/gptbot)"], ["20.171.207.{1-254}"]),
    ("facebook", 6, ["facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)",
                     "meta-externalagent/1.1 (+https://developers.facebook.com/docs/sharing/webmasters/crawler)"],
     ["69.171.{224-255}.{1-254}", "173.252.{64-127}.{1-254}", "31.13.{96-127}.{1-254}"]),
    ("telegram", 1, ["TelegramBot (like TwitterBot)"], ["149.154.161.{1-254}"]),
    ("twitter", 1, ["Twitterbot/1.0"], ["199.16.157.{1-254}"]),
]
