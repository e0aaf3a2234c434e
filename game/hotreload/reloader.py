"""Reloader: F5 -> background build -> canary -> load and check -> swap at a frame boundary.

States: `idle` and `building`. `request()` starts a build, or, while one runs, asks for
another once it finishes (never two builds racing; the newest source wins). On a worker
thread: the build, then for each library whose bytes changed, the canary (the library
loaded and run for a few frames on a copy of the world, in a separate process), then the
host's own load and handshake. The `components` library (components.zig) goes first: its
schema is compared with the world's by name and a migration planned (a new component,
field or resource; a wider field), or refused when it would lose data; every system is
then checked against the planned schema. `poll()`, at the frame boundary, checkpoints the
world, migrates it and swaps the libraries in. A failed build, a failed canary or a refused library changes
nothing: the old systems keep running. For PROBATION_STEPS steps after a swap, `step()`
undoes the reload if a new build returns an error (see probation.py); F6 (`flip_back`)
returns the last reloaded systems to their previous builds at once.

A system that faults (game/native/guard.py) is handled in `step`: during its probation the
reload is rolled back as for an error status; after it, game/hotreload/recovery.py restores
the last completed step and retries. Either way its build is set aside: `_changed` never
loads a library whose digest faulted until a changed source builds a different one.
"""

from __future__ import annotations

import itertools
import logging
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from game.hotreload.probation import PROBATION_STEPS, Probation
from game.hotreload.recovery import MAX_ROUNDS, Recovery
from game.hotreload.zigbuild import BuildResult, CompileError, ZigBuild
from game.native import handshake
from game.native.abi import Kind
from game.native.canary import CanaryWorker
from game.native.errors import HandshakeError, LoadError, LoadFault, SystemFault
from game.native.library import NativeLibrary, SystemInfo, file_digest, remove_stale_copies
from game.native.platform import built_libraries
from game.pipeline import Pipeline, ProbationFailure
from game.world import state
from game.world.checkpoint import Checkpoint
from game.world.history import History
from game.world.schema import Change, ComponentSpec, MigrationError, plan_migration
from game.world.state import WorldState

SCHEMA_LIBRARY = "components"

log = logging.getLogger("sandbox")


@dataclass
class ReloadOutcome:
    build: BuildResult
    ready: list[NativeLibrary] = field(default_factory=list)
    schema_library: NativeLibrary | None = None
    schema: dict[str, ComponentSpec] | None = None
    changes: list[Change] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)
    reason: str = "F5"
    requested_at: float = 0.0
    stale: bool = False
    sources: frozenset[str] = frozenset()
    # Edit-to-running, split up (seconds).
    canary_seconds: float = 0.0
    load_seconds: float = 0.0
    check_seconds: float = 0.0
    swap_seconds: float = 0.0
    total_seconds: float = 0.0


@dataclass
class _Snapshot:
    """What the worker thread may read: copies taken on the main thread at request time."""

    digests: dict[str, str]
    schema: dict[str, ComponentSpec]
    in_use: set[str]
    live: dict[str, SystemInfo]
    image: WorldState | None


class Reloader:
    """Rebuilds and swaps the systems of the project at `project` into `pipeline`."""

    def __init__(
        self,
        project: Path,
        pipeline: Pipeline,
        optimize: str = "safe",
        canary: bool = True,
        history: History | None = None,
        autosave: Path | None = None,
    ) -> None:
        self.project = project
        self.pipeline = pipeline
        self.history = history if history is not None else History()
        self.recovery = Recovery(pipeline, self.history, autosave)
        self.builder = ZigBuild(project, optimize)
        self.copies = project / ".hot"
        self.canary = CanaryWorker(self.copies) if canary else None
        self.errors: tuple[CompileError, ...] = ()
        self.message = ""
        self.message_at = 0.0
        self.started_at = 0.0
        self.last_outcome: ReloadOutcome | None = None
        self.last_swapped: list[str] = []
        self.probation: Probation | None = None
        self._versions = itertools.count(1)
        self._skipped: dict[str, str] = {}  # demo plugins: file name -> digest, not reloaded again
        self._ignored: set[str] = set()  # libraries with no source, already warned about
        self._thread: threading.Thread | None = None
        self._outcome: ReloadOutcome | None = None
        self._again: str | None = None
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
        world = self.pipeline.world
        snapshot = _Snapshot(
            digests=self.pipeline.digests(),
            schema=dict(world.schema),
            in_use=world.in_use(),
            live={name: slot.system.info for name, slot in self.pipeline.slots.items()},
            image=state.capture(world) if self.canary is not None else None,
        )
        self._thread = threading.Thread(
            target=self._work, args=(reason, self.started_at, snapshot), name="zig-build", daemon=True
        )
        self._thread.start()

    def _work(self, reason: str, requested_at: float, snapshot: _Snapshot) -> None:
        sources = self.sources()
        build = self.builder.run()
        outcome = ReloadOutcome(build, reason=reason, requested_at=requested_at, sources=frozenset(sources))
        if build.ok:
            self._prepare(outcome, snapshot, set(sources))
        if self.sources() != sources:
            outcome.stale = True  # a source was saved while zig read it: build once more
        self._outcome = outcome

    def sources(self) -> dict[str, tuple[int, int]]:
        """Each system source's (mtime, size), by system name."""
        found = {}
        for path in sorted((self.project / "ecs_systems").glob("*.zig")):
            try:
                st = path.stat()
            except OSError:
                continue
            found[path.stem] = (st.st_mtime_ns, st.st_size)
        return found

    def _changed(self, digests: Mapping[str, str], sources: set[str]) -> list[tuple[str, Path, str]]:
        """Libraries in the build's output whose bytes differ from the live ones. Only a
        library with a source in ecs_systems/ counts: anything else in zig-out was not made
        by this project's build (or its source is gone) and is never loaded."""
        changed = []
        for name, path in built_libraries(self.builder.prefix).items():
            if name not in sources:
                if path.name not in self._ignored:
                    self._ignored.add(path.name)
                    log.warning("ignoring %s: no ecs_systems/%s.zig made it", path, name)
                continue
            try:
                digest = file_digest(path)
            except OSError:
                continue  # removed while we looked
            if digest in self.pipeline.set_aside:
                if path.name not in self._ignored:
                    self._ignored.add(path.name)
                    log.warning("%s: this build faulted before and stays set aside; edit the source to retry", name)
                continue
            if digest not in (digests.get(path.name), self._skipped.get(path.name)):
                changed.append((name, path, digest))
        return changed

    def _prepare(self, outcome: ReloadOutcome, snap: _Snapshot, sources: set[str]) -> None:
        changed = self._changed(snap.digests, sources)
        changed.sort(key=lambda c: c[0] != SCHEMA_LIBRARY)  # the schema first: systems are checked against it
        world_file = None
        if changed and self.canary is not None and snap.image is not None:
            world_file = self.canary.world_file(snap.image)
        schema = snap.schema
        for name, path, digest in changed:
            source = f"ecs_systems/{name}.zig"
            if world_file is not None and self.canary is not None:
                started = time.perf_counter()
                failure = self.canary.check(path, world_file, source, schema if schema is not snap.schema else None)
                outcome.canary_seconds += time.perf_counter() - started
                if failure is not None:
                    outcome.refused.append(failure)
                    continue
            started = time.perf_counter()
            try:
                lib = NativeLibrary.load(path, self.copies, next(self._versions))
            except LoadFault as exc:
                self.pipeline.set_aside[digest] = str(exc)
                outcome.refused.append(f"{exc}; build set aside")
                continue
            except LoadError as exc:
                outcome.refused.append(str(exc))
                continue
            finally:
                outcome.load_seconds += time.perf_counter() - started
            if lib.info.kind == Kind.DEMO:
                self._skipped[path.name] = digest
                lib.close()
                continue
            started = time.perf_counter()
            try:
                handshake.check_abi(lib.info, source)
                if lib.info.kind == Kind.SCHEMA:
                    if name != SCHEMA_LIBRARY:
                        raise HandshakeError(f"{source}: only components.zig may describe the schema")
                    outcome.changes = plan_migration(snap.schema, lib.info.components, snap.in_use, source)
                    schema = lib.info.components
                    outcome.schema, outcome.schema_library = schema, lib
                    continue
                declared = {Path(f"ecs_systems/{n}.zig"): info.name for n, info in snap.live.items() if n != name}
                handshake.check_unique(declared | {Path(source): lib.info.name})
                handshake.check_name(lib.info.name, Path(source))
                handshake.check_schema(lib.info, source, schema)
            except (HandshakeError, MigrationError) as exc:
                lib.close()
                outcome.refused.append(str(exc))
                continue
            finally:
                outcome.check_seconds += time.perf_counter() - started
            outcome.ready.append(lib)
        if outcome.schema is not None:
            self._check_kept(outcome, snap)

    def _check_kept(self, outcome: ReloadOutcome, snap: _Snapshot) -> None:
        """A schema change must fit every system that keeps running its current build; if one
        does not, the change is refused, and so is every new build that needed it."""
        assert outcome.schema is not None
        replaced = {lib.info.name for lib in outcome.ready}
        for name, info in snap.live.items():
            if name in replaced:
                continue
            try:
                handshake.check_schema(info, f"ecs_systems/{name}.zig (running)", outcome.schema)
            except HandshakeError as exc:
                refused = outcome.schema_library
                assert refused is not None
                refused.close()
                outcome.refused.append(f"ecs_systems/{SCHEMA_LIBRARY}.zig: change refused: {exc}; fix it, then F5")
                outcome.schema = outcome.schema_library = None
                outcome.changes = []
                keep = []
                for lib in outcome.ready:
                    try:
                        handshake.check_schema(lib.info, f"ecs_systems/{lib.info.name}.zig", snap.schema)
                        keep.append(lib)
                    except HandshakeError as why:
                        lib.close()
                        outcome.refused.append(str(why))
                outcome.ready = keep
                return

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
        self.message_at = time.perf_counter()
        self.last_outcome = outcome
        if outcome.stale and self._again is None:
            log.info("a source changed during the build; building again so the newest source wins")
            self._again = "source saved during the build"
        if self._again is not None:
            reason, self._again = self._again, None
            self._start(reason)
        return outcome

    def wait(self, on_wait: Callable[[], None] | None = None, interval: float = 0.02) -> ReloadOutcome | None:
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
                log.error("  %s\n%s", error, "\n".join("    " + line for line in error.excerpt()))
            if not build.errors:
                log.error("%s", build.output.strip()[-2000:])
            return
        for reason in outcome.refused:
            log.error("refused: %s; the old code keeps running", reason)
        started = time.perf_counter()
        if outcome.ready or outcome.schema_library is not None:
            self._swap(outcome)
        removed = [n for n in list(self.pipeline.slots) if n not in outcome.sources]
        if outcome.changes:
            log.info("components.zig: %s", "; ".join(c.describe() for c in outcome.changes))
        for name in removed:  # its source file was deleted
            self.pipeline.remove(name)
            log.info("%s unloaded: ecs_systems/%s.zig is gone", name, name)
        outcome.swap_seconds = time.perf_counter() - started
        total = outcome.total_seconds = time.perf_counter() - outcome.requested_at
        swapped = ", ".join(f"{lib.info.name} build {lib.info.build_id} (v{lib.version})" for lib in outcome.ready)
        if outcome.refused:
            self.message = f"refused: {outcome.refused[0]}"
        elif outcome.reason == "startup":
            self.message = f"{len(outcome.ready)} systems built and loaded in {total * 1000:.0f} ms"
        elif outcome.ready or removed:
            self.message = ", ".join(
                [
                    f"{lib.info.name} rebuilt in {total * 1000:.0f} ms, build {lib.info.build_id}"
                    for lib in outcome.ready
                ]
                + [f"{name} unloaded" for name in removed]
            )
        else:
            self.message = f"no system changed ({total * 1000:.0f} ms)"

        log.info(
            "reload finished in %.2f s (build %.2f s, canary %.2f s): %s%s",
            total,
            build.seconds,
            outcome.canary_seconds,
            swapped or "no system changed",
            f"; {len(outcome.changes)} schema changes" if outcome.changes else "",
        )

    def _swap(self, outcome: ReloadOutcome) -> None:
        world = self.pipeline.world
        names = [lib.info.name for lib in outcome.ready]
        new = [n for n in names if n not in self.pipeline.slots]
        on_trial = bool(self.pipeline.slots)  # at startup there is nothing to roll back to
        old_schema = self.pipeline.schema_library
        checkpoint = None
        if on_trial:
            self.end_probation()
            checkpoint = Checkpoint.capture(world)
            self.probation = Probation(checkpoint, names, new, world.step + PROBATION_STEPS)
        if outcome.schema is not None and outcome.schema_library is not None:
            world.migrate(outcome.schema)
            self.pipeline.schema_library = outcome.schema_library
            if self.probation is not None:
                self.probation.schema_library = old_schema
            elif old_schema is not None:
                old_schema.close()
        swapped = []
        for lib in outcome.ready:
            try:
                self.pipeline.install(lib, probation=on_trial)
                swapped.append(lib.info.name)
            except SystemFault as fault:  # its load_state faulted: set aside, the old build runs on
                lib.close()
                outcome.refused.append(f"{fault}; build set aside")
        if self.probation is not None:
            self.probation.names = [n for n in self.probation.names if n in swapped]
        self.last_swapped = swapped
        if checkpoint is not None and not outcome.changes:
            self.history.mark(world, self.pipeline.epoch, checkpoint)

    def step(self, dt: float, recorded_input: bytes | None = None) -> int | None:
        """One simulation step (with live input, or `recorded_input`); during probation, a
        failing new build is rolled back. Returns None, or after a rollback the step of the
        checkpoint it went back to: what was recorded of the world after that step (rewind
        history) belongs to the discarded build's timeline."""
        self.recovery.prepare()
        probation = self.probation
        try:
            self.pipeline.step(dt, recorded_input)
        except ProbationFailure as exc:
            assert probation is not None
            probation.record(self.pipeline.last_input)
            self._roll_back(probation, exc)
            return probation.checkpoint.step
        except SystemFault as fault:
            interrupted = fault.interrupted
            if probation is not None and fault.name in probation.names and not interrupted:
                self.recovery.save(probation.checkpoint, list(probation.inputs))  # up to the last completed step
                probation.record(self.pipeline.last_input)
                self.pipeline.mark_faulted(fault)
                self._roll_back(probation, fault)
                return probation.checkpoint.step
            # Another system faulted: the new builds are accepted as they are (an error of theirs
            # from now on switches them off), so the recovery never meets a rollback half-way.
            self.end_probation()
            report = self.recovery.recover(fault, dt, self.pipeline.last_input)
            self.message = f"FAULT {fault}: {report.outcome}"
            self.message_at = time.perf_counter()
            return None
        if probation is None:
            return None
        probation.record(self.pipeline.last_input)
        if self.pipeline.world.step >= probation.until_step:
            self.end_probation()
        return None

    def end_probation(self) -> None:
        if self.probation is not None:
            self.probation.end(self.pipeline)
            self.probation = None

    def _roll_back(self, probation: Probation, failure: ProbationFailure | SystemFault) -> None:
        self.probation = None
        try:
            probation.roll_back(self.pipeline, 1.0 / 60.0)
        except SystemFault as again:  # another build faulted in the replay: it goes too, and again
            for _ in range(MAX_ROUNDS):
                if again.fault.interrupted:
                    break  # quitting: the world is torn, and is restored before it is saved
                self.pipeline.set_aside_live(again)
                try:
                    probation.replay(self.pipeline, 1.0 / 60.0)
                    break
                except SystemFault as next_fault:
                    again = next_fault
        outcomes = []
        for name in probation.names:
            slot = self.pipeline.slots.get(name)
            if slot is None:
                outcomes.append(f"{name} removed")
            elif slot.error is not None:
                outcomes.append(f"{name} switched off")
            else:
                outcomes.append(f"{name} back to build {slot.system.info.build_id}")
        self.message = f"rolled back: {failure} ({', '.join(outcomes)})"
        self.message_at = time.perf_counter()
        log.error(
            "%s in its first frames; rolled back (%s) and replayed %d steps",
            failure,
            ", ".join(outcomes),
            len(probation.inputs),
        )

    def flip_back(self) -> None:
        """F6: the systems of the last reload return to (or again leave) their previous build."""
        flipped = [name for name in self.last_swapped if self.pipeline.flip(name)]
        self.end_probation()
        if flipped:
            self.message = "flipped " + ", ".join(
                f"{n} to build {self.pipeline.slots[n].system.info.build_id} "
                f"(v{self.pipeline.slots[n].system.library.version})"
                for n in flipped
            )
            log.info("%s", self.message)
        else:
            self.message = "nothing to flip back to"

    def close(self) -> None:
        """Cancels a running build, stops the canary, unloads anything loaded but not swapped in."""
        self._again = None
        if self._thread is not None:
            if self.canary is not None:
                self.canary.close()  # first: a build waiting on the canary (a hang in it) returns at once
            self.builder.cancel()
            self._thread.join()
            self._thread = None
        if self._outcome is not None:
            for lib in self._outcome.ready:
                lib.close()
            if self._outcome.schema_library is not None:
                self._outcome.schema_library.close()
            self._outcome = None
        if self.probation is not None and self.probation.schema_library is not None:
            self.probation.schema_library.close()
            self.probation.schema_library = None
        if self.canary is not None:
            self.canary.close()
