"""ComponentStore: entity data as dense numpy structure-of-arrays columns.

Rows 0..count-1 of every column belong to live entities; `ids[row]` is the entity id of a
row and `row_of(entity)` the way back. Spawning appends rows; despawning compacts the
survivors in order, so the columns stay dense and deterministic. Columns grow by doubling;
`layout_version` changes whenever an array is reallocated, so native systems know when to
refresh the pointers they were handed.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import numpy as np
import numpy.typing as npt

from game.world.schema import COMPONENTS, ComponentSpec

Array = npt.NDArray[np.generic]
Ids = npt.NDArray[np.int64]


class ComponentStore:
    """Columns for `specs`, sized for `capacity` rows before the first growth."""

    def __init__(self, specs: Iterable[ComponentSpec] = COMPONENTS, capacity: int = 1024) -> None:
        self.specs: dict[str, ComponentSpec] = {s.name: s for s in specs}
        self.count = 0
        self.layout_version = 0
        self._capacity = max(capacity, 16)
        self._columns: dict[str, Array] = {n: self._allocate(s, self._capacity) for n, s in self.specs.items()}
        self._ids: Ids = np.zeros(self._capacity, dtype=np.int64)
        self._row_of: Ids = np.full(1024, -1, dtype=np.int64)

    @staticmethod
    def _allocate(spec: ComponentSpec, rows: int) -> Array:
        shape = (rows,) if spec.width == 1 else (rows, spec.width)
        return np.full(shape, spec.default, dtype=spec.dtype.numpy)

    @property
    def capacity(self) -> int:
        return self._capacity

    @property
    def ids(self) -> Ids:
        """Entity id of each live row (a view; do not write)."""
        return self._ids[: self.count]

    def column(self, name: str) -> Array:
        """Live rows of column `name` (a writable view). Raises KeyError for an unknown name."""
        return self._columns[name][: self.count]

    def full_column(self, name: str) -> Array:
        """The whole allocated array behind `name`, for handing its address to native code."""
        return self._columns[name]

    def __contains__(self, entity: int) -> bool:
        return 0 <= entity < len(self._row_of) and self._row_of[entity] >= 0

    def row_of(self, entity: int) -> int:
        """Row of `entity`. Raises KeyError if the store does not hold it."""
        if entity not in self:
            raise KeyError(f"entity {entity} is not in the world")
        return int(self._row_of[entity])

    def get(self, entity: int, name: str) -> Array:
        """A copy of one entity's value in column `name`. Raises KeyError (entity or name)."""
        return np.array(self._columns[name][self.row_of(entity)])

    def set(self, entity: int, name: str, value: npt.ArrayLike) -> None:
        """Writes one entity's value in column `name`. Raises KeyError (entity or name)."""
        self._columns[name][self.row_of(entity)] = value

    def components(self, entity: int) -> dict[str, Array]:
        """Copies of every column's value for `entity`. Raises KeyError if it is absent."""
        row = self.row_of(entity)
        return {n: np.array(c[row]) for n, c in self._columns.items()}

    def append(self, ids: Ids, values: Mapping[str, npt.ArrayLike] | None = None) -> None:
        """Adds rows for new entity `ids`; columns not in `values` get their default.

        Raises KeyError for an unknown column and ValueError for an id already present or
        a value array of the wrong length; nothing is changed then.
        """
        values = values or {}
        unknown = set(values) - set(self.specs)
        if unknown:
            raise KeyError(f"unknown columns: {sorted(unknown)}")
        n = len(ids)
        if n and (ids.min() < 1 or np.any(self._row_of[ids[ids < len(self._row_of)]] >= 0)):
            raise ValueError("entity ids must be new and positive")
        arrays = {k: np.asarray(v) for k, v in values.items()}
        for k, v in arrays.items():
            if v.ndim > 0 and len(v) != n:
                raise ValueError(f"{k}: {len(v)} values for {n} entities")
        self._reserve(self.count + n)
        self._map_ids(int(ids.max()) if n else 0)
        rows = slice(self.count, self.count + n)
        for name, col in self._columns.items():
            col[rows] = arrays[name] if name in arrays else self.specs[name].default
        self._ids[rows] = ids
        self._row_of[ids] = np.arange(self.count, self.count + n)
        self.count += n

    def remove(self, ids: Ids) -> None:
        """Removes `ids`, keeping the survivors dense and in order. Raises KeyError if one is absent."""
        for e in ids.tolist():
            self.row_of(e)
        keep = np.ones(self.count, dtype=bool)
        keep[self._row_of[ids]] = False
        survivors = int(keep.sum())
        for col in self._columns.values():
            col[:survivors] = col[: self.count][keep]
        kept_ids = self._ids[: self.count][keep]
        self._ids[:survivors] = kept_ids
        self._row_of[ids] = -1
        self._row_of[kept_ids] = np.arange(survivors)
        self.count = survivors

    def clear(self) -> None:
        self._row_of[self.ids] = -1
        self.count = 0

    def add_column(self, spec: ComponentSpec) -> None:
        """Adds a column filled with `spec.default`. Raises ValueError if the name exists."""
        if spec.name in self.specs:
            raise ValueError(f"column {spec.name} already exists")
        self.specs[spec.name] = spec
        self._columns[spec.name] = self._allocate(spec, self._capacity)
        self.layout_version += 1

    def widen_column(self, spec: ComponentSpec) -> None:
        """Replaces column `spec.name` by a wider one, values kept, new elements at the default.

        Raises KeyError for an unknown column and ValueError if `spec` would lose data.
        """
        old = self.specs[spec.name]
        if spec.width < old.width or not np.can_cast(old.dtype.numpy, spec.dtype.numpy, "safe"):
            raise ValueError(f"{spec.name}: {old.describe()} -> {spec.describe()} would lose data")
        grown = self._allocate(spec, self._capacity)
        values = self._columns[spec.name][: self.count].astype(spec.dtype.numpy)
        if spec.width == 1:
            grown[: self.count] = values
        else:
            grown[: self.count, : old.width] = values.reshape(self.count, old.width)
        self._columns[spec.name] = grown
        self.specs[spec.name] = spec
        self.layout_version += 1

    def _reserve(self, rows: int) -> None:
        if rows <= self._capacity:
            return
        capacity = self._capacity
        while capacity < rows:
            capacity *= 2
        for name, col in self._columns.items():
            grown = self._allocate(self.specs[name], capacity)
            grown[: self.count] = col[: self.count]
            self._columns[name] = grown
        ids = np.zeros(capacity, dtype=np.int64)
        ids[: self.count] = self._ids[: self.count]
        self._ids = ids
        self._capacity = capacity
        self.layout_version += 1

    def _map_ids(self, max_id: int) -> None:
        if max_id < len(self._row_of):
            return
        size = len(self._row_of)
        while size <= max_id:
            size *= 2
        grown = np.full(size, -1, dtype=np.int64)
        grown[: len(self._row_of)] = self._row_of
        self._row_of = grown
