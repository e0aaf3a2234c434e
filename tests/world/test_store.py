from __future__ import annotations

import numpy as np
import pytest

from game.world.schema import ComponentSpec, DType
from game.world.store import ComponentStore

SPECS = (
    ComponentSpec("x", DType.F32),
    ComponentSpec("tag", DType.U32, default=7),
    ComponentSpec("v2", DType.F64, width=2),
)


def ids(*values: int) -> np.ndarray:
    return np.array(values, dtype=np.int64)


def test_append_fills_given_values_and_defaults() -> None:
    store = ComponentStore(SPECS)
    store.append(ids(1, 2, 3), {"x": [1.0, 2.0, 3.0]})
    assert store.count == 3
    assert store.column("x").tolist() == [1.0, 2.0, 3.0]
    assert store.column("tag").tolist() == [7, 7, 7]
    assert store.column("v2").shape == (3, 2)
    assert store.ids.tolist() == [1, 2, 3]


def test_get_and_set_by_entity_id() -> None:
    store = ComponentStore(SPECS)
    store.append(ids(10, 20), {"x": [1.5, 2.5]})
    store.set(20, "x", 9.0)
    store.set(10, "v2", [1.0, 2.0])
    assert float(store.get(20, "x")) == 9.0
    assert store.get(10, "v2").tolist() == [1.0, 2.0]
    assert float(store.components(10)["x"]) == 1.5
    with pytest.raises(KeyError, match="entity 30"):
        store.get(30, "x")
    with pytest.raises(KeyError):
        store.get(10, "nope")


def test_remove_keeps_rows_dense_in_order_and_maps_updated() -> None:
    store = ComponentStore(SPECS)
    store.append(ids(1, 2, 3, 4, 5), {"x": [1, 2, 3, 4, 5]})
    store.remove(ids(2, 4))
    assert store.count == 3
    assert store.ids.tolist() == [1, 3, 5]
    assert store.column("x").tolist() == [1, 3, 5]
    assert [store.row_of(e) for e in (1, 3, 5)] == [0, 1, 2]
    assert 2 not in store and 4 not in store
    with pytest.raises(KeyError):
        store.remove(ids(2))


def test_growth_keeps_data_and_bumps_layout_version() -> None:
    store = ComponentStore(SPECS, capacity=16)
    store.append(ids(*range(1, 11)), {"x": np.arange(10, dtype=np.float32)})
    version = store.layout_version
    store.append(np.arange(11, 5011, dtype=np.int64))
    assert store.layout_version > version
    assert store.capacity >= 5010
    assert store.column("x")[:10].tolist() == list(range(10))
    assert store.row_of(5010) == 5009


def test_bad_append_changes_nothing() -> None:
    store = ComponentStore(SPECS)
    store.append(ids(1))
    with pytest.raises(ValueError, match="new and positive"):
        store.append(ids(1))
    with pytest.raises(ValueError, match="2 values for 3"):
        store.append(ids(5, 6, 7), {"x": [1, 2]})
    with pytest.raises(KeyError, match="unknown"):
        store.append(ids(8), {"y": [1]})
    assert store.count == 1 and store.ids.tolist() == [1]


def test_add_column_starts_at_default() -> None:
    store = ComponentStore(SPECS)
    store.append(ids(1, 2))
    store.add_column(ComponentSpec("mass", DType.F32, default=2.0))
    assert store.column("mass").tolist() == [2.0, 2.0]
    with pytest.raises(ValueError):
        store.add_column(ComponentSpec("mass", DType.F32))
