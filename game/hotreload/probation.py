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

from game.native.system import InputState
from game.world.checkpoint import Checkpoint

PROBATION_STEPS = 30


@dataclass
class Probation:
    checkpoint: Checkpoint
    names: list[str]
    new_systems: list[str]
    until_step: int
    inputs: list[tuple[float, float, int, bool]] = field(default_factory=list)

    def record(self, inputs: InputState) -> None:
        self.inputs.append((inputs.mouse_x, inputs.mouse_y, inputs.buttons, inputs.in_window))
