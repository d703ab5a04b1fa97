"""Waking the file follower when something changes in the followed file's folder.

An inotify observer (watchdog) on the *folder*, so that creations and renames of the
file are seen as well as writes. The observer does no reading: it only sets a
``threading.Event`` the reader loop waits on (with a timeout, so the loop also polls).
When inotify cannot be used (watch limit, instance limit, unsupported filesystem) the
follower falls back to plain polling every poll interval. While the folder does not
exist there is nothing to watch: the loop polls for it and watches it once it appears
(again, when it was deleted and created anew).
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Literal, Protocol

from watchdog.events import (
    DirDeletedEvent,
    DirMovedEvent,
    FileCreatedEvent,
    FileDeletedEvent,
    FileModifiedEvent,
    FileMovedEvent,
    FileSystemEvent,
    FileSystemEventHandler,
)

WatchMode = Literal["auto", "inotify", "poll"]
_FILTER: list[type[FileSystemEvent]] = [
    FileCreatedEvent, FileDeletedEvent, FileModifiedEvent, FileMovedEvent,
    DirDeletedEvent, DirMovedEvent,  # the watched folder itself going away
]


class ObserverLike(Protocol):
    def schedule(
        self, event_handler: FileSystemEventHandler, path: str, *, recursive: bool = ...,
        event_filter: list[type[FileSystemEvent]] | None = ...,
    ) -> object: ...

    def start(self) -> None: ...

    def stop(self) -> None: ...

    def join(self, timeout: float | None = ...) -> None: ...


def inotify_observer() -> ObserverLike:
    from watchdog.observers.inotify import InotifyObserver

    return InotifyObserver()


class _Waker(FileSystemEventHandler):
    def __init__(self, folder: Path, prefix: str, wake: threading.Event) -> None:
        self.folder = os.path.normpath(folder)
        self.prefix = prefix
        self.wake = wake
        self.lost = False  # the watched folder was deleted or moved away

    def on_any_event(self, event: FileSystemEvent) -> None:
        for p in (event.src_path, event.dest_path):
            if not p:
                continue
            path = os.fsdecode(p)
            if event.is_directory and os.path.normpath(path) == self.folder:
                self.lost = True  # (a new folder may get the same inode number)
                self.wake.set()
                return
            if os.path.basename(path).startswith(self.prefix):
                self.wake.set()
                return


class DirWatcher:
    """Keeps an inotify watch on ``path``'s folder while it exists (see module doc).

    Call ``ensure()`` on every loop turn: it starts the watch once the folder exists and
    restarts it when the folder was replaced. In ``poll`` mode, or after inotify failed
    in ``auto`` mode, it does nothing and the loop's timeout does the polling.
    """

    def __init__(
        self,
        path: Path,
        mode: WatchMode,
        wake: threading.Event,
        log: logging.Logger,
        observer_factory: Callable[[], ObserverLike] = inotify_observer,
    ) -> None:
        self.folder = path.parent
        self.mode = mode
        self.wake = wake
        self.log = log
        self.polling = mode == "poll"
        self._factory = observer_factory
        self._handler = _Waker(self.folder, path.name, wake)
        self._observer: ObserverLike | None = None
        self._folder_id: tuple[int, int] | None = None

    @property
    def watching(self) -> bool:
        return self._observer is not None

    def ensure(self) -> None:
        if self.polling:
            return
        try:
            st = os.stat(self.folder)
            folder_id: tuple[int, int] | None = (st.st_dev, st.st_ino)
        except OSError:
            folder_id = None
        if self._observer is not None and folder_id == self._folder_id and not self._handler.lost:
            return
        self.stop()
        if folder_id is None:
            return  # the folder does not exist (yet); the loop polls for it
        self._handler.lost = False
        observer = self._factory()
        try:
            observer.schedule(self._handler, str(self.folder), event_filter=_FILTER)
            observer.start()
        except OSError as exc:
            with contextlib.suppress(Exception):
                observer.stop()
            if self.mode == "inotify":
                raise
            self.polling = True
            self.log.warning(
                "cannot watch %s with inotify (%s); polling it instead", self.folder, exc)
            return
        self._observer, self._folder_id = observer, folder_id
        self.wake.set()  # look once more: changes may have happened before the watch

    def stop(self) -> None:
        observer, self._observer, self._folder_id = self._observer, None, None
        if observer is not None:
            with contextlib.suppress(Exception):
                observer.stop()
            with contextlib.suppress(Exception):
                observer.join(timeout=2.0)
