"""``ronda replay`` and ``ronda demo``: the daemon's pipeline over files, offline."""

from __future__ import annotations

import argparse
import sys
import tempfile
import zlib
from pathlib import Path
from typing import Any

from ronda.clock import EventClock
from ronda.component import Source, SourceConfig
from ronda.config import LoadedConfig, load_config
from ronda.daemon.build import build, make_context
from ronda.daemon.common import load_from_args, setup_logging
from ronda.daemon.gctune import tune_gc
from ronda.daemon.output import Collector, print_table, write_jsonl
from ronda.daemon.paths import DEFAULT_CONFIG, DEMO_DIR, display_path
from ronda.errors import InputError
from ronda.pipeline.runtime import Pipeline
from sensor.eve import EveSource, looks_like_eve
from sensor.net.pcapfile import capture_format
from sensor.net.source import PacketSourceConfig, PcapConfig, PcapSource
from sensor.parsers import FORMATS
from sensor.replayfile import (
    MergedReplaySource,
    ReplayFileConfig,
    ReplayFileSource,
    guess_format,
    open_log,
)

DEMO_INPUTS = ("sshd:auth.log", "nginx:access.log")
CAPTURE_KINDS = ("pcap",)  # pcap and pcapng files alike, told apart by their magic
EVE_KINDS = ("eve",)  # Suricata EVE JSON
KINDS = (*FORMATS, *EVE_KINDS, *CAPTURE_KINDS)
REPLAY_PAYLOAD_BYTES = 2048


def parse_inputs(specs: list[str], clock: EventClock) -> list[tuple[str, Path]]:
    out: list[tuple[str, Path]] = []
    for spec in specs:
        kind, sep, rest = spec.partition(":")
        if sep and (kind in FORMATS or kind in CAPTURE_KINDS or kind in EVE_KINDS):
            path = Path(rest)
        elif sep and kind.isalpha() and not Path(spec).exists():
            raise InputError(f"{spec}: unknown input kind {kind!r} "
                             f"(expected one of {', '.join(KINDS)})")
        else:
            kind, path = "", Path(spec)
        if not path.exists():
            raise InputError(f"{spec}: no such file")
        if not path.is_file():
            raise InputError(f"{spec}: not a regular file")
        if kind in CAPTURE_KINDS or (not kind and capture_format(path)):
            if capture_format(path) is None:
                raise InputError(f"{spec}: not a pcap or pcapng file")
            kind = "pcap"
        if not kind and _guess_eve(path):
            kind = "eve"
        if not kind:
            guessed = guess_format(path, clock)
            if guessed is None:
                raise InputError(f"{spec}: cannot tell the log format; "
                                 f"write KIND:PATH with KIND in {', '.join(FORMATS)}")
            kind = guessed
        out.append((kind, path))
    return out


def _payload_bytes(loaded: LoadedConfig) -> int:
    """Payload samples for the flows of a capture: on when a ``netrules`` detector is
    configured (its raw-content rules look at them), else off."""
    dets = loaded.config.detectors.values()
    return REPLAY_PAYLOAD_BYTES if any(d.get("type") == "netrules" for d in dets) else 0


def _capture_config(loaded: LoadedConfig, path: Path) -> PcapConfig:
    """How a replayed capture is read: the packet settings (protocols, max_flows,
    timeouts, payload_bytes...) of the config's first ``capture`` or ``pcap`` source, so
    a replay sees what the live sensor would; defaults without one."""
    fields = set(PacketSourceConfig.model_fields) - set(SourceConfig.model_fields)
    settings: dict[str, Any] = {}
    for body in loaded.config.sources.values():
        if body.get("type") in ("capture", "pcap"):
            settings = {k: v for k, v in body.items() if k in fields}
            break
    if "payload_bytes" not in settings:  # (an explicit 0 stays 0, as on the live sensor)
        settings["payload_bytes"] = _payload_bytes(loaded)
    return PcapConfig(type="pcap", path=str(path.resolve()), **settings)


def _guess_eve(path: Path) -> bool:
    try:
        with open_log(path) as fh:
            lines = [fh.readline(65536).decode("utf-8", "replace") for _ in range(20)]
    except (OSError, EOFError, zlib.error):
        return False  # guess_format reports the unreadable file
    return looks_like_eve(lines)


def replay(loaded: LoadedConfig, specs: list[str], output: str, *, store: bool,
           respond: bool, state_dir: Path | None = None, tune: bool = False) -> int:
    """``tune``: the process is the command's own (``tune_gc``); not when embedded."""
    log = setup_logging(loaded.config.logging.level)
    clock = EventClock()
    inputs = parse_inputs(specs, clock)
    ctx = make_context(loaded, clock, log, state_dir)
    comps = build(loaded, ctx, with_sources=False, with_responders=store, world_changing=respond)
    files: list[ReplayFileSource] = []
    captures: list[PcapSource] = []
    for i, (kind, path) in enumerate(inputs):
        name = f"{kind}-{i}" if len(inputs) > 1 else kind
        if kind == "pcap":
            captures.append(PcapSource(name, _capture_config(loaded, path), ctx))
            continue
        if kind == "eve":
            ecfg = ReplayFileConfig(type="file", path=str(path.resolve()), format="json")
            files.append(EveSource(name, ecfg, ctx))
            continue
        cfg = ReplayFileConfig(type="file", path=str(path.resolve()), format=kind)
        files.append(ReplayFileSource(name, cfg, ctx))
    sources: list[Source] = [MergedReplaySource(files, ctx)] if len(files) > 1 else [*files]
    sources.extend(captures)
    collector = Collector(ctx)
    pipeline = Pipeline(ctx, loaded.config.pipeline, sources, comps.detectors,
                        [*comps.responders, collector], lossless=True)
    if tune:
        tune_gc()
    pipeline.start()
    code = pipeline.wait()
    alerts = collector.ordered()
    if output == "jsonl":
        write_jsonl(alerts)
    elif output == "table":
        print_table([a.to_ecs() for a in alerts])
    m = ctx.metrics
    lines = sum(m.value("ronda_received_total", component=f.name) for f in files)
    skipped = sum(m.total("ronda_dropped_total", component=f.name) for f in files)
    if files or not captures:
        print(f"replayed {int(lines)} lines from {len(files)} file(s): {int(skipped)} skipped "
              f"as unparseable, {len(alerts)} alerts", file=sys.stderr)
    if captures:
        names = [c.name for c in captures]
        packets = sum(m.value("ronda_received_total", component=n) for n in names)
        flows = sum(m.total("ronda_flows_total", component=n) for n in names)
        bad = proto = 0.0
        for n in names:
            for reason, count in m.by_label("ronda_packets_decode_errors_total", "reason",
                                            component=n).items():
                if reason.endswith("_malformed"):
                    proto += count
                else:
                    bad += count
        print(f"replayed {int(packets)} packets from {len(captures)} capture(s): {int(flows)} "
              f"flows, {int(bad)} undecodable, {int(proto)} malformed protocol messages, "
              f"{len(alerts)} alerts", file=sys.stderr)
    if any(isinstance(e, InputError) for e in pipeline.source_errors):
        return 2
    return code


def cmd_replay(args: argparse.Namespace) -> int:
    loaded = load_from_args(args)
    return replay(loaded, list(args.inputs), args.output, store=not args.no_store,
                  respond=args.respond, tune=True)


def cmd_demo(args: argparse.Namespace) -> int:
    loaded = load_config(DEFAULT_CONFIG, display=display_path(DEFAULT_CONFIG), env={})
    specs = [f"{kind}:{DEMO_DIR / name}" for kind, name in
             (spec.split(":", 1) for spec in DEMO_INPUTS)]
    if args.output == "table":
        print("Ronda demo: an SSH brute force and web probing against a government web server,"
              f" replayed from {display_path(DEMO_DIR)}\n")
    with tempfile.TemporaryDirectory(prefix="ronda-demo-") as tmp:
        return replay(loaded, specs, args.output, store=False, respond=False,
                      state_dir=Path(tmp))
