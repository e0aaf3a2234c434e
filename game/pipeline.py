"""Pipeline: the live systems in their stated order, and the only place they are swapped.

Order of one simulation step (esper runs processors by descending priority, so a
system's `order` becomes priority `-order`):

    MouseSpawner (Python, order 0) -> attractor (10) -> movement (20) -> bounds (30)
    -> colorize (40) -> any other system by its declared order

The `.render` system is not a processor: the renderer calls it once per drawn frame.
A system whose `run` fails is switched off (the error kept for the HUD) until a reload
replaces it; the rest of the step goes on.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field

import esper

from game.native.abi import Kind
from game.native.errors import SystemRunError
from game.native.library import NativeLibrary
from game.native.system import InputState, NativeSystem
from game.world.world import World

log = logging.getLogger("sandbox")


@dataclass
class SystemSlot:
    """A live system plus what the HUD shows about it."""

    system: NativeSystem
    error: str | None = None
    loaded_at_step: int = 0
    history: list[int] = field(default_factory=list)


class Pipeline:
    """Owns every loaded NativeSystem; `step` runs one fixed simulation step."""

    def __init__(self, world: World, inputs: InputState) -> None:
        self.world = world
        self.inputs = inputs
        self.slots: dict[str, SystemSlot] = {}
        self.python_ms: dict[str, float] = {}

    @property
    def render(self) -> SystemSlot | None:
        return next((s for s in self.slots.values() if s.system.is_render), None)

    def digests(self) -> dict[str, str]:
        """Library digest of every live system, by library name."""
        return {s.system.library.source.name: s.system.library.digest for s in self.slots.values()}

    def install(self, library: NativeLibrary) -> None:
        """Makes `library` live, replacing (shutdown, dlclose) a system of the same name."""
        info = library.info
        system = NativeSystem(library, self.world, self.inputs)
        old = self.slots.get(info.name)
        if old is not None:
            self._retire(old)
        if info.kind == Kind.SIMULATION:
            esper.add_processor(system, priority=-info.order)
        self.slots[info.name] = SystemSlot(system, loaded_at_step=self.world.step)
        self.slots = dict(sorted(self.slots.items(), key=lambda kv: (kv[1].system.is_render, kv[1].system.info.order)))

    def _retire(self, slot: SystemSlot) -> None:
        system = slot.system
        if system in esper._processors:
            esper._processors.remove(system)
            esper._processors_dict.pop(type(system), None)
        try:
            system.shutdown()
        finally:
            system.library.close()

    def close(self) -> None:
        """Shuts down and unloads every system."""
        for slot in self.slots.values():
            self._retire(slot)
        self.slots.clear()

    def step(self, dt: float) -> None:
        """Runs every processor once, in order; a failing native system is switched off."""
        esper.clear_dead_entities()
        for processor in list(esper._processors):
            if isinstance(processor, NativeSystem):
                self._run_native(processor, dt)
            else:
                start = time.perf_counter()
                processor.process(dt)
                self.python_ms[type(processor).__name__] = (time.perf_counter() - start) * 1000.0
        self.world.step += 1

    def _run_native(self, system: NativeSystem, dt: float) -> None:
        slot = self.slots[system.name]
        if slot.error is not None:
            return
        try:
            system.run(dt)
        except SystemRunError as exc:
            slot.error = str(exc)
            log.error("%s; the system is off until it is rebuilt (F5)", exc)

    def draw(self, target: tuple[int, int, int, int]) -> bool:
        """Runs the render system into `target`; False if there is none or it failed."""
        slot = self.render
        if slot is None or slot.error is not None:
            return False
        try:
            slot.system.run(0.0, target)
        except SystemRunError as exc:
            slot.error = str(exc)
            log.error("%s; drawing is off until it is rebuilt (F5)", exc)
            return False
        return True
