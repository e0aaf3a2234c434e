"""World: the esper registry and the ComponentStore kept in step, plus the seeded RNG."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import numpy as np
import numpy.typing as npt

from game.world import registry
from game.world.schema import COMPONENTS, ComponentSpec
from game.world.store import Array, ComponentStore, Ids


class World:
    """A `width` x `height` world whose randomness all comes from `seed`.

    Resets the current esper world: one `World` lives at a time.
    """

    def __init__(self, width: int, height: int, seed: int, specs: Iterable[ComponentSpec] = COMPONENTS) -> None:
        self.width = width
        self.height = height
        self.seed = seed
        self.rng = np.random.default_rng(seed)
        self.step = 0
        self.store = ComponentStore(specs)
        registry.reset()

    def reset(self) -> None:
        """Empties the world and restarts its RNG and step count (a new scene)."""
        self.store = ComponentStore(self.store.specs.values())
        self.rng = np.random.default_rng(self.seed)
        self.step = 0
        registry.reset()

    @property
    def count(self) -> int:
        return self.store.count

    def spawn(self, n: int, values: Mapping[str, npt.ArrayLike] | None = None) -> Ids:
        """Creates `n` entities (esper and columns together); returns their ids.

        Raises KeyError / ValueError as `ComponentStore.append` does, with esper untouched.
        """
        if n <= 0:
            return np.zeros(0, dtype=np.int64)
        next_id = registry.next_entity_id()
        planned = np.arange(next_id, next_id + n, dtype=np.int64)
        self.store.append(planned, values)  # validates before esper changes
        ids = registry.create_entities(n)
        assert np.array_equal(ids, planned)
        return ids

    def despawn(self, ids: npt.ArrayLike) -> None:
        """Deletes entities. Raises KeyError, changing nothing, if any id is not alive."""
        id_array = np.asarray(ids, dtype=np.int64).reshape(-1)
        for e in id_array.tolist():
            self.store.row_of(e)
        self.store.remove(id_array)
        registry.delete_entities(id_array)

    def get(self, entity: int, name: str) -> Array:
        """A copy of `entity`'s `name` value. Raises KeyError for an unknown entity or name."""
        return self.store.get(entity, name)

    def set(self, entity: int, name: str, value: npt.ArrayLike) -> None:
        """Writes `entity`'s `name` value. Raises KeyError for an unknown entity or name."""
        self.store.set(entity, name, value)

    def components(self, entity: int) -> dict[str, Array]:
        """Every column's value for `entity`. Raises KeyError if it is not alive."""
        return self.store.components(entity)
