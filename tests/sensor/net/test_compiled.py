"""The packet hot path runs compiled (mypyc, see setup.py), and its pure-Python sources,
which a machine without a compiler runs, give exactly the same events and counts."""

from __future__ import annotations

import json
import os
import random
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

from sensor.net.pcapfile import CaptureReader
from sensor.net.pcapwrite import PcapWriter

ROOT = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(ROOT / "bench"))
from gen_pcap import generate  # noqa: E402

# Runs in a child: every event of a capture (all protocol parsers, payload samples) and
# the source's error counts, as JSON.
SCRIPT = """
import json, sys, threading
from pathlib import Path
import detectors.netrules.engine
import ronda.event
import sensor.net.flows
from detectors.netrules.detector import load_rules
from detectors.netrules.engine import Engine
from detectors.netrules.vars import normalise_vars
from tests.sensor.net.helpers import replay
events, src = replay(Path(sys.argv[1]), Path(sys.argv[2]), protocols=["dns", "http", "tls",
                     "ssh"], payload_bytes=2048)
rules = load_rules([Path("RULES")], normalise_vars({"HOME_NET": "[10.0.0.0/8]",
                                                   "EXTERNAL_NET": "!$HOME_NET"})).rules
engine = Engine(rules, 1000, 1000)
hits = [[h.rule.sid, h.buffer, h.excerpt, h.reverse, i] for i, e in enumerate(events)
        for h in engine.match(e)]
print(json.dumps({"compiled": [not m.__file__.endswith(".py") for m in (
                      sensor.net.flows, ronda.event, detectors.netrules.engine)],
                  "hits": hits,
                  "events": [[e.dataset, e.timestamp, e.to_ecs()] for e in events],
                  "errors": {k: v for k, v in sorted(src.proto_errors.items())}},
                 default=str, sort_keys=True))
"""


@pytest.mark.skipif(os.environ.get("RONDA_PURE_PYTHON") == "1", reason="pure Python build")
def test_hot_path_modules_are_compiled() -> None:
    """Every module setup.py compiles (as the build recorded them) loads compiled."""
    import importlib

    record = json.loads((ROOT / "build" / "compiled-sources.json").read_text())
    assert len(record) >= 20
    for source in record:
        mod = importlib.import_module(source.removesuffix(".py").replace("/", "."))
        assert mod.__file__ is not None and not mod.__file__.endswith(".py"), mod.__file__


def _mutated(src: Path, out: Path, seed: int) -> None:
    """The capture with one packet in three damaged (bytes flipped, cut short)."""
    rng = random.Random(seed)
    with open(out, "wb") as fh:
        w = PcapWriter(fh)
        for ts, _, buf, off, caplen, _ in CaptureReader(src):
            frame = bytearray(buf[off:off + caplen])
            if rng.random() < 0.33 and frame:
                for _ in range(rng.randrange(1, 4)):
                    frame[rng.randrange(len(frame))] = rng.randrange(256)
                if rng.random() < 0.3:
                    frame = frame[:rng.randrange(len(frame))]
            w.write(ts, bytes(frame), len(frame) + rng.choice((0, 0, 4)))


def _run(path: Path, tmp: Path, pythonpath: list[Path]) -> dict[str, object]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(map(str, pythonpath))}
    # -S: without site, so the editable install's import hook cannot pick the package;
    # cwd: not the checkout (python -c puts the working directory first on the path)
    script = SCRIPT.replace("RULES", str(ROOT / "rules" / "suricata"))
    proc = subprocess.run([sys.executable, "-S", "-c", script, str(path), str(tmp)],
                          env=env, cwd=tmp, capture_output=True, text=True, timeout=300,
                          check=False)
    assert proc.returncode == 0, proc.stderr[-3000:]
    out: dict[str, object] = json.loads(proc.stdout)
    return out


def test_pure_python_sources_give_the_same_events(tmp_path: Path) -> None:
    pure = tmp_path / "pure"
    for src in [*(ROOT / "sensor").rglob("*.py"), *(ROOT / "ronda").rglob("*.py"),
                *(ROOT / "detectors").rglob("*.py")]:
        dst = pure / src.relative_to(ROOT)  # (with the compiled Event and netrules engine)
        dst.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(src, dst)
    site = sysconfig.get_paths()["purelib"]
    clean = tmp_path / "clean.pcap"
    generate(clean, 4000, seed=11)
    damaged = tmp_path / "damaged.pcap"
    _mutated(clean, damaged, seed=5)
    for cap in (clean, damaged):
        (tmp_path / "a").mkdir(exist_ok=True)
        (tmp_path / "b").mkdir(exist_ok=True)
        fast = _run(cap, tmp_path / "a", [ROOT, Path(site)])
        slow = _run(cap, tmp_path / "b", [pure, ROOT, Path(site)])
        assert slow["compiled"] == [False, False, False]
        if os.environ.get("RONDA_PURE_PYTHON") != "1":
            assert fast["compiled"] == [True, True, True]
        assert fast["hits"] == slow["hits"]
        if cap == clean:
            assert len(fast["hits"]) >= 3  # type: ignore[arg-type]
        assert fast["errors"] == slow["errors"]
        assert len(fast["events"]) == len(slow["events"]) > 100  # type: ignore[arg-type]
        assert fast["events"] == slow["events"]
