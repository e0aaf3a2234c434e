"""Entity ids with generations, and where each live entity is (table, row).

An id is `index | generation << 32` (the same as `sdk.Entity`); 0 is no entity. A
despawned entity's index goes to the back of a free list and comes back with the next
generation, so an old id never names a new entity: `alive` tells a stale reference from a
live one. Free indices are reused first-in first-out, in the order they were freed, so
the same commands always hand out the same ids.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

Ids = npt.NDArray[np.uint64]
INDEX_MASK = np.uint64(0xFFFF_FFFF)
MAX_INDEX = 0xFFFF_FFFF


def describe(entity: int) -> str:
    """`7v2`: index 7, generation 2 (how ids are written in messages)."""
    return f"{entity & MAX_INDEX}v{entity >> 32}"


class EntityIndex:
    """Generation, table and row of every index ever handed out."""

    def __init__(self, capacity: int = 1024) -> None:
        self.generation = np.zeros(capacity, dtype=np.uint32)
        self.table = np.full(capacity, -1, dtype=np.int32)
        self.row = np.zeros(capacity, dtype=np.int64)
        self.next_index = 1  # index 0 is never used: id 0 is "no entity"
        self._free = np.zeros(0, dtype=np.uint32)
        self._free_head = 0
        self._scratch = np.zeros(0, dtype=np.int64)

    @property
    def free(self) -> npt.NDArray[np.uint32]:
        """Indices waiting to be reused, oldest first."""
        return self._free[self._free_head :]

    def allocate(self, n: int) -> Ids:
        """`n` fresh ids (reused indices first); not placed in any table yet.

        Raises OverflowError when the 32-bit index space would run out.
        """
        reuse = self.free[:n]
        self._free_head += len(reuse)
        fresh = n - len(reuse)
        if self.next_index + fresh > MAX_INDEX:
            raise OverflowError(f"cannot create {n} entities: the 32-bit entity index space is used up")
        new = np.arange(self.next_index, self.next_index + fresh, dtype=np.uint32)
        self.next_index += fresh
        self._reserve(self.next_index)
        index = np.concatenate([reuse, new])
        self.generation[index] += 1
        if self._free_head > 4096 and self._free_head * 2 > len(self._free):
            self._free = self._free[self._free_head :].copy()
            self._free_head = 0
        ids: Ids = index.astype(np.uint64) | (self.generation[index].astype(np.uint64) << np.uint64(32))
        return ids

    def release(self, ids: Ids) -> None:
        """Marks live `ids` dead; their indices join the free list in this order."""
        index = (ids & INDEX_MASK).astype(np.uint32)
        self.table[index] = -1
        self._free = np.concatenate([self._free, index])

    def alive(self, ids: npt.ArrayLike) -> npt.NDArray[np.bool_]:
        """Which of `ids` are live entities (stale generations and unknown ids are not)."""
        ids = np.asarray(ids, dtype=np.uint64).reshape(-1)
        index = (ids & INDEX_MASK).astype(np.int64)
        gen = (ids >> np.uint64(32)).astype(np.int64)
        ok = (index > 0) & (index < self.next_index)
        safe = np.where(ok, index, 0)
        result: npt.NDArray[np.bool_] = ok & (self.generation[safe] == gen) & (self.table[safe] >= 0)
        return result

    def first_occurrence(self, ids: Ids) -> npt.NDArray[np.bool_]:
        """True where an id of live `ids` is named for the first time. O(n) when nothing repeats
        (a scratch array marks each index), a sort only when something does."""
        index = (ids & INDEX_MASK).astype(np.int64)
        order = np.arange(len(ids), dtype=np.int64)
        if len(self._scratch) < len(self.generation):
            self._scratch = np.zeros(len(self.generation), dtype=np.int64)
        self._scratch[index] = order
        if np.array_equal(self._scratch[index], order):
            return np.ones(len(ids), dtype=bool)
        _, first = np.unique(ids, return_index=True)
        mask = np.zeros(len(ids), dtype=bool)
        mask[first] = True
        return mask

    def locate(self, ids: Ids) -> tuple[npt.NDArray[np.int32], npt.NDArray[np.int64]]:
        """(table, row) of live `ids` (the caller checked `alive`)."""
        index = (ids & INDEX_MASK).astype(np.int64)
        return self.table[index], self.row[index]

    def place(self, ids: Ids, table: int, rows: npt.NDArray[np.int64]) -> None:
        index = (ids & INDEX_MASK).astype(np.int64)
        self.table[index] = table
        self.row[index] = rows

    @property
    def live_count(self) -> int:
        return int(np.count_nonzero(self.table[: self.next_index] >= 0))

    def _reserve(self, size: int) -> None:
        if size <= len(self.generation):
            return
        capacity = len(self.generation)
        while capacity < size:
            capacity *= 2
        for name, fill in (("generation", 0), ("table", -1), ("row", 0)):
            old = getattr(self, name)
            grown = np.full(capacity, fill, dtype=old.dtype)
            grown[: len(old)] = old
            setattr(self, name, grown)

    # --- saving and restoring (checkpoints, world files) --------------------------------

    def export(self) -> dict[str, np.ndarray]:
        n = self.next_index
        return {"generation": self.generation[:n].copy(), "free": self.free.copy()}

    @classmethod
    def restore(cls, generation: np.ndarray, free: np.ndarray) -> EntityIndex:
        """An index with these generations and free list; tables and rows are placed after.

        Raises ValueError when the arrays are not a consistent entity index.
        """
        n = len(generation)
        if n < 1 or (len(free) and (int(free.min()) < 1 or int(free.max()) >= n)):
            raise ValueError("entity index: free indices outside the index range")
        index = cls(capacity=max(1024, n))
        index.generation[:n] = generation
        index.next_index = n
        index._free = np.asarray(free, dtype=np.uint32).copy()
        return index
