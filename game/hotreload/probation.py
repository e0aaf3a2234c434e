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
from game.pipeline import Pipeline
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

    def end(self, pipeline: Pipeline) -> None:
        """Probation passed: the new builds are ordinary systems from now on."""
        for name in self.names:
            if name in pipeline.slots:
                pipeline.slots[name].on_probation = False

    def roll_back(self, pipeline: Pipeline, dt: float) -> None:
        """Restores the checkpoint, discards the new builds (a brand-new system is removed,
        the others go back to their previous build), and replays the recorded steps."""
        self.checkpoint.restore(pipeline.world)
        for name in self.names:
            if name in self.new_systems:
                pipeline.remove(name)
            else:
                pipeline.flip(name, discard_current=True)
        inputs = pipeline.inputs
        live = (inputs.mouse_x, inputs.mouse_y, inputs.buttons, inputs.in_window)
        for x, y, buttons, in_window in self.inputs:
            inputs.update(mouse_x=x, mouse_y=y, buttons=buttons, in_window=in_window)
            pipeline.step(dt)
        inputs.update(mouse_x=live[0], mouse_y=live[1], buttons=live[2], in_window=live[3])
