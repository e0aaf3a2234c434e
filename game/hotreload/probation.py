"""Probation: a new build's first frames can be undone as if they never ran.

At a reload the world is checkpointed (every table, the entity index, the resources, the
schema, the step, the RNG) and each step's input is recorded. If a new build returns an error status during its
first PROBATION_STEPS steps, the checkpoint is restored, the new build is discarded (the
previous one runs again, or a brand-new system is removed), and the recorded steps are
replayed with the old code. The world then equals what the old code alone would have
produced: same ids, same values, no column the new build added.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from game.native.library import NativeLibrary
from game.pipeline import Pipeline
from game.world.checkpoint import Checkpoint

PROBATION_STEPS = 30


@dataclass
class Probation:
    checkpoint: Checkpoint
    names: list[str]
    new_systems: list[str]
    until_step: int
    inputs: list[bytes] = field(default_factory=list)
    schema_library: NativeLibrary | None = None
    """The schema library before the reload, when it changed: back in place on a rollback."""

    def record(self, step_input: bytes) -> None:
        self.inputs.append(step_input)

    def end(self, pipeline: Pipeline) -> None:
        """Probation passed: the new builds are ordinary systems from now on."""
        for name in self.names:
            if name in pipeline.slots:
                pipeline.slots[name].on_probation = False
        if self.schema_library is not None:
            self.schema_library.close()
            self.schema_library = None

    def roll_back(self, pipeline: Pipeline, dt: float) -> None:
        """Restores the checkpoint, discards the new builds (a brand-new system is removed,
        the others go back to their previous build), and replays the recorded steps.
        Raises SystemFault when a system faults during the replay (see `replay`)."""
        self.checkpoint.restore(pipeline.world)
        if self.schema_library is not None and pipeline.schema_library is not None:
            pipeline.schema_library.close()
            pipeline.schema_library, self.schema_library = self.schema_library, None
        for name in self.names:
            if name in self.new_systems:
                pipeline.remove(name)
            elif not pipeline.flip(name, discard_current=True):
                pipeline.switch_off(name, "its previous build could not take over (see the log)")
        self.replay(pipeline, dt, restore=False)

    def replay(self, pipeline: Pipeline, dt: float, restore: bool = True) -> None:
        """The recorded steps again from the checkpoint (restored first, unless `restore` is off)."""
        if restore:
            self.checkpoint.restore(pipeline.world)
        for recorded in self.inputs:
            pipeline.step(dt, recorded)
