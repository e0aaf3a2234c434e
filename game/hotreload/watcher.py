"""Watch mode: saving a `.zig` file under `ecs_systems/` asks for a reload, debounced.

watchdog's observer thread only records what changed and when; the frame loop asks
`due()` once a frame and, once the files have been quiet for `debounce` seconds, gets a
reason to pass to `Reloader.request`, the same path F5 takes. Editors that save in several
steps (write a temp file, rename) produce one reload, not three.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path

from watchdog.events import FileSystemEvent, FileSystemEventHandler
from watchdog.observers import Observer


class SourceWatcher(FileSystemEventHandler):
    """Watches `folder` (not recursively) for created, changed, moved or deleted `.zig` files."""

    def __init__(self, folder: Path, debounce: float = 0.15) -> None:
        self.folder = folder
        self.debounce = debounce
        self._lock = threading.Lock()
        self._changed: set[str] = set()
        self._last = 0.0
        self._observer: Observer | None = None  # type: ignore[valid-type]

    @property
    def running(self) -> bool:
        return self._observer is not None

    def start(self) -> None:
        if self._observer is None:
            observer = Observer()
            observer.schedule(self, str(self.folder), recursive=False)
            observer.start()
            self._observer = observer

    def stop(self) -> None:
        if self._observer is not None:
            self._observer.stop()
            self._observer.join(timeout=2)
            self._observer = None
        with self._lock:
            self._changed.clear()

    def on_any_event(self, event: FileSystemEvent) -> None:
        if event.event_type in ("opened", "closed_no_write") or event.is_directory:
            return
        names = [p for p in (event.src_path, getattr(event, "dest_path", "")) if p]
        zig = {Path(str(p)).name for p in names if str(p).endswith(".zig")}
        if zig:
            with self._lock:
                self._changed |= zig
                self._last = time.monotonic()

    def due(self, now: float | None = None) -> str | None:
        """A reload reason once changes have been quiet for `debounce` seconds, else None."""
        now = time.monotonic() if now is None else now
        with self._lock:
            if not self._changed or now - self._last < self.debounce:
                return None
            names, self._changed = sorted(self._changed), set()
        return "saved " + ", ".join(names)
