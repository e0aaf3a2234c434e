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
from collections import deque
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from game.hotreload import panics
from game.hotreload.builds import TIER_DEBUG, Builds, mode_for
from game.hotreload.compiler import Compiled
from game.hotreload.panics import PanicLocator
from game.hotreload.probation import PROBATION_STEPS, Probation
from game.hotreload.recovery import MAX_ROUNDS, Recovery
from game.hotreload.zigbuild import CompileError
from game.native import handshake
from game.native.abi import Kind
from game.native.canary import CanaryWorker
from game.native.errors import HandshakeError, LoadError, LoadFault, SystemFault
from game.native.library import NativeLibrary, SystemInfo, file_digest, remove_stale_copies
from game.native.platform import library_filename
from game.pipeline import Pipeline, ProbationFailure
from game.world import state
from game.world.history import History
from game.world.schema import Change, ComponentSpec, MigrationError, plan_migration
from game.world.state import WorldState

SCHEMA_LIBRARY = "components"
CANARY_WORLD_AGE = 5.0
ANY_TIER = 0  # the schema library and the demo plugins: their code never runs in a step
TIER1_ENTITIES = 200_000
"""Above this many entities an edit builds tier 2 at once (unless tier 1 is pinned): debug
code is 14x (render) to 90x (bounds) slower; at 1M entities one system in debug took 9-42
ms a step, past the frame (bench/results/tiers.md)."""

log = logging.getLogger("sandbox")


@dataclass
class ReloadOutcome:
    """One tier of one reload: what was built, what passed the gates, what it cost."""

    results: dict[str, Compiled] = field(default_factory=dict)
    tier: int = 1
    ready: list[NativeLibrary] = field(default_factory=list)
    schema_library: NativeLibrary | None = None
    schema: dict[str, ComponentSpec] | None = None
    changes: list[Change] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)
    reason: str = "F5"
    requested_at: float = 0.0
    """When the edit was saved (watch mode) or F5 was pressed (time.perf_counter)."""
    stale: bool = False
    upgrade: bool = False
    """Tier 2 replacing tier 1 of the same source."""
    keys: dict[str, str] = field(default_factory=dict)
    """Each system's source key when the build started."""
    message: str = ""
    """What the HUD said of it."""
    # Edit-to-running, split up (seconds).
    debounce_seconds: float = 0.0
    build_seconds: float = 0.0
    canary_seconds: float = 0.0
    load_seconds: float = 0.0
    check_seconds: float = 0.0
    swap_seconds: float = 0.0
    total_seconds: float = 0.0
    first_step_seconds: float = 0.0
    """From the request to the end of the first step that ran the new code."""

    @property
    def sources(self) -> frozenset[str]:
        """Every system that had a source file when the build started."""
        return frozenset(self.keys)

    @property
    def failed(self) -> dict[str, Compiled]:
        return {n: r for n, r in self.results.items() if not r.ok}


@dataclass
class _Snapshot:
    """What the worker thread may read, published by the frame thread at each frame boundary."""

    digests: dict[str, str]
    schema: dict[str, ComponentSpec]
    in_use: set[str]
    live: dict[str, SystemInfo]
    built: dict[str, tuple[str, int]]
    """Each live system's source key and tier."""
    entities: int = 0
    set_aside: frozenset[str] = frozenset()
    """Source keys whose build faulted: not built again until the source changes."""
    tunables: dict[str, dict[str, list[float]]] = field(default_factory=dict)
    """The tunable values that differ from their defaults: the canary runs a build with them."""


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
        tier: int | None = None,
    ) -> None:
        self.project = project
        self.pipeline = pipeline
        self.history = history if history is not None else History()
        self.recovery = Recovery(pipeline, self.history, autosave)
        self.builds = Builds(project, optimize)
        self.pin = tier
        """None: tier 1 first, then tier 2. 1 or 2: every build at that tier."""
        self.copies = project / ".hot"
        self.canary = CanaryWorker(self.copies) if canary else None
        self.errors: tuple[CompileError, ...] = ()
        self.failures: dict[str, Compiled] = {}
        """Systems whose newest build failed to compile, with why (cleared when one builds)."""
        self.message = ""
        self.message_at = 0.0
        self.started_at = 0.0
        self.outcomes: deque[ReloadOutcome] = deque(maxlen=200)
        """Every tier of every reload applied (newest last), with its timings."""
        self.round: list[ReloadOutcome] = []
        """The outcomes of the newest reload so far: its first tier, then its tier 2."""
        self.last_swapped: list[str] = []
        self.probation: Probation | None = None
        self._versions = itertools.count(1)
        self._attempted: dict[tuple[str, int], str] = {}  # (system, tier) -> key last built
        self._inert: dict[str, str] = {}  # libraries that are not systems (the seed's demo plugins): name -> key
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._done: deque[ReloadOutcome] = deque()
        self._applied = threading.Condition(self._lock)
        self._applied_count = 0
        self._again: tuple[str, float] | None = None
        self._closing = False
        self._first_step: list[ReloadOutcome] = []
        self._world_file: tuple[float, Path] | None = None  # when the canary's copy was written, and where
        self._need_image = False  # the worker waits for a copy of the world (`_capture_on_frame_thread`)
        self._image: WorldState | None = None
        self._snapshot = self._publish()
        self.locator = PanicLocator(project, self.builds.key, self.builds.with_lines, self.builds.kept_sources)
        pipeline.on_panic = self._locate_panic
        remove_stale_copies(self.copies)
        for path in self.builds.remove_stale():
            log.info("removed %s: its system's source is gone", path)

    @property
    def building(self) -> bool:
        return self._thread is not None or bool(self._done)

    @property
    def last_outcome(self) -> ReloadOutcome | None:
        """The outcome applied last (a tier of a reload)."""
        return self.outcomes[-1] if self.outcomes else None

    @property
    def settled(self) -> bool:
        """No build in flight, and every build that went in has run its first step."""
        return not self.building and not self._first_step

    @property
    def elapsed(self) -> float:
        return time.perf_counter() - self.started_at if self.building else 0.0

    def request(self, reason: str = "F5", at: float | None = None) -> None:
        """Starts a rebuild (`at`: when the edit was saved, default now); during one, queues
        exactly one more to start when it ends. Safe to call from any thread."""
        at = time.perf_counter() if at is None else at
        with self._lock:
            if self._closing:
                return
            if self._thread is not None:
                if self._again is None:
                    log.info("build already running; another starts when it finishes (%s)", reason)
                    self._again = (reason, at)
                return
            self._start(reason, at)

    def _start(self, reason: str, at: float) -> None:
        log.info("reload started (%s)", reason)
        if self.canary is not None:
            self.canary.warm()  # no build thread uses it now
        self.started_at = at
        self._thread = threading.Thread(target=self._work, args=(reason, at), name="zig-build", daemon=True)
        self._thread.start()

    def _publish(self) -> _Snapshot:
        """On the frame thread: what the worker needs to know about the running game (no copy
        of the world: the canary reads the newest rewind checkpoint)."""
        world = self.pipeline.world
        slots = self.pipeline.slots
        return _Snapshot(
            digests=self.pipeline.digests(),
            schema=dict(world.schema),
            in_use=world.in_use(),
            live={name: slot.system.info for name, slot in slots.items()},
            built={
                **{name: (key, ANY_TIER) for name, key in dict(self._inert).items()},
                **({SCHEMA_LIBRARY: (schema.key, ANY_TIER)} if (schema := self.pipeline.schema_library) else {}),
                **{name: (s.system.library.key, s.system.library.tier) for name, s in slots.items()},
            },
            entities=world.count,
            set_aside=frozenset(self.pipeline.set_aside_sources),
            tunables=world.tunables.saved(),
        )

    # --- the worker thread ----------------------------------------------------------------

    def _work(self, reason: str, requested_at: float) -> None:
        try:
            self._rounds(reason, requested_at)
        finally:
            with self._lock:
                self._thread = None
                again, self._again = self._again, None
                if again is not None and not self._closing:
                    self._start(*again)

    def _plan(self, reason: str, keys: dict[str, str], snap: _Snapshot) -> tuple[int, int, list[str], list[str]]:
        """The first and the final tier, the systems to build at the first, and the systems
        already live at tier 1 of their current source (to build at the final tier after it)."""
        top = 1 if self.builds.optimize == TIER_DEBUG else 2
        final = min(self.pin or top, top)
        big = snap.entities > TIER1_ENTITIES  # debug code would cost more than a frame: tier 2 at once
        first = final if (reason == "startup" or self.pin is not None or big) else 1
        retry = reason in ("F5", "startup") or reason.startswith("tier")
        todo, upgrade = [], []
        for name, key in keys.items():
            if key in snap.set_aside:
                continue  # the same source faulted: edit it to retry
            built = snap.built.get(name)
            if built in ((key, final), (key, ANY_TIER)):
                continue
            if built is not None and built[0] == key and first != final:
                if retry or self._attempted.get((name, final)) != key:
                    upgrade.append(name)
            elif retry or self._attempted.get((name, first)) != key:
                todo.append(name)
        return first, final, todo, upgrade

    def _rounds(self, reason: str, requested_at: float) -> None:
        """One reload: the changed systems build at the first tier (in parallel), pass the
        gates and go in; meanwhile the same sources build at tier 2, which then replaces
        tier 1 the same way. (Compiling both tiers at once measured slower on two cores:
        tier 1 took 200 ms instead of 125.)"""
        snap = self._snapshot
        keys = self.builds.keys()
        first, top, todo, upgrade = self._plan(reason, keys, snap)
        # A large world's frames are long and memory-bound: its builds get only idle CPU (at
        # 1M entities frames reached 36 ms beside a nice-10 compiler); a small world's leave
        # a core free, and its builds run at nice 10, faster.
        self.builds.idle = snap.entities > TIER1_ENTITIES
        debounce = max(0.0, time.perf_counter() - requested_at) if reason.startswith("saved") else 0.0
        started = time.perf_counter()
        later = [n for n in todo if n != SCHEMA_LIBRARY] + upgrade if first != top else []

        def outcome_for(tier: int, results: dict[str, Compiled], is_upgrade: bool = False) -> ReloadOutcome:
            return ReloadOutcome(
                results=results,
                tier=tier,
                reason=reason,
                requested_at=requested_at,
                keys=keys,
                upgrade=is_upgrade,
                debounce_seconds=debounce,
                build_seconds=time.perf_counter() - started,
            )

        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="zig-tier") as tiers:
            tier1 = tiers.submit(self.builds.build, todo, first)
            world_file = self._canary_world(snap) if (todo or upgrade) and self.canary is not None else None
            outcome = outcome_for(first, tier1.result())
            if reason == "F5":
                why = "this build faulted before and stays set aside; edit the source to retry"
                outcome.refused += [f"{n}: {why}" for n, key in keys.items() if key in snap.set_aside]
            for name in todo:
                self._attempted[(name, first)] = keys[name]
            # Tier 2 compiles while tier 1 goes through the canary and in.
            tier2 = tiers.submit(self.builds.build, later, top) if later else None
            self._prepare(outcome, snap, world_file)
            outcome.stale = self.builds.keys(keys) != keys  # a source saved while zig read it: build again
            self._post(outcome)
            if tier2 is None:
                return
            results = tier2.result()
        if self._again is not None or outcome.stale or self._closing:
            return  # a newer request is on its way: it upgrades what this one did not
        for name in later:
            self._attempted[(name, top)] = keys[name]
        snap = self._snapshot  # published after tier 1 went in
        # A source saved since this round began made its tier-2 build from other code than
        # tier 1's: it is not an upgrade of what runs (the next F5 or save builds it).
        now = self.builds.keys(results)
        live_at_tier1 = {
            n: r for n, r in results.items() if snap.built.get(n) == (keys[n], first) and now[n] == keys[n]
        }
        if live_at_tier1:
            second = outcome_for(top, live_at_tier1, is_upgrade=True)
            self._prepare(second, snap, self._canary_world(snap) if self.canary is not None else None)
            self._post(second)

    def _post(self, outcome: ReloadOutcome) -> None:
        """Hands `outcome` to the frame thread and waits until it has been applied."""
        with self._lock:
            self._done.append(outcome)
            target = self._applied_count + len(self._done)
            while self._applied_count < target and not self._closing:
                self._applied.wait(timeout=0.1)

    def _canary_world(self, snap: _Snapshot) -> Path | None:
        """The canary's copy of the world: the newest rewind checkpoint (taken between steps
        anyway, so nothing is copied on the frame thread), written again when the last one
        is more than CANARY_WORLD_AGE seconds old (a build keeps both cores busy: writing and
        reading 100k entities at every save slowed it by 10-20 ms)."""
        assert self.canary is not None
        if self._world_file is not None and time.monotonic() - self._world_file[0] < CANARY_WORLD_AGE:
            return self._world_file[1]
        checkpoint = self.history.lease_newest()
        try:
            image = checkpoint.state if checkpoint is not None else self._capture_on_frame_thread()
            if image is None:
                return None
            path = self.canary.world_file(image)
            # A copy taken with no rewind history yet (startup: an empty world) is not kept.
            self._world_file = (time.monotonic(), path) if checkpoint is not None else None
            return path
        finally:
            if checkpoint is not None:
                self.history.release(checkpoint)

    def _capture_on_frame_thread(self) -> WorldState | None:
        """A copy of the world when the rewind history has none (startup, or paused right
        after a scene change): the frame thread takes it at its next `poll` (None if closing)."""
        with self._lock:
            self._need_image = True
            while self._image is None and not self._closing:
                self._applied.wait(timeout=0.1)
            image, self._image, self._need_image = self._image, None, False
        return image

    def _locate_panic(self, library: NativeLibrary, fault: SystemFault) -> None:
        """A live build was set aside for a panic: its file:line is found on the locator's
        thread, then logged and shown under the fault on screen."""
        site = panics.keep(library, self.copies, self.builds.optimize)
        if site is None:
            return
        step = self.pipeline.fault_step

        def said(where: str) -> None:
            log.error("%s panicked at %s", fault.name, where)
            if self.pipeline.fault_step == step:  # still the fault on screen
                self.pipeline.fault_where = where

        self.locator.submit(site, said)

    def _canary_panic_site(self, name: str, library: Path, outcome: ReloadOutcome) -> str:
        """`, at file:line ...` when the canary caught a panic (found here, on the build's
        thread: the game is not waiting for it), else ""."""
        offset = self.canary.panic_offset if self.canary is not None else None
        if offset is None:
            return ""
        mode = mode_for(outcome.tier, self.builds.optimize)
        site = panics.Site(library, offset, name, mode, outcome.keys.get(name, ""))
        return f", at {self.locator.describe(site)}"

    def _prepare(self, outcome: ReloadOutcome, snap: _Snapshot, world_file: Path | None) -> None:
        """Each library built ok goes through the canary, the loader and the handshake;
        what passes is `ready` (the components library first: systems are checked against it)."""
        built = sorted(
            ((n, r) for n, r in outcome.results.items() if r.ok and r.library is not None),
            key=lambda nr: nr[0] != SCHEMA_LIBRARY,
        )
        schema = snap.schema
        for name, result in built:
            path = result.library
            assert path is not None
            source = f"ecs_systems/{name}.zig"
            try:
                digest = file_digest(path)
            except OSError as exc:
                outcome.refused.append(f"{source}: the library vanished ({exc})")
                continue
            if digest in self.pipeline.set_aside:
                outcome.refused.append(
                    f"{name}: this build faulted before and stays set aside; edit the source to retry"
                )
                continue
            if digest == snap.digests.get(library_filename(name)) and snap.built.get(name, ("", 0))[1] == outcome.tier:
                continue  # the same bytes are live
            if world_file is not None and self.canary is not None:
                started = time.perf_counter()
                # The schema to check against: the copy of the world may predate a migration.
                failure = self.canary.check(path, world_file, source, schema, snap.tunables)
                outcome.canary_seconds += time.perf_counter() - started
                if failure is not None:
                    outcome.refused.append(failure + self._canary_panic_site(name, path, outcome))
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
            lib.tier, lib.key = outcome.tier, outcome.keys.get(name, "")
            if lib.info.kind == Kind.DEMO:
                self._inert[name] = lib.key  # not a system: not loaded again until its source changes
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
        """At a frame boundary: swaps in what finished building; returns the last outcome
        applied (None when nothing was ready). Publishes the game's state for the next build."""
        applied = None
        if self._need_image:
            with self._lock:
                self._image = state.capture(self.pipeline.world)
                self._applied.notify_all()
        while self._done:
            outcome = self._done[0]
            try:
                self._apply(outcome)
            finally:
                with self._lock:
                    self._done.popleft()
                    self._applied_count += 1
                    self._snapshot = self._publish()
                    self._applied.notify_all()
            self.message_at = time.perf_counter()
            applied = outcome
            self.outcomes.append(outcome)
            if not outcome.upgrade:
                self.round = []
            self.round.append(outcome)
            if outcome.stale:
                log.info("a source changed during the build; building again so the newest source wins")
                self.request("source saved during the build")
        if applied is None and not self.building:
            self._snapshot = self._publish()
        return applied

    def wait(
        self,
        on_wait: Callable[[], None] | None = None,
        interval: float = 0.01,
        stop: Callable[[], bool] | None = None,
    ) -> ReloadOutcome | None:
        """Blocks until every build asked for is swapped in, tier 2 included (startup,
        tests), calling `on_wait` meanwhile, or until `stop()` is true (quitting: the build
        goes on until `close`). Returns the last outcome applied."""
        last = None
        while self.building and not (stop is not None and stop()):
            if on_wait is not None:
                on_wait()
            last = self.poll() or last
            time.sleep(interval)
        return self.poll() or last

    def _apply(self, outcome: ReloadOutcome) -> None:
        failed = outcome.failed
        for name in outcome.results:
            if name in failed:
                self.failures[name] = failed[name]
            else:
                self.failures.pop(name, None)
        for name in list(self.failures):
            if name not in outcome.sources:
                del self.failures[name]  # its file is gone
        self.errors = tuple(e for r in self.failures.values() for e in r.errors)
        for result in failed.values():
            log.error("%s; %s keeps its running code", result.summary, result.name)
            for error in result.errors:
                log.error("  %s\n%s", error, "\n".join("    " + line for line in error.excerpt()))
            if not result.errors:
                log.error("%s", result.output.strip()[-2000:])
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
        if removed:
            for path in self.builds.remove_stale():
                log.info("removed %s", path)
        outcome.swap_seconds = time.perf_counter() - started
        total = outcome.total_seconds = time.perf_counter() - outcome.requested_at
        live = [lib for lib in outcome.ready if lib.info.name in self.pipeline.slots]
        if live and outcome.reason != "startup":
            self._first_step.append(outcome)
        tier = f" (tier {outcome.tier})"
        if failed:
            first = next(iter(failed.values()))
            self.message = first.summary + (f" (+{len(failed) - 1} more systems)" if len(failed) > 1 else "")
        elif outcome.refused:
            self.message = f"refused: {outcome.refused[0]}"
        elif outcome.reason == "startup":
            self.message = f"{len(outcome.ready)} systems built and loaded in {total * 1000:.0f} ms{tier}"
        elif outcome.upgrade and self.round and outcome.ready:
            # Tier 2 of the same edit: what tier 1 said (a refusal, say) stays on screen.
            names = ", ".join(lib.info.name for lib in outcome.ready)
            self.message = f"{self.round[0].message}; {names} at tier 2 ({total * 1000:.0f} ms)"
        elif outcome.ready or removed:
            self.message = ", ".join(
                [
                    f"{lib.info.name} {'at tier 2' if outcome.upgrade else 'rebuilt'} in {total * 1000:.0f} ms, "
                    f"build {lib.info.build_id}{tier}"
                    for lib in outcome.ready
                ]
                + [f"{name} unloaded" for name in removed]
            )
        elif not outcome.upgrade and not outcome.reason.startswith(("saved", "source saved")):
            # (a save whose build an earlier reload already made says nothing: the toast stays)
            self.message = f"no system changed ({total * 1000:.0f} ms)"
        if self.failures and not failed and not (outcome.upgrade and self.round):
            broken = ", ".join(sorted(self.failures))
            self.message += f"; still failing to build: {broken}"
        outcome.message = self.message
        swapped = ", ".join(f"{lib.info.name} build {lib.info.build_id} (v{lib.version})" for lib in outcome.ready)
        log.info(
            "reload finished in %.2f s, tier %d (build %.3f s, canary %.3f s): %s%s",
            total,
            outcome.tier,
            outcome.build_seconds,
            outcome.canary_seconds,
            swapped or "no system changed",
            f"; {len(outcome.changes)} schema changes" if outcome.changes else "",
        )

    def _upgrades_live(self, lib: NativeLibrary) -> bool:
        """True when the system runs the tier-1 build of `lib`'s very sources, unfaulted: what
        a tier-2 build upgrades. It compiled while the game played on: meanwhile that build
        may have faulted (set aside, rolled back), been flipped (F6) or replaced."""
        slot = self.pipeline.slots.get(lib.info.name)
        if slot is None or slot.faulted or lib.key in self.pipeline.set_aside_sources:
            return False
        live = slot.system.library
        return live.key == lib.key and live.tier < lib.tier

    def _swap(self, outcome: ReloadOutcome) -> None:
        if outcome.upgrade:
            ready = []
            for lib in outcome.ready:
                if self._upgrades_live(lib):
                    ready.append(lib)
                    continue
                log.info(
                    "%s: its tier-2 build is not swapped in: the tier-1 build it upgrades no longer runs "
                    "(it faulted, or was rolled back, flipped or replaced while tier 2 compiled)",
                    lib.info.name,
                )
                lib.close()
            outcome.ready = ready
            if not ready:
                return
        world = self.pipeline.world
        names = [lib.info.name for lib in outcome.ready]
        new = [n for n in names if n not in self.pipeline.slots]
        on_trial = bool(self.pipeline.slots) and not outcome.upgrade  # an upgrade stays in tier 1's probation
        old_schema = self.pipeline.schema_library
        checkpoint = None
        if on_trial:
            self.end_probation()
            checkpoint = self.history.mark(world, self.pipeline.epoch)  # reuses the oldest's memory
            checkpoint.shared = True
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
                self.pipeline.install(lib, probation=on_trial, upgrade=outcome.upgrade)  # an upgrade's slot exists
                swapped.append(lib.info.name)
            except SystemFault as fault:  # its load_state faulted: set aside, the old build runs on
                lib.close()
                outcome.refused.append(f"{fault}; build set aside")
        if outcome.upgrade:
            return
        if self.probation is not None:
            self.probation.names = [n for n in self.probation.names if n in swapped]
        self.last_swapped = swapped
        if checkpoint is not None and not outcome.changes:
            checkpoint.epoch = self.pipeline.epoch  # the same world: the start of the new code's run

    def _note_first_step(self) -> None:
        """After a step: the log line for each build that just ran for the first time."""
        now = time.perf_counter()
        for outcome in self._first_step:
            outcome.first_step_seconds = now - outcome.requested_at
            for lib in outcome.ready:
                if lib.closed:
                    continue
                log.info(
                    "%s build %d tier %d (%s) live: %.0f ms from %s to its first step "
                    "(debounce %.0f, build %.0f, canary %.0f, load %.0f, swap %.0f ms)",
                    lib.info.name,
                    lib.info.build_id,
                    lib.tier,
                    mode_for(lib.tier, self.builds.optimize),
                    outcome.first_step_seconds * 1000,
                    "the save" if outcome.reason.startswith("saved") else outcome.reason,
                    outcome.debounce_seconds * 1000,
                    outcome.build_seconds * 1000,
                    outcome.canary_seconds * 1000,
                    outcome.load_seconds * 1000,
                    outcome.swap_seconds * 1000,
                )
        self._first_step.clear()

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
        if self._first_step:
            self._note_first_step()
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
        """Stops a running build (its compilers and the canary are killed) and unloads
        anything built but not swapped in."""
        with self._lock:
            self._closing = True
            self._again = None
            self._applied.notify_all()
            thread = self._thread
        self.locator.close()
        if thread is not None:
            if self.canary is not None:
                self.canary.stop()  # first: a build waiting on the canary (a hang in it) returns at once
            self.builds.close()
            thread.join()
        while self._done:
            outcome = self._done.popleft()
            for lib in outcome.ready:
                lib.close()
            if outcome.schema_library is not None:
                outcome.schema_library.close()
        if self.probation is not None and self.probation.schema_library is not None:
            self.probation.schema_library.close()
            self.probation.schema_library = None
        if self.canary is not None:
            self.canary.close()
        self.builds.close()
