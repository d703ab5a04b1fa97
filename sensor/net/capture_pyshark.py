"""The ``pyshark`` backend of the live capture: tshark (through pyshark) captures and
dissects, and each packet's raw frame goes into the same engine as the ring's packets.

Much slower than the packet ring (tshark dissects every packet and pyshark parses its JSON:
a few thousand packets/s), for when tshark's capture stack is wanted. pyshark runs its
own asyncio loop in a reader thread; packets reach the engine through a bounded queue
(when it is full, tshark blocks and the kernel drops, uncounted: tshark reports its drops
only when it exits, so ``ronda_capture_kernel_*`` are not exported for this backend).

``dissect``: tshark layer names (``smb2``, ``sip``...) whose dissection becomes events
(``sensor.net.dissect``), handed to ``on_events`` in the engine's thread, in packet order.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import importlib
import os
import queue
import signal
import threading
from collections.abc import Callable, Iterator
from typing import Any

from ronda.schema import Event
from sensor.net.dissect import dissected_events
from sensor.net.pcapfile import Record

QUEUE = 10_000
Layers = list[tuple[str, Any]]  # a packet's layer names and their JSON fields


class PysharkReader:
    def __init__(self, interface: str, *, bpf: str, snaplen: int, buffer_size: int,
                 linktype: int, dissect: frozenset[str] = frozenset(),
                 source: str = "") -> None:
        self.interface, self.bpf, self.linktype = interface, bpf, linktype
        self.dissect, self.source = dissect, source
        self.on_events: Callable[[list[Event]], None] | None = None
        self.params = ["-s", str(snaplen), "-B", str(max(1, buffer_size >> 20))]
        self.packets = 0
        self._queue: queue.Queue[tuple[float, bytes, int, Layers | None]] = queue.Queue(QUEUE)
        self._stop = threading.Event()
        self._cap: Any = None
        self._started = threading.Event()
        self.error: BaseException | None = None
        # started here, so that tshark runs in the network namespace of the thread that
        # prepared the source (a new thread, and the processes it starts, inherit it)
        self._thread = threading.Thread(target=self._pump, name=f"tshark:{interface}",
                                        daemon=True)
        self._thread.start()
        self._started.wait(30)
        if self.error is not None:
            raise OSError(f"tshark on {interface}: {self.error}")

    def stats(self) -> tuple[int, int] | None:
        return None  # tshark tells its drops only when it exits

    def _pump(self) -> None:
        pyshark = importlib.import_module("pyshark")  # optional and untyped
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        try:
            cap = self._cap = pyshark.LiveCapture(
                interface=self.interface, bpf_filter=self.bpf or None, use_json=True,
                include_raw=True, eventloop=loop, custom_parameters=self.params)
            self._started.set()
            wanted = self.dissect
            for pkt in cap.sniff_continuously():  # ends when close() ends dumpcap
                layers: Layers | None = None
                if wanted and any(x.layer_name in wanted for x in pkt.layers):
                    layers = [(x.layer_name, x._all_fields) for x in pkt.layers]
                item = (float(pkt.sniff_timestamp), pkt.get_raw_packet(), int(pkt.length),
                        layers)
                while not self._stop.is_set():
                    try:
                        self._queue.put(item, timeout=0.2)
                        break
                    except queue.Full:
                        continue
        except Exception as exc:  # tshark failed
            if not self._stop.is_set():
                self.error = exc
        finally:
            self._started.set()
            self._stop.set()
            if self._cap is not None:
                with contextlib.suppress(Exception):
                    self._cap.close()  # reaps dumpcap too, while the loop is open
                with contextlib.suppress(Exception):
                    loop.run_until_complete(asyncio.sleep(0.1))  # transports see EOF
                # a killed tshark counts as a crash, which stops pyshark's cleanup before
                # it forgets the processes (its __del__ would then use the closed loop)
                with contextlib.suppress(Exception):
                    self._cap._running_processes.clear()
            self._cap = None  # pyshark's objects go while their loop is still open
            gc.collect()
            loop.close()

    def records(self, idle: Callable[[], bool], poll_ms: int = 100) -> Iterator[Record]:
        get, lt, timeout = self._queue.get, self.linktype, poll_ms / 1000
        n = 0
        while True:
            try:
                ts, raw, wirelen, layers = get(timeout=timeout)
            except queue.Empty:
                if self.error is not None:
                    raise OSError(f"tshark on {self.interface} failed: {self.error}") from None
                if not idle():
                    return
                continue
            self.packets += 1
            if layers is not None and self.on_events is not None:
                self.on_events(dissected_events(ts, layers, self.dissect, self.source))
            yield ts, lt, raw, 0, len(raw), wirelen
            n += 1
            if n >= 256:
                n = 0
                if not idle():
                    return

    def close(self) -> None:
        """Stop dumpcap and tshark by signal (thread-safe): tshark's output ends, and
        pyshark's own generator reaps them in the reader thread."""
        self._stop.set()
        cap = self._cap
        for proc in list(getattr(cap, "_running_processes", ())):
            with contextlib.suppress(OSError):
                os.kill(proc.pid, signal.SIGTERM)
        self._thread.join(10)
