"""``ronda run``: the daemon. SIGTERM/SIGINT drain and exit 0; SIGHUP reloads rules."""

from __future__ import annotations

import argparse
import signal
from types import FrameType

from prometheus_client import disable_created_metrics, start_http_server

from ronda import __version__
from ronda.clock import SystemClock
from ronda.config import parse_listen
from ronda.daemon.build import build, make_context
from ronda.daemon.common import load_from_args, setup_logging
from ronda.daemon.gctune import tune_gc
from ronda.errors import ConfigError
from ronda.pipeline.checkpoint import CheckpointStore
from ronda.pipeline.runtime import Pipeline


def cmd_run(args: argparse.Namespace) -> int:
    loaded = load_from_args(args)
    cfg = loaded.config
    disable_created_metrics()  # type: ignore[no-untyped-call]  # no *_created series
    log = setup_logging(cfg.logging.level)
    ctx = make_context(loaded, SystemClock(), log)
    try:
        ctx.state_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigError(f"state_dir {ctx.state_dir}: cannot create: {exc}") from None
    comps = build(loaded, ctx)
    if not comps.sources:
        raise ConfigError(f"{loaded.display}: no sources configured: nothing to watch")
    for src in comps.sources:
        try:
            src.prepare()
        except ConfigError as exc:
            where = loaded.origins.lookup(("sources", src.name))
            raise ConfigError(f"{where} sources.{src.name}: {exc.lines[0]}") from None
    server = None
    if cfg.metrics.enabled:
        host, port = parse_listen(cfg.metrics.listen)
        try:
            server, _ = start_http_server(port, host, registry=ctx.metrics.registry)
        except OSError as exc:
            raise ConfigError(f"metrics.listen {cfg.metrics.listen}: cannot listen: "
                              f"{exc.strerror or exc}") from None
    pipeline = Pipeline(ctx, cfg.pipeline, comps.sources, comps.detectors, comps.responders,
                        CheckpointStore(ctx.state_dir / "checkpoints"))

    def on_stop(signum: int, frame: FrameType | None) -> None:
        pipeline.request_stop()

    def on_hup(signum: int, frame: FrameType | None) -> None:
        pipeline.request_reload()

    signal.signal(signal.SIGTERM, on_stop)
    signal.signal(signal.SIGINT, on_stop)
    signal.signal(signal.SIGHUP, on_hup)
    rules = sum(int(ctx.metrics.value("ronda_rules_loaded", detector=d.name))
                for d in comps.detectors)
    log.info("ronda %s started: sensor %s, config %s, %d sources, %d detectors (%d rules), "
             "%d responders, metrics %s, state %s", __version__, ctx.sensor, loaded.display,
             len(comps.sources), len(comps.detectors), rules, len(comps.responders),
             f"http://{cfg.metrics.listen}/metrics" if server else "off", ctx.state_dir)
    tune_gc()
    pipeline.start()
    code = pipeline.wait()
    if server is not None:
        server.shutdown()
        server.server_close()
    log.info("ronda stopped (exit %d)", code)
    return code
