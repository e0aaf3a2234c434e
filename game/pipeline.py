"""Pipeline: the live systems in their stated order, and the only place they are swapped.

Order of one simulation step (esper runs processors by descending priority, so a
system's `order` becomes priority `-order`):

    MouseSpawner (Python, order 0) -> attractor (10) -> movement (20) -> bounds (30)
    -> colorize (40) -> any other system by its declared order

Structural changes systems ask for (spawn, despawn, add, remove) are buffered during the
step and applied at its end: first the Python systems' buffer (`Pipeline.commands`), then
each native system's, in pipeline order (see game/world/commands.py). A refused command is
a warning naming the system (log and HUD); the rest apply.

`.render` systems are not processors: the renderer calls each, in order, once per drawn frame.
A system whose `run` fails is switched off (the error kept for the HUD) until a reload
replaces it; the rest of the step goes on. A system still on probation (its first frames
after a reload) raises ProbationFailure instead, so the reloader can roll it back.

Each slot keeps the system's previous build loaded: `flip` swaps back to it at once.
Private plugin state travels with every swap (old build's save_state -> new build's load_state).

Every call into system code is guarded (game/native/guard.py). A fault in `run` ends the
step with SystemFault (the reloader repairs the world and retries the step, see
game/hotreload/recovery.py); a fault anywhere else (render, save_state, load_state,
shutdown) is handled here. Either way the faulting build is set aside: `set_aside` keeps
its digest, no code of it runs again, and the system goes back to its previous build or
is switched off.
"""

from __future__ import annotations

import logging
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

import esper

from game.native.abi import Kind, Status, ffi
from game.native.errors import SystemFault, SystemRunError
from game.native.input import InputState
from game.native.library import NativeLibrary
from game.native.system import NativeSystem
from game.world import commands
from game.world.commands import Commands
from game.world.world import World

log = logging.getLogger("sandbox")


STATE_CAPACITY = 1 << 20


class ProbationFailure(RuntimeError):
    """A freshly reloaded system failed in its first frames; `name` says which."""

    def __init__(self, name: str, message: str) -> None:
        super().__init__(message)
        self.name = name


@dataclass
class SystemSlot:
    """A live system, its last good build, and what the HUD shows about it."""

    system: NativeSystem
    previous: NativeLibrary | None = None
    error: str | None = None
    on_probation: bool = False
    enabled: bool = True
    avg_ms: float = 0.0
    warning: str | None = None
    warning_step: int = -1
    faulted: bool = False
    """The live build faulted and is never called again (not even its shutdown)."""


class Pipeline:
    """Owns every loaded NativeSystem; `step` runs one fixed simulation step."""

    def __init__(self, world: World, inputs: InputState) -> None:
        self.world = world
        self.inputs = inputs
        self.slots: dict[str, SystemSlot] = {}
        self.python_ms: dict[str, float] = {}
        self.commands = Commands()
        """The Python systems' command buffer (applied before the native systems')."""
        self.warning: str | None = None
        self.warning_step = -1
        self.schema_library: NativeLibrary | None = None
        self.last_input = b""
        self.set_aside: dict[str, str] = {}
        """Digests of builds that faulted, with why: never loaded again (a changed source
        makes a different build)."""
        self.set_aside_sources: dict[str, str] = {}
        """The source keys of those builds (game/hotreload/builds.py): not built again at any
        tier until the source changes."""
        self.faults: deque[SystemFault] = deque(maxlen=100)
        """The last faults caught (for the HUD, the log and the tests)."""
        self.torn = False
        """A step began and did not end: the world's columns may be half-written."""
        self.fault_note: str | None = None
        """The last fault, for the HUD (shown for a few seconds of steps)."""
        self.fault_step = -1
        self.fault_where = ""
        """Where the last fault's panic happened (file:line: the line), once it is known."""
        self.on_panic: Callable[[NativeLibrary, SystemFault], None] | None = None
        """Called when a build is set aside for a panic, while its library is still loaded
        (the reloader finds the panic's file:line from it, on a thread of its own)."""
        self.epoch = 0
        """Bumped by every change of the code a step runs (install, flip, remove, set aside,
        switching a system on or off): a replay is exact only within one epoch."""
        self.on_fault: Callable[[SystemFault], None] | None = None
        """Called after a fault outside `run` was dealt with (the app autosaves)."""

    @property
    def renders(self) -> list[SystemSlot]:
        """The render systems that draw, in order: each is on and has not failed."""
        return [s for s in self.slots.values() if s.system.is_render and s.error is None and s.enabled]

    def digests(self) -> dict[str, str]:
        """Library digest of every live system, by library name."""
        found = {s.system.library.source.name: s.system.library.digest for s in self.slots.values()}
        if self.schema_library is not None:
            found[self.schema_library.source.name] = self.schema_library.digest
        return found

    def install(self, library: NativeLibrary, probation: bool = False, upgrade: bool = False) -> None:
        """Makes `library` live. A system of the same name hands over its state, is shut
        down and kept loaded as the previous build (the one before it is closed).

        An `upgrade` is the same source at a higher tier: the build it replaces is closed,
        and the system keeps its previous build (F6 and a rollback go back past both tiers),
        its probation and its on/off switch."""
        info = library.info
        old = self.slots.get(info.name)
        previous = None
        enabled = True
        self.epoch += 1
        if old is not None:
            faulted = old.faulted
            if not faulted:
                faulted = not self._transfer(old.system.library, library)  # raises: the new build's load_state
            retired = self._retire(old.system, faulted=faulted)
            if upgrade:
                previous, probation, enabled = old.previous, old.on_probation, old.enabled
                old.system.library.close()
            else:
                if old.previous is not None:
                    old.previous.close()
                if retired:
                    previous = old.system.library
                else:
                    old.system.library.close()
        system = NativeSystem(library, self.world, self.inputs)
        if info.kind == Kind.SIMULATION:
            esper.add_processor(system, priority=-info.order)
        self.slots[info.name] = SystemSlot(system, previous=previous, on_probation=probation, enabled=enabled)
        self.slots = dict(sorted(self.slots.items(), key=lambda kv: (kv[1].system.is_render, kv[1].system.info.order)))

    def flip(self, name: str, discard_current: bool = False) -> bool:
        """Swaps system `name` back to its previous build (state carried over); False if it has none.
        With `discard_current` the current build is closed instead of becoming the previous one."""
        slot = self.slots.get(name)
        if slot is None or slot.previous is None:
            return False
        current = slot.system.library
        back = slot.previous
        slot.previous = None
        try:
            self.install(back)
        except SystemFault:
            back.close()  # its load_state faulted (set aside); the current build keeps running
            return False
        if discard_current:
            restored = self.slots[name]
            if restored.previous is current:
                restored.previous = None
            current.close()
        return True

    def remove(self, name: str) -> None:
        """Shuts down and unloads system `name` (and its previous build). Raises KeyError if absent."""
        slot = self.slots.pop(name)
        self.epoch += 1
        self._retire(slot.system, faulted=slot.faulted)
        slot.system.library.close()
        if slot.previous is not None:
            slot.previous.close()

    def tune(self, system: str, name: str, value: float) -> float:
        """Sets tunable `name` of `system`'s live build (clamped to its range) from the next
        step on; returns the value. Raises KeyError if it has no such tunable."""
        before = self.world.tunables.changes
        value = self.world.tunables.set(system, name, value)
        if self.world.tunables.changes != before:
            self.epoch += 1  # the code's constants changed: a replay across this is not exact
        return value

    def toggle(self, name: str) -> bool:
        """Switches system `name` off or on; returns whether it is now on."""
        slot = self.slots[name]
        slot.enabled = not slot.enabled
        self.epoch += 1
        return slot.enabled

    def switch_off(self, name: str, why: str) -> None:
        """System `name` stays loaded but never runs (until a reload replaces it)."""
        slot = self.slots[name]
        slot.on_probation = False
        slot.error = slot.error or f"{name}: switched off: {why}; fix it, then F5"
        self.epoch += 1
        log.error("%s", slot.error)

    def mark_faulted(self, fault: SystemFault) -> None:
        """The live build of `fault.name` faulted: set aside, and none of its code runs again
        (a flip away from it skips its save_state and shutdown)."""
        slot = self.slots[fault.name]
        self._record(slot.system.library, fault)
        slot.faulted = True

    def _retire(self, system: NativeSystem, faulted: bool = False) -> bool:
        """Takes `system` out of the step and calls its shutdown (not when its build faulted);
        False when shutdown faulted: that build is set aside."""
        if system in esper._processors:
            esper._processors.remove(system)
            esper._processors_dict.pop(type(system), None)
        if faulted:
            return False
        try:
            system.shutdown()
        except SystemFault as fault:
            self._record(system.library, fault)
            return False
        return True

    def _transfer(self, old: NativeLibrary, new: NativeLibrary) -> bool:
        """State from `old` to `new`. A fault in old's save_state sets old aside (the state is
        dropped): False. One in new's load_state is raised: the swap does not happen."""
        try:
            transfer_state(old, new, self.world.step)
        except SystemFault as fault:
            if fault.entry != "save_state":
                self._record(new, fault)
                raise
            self._record(old, fault)
            log.warning("%s: the new build starts with fresh state", new.info.name)
            return False
        return True

    def _record(self, library: NativeLibrary, fault: SystemFault) -> None:
        """Sets `library`'s build aside: logged, kept in `set_aside` and `faults` (an
        interrupted call is only logged: quitting is not the build's fault)."""
        fault.__traceback__ = fault.__context__ = None  # its frames hold checkpoints: not kept alive
        if fault.interrupted:
            log.warning("%s (quitting)", fault)
            return
        self.faults.append(fault)
        self.set_aside[library.digest] = str(fault)
        if library.key:
            self.set_aside_sources[library.key] = str(fault)
        self.fault_note = f"{fault}; build {library.info.build_id} (v{library.version}) set aside"
        self.fault_step = self.world.step
        self.fault_where = ""
        log.error("FAULT %s; build %d (v%d) set aside", fault, library.info.build_id, library.version)
        if fault.fault.kind == "panic" and self.on_panic is not None:
            self.on_panic(library, fault)

    def set_aside_live(self, fault: SystemFault) -> str:
        """The live build of `fault.name` faulted: it is set aside without running any more of
        its code, and the system goes back to its previous build, or is switched off.
        Returns what became of the system."""
        self.mark_faulted(fault)
        slot = self.slots[fault.name]
        back = slot.previous
        if back is not None and back.digest not in self.set_aside and self.flip(fault.name, discard_current=True):
            outcome = f"back to build {back.info.build_id} (v{back.version})"
        else:
            self._retire(slot.system, faulted=True)
            self.epoch += 1
            if slot.previous is not None:
                slot.previous.close()
            slot.previous = None
            slot.on_probation = False
            slot.error = f"{fault}; switched off: it has no earlier good build (fix it, then F5)"
            outcome = "switched off (no earlier good build)"
        log.error("%s: %s", fault.name, outcome)
        return outcome

    def close(self) -> None:
        """Shuts down and unloads every system, every kept previous build, and the schema library.
        A shutdown that faults is logged; the rest still close."""
        if self.schema_library is not None:
            self.schema_library.close()
            self.schema_library = None
        for slot in self.slots.values():
            self._retire(slot.system, faulted=slot.faulted)
            slot.system.library.close()
            if slot.previous is not None:
                slot.previous.close()
        self.slots.clear()

    def step(self, dt: float, recorded_input: bytes | None = None) -> None:
        """Runs every processor once, in order, then applies their commands; a failing
        native system is switched off (its commands of that step are dropped). The step's
        input is the live one, or `recorded_input` (a replay); `last_input` keeps it."""
        if recorded_input is None:
            self.inputs.begin_step()
        else:
            self.inputs.load(recorded_input)
        self.last_input = self.inputs.snapshot()
        ran: list[NativeSystem] = []
        self.torn = True
        try:
            for processor in list(esper._processors):
                if isinstance(processor, NativeSystem):
                    if self._run_native(processor, dt):
                        ran.append(processor)
                else:
                    start = time.perf_counter()
                    processor.process(dt)
                    self.python_ms[type(processor).__name__] = (time.perf_counter() - start) * 1000.0
        except BaseException:  # a fault, a rollback, or Ctrl+C mid-step: none of its commands apply
            self.inputs.end_step()
            self.commands.take()
            for slot in self.slots.values():
                slot.system.discard_commands()
            raise
        self.apply_commands(ran)
        self.world.step += 1
        self.inputs.end_step()
        self.torn = False

    def apply_commands(self, systems: list[NativeSystem]) -> None:
        """The step's commands: the Python systems' first, then each native system's in order."""
        batch = self.commands.take()
        if batch:
            self._warn(None, commands.apply(self.world, "python", batch))
        for system in systems:
            native = system.take_commands()
            if native is not None:
                self._warn(self.slots.get(system.name), commands.apply(self.world, system.name, native))

    def _warn(self, slot: SystemSlot | None, problems: list[str]) -> None:
        for problem in problems:
            if slot is None or slot.warning != problem:
                log.warning("%s", problem)
            self.warning = problem
            self.warning_step = self.world.step
            if slot is not None:
                slot.warning = problem
                slot.warning_step = self.world.step

    def _run_native(self, system: NativeSystem, dt: float) -> bool:
        slot = self.slots[system.name]
        if slot.error is not None or not slot.enabled:
            return False
        try:
            system.run(dt)
            slot.avg_ms += (system.last_ms - slot.avg_ms) * 0.05
        except SystemRunError as exc:
            if slot.on_probation:
                raise ProbationFailure(system.name, str(exc)) from None
            slot.error = str(exc)
            log.error("%s; the system is off until it is rebuilt (F5)", exc)
            return False
        return True

    def draw(self, target: tuple[int, int, int, int]) -> bool:
        """Runs every render system into `target`, lowest order first (each draws over the
        ones before it); False if none drew. One that fails is switched off, the rest draw."""
        drew = False
        for slot in self.renders:
            try:
                slot.system.run(0.0, target)
                slot.avg_ms += (slot.system.last_ms - slot.avg_ms) * 0.05
            except SystemRunError as exc:
                slot.error = str(exc)
                log.error("%s; it draws nothing until it is rebuilt (F5)", exc)
                continue
            except SystemFault as fault:
                if fault.interrupted:
                    return drew
                self.set_aside_live(fault)  # the world is untouched: a render system's commands are dropped
                if self.on_fault is not None:
                    self.on_fault(fault)
                continue
            self.apply_commands([slot.system])  # between steps: a render system's commands apply at once
            drew = True
        return drew


def transfer_state(old: NativeLibrary, new: NativeLibrary, step: int = 0) -> None:
    """Carries private state from `old` to `new` when both have the hooks; a state the new
    build refuses (or one that does not fit) is dropped with a warning, never a crash.
    Raises SystemFault when either hook faults."""
    if not (old.info.has_state_hooks and new.info.has_state_hooks):
        return
    buf = ffi.new("uint8_t[]", STATE_CAPACITY)
    length = ffi.new("uint64_t *")
    status = old.save_state(buf, STATE_CAPACITY, length, step)
    name = new.info.name
    if status != Status.OK or length[0] > STATE_CAPACITY:
        log.warning("%s: save_state returned %d (%d bytes); state dropped", name, status, length[0])
        return
    status = new.load_state(buf, length[0], old.info.state_version, step)
    if status != Status.OK:
        log.warning(
            "%s: load_state refused %d bytes of state version %d (status %d); the new build starts fresh",
            name,
            length[0],
            old.info.state_version,
            status,
        )
    else:
        log.info(
            "%s: carried %d bytes of state (version %d -> %d)",
            name,
            length[0],
            old.info.state_version,
            new.info.state_version,
        )
