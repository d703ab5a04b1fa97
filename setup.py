"""Build: the packet hot path (sensor/net: reader, decoder, flow table, TCP state, flow
events, protocol parsers), the Event record and the netrules per-event matcher are
compiled to C with mypyc (a build requirement, pinned to the mypy the code is checked
with), from the same type-checked Python sources. With RONDA_PURE_PYTHON=1 (a machine
without a C compiler) Ronda installs and runs the sources as they are (same behaviour,
about half the speed on packets). Everything else is in pyproject.toml."""

from __future__ import annotations

import hashlib
import json
import os
import sys
from pathlib import Path

from setuptools import setup
from setuptools.command.build_ext import build_ext

# The modules compiled to C: the per-packet and per-event code. Listed here only; they
# stay plain, importable Python in the source tree.
COMPILED = [
    "detectors/netrules/buffers.py",
    "detectors/netrules/engine.py",
    "detectors/netrules/fits.py",
    "ronda/event.py",
    "sensor/net/communityid.py",
    "sensor/net/decode.py",
    "sensor/net/engine.py",
    "sensor/net/flowevent.py",
    "sensor/net/flowrecord.py",
    "sensor/net/flows.py",
    "sensor/net/payload.py",
    "sensor/net/pcapfile.py",
    "sensor/net/tcpstate.py",
    "sensor/net/proto/base.py",
    "sensor/net/proto/buffers.py",
    "sensor/net/proto/common.py",
    "sensor/net/proto/dispatch.py",
    "sensor/net/proto/dns.py",
    "sensor/net/proto/dnsmsg.py",
    "sensor/net/proto/http.py",
    "sensor/net/proto/httpmsg.py",
    "sensor/net/proto/ja3.py",
    "sensor/net/proto/ja4.py",
    "sensor/net/proto/ssh.py",
    "sensor/net/proto/tls.py",
    "sensor/net/proto/tlsmsg.py",
    "sensor/net/proto/tlsnames.py",
    "sensor/net/proto/tlsprint.py",
]


def ext_modules() -> list[object]:
    if os.environ.get("RONDA_PURE_PYTHON") == "1":
        return []
    try:
        from mypyc.build import mypycify
    except ImportError:  # pragma: no cover - mypy is a build requirement
        print("ronda: mypyc not available, installing pure Python", file=sys.stderr)
        return []
    # one shared library inside the package (sensor/net/hotpath__mypyc...), so an editable
    # install finds it wherever Python starts
    return list(mypycify(COMPILED, opt_level="3", group_name="sensor.net.hotpath"))


class BuildExt(build_ext):
    """Builds the extensions, then records what they were built from (only once the
    compiler succeeded)."""

    def run(self) -> None:
        super().run()
        if self.extensions:
            _record_sources()


def _record_sources() -> None:
    """What was compiled, by content hash, for the test suite's check that no compiled
    module is older than its source (build/compiled-sources.json; build/ is not shipped)."""
    here = Path(__file__).resolve().parent
    out = here / "build" / "compiled-sources.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps({m: hashlib.sha256((here / m).read_bytes()).hexdigest()
                               for m in COMPILED}, indent=1) + "\n")


setup(ext_modules=ext_modules(), cmdclass={"build_ext": BuildExt})
