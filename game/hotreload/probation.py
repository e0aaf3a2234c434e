"""Probation: a new build's first frames can be undone as if they never ran.

At a reload the world is checkpointed (ids, every column, the step, the RNG, esper's next
id) and each step's input is recorded. If a new build returns an error status during its
first PROBATION_STEPS steps, the checkpoint is restored, the new build is discarded (the
previous one runs again, or a brand-new system is removed), and the recorded steps are
replayed with the old code. The world then equals what the old code alone would have
produced: same ids, same values, no column the new build added.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from game.native.system import InputState
from game.world import registry
from game.world.schema import ComponentSpec
from game.world.store import ComponentStore
from game.world.world import World

PROBATION_STEPS = 30


@dataclass
class Checkpoint:
    ids: np.ndarray
    columns: dict[str, np.ndarray]
    specs: list[ComponentSpec]
    step: int
    rng_state: dict[str, Any]
    next_id: int

    @classmethod
    def capture(cls, world: World) -> Checkpoint:
        store = world.store
        return cls(
            ids=store.ids.copy(),
            columns={n: store.column(n).copy() for n in store.specs},
            specs=list(store.specs.values()),
            step=world.step,
            rng_state=world.rng.bit_generator.state,
            next_id=registry.next_entity_id(),
        )

    def restore(self, world: World) -> None:
        """Puts `world` (and esper) back exactly as captured."""
        store = ComponentStore(self.specs, capacity=max(len(self.ids), 1024))
        store.append(self.ids, self.columns)
        world.store = store
        world.step = self.step
        world.rng.bit_generator.state = self.rng_state
        registry.reset()
        registry.create_entities_with_ids(self.ids)
        registry.reset_next_id(self.next_id)


@dataclass
class Probation:
    checkpoint: Checkpoint
    names: list[str]
    new_systems: list[str]
    until_step: int
    inputs: list[tuple[float, float, int, bool]] = field(default_factory=list)

    def record(self, inputs: InputState) -> None:
        self.inputs.append((inputs.mouse_x, inputs.mouse_y, inputs.buttons, inputs.in_window))
