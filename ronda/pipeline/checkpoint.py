"""Source positions saved atomically, once every responder has flushed what came before."""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any


class CheckpointStore:
    """One JSON file per source under ``<state_dir>/checkpoints/``."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def _file(self, source: str) -> Path:
        safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in source)
        return self.directory / f"{safe}.json"

    def load(self, source: str) -> Any:
        try:
            return json.loads(self._file(source).read_text(encoding="utf-8"))["position"]
        except FileNotFoundError:
            return None
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def save(self, positions: dict[str, Any]) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        for source, position in positions.items():
            target = self._file(source)
            tmp = target.with_suffix(".json.tmp")
            with open(tmp, "w", encoding="utf-8") as fh:
                json.dump({"source": source, "position": position}, fh)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, target)
        dirfd = os.open(self.directory, os.O_RDONLY)
        try:
            os.fsync(dirfd)
        finally:
            os.close(dirfd)


class Barrier:
    """Travels through every responder queue behind the items it covers.

    When each responder has flushed up to it, ``on_complete(positions)`` runs once.
    """

    def __init__(
        self,
        positions: dict[str, Any],
        waiting: set[str],
        on_complete: Callable[[dict[str, Any]], None],
    ) -> None:
        self.positions = positions
        self._waiting = set(waiting)
        self._on_complete = on_complete
        self._lock = threading.Lock()
        self.done = threading.Event()
        if not self._waiting:
            self._complete()

    def ack(self, responder: str) -> None:
        with self._lock:
            if responder not in self._waiting:
                return
            self._waiting.discard(responder)
            finished = not self._waiting
        if finished:
            self._complete()

    def _complete(self) -> None:
        self._on_complete(self.positions)
        self.done.set()
