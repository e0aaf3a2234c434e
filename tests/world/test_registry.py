"""The bulk esper path must leave esper exactly as its own functions would."""

from __future__ import annotations

import esper
import numpy as np
import pytest

from game.world import registry
from game.world.registry import Body
from game.world.world import World


def test_bulk_create_is_visible_through_esper_public_api() -> None:
    first = esper.create_entity()  # an entity made the ordinary way, before
    ids = registry.create_entities(1000)
    assert ids.tolist() == list(range(first + 1, first + 1001))
    assert all(esper.entity_exists(int(e)) for e in ids[[0, 500, 999]])
    assert esper.component_for_entity(int(ids[0]), Body) is registry.BODY
    assert len(esper.get_component(Body)) == 1000
    assert esper.create_entity() == first + 1001  # esper's own counter moved on


def test_bulk_delete_matches_esper() -> None:
    ids = registry.create_entities(10)
    registry.delete_entities(ids[:4])
    assert not esper.entity_exists(int(ids[0]))
    assert len(esper.get_component(Body)) == 6
    with pytest.raises(KeyError):
        registry.delete_entities(ids[:1])


def test_world_spawn_and_despawn_keep_esper_and_columns_in_step() -> None:
    world = World(100, 100, seed=3)
    ids = world.spawn(50, {"pos_x": np.arange(50, dtype=np.float32)})
    world.despawn(ids[10:20])
    alive = {e for e, _ in esper.get_component(Body)}
    assert alive == set(world.store.ids.tolist())
    assert world.count == 40
    assert float(world.get(int(ids[30]), "pos_x")) == 30.0
    with pytest.raises(KeyError):
        world.despawn([int(ids[10])])
    assert world.count == 40


def test_failed_spawn_leaves_esper_untouched() -> None:
    world = World(100, 100, seed=3)
    with pytest.raises(KeyError):
        world.spawn(5, {"no_such_column": np.zeros(5)})
    assert esper.get_component(Body) == []
    assert world.spawn(1).tolist() == [1]
