"""Watch mode: saving a `.zig` file under `ecs_systems/` asks for a reload, debounced (and,
with a second watcher over `assets/` for other suffixes, saving an asset file re-reads it).

watchdog's observer thread records what changed and when. Once the files have been quiet
for `debounce` seconds, a timer thread calls `on_due(reason, saved_at)` (the reloader's
`request`, the same path F5 takes) at once, without waiting for a frame boundary. Editors
that save in several steps (write a temp file, rename) do it within a millisecond, inside the
2 ms debounce: one reload, not three.
A save that lands after the build started is caught by the reloader (it builds again).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path

from watchdog.events import FileSystemEvent, FileSystemEventHandler
from watchdog.observers import Observer

DEBOUNCE = 0.002


class SourceWatcher(FileSystemEventHandler):
    """Watches `folder` and its subfolders (the SDK, shared game code) for created, changed,
    moved or deleted files whose names end in one of `suffixes` (`.zig` files by default)."""

    def __init__(
        self,
        folder: Path,
        on_due: Callable[[str, float], None],
        debounce: float = DEBOUNCE,
        suffixes: tuple[str, ...] = (".zig",),
    ) -> None:
        self.folder = folder
        self.suffixes = suffixes
        self.debounce = debounce
        self.on_due = on_due
        self._lock = threading.Lock()
        self._changed: set[str] = set()
        self._last = 0.0  # time.perf_counter() of the newest change
        self._timer: threading.Timer | None = None
        self._reported: dict[str, tuple[int, int, int] | None] = {}  # file -> its stat when last reported
        self._observer: Observer | None = None  # type: ignore[valid-type]

    @property
    def running(self) -> bool:
        return self._observer is not None

    def start(self) -> None:
        if self._observer is None:
            observer = Observer()
            observer.schedule(self, str(self.folder), recursive=True)
            observer.start()
            self._observer = observer

    def stop(self) -> None:
        if self._observer is not None:
            self._observer.stop()
            self._observer.join(timeout=2)
            self._observer = None
        with self._lock:
            self._changed.clear()
            if self._timer is not None:
                self._timer.cancel()
                self._timer = None

    def on_any_event(self, event: FileSystemEvent) -> None:
        if event.event_type in ("opened", "closed_no_write") or event.is_directory:
            return
        names = [p for p in (event.src_path, getattr(event, "dest_path", "")) if p]
        zig = {self._relative(str(p)) for p in names if str(p).endswith(self.suffixes)}
        # An event that arrives after its save was already reported (a write's close, read late
        # by a busy observer) changes nothing: it must not ask for a second reload.
        zig = {name for name in zig if (stat := self._stat(name)) is None or stat != self._reported.get(name)}
        if zig:
            with self._lock:
                self._changed |= zig
                self._last = time.perf_counter()
                if self._timer is None:
                    self._arm(self.debounce)

    def _relative(self, path: str) -> str:
        try:
            return Path(path).relative_to(self.folder).as_posix()
        except ValueError:
            return Path(path).name

    def _stat(self, name: str) -> tuple[int, int, int] | None:
        try:
            st = (self.folder / name).stat()
        except OSError:
            return None
        return (st.st_mtime_ns, st.st_size, st.st_ino)

    def _arm(self, delay: float) -> None:
        timer = threading.Timer(delay, self._fire)
        timer.daemon = True
        self._timer = timer
        timer.start()

    def _fire(self) -> None:
        with self._lock:
            self._timer = None
            quiet = time.perf_counter() - self._last
            if not self._changed or self._observer is None:
                return
            if quiet < self.debounce:
                self._arm(self.debounce - quiet)
                return
            names, self._changed = sorted(self._changed), set()
            saved_at = self._last
            self._reported.update({name: self._stat(name) for name in names})
        self.on_due("saved " + ", ".join(names), saved_at)
