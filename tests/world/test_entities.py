"""EntityIndex: ids with generations, the FIFO free list, export and restore."""

from __future__ import annotations

import numpy as np
import pytest

from game.world.entities import INDEX_MASK, EntityIndex, describe


def live(index: EntityIndex, n: int, table: int = 0) -> np.ndarray:
    """`n` new ids placed in `table` (rows 0..n-1): live entities."""
    ids = index.allocate(n)
    index.place(ids, table, np.arange(n, dtype=np.int64))
    return ids


def names(ids: np.ndarray) -> list[str]:
    return [describe(int(e)) for e in ids]


def test_ids_pack_index_and_generation() -> None:
    assert describe(7 | 1 << 32) == "7v1"
    assert describe(3 | 12 << 32) == "3v12"
    index = EntityIndex()
    ids = index.allocate(3)
    assert ids.dtype == np.uint64
    assert names(ids) == ["1v1", "2v1", "3v1"]  # index 0 is never handed out: id 0 is "no entity"
    assert not index.alive(ids).any()  # allocated, not placed in a table yet
    index.place(ids, 2, np.array([5, 6, 7]))
    assert index.alive(ids).all()
    tables, rows = index.locate(ids)
    assert tables.tolist() == [2, 2, 2] and rows.tolist() == [5, 6, 7]
    assert index.live_count == 3


def test_a_despawned_id_stays_dead_and_its_index_returns_with_the_next_generation() -> None:
    index = EntityIndex()
    ids = live(index, 4)
    old = ids[1:2]
    index.release(old)
    assert index.alive(ids).tolist() == [True, False, True, True]
    assert index.free.tolist() == [2]
    (new,) = index.allocate(1)
    assert describe(int(new)) == "2v2"
    assert int(new) & int(INDEX_MASK) == int(old[0]) & int(INDEX_MASK)
    index.place(np.array([new]), 0, np.array([1]))
    assert index.alive([new]).tolist() == [True]
    assert index.alive(old).tolist() == [False]  # the old id never names the new entity
    index.release(np.array([new]))
    (newer,) = index.allocate(1)
    assert describe(int(newer)) == "2v3"


def test_unknown_and_malformed_ids_are_not_alive() -> None:
    index = EntityIndex()
    live(index, 2)
    assert index.alive([0, 1 << 32 | 99, 1 << 33 | 1, 1 | 1 << 32]).tolist() == [False, False, False, True]
    assert index.alive(np.zeros(0, dtype=np.uint64)).tolist() == []


def test_free_indices_are_reused_first_in_first_out() -> None:
    index = EntityIndex()
    ids = live(index, 6)
    index.release(ids[[4, 1]])
    index.release(ids[[2]])
    assert index.free.tolist() == [5, 2, 3]
    got = index.allocate(2)
    assert names(got) == ["5v2", "2v2"]
    assert index.free.tolist() == [3]
    got = index.allocate(3)  # the rest of the free list, then fresh indices
    assert names(got) == ["3v2", "7v1", "8v1"]
    assert index.free.tolist() == []


def test_the_same_history_hands_out_the_same_ids() -> None:
    def run() -> list[int]:
        index = EntityIndex(capacity=16)
        out: list[int] = []
        for round_ in range(40):
            ids = live(index, 50 + round_)
            out += ids.tolist()
            index.release(ids[:: 3 + round_ % 4])
        return out

    first, second = run(), run()
    assert first == second
    assert len(set(first)) == len(first)  # an id is never handed out twice


def test_growth_keeps_generations_and_places() -> None:
    index = EntityIndex(capacity=4)
    first = live(index, 3, table=1)
    index.release(first[:1])
    many = live(index, 5000, table=2)
    assert len(index.generation) >= 5001
    assert index.alive(first).tolist() == [False, True, True]
    assert names(many[:2]) == ["1v2", "4v1"]
    tables, _ = index.locate(first[1:])
    assert tables.tolist() == [1, 1]
    assert index.live_count == 5002


def test_free_list_compaction_keeps_its_order() -> None:
    index = EntityIndex()
    ids = live(index, 10_000)
    index.release(ids[::-1])  # freed from the back: the free list is 10000, 9999, ...
    got = index.allocate(6000)  # passes the compaction threshold
    assert (got & INDEX_MASK).tolist() == list(range(10_000, 4000, -1))
    assert index.free.tolist() == list(range(4000, 0, -1))
    assert (index.allocate(3) & INDEX_MASK).tolist() == [4000, 3999, 3998]


def test_running_out_of_indices_raises_overflow_and_changes_nothing() -> None:
    index = EntityIndex()
    index.next_index = 0xFFFF_FFFF - 2
    with pytest.raises(OverflowError, match="32-bit entity index space"):
        index.allocate(5)
    assert index.next_index == 0xFFFF_FFFF - 2


def test_export_and_restore_give_the_same_future() -> None:
    index = EntityIndex()
    ids = live(index, 20)
    index.release(ids[[3, 17, 8]])
    exported = index.export()
    assert len(exported["generation"]) == 21  # indices 0..20
    assert exported["generation"][[4, 18, 9]].tolist() == [1, 1, 1]
    assert exported["free"].tolist() == [4, 18, 9]
    copy = EntityIndex.restore(exported["generation"], exported["free"])
    # placing the survivors is the caller's job (state.restore does it from the tables)
    survivors = np.delete(ids, [3, 17, 8])
    copy.place(survivors, 0, np.arange(len(survivors), dtype=np.int64))
    assert copy.alive(ids).tolist() == index.alive(ids).tolist()
    assert names(copy.allocate(5)) == names(index.allocate(5)) == ["4v2", "18v2", "9v2", "21v1", "22v1"]
    # the export is a copy: changing the index later does not change it
    assert exported["free"].tolist() == [4, 18, 9]


@pytest.mark.parametrize(
    "generation, free",
    [
        (np.zeros(0, dtype=np.uint32), np.zeros(0, dtype=np.uint32)),
        (np.ones(5, dtype=np.uint32), np.array([0], dtype=np.uint32)),
        (np.ones(5, dtype=np.uint32), np.array([5], dtype=np.uint32)),
    ],
)
def test_restore_refuses_an_inconsistent_index(generation: np.ndarray, free: np.ndarray) -> None:
    with pytest.raises(ValueError, match="entity index"):
        EntityIndex.restore(generation, free)
