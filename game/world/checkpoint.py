"""Checkpoint: the whole world in memory, and back (probation's undo, the rewind history)."""

from __future__ import annotations

from dataclasses import dataclass

from game.world import state
from game.world.state import WorldState
from game.world.world import World


@dataclass
class Checkpoint:
    state: WorldState
    epoch: int = -1
    """The pipeline's code epoch when it was taken (see History.journal)."""
    shared: bool = False
    """Also held elsewhere (probation): its arrays must not be reused."""
    leased: int = 0
    """Being read by another thread (the canary's copy): its arrays must not be reused."""

    @classmethod
    def capture(cls, world: World, reuse: Checkpoint | None = None) -> Checkpoint:
        """A copy of `world`, reusing the arrays of `reuse` (no longer needed) when they fit."""
        return cls(state.capture(world, reuse.state if reuse is not None else None))

    def restore(self, world: World) -> None:
        """Puts `world` (and esper) back exactly as captured, schema included."""
        state.restore(self.state, world, checked=True)

    @property
    def step(self) -> int:
        return self.state.step

    @property
    def nbytes(self) -> int:
        return self.state.nbytes
