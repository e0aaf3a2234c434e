"""Table: one component set's entities as dense numpy columns."""

from __future__ import annotations

import numpy as np
import pytest

from game.world.schema import DType, FieldSpec, component
from game.world.table import Table, column_name

SPECS = (
    component("Position", x=DType.F32, y=DType.F32),
    component("Health", hp=(DType.I32, 1, 100.0)),
    component("Trail", points=(DType.F64, 2, 1.5)),
)


def ids(*indices: int) -> np.ndarray:
    """Ids of generation 1 with these indices."""
    return np.array(indices, dtype=np.uint64) | np.uint64(1 << 32)


def table_of(n: int, capacity: int = 64) -> Table:
    table = Table(3, SPECS, capacity=capacity)
    table.reserve(n)
    table.append(ids(*range(1, n + 1)), {"Position.x": np.arange(n, dtype=np.float32), "Position.y": -1.0})
    return table


def test_columns_are_named_component_dot_field_and_sorted_by_component() -> None:
    table = Table(0, SPECS)
    assert column_name("Position", "x") == "Position.x"
    assert table.label == "{Health, Position, Trail}"
    assert table.key == frozenset({"Position", "Health", "Trail"})
    assert list(table.columns) == ["Health.hp", "Position.x", "Position.y", "Trail.points"]
    assert table.columns["Trail.points"].shape == (table.capacity, 2)
    assert table.columns["Health.hp"].dtype == np.int32
    assert table.count == 0 and len(table.ids()) == 0


def test_a_tag_only_table_has_ids_and_no_columns() -> None:
    table = Table(1, (component("Frozen"),))
    table.append(ids(4, 5), {})
    assert table.columns == {} and table.ids().tolist() == ids(4, 5).tolist()


def test_append_fills_given_values_and_defaults_and_returns_the_rows() -> None:
    table = table_of(3)
    rows = table.append(ids(10, 11), {"Health.hp": [7, 8], "Trail.points": [[1, 2], [3, 4]]})
    assert rows.tolist() == [3, 4]
    assert table.count == 5
    assert table.column("Position.x").tolist() == [0, 1, 2, 0, 0]
    assert table.column("Position.y").tolist() == [-1, -1, -1, 0, 0]  # a scalar fills every new row
    assert table.column("Health.hp").tolist() == [100, 100, 100, 7, 8]
    assert table.column("Trail.points").tolist() == [[1.5, 1.5]] * 3 + [[1, 2], [3, 4]]
    assert table.ids().tolist() == ids(1, 2, 3, 10, 11).tolist()


def test_column_is_a_writable_view_of_the_live_rows() -> None:
    table = table_of(4)
    view = table.column("Health.hp")
    assert len(view) == 4
    view[2] = -5
    assert table.columns["Health.hp"][2] == -5
    with pytest.raises(KeyError):
        table.column("Health.mana")


def test_swap_remove_fills_holes_with_the_last_rows_and_reports_them() -> None:
    table = table_of(10)
    before = {name: table.column(name).copy() for name in table.columns}
    before_ids = table.ids().copy()
    moved, holes = table.swap_remove(np.array([9, 0, 3], dtype=np.int64))
    assert table.count == 7
    # rows 0 and 3 are holes; the survivors among the last three (rows 7 and 8) fill them
    assert holes.tolist() == [0, 3]
    assert moved.tolist() == ids(8, 9).tolist()
    assert table.ids().tolist() == ids(8, 2, 3, 9, 5, 6, 7).tolist()
    assert table.column("Position.x").tolist() == [7, 1, 2, 8, 4, 5, 6]
    # every survivor keeps its own values in every column
    survivors = np.delete(np.arange(10), [9, 0, 3])
    for name, column in before.items():
        by_id = dict(zip(before_ids[survivors].tolist(), column[survivors].tolist(), strict=True))
        assert [by_id[e] for e in table.ids().tolist()] == table.column(name).tolist(), name


def test_swap_remove_of_the_last_rows_moves_nothing() -> None:
    table = table_of(5)
    moved, holes = table.swap_remove(np.array([4, 3], dtype=np.int64))
    assert moved.tolist() == [] and holes.tolist() == []
    assert table.ids().tolist() == ids(1, 2, 3).tolist()
    moved, holes = table.swap_remove(np.zeros(0, dtype=np.int64))
    assert len(moved) == len(holes) == 0 and table.count == 3


def test_swap_remove_of_every_row_empties_the_table() -> None:
    table = table_of(6)
    moved, _ = table.swap_remove(np.arange(6, dtype=np.int64)[::-1].copy())
    assert table.count == 0 and len(moved) == 0


def test_swap_remove_keeps_every_survivor_whatever_the_order_of_the_rows_and_repeats_exactly() -> None:
    rows = np.array([3, 47, 10, 49, 0, 22], dtype=np.int64)
    results = []
    for order in (rows, rows[::-1].copy(), rows, np.sort(rows)):
        table = table_of(50)
        table.swap_remove(order)
        assert table.count == 44
        assert sorted(table.ids().tolist()) == sorted(np.delete(ids(*range(1, 51)), rows).tolist())
        # each survivor's Position.x is still its own (index - 1)
        assert table.column("Position.x").tolist() == [float((e & 0xFFFF_FFFF) - 1) for e in table.ids().tolist()]
        results.append(table.ids().tolist())
    assert results[0] == results[2]  # the same rows in the same order: the same table


def test_reserve_grows_by_doubling_and_keeps_every_value() -> None:
    table = table_of(20, capacity=16)
    assert table.capacity == 32
    expected = {name: table.column(name).copy() for name in table.columns}
    expected_ids = table.ids().copy()
    assert table.reserve(30) is False  # fits already
    assert table.reserve(1000) is True
    assert table.capacity == 1024
    for name, column in expected.items():
        np.testing.assert_array_equal(table.column(name), column, err_msg=name)
    assert table.ids().tolist() == expected_ids.tolist()
    # the room past the live rows holds defaults, ready for append
    assert table.columns["Health.hp"][20:].min() == 100


def test_gather_copies_rows() -> None:
    table = table_of(5)
    got = table.gather(np.array([4, 1], dtype=np.int64))
    assert got["Position.x"].tolist() == [4, 1]
    got["Position.x"][:] = 99
    assert table.column("Position.x").tolist() == [0, 1, 2, 3, 4]


def test_add_field_starts_every_row_at_the_default() -> None:
    table = table_of(4)
    table.add_field("Health", FieldSpec("armor", DType.F32, 1, 2.5))
    assert table.column("Health.armor").tolist() == [2.5] * 4
    assert table.column("Health.hp").tolist() == [100] * 4
    table.append(ids(9), {})
    assert table.column("Health.armor").tolist() == [2.5] * 5


def test_widen_field_f32_to_f64_keeps_values() -> None:
    table = table_of(5)
    table.column("Position.x")[:] = np.float32([0.1, 1e30, -3.5, 7, 1 / 3])
    before = table.column("Position.x").copy()
    table.widen_field("Position", FieldSpec("x", DType.F64, 1, 0.0, 0))
    after = table.column("Position.x")
    assert after.dtype == np.float64
    assert after.tolist() == before.astype(np.float64).tolist()
    table.reserve(500)  # the widened column grows like the rest
    assert table.column("Position.x").tolist() == before.astype(np.float64).tolist()


def test_widen_field_width_1_to_3_and_2_to_3_keeps_values_and_defaults_the_rest() -> None:
    table = table_of(3)
    table.column("Trail.points")[:] = [[1, 2], [3, 4], [5, 6]]
    table.widen_field("Trail", FieldSpec("points", DType.F64, 3, 9.0, 0))
    assert table.column("Trail.points").tolist() == [[1, 2, 9], [3, 4, 9], [5, 6, 9]]
    table.widen_field("Health", FieldSpec("hp", DType.I64, 3, -1.0, 0))
    assert table.column("Health.hp").dtype == np.int64
    assert table.column("Health.hp").tolist() == [[100, -1, -1]] * 3
