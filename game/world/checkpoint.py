"""Checkpoint: the whole world in memory (ids, columns, step, RNG, esper's next id), and back.

Used by probation (undo a failing reload) and by the rewind history.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from game.world import registry
from game.world.schema import ComponentSpec
from game.world.store import ComponentStore
from game.world.world import World


@dataclass
class Checkpoint:
    ids: np.ndarray
    columns: dict[str, np.ndarray]
    specs: list[ComponentSpec]
    step: int
    rng_state: dict[str, Any]
    next_id: int

    @classmethod
    def capture(cls, world: World, reuse: Checkpoint | None = None) -> Checkpoint:
        """A copy of `world`. Given `reuse` (a checkpoint no longer needed) of the same shape,
        its arrays are overwritten instead of allocated: at 1M entities fresh memory made a
        capture take 20-36 ms (page faults), reused memory about 2 ms."""
        store = world.store
        if reuse is not None and reuse._fits(world):
            np.copyto(reuse.ids, store.ids)
            for name, column in reuse.columns.items():
                np.copyto(column, store.column(name))
            reuse.step = world.step
            reuse.rng_state = dict(world.rng.bit_generator.state)
            reuse.next_id = registry.next_entity_id()
            return reuse
        return cls(
            ids=store.ids.copy(),
            columns={n: store.column(n).copy() for n in store.specs},
            specs=list(store.specs.values()),
            step=world.step,
            rng_state=dict(world.rng.bit_generator.state),
            next_id=registry.next_entity_id(),
        )

    def _fits(self, world: World) -> bool:
        store = world.store
        return (
            self.ids.shape == (store.count,)
            and self.columns.keys() == store.specs.keys()
            and all(
                c.shape == store.column(n).shape and c.dtype == store.column(n).dtype for n, c in self.columns.items()
            )
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

    @property
    def nbytes(self) -> int:
        return int(self.ids.nbytes + sum(c.nbytes for c in self.columns.values()))
