"""A million lines of random bytes and binary garbage go through without a crash, counted."""

import random
import re
from pathlib import Path

import pytest

from tests.integration.daemon import ronda

pytestmark = pytest.mark.slow


def _garbage(path: Path, lines: int) -> int:
    rnd = random.Random(7)
    pool = [bytes(rnd.getrandbits(8) for _ in range(rnd.randint(1, 120))).replace(b"\n", b" ")
            for _ in range(5000)]
    pool += [b"\x00" * 50, b"\xff\xfe" * 40, b"\x1b[31m" * 10, "ü€𝄞".encode() * 20,
             b'1.2.3.4 - - [99/Foo/2026:99:99:99 +0700] "GET / HTTP/1.1" 200 -',
             b'<34>1 2026-13-45T25:61:61Z - - - - - \xc3\x28',
             b"Nov 99 10:00:00 h sshd[x]: Failed password for from port",
             b"x" * 200_000]
    with open(path, "wb") as fh:
        for i in range(lines):
            fh.write(pool[(i * 7919 + rnd.randint(0, 3)) % len(pool)] + b"\n")
    return lines


@pytest.mark.parametrize("kind", ["nginx", "sshd"])
def test_million_garbage_lines_counted_not_fatal(tmp_path: Path, kind: str) -> None:
    f = tmp_path / "garbage.log"
    n = _garbage(f, 1_000_000)
    r = ronda("replay", f"{kind}:{f}", "--no-store", "--output", "none", timeout=900)
    assert r.returncode == 0, r.stderr[-2000:]
    assert "Traceback" not in r.stderr
    m = re.search(r"replayed (\d+) lines from 1 file\(s\): (\d+) skipped as unparseable", r.stderr)
    assert m, r.stderr
    assert int(m.group(1)) == n
    assert int(m.group(2)) >= n - 1000  # a few random lines can look like a log line
