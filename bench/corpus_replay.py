"""Shared helpers of bench/false_alarm_rate.py and bench/detection_rate.py: build the Sigma
detector over a rule folder and replay log lines through a parser and the detector one line
at a time, so every alert is attributed to the line that raised it."""

from __future__ import annotations

import gzip
import logging
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from detectors.sigma.detector import SigmaDetector
from ronda.clock import ManualClock
from ronda.component import Context
from ronda.metrics import Metrics
from ronda.schema import Alert
from sensor.parsers import make_parser

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT / "bench" / "corpus"
RULES = ROOT / "rules" / "sigma"
BENIGN = CORPUS / "benign_gov.log.gz"
ATTACKS = CORPUS / "attacks.log"
LABELS = CORPUS / "attacks.labels.tsv"


def build_detector(rules: list[Path]) -> SigmaDetector:
    state = Path(tempfile.mkdtemp(prefix="ronda-bench-"))
    ctx = Context(sensor="bench", clock=ManualClock(0.0), metrics=Metrics(), state_dir=state,
                  log=logging.getLogger("ronda.bench"), base_dir=ROOT)
    config = SigmaDetector.config_model(type="sigma", rules=[str(p) for p in rules])
    det = SigmaDetector("sigma", config, ctx)
    det.reload()
    return det


def read_lines(path: Path, limit: int | None = None) -> Iterator[str]:
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8") as fh:
        for n, line in enumerate(fh):
            if limit is not None and n >= limit:
                return
            yield line.rstrip("\n")


@dataclass
class LineResult:
    line: str
    parsed: bool
    alerts: list[Alert] = field(default_factory=list)


def replay(lines: Iterator[str], det: SigmaDetector, fmt: str = "nginx") -> Iterator[LineResult]:
    parse = make_parser(fmt, ManualClock(0.0))
    for line in lines:
        event = parse(line)
        if event is None:
            yield LineResult(line, False)
            continue
        yield LineResult(line, True, det.process([event]))
