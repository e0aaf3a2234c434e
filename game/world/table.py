"""Table: the entities of one component set (an archetype), as dense numpy columns.

One column per field of every component in the set (`"Position.x"`), plus the entity id
of each row. Rows 0..count-1 are live. Removing rows moves the last rows into the holes
(swap-remove: work proportional to what is removed, not to the table), in an order that
depends only on the rows removed, so the same commands give the same table.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import numpy.typing as npt

from game.world import memory
from game.world.entities import Ids
from game.world.schema import ComponentSpec, FieldSpec

Rows = npt.NDArray[np.int64]


def column_name(component: str, field: str) -> str:
    return f"{component}.{field}"


class Table:
    """The entities holding exactly `components` (names), `capacity` rows before growing."""

    def __init__(self, tid: int, components: tuple[ComponentSpec, ...], capacity: int = 64) -> None:
        self.id = tid
        self.specs = {c.name: c for c in sorted(components, key=lambda c: c.name)}
        self.key = frozenset(self.specs)
        self.count = 0
        self.capacity = max(capacity, 16)
        self.fields: dict[str, FieldSpec] = {
            column_name(c.name, f.name): f for c in self.specs.values() for f in c.fields
        }
        self.columns = {name: f.allocate(self.capacity) for name, f in self.fields.items()}
        self.entities: Ids = memory.column((self.capacity,), np.uint64)

    @property
    def label(self) -> str:
        return "{" + ", ".join(self.specs) + "}"

    def column(self, name: str) -> np.ndarray:
        """Live rows of column `name` ("Position.x"), a writable view. Raises KeyError."""
        return self.columns[name][: self.count]

    def ids(self) -> Ids:
        return self.entities[: self.count]

    def reserve(self, rows: int) -> bool:
        """Makes room for `rows` rows; True when the arrays were reallocated."""
        if rows <= self.capacity:
            return False
        capacity = self.capacity
        while capacity < rows:
            capacity *= 2
        for name, col in self.columns.items():
            grown = self.fields[name].allocate(capacity)
            grown[: self.count] = col[: self.count]
            self.columns[name] = grown
        ids = memory.column((capacity,), np.uint64)
        ids[: self.count] = self.entities[: self.count]
        self.entities = ids
        self.capacity = capacity
        return True

    def append(self, ids: Ids, values: Mapping[str, npt.ArrayLike]) -> Rows:
        """Rows for `ids` (the caller reserved room); columns not in `values` get defaults.
        Returns the new rows."""
        n = len(ids)
        start = self.count
        rows = slice(start, start + n)
        for name, col in self.columns.items():
            value = values.get(name)
            col[rows] = self.fields[name].default if value is None else value
        self.entities[rows] = ids
        self.count += n
        return np.arange(start, start + n, dtype=np.int64)

    def swap_remove(self, rows: Rows) -> tuple[Ids, Rows]:
        """Removes `rows` (unique); the last live rows fill the holes.
        Returns the ids that moved and their new rows."""
        k = len(rows)
        if k == 0:
            return np.zeros(0, dtype=np.uint64), np.zeros(0, dtype=np.int64)
        end = self.count - k
        removed = np.zeros(self.count, dtype=bool)
        removed[rows] = True
        holes = rows[rows < end]  # any fixed pairing is deterministic; no sort needed
        movers = np.flatnonzero(~removed[end:]) + end
        for col in self.columns.values():
            col[holes] = col[movers]
        moved = self.entities[movers].copy()
        self.entities[holes] = moved
        self.count = end
        return moved, holes

    def gather(self, rows: Rows) -> dict[str, np.ndarray]:
        """Copies of every column at `rows`."""
        return {name: col[rows] for name, col in self.columns.items()}

    def add_field(self, component: str, field: FieldSpec) -> None:
        """A new column for `component.field`, every row at the field's default."""
        name = column_name(component, field.name)
        self.fields[name] = field
        self.columns[name] = field.allocate(self.capacity)

    def widen_field(self, component: str, field: FieldSpec) -> None:
        """Replaces a column by a wider one, values kept, new elements at the default."""
        name = column_name(component, field.name)
        old = self.fields[name]
        grown = field.allocate(self.capacity)
        values = self.columns[name][: self.count].astype(field.dtype.numpy)
        if field.width == 1 and old.width == 1:
            grown[: self.count] = values
        else:
            grown[: self.count, : old.width] = values.reshape(self.count, old.width)
        self.fields[name] = field
        self.columns[name] = grown

    def respec(self, spec: ComponentSpec) -> None:
        self.specs[spec.name] = spec
