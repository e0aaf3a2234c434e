"""Reloader: F5 -> background build -> load and check changed libraries -> swap at a frame boundary.

States: `idle` and `building`. `request()` starts a build, or, while one runs, asks for
another once it finishes (never two builds racing; the newest source wins). The build,
the copies, dlopen and the handshake all happen on a worker thread; `poll()`, called at
the frame boundary, only swaps libraries that are already loaded and checked. A failed
build or a refused library changes nothing: the old systems keep running.
"""

from __future__ import annotations

import itertools
import logging
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from game.hotreload.zigbuild import BuildResult, CompileError, ZigBuild
from game.native import handshake
from game.native.errors import HandshakeError, LoadError
from game.native.library import NativeLibrary, file_digest, remove_stale_copies
from game.native.platform import built_libraries
from game.pipeline import Pipeline
from game.world.schema import ComponentSpec

log = logging.getLogger("sandbox")


@dataclass
class ReloadOutcome:
    build: BuildResult
    ready: list[NativeLibrary] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)
    reason: str = "F5"
    requested_at: float = 0.0
    # Edit-to-running, split up (seconds): copies + dlopen + plugin_entry, handshakes, swaps.
    load_seconds: float = 0.0
    check_seconds: float = 0.0
    swap_seconds: float = 0.0
    total_seconds: float = 0.0


class Reloader:
    """Rebuilds and swaps the systems of the project at `project` into `pipeline`."""

    def __init__(self, project: Path, pipeline: Pipeline, optimize: str = "safe") -> None:
        self.project = project
        self.pipeline = pipeline
        self.builder = ZigBuild(project, optimize)
        self.copies = project / ".hot"
        self.errors: tuple[CompileError, ...] = ()
        self.message = ""
        self.reloads = 0
        self.started_at = 0.0
        self._versions = itertools.count(1)
        self._skipped: dict[str, str] = {}  # demo plugins: file name -> digest, not reloaded again
        self._thread: threading.Thread | None = None
        self._outcome: ReloadOutcome | None = None
        self._again: str | None = None
        self.last_outcome: ReloadOutcome | None = None
        remove_stale_copies(self.copies)

    @property
    def building(self) -> bool:
        return self._thread is not None

    @property
    def elapsed(self) -> float:
        return time.perf_counter() - self.started_at if self.building else 0.0

    def request(self, reason: str = "F5") -> None:
        """Starts a rebuild; during one, queues exactly one more to start when it ends."""
        if self.building:
            if self._again is None:
                log.info("build already running; another starts when it finishes (%s)", reason)
            self._again = reason
            return
        self._start(reason)

    def _start(self, reason: str) -> None:
        log.info("reload started (%s)", reason)
        self.started_at = time.perf_counter()
        digests = self.pipeline.digests()
        specs = dict(self.pipeline.world.store.specs)
        self._thread = threading.Thread(
            target=self._work, args=(reason, self.started_at, digests, specs), name="zig-build", daemon=True
        )
        self._thread.start()

    def _work(self, reason: str, requested_at: float, digests: Mapping[str, str], specs: Mapping[str, ComponentSpec]) -> None:
        build = self.builder.run()
        outcome = ReloadOutcome(build, reason=reason, requested_at=requested_at)
        if build.ok:
            self._prepare(outcome, digests, specs)
        self._outcome = outcome

    def _prepare(self, outcome: ReloadOutcome, digests: Mapping[str, str], specs: Mapping[str, ComponentSpec]) -> None:
        for name, path in built_libraries(self.builder.prefix).items():
            source = f"ecs_systems/{name}.zig"
            try:
                digest = file_digest(path)
            except OSError:
                continue  # removed while we looked
            if digest in (digests.get(path.name), self._skipped.get(path.name)):
                continue
            started = time.perf_counter()
            try:
                lib = NativeLibrary.load(path, self.copies, next(self._versions))
            except LoadError as exc:
                outcome.refused.append(str(exc))
                continue
            finally:
                outcome.load_seconds += time.perf_counter() - started
            if not lib.info.is_game_system:
                self._skipped[path.name] = lib.digest
                lib.close()
                continue
            started = time.perf_counter()
            try:
                handshake.check(lib.info, source, specs)
            except HandshakeError as exc:
                lib.close()
                outcome.refused.append(str(exc))
                continue
            finally:
                outcome.check_seconds += time.perf_counter() - started
            outcome.ready.append(lib)

    def poll(self) -> ReloadOutcome | None:
        """At a frame boundary: swaps in a finished build's libraries; returns its outcome."""
        thread = self._thread
        if thread is None or thread.is_alive():
            return None
        thread.join()
        self._thread = None
        outcome = self._outcome
        assert outcome is not None
        self._outcome = None
        self._apply(outcome)
        self.last_outcome = outcome
        if self._again is not None:
            reason, self._again = self._again, None
            self._start(reason)
        return outcome

    def wait(self, on_wait: Callable[[], None] | None = None, interval: float = 0.05) -> ReloadOutcome | None:
        """Blocks until the current build is swapped in (startup, tests), calling `on_wait` meanwhile."""
        while self.building:
            if on_wait is not None:
                on_wait()
            outcome = self.poll()
            if outcome is not None and self._thread is None:
                return outcome
            time.sleep(interval)
        return None

    def _apply(self, outcome: ReloadOutcome) -> None:
        build = outcome.build
        self.errors = build.errors
        if not build.ok:
            total = outcome.total_seconds = time.perf_counter() - outcome.requested_at
            self.message = build.summary
            log.error("reload failed after %.2f s: %s; the running systems are unchanged", total, build.summary)
            for error in build.errors:
                log.error("  %s\n      %s", error, error.source_line.strip())
            if not build.errors:
                log.error("%s", build.output.strip()[-2000:])
            return
        started = time.perf_counter()
        for lib in outcome.ready:
            self.pipeline.install(lib)
        outcome.swap_seconds = time.perf_counter() - started
        total = outcome.total_seconds = time.perf_counter() - outcome.requested_at
        for reason in outcome.refused:
            log.error("refused: %s; the old code keeps running", reason)
        swapped = ", ".join(f"{lib.info.name} build {lib.info.build_id} (v{lib.version})" for lib in outcome.ready)
        self.reloads += 1
        self.message = (
            f"reloaded {swapped}" if outcome.ready else "no system changed"
        ) + f" in {total * 1000:.0f} ms" + (f"; {len(outcome.refused)} refused" if outcome.refused else "")
        if outcome.refused:
            self.message = f"refused: {outcome.refused[0]}"
        log.info(
            "reload finished in %.2f s (build %.2f s): %s",
            total,
            build.seconds,
            swapped or "no system changed",
        )

    def close(self) -> None:
        """Cancels a running build and unloads anything loaded but not yet swapped in."""
        self._again = None
        if self._thread is not None:
            self.builder.cancel()
            self._thread.join()
            self._thread = None
        if self._outcome is not None:
            for lib in self._outcome.ready:
                lib.close()
            self._outcome = None
