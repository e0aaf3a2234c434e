"""esper mirrors the tables: after every kind of change its public API gives the same entities."""

from __future__ import annotations

from typing import Any

import esper
import numpy as np
import pytest

from game.world import registry, state
from game.world.checkpoint import Checkpoint
from game.world.commands import Commands, apply
from game.world.registry import Component, component_type
from game.world.world import World
from tests.conftest import assert_consistent, small_schema

T = component_type


def make_world() -> World:
    return World(320, 240, seed=1, schema=small_schema())


def agree(world: World, dead: Any = ()) -> None:
    """esper's public API and the tables say the same about every entity and component."""
    assert_consistent(world)
    components = [n for n, s in world.schema.items() if not s.is_resource]
    for name in components:
        want = sorted(e for t in world.tables if name in t.key for e in t.ids().tolist())
        assert sorted(e for e, _ in esper.get_component(T(name))) == want, name
    for a, b in (("Position", "Velocity"), ("Position", "Frozen"), ("Health", "Player")):
        want = sorted(e for t in world.tables if {a, b} <= t.key for e in t.ids().tolist())
        got = esper.get_components(T(a), T(b))
        assert sorted(e for e, _ in got) == want, (a, b)
        assert all(isinstance(pair[0], T(a)) and isinstance(pair[1], T(b)) for _, pair in got)
    for table in world.tables:
        for e in table.ids().tolist():
            assert esper.entity_exists(e)
            assert {type(c).__name__ for c in esper.components_for_entity(e)} == set(table.key)
            for name in components:
                assert esper.has_component(e, T(name)) == (name in table.key), (e, name)
            for name in table.key:
                assert isinstance(esper.component_for_entity(e, T(name)), T(name))
    assert sorted(esper.get_entities()) == sorted(e for t in world.tables for e in t.ids().tolist())
    for e in np.asarray(dead, dtype=np.uint64).tolist():
        assert not esper.entity_exists(e)
        with pytest.raises(KeyError):
            esper.component_for_entity(e, T("Position"))


def populated() -> tuple[World, np.ndarray, np.ndarray, np.ndarray]:
    world = make_world()
    moving = world.spawn(30, {"Position": None, "Velocity": None})
    frozen = world.spawn(10, {"Position": None, "Velocity": None, "Frozen": None})
    players = world.spawn(3, {"Position": None, "Health": None, "Player": None})
    return world, moving, frozen, players


def test_component_types_are_stable_marker_classes() -> None:
    position = component_type("Position")
    assert component_type("Position") is position
    assert issubclass(position, Component) and position.__name__ == "Position"
    assert component_type("Velocity") is not position
    registry.use_fresh_world()
    make_world()
    assert component_type("Position") is position  # the same class across esper worlds


def test_spawn() -> None:
    world, *_ = populated()
    agree(world)
    assert len(esper.get_component(T("Position"))) == 43
    assert len(esper.get_components(T("Position"), T("Velocity"))) == 40
    assert esper.get_component(T("Target")) == []


def test_despawn_across_tables() -> None:
    world, moving, frozen, players = populated()
    agree(world)  # esper is read (and caught up) before the change, too
    gone = np.concatenate([moving[::3], frozen[:4], players[1:2]])
    world.despawn(gone)
    agree(world, dead=gone)
    assert len(esper.get_component(T("Frozen"))) == 6


def test_add_and_remove() -> None:
    world, moving, frozen, players = populated()
    world.add(moving[:5], "Frozen")
    world.add(np.concatenate([moving[5:7], players[:1]]), "Target", {"entity": [1, 2, 3]})
    agree(world)
    assert esper.has_component(int(moving[0]), T("Frozen"))
    world.remove(np.concatenate([frozen, moving[:2]]), "Frozen")
    world.remove(players, "Player")
    agree(world)
    assert not esper.has_component(int(frozen[0]), T("Frozen"))
    assert esper.get_component(T("Player")) == []


def test_reused_indices_are_new_esper_entities() -> None:
    world, moving, _, _ = populated()
    world.despawn(moving[:5])
    new = world.spawn(5, {"Health": None})
    assert ((new & np.uint64(0xFFFF_FFFF)) == (moving[:5] & np.uint64(0xFFFF_FFFF))).all()
    agree(world, dead=moving[:5])
    assert not esper.has_component(int(new[0]), T("Position"))


def test_commands_apply() -> None:
    world, moving, frozen, players = populated()
    commands = Commands()
    commands.spawn(4, {"Velocity": None, "Player": None})
    commands.despawn(frozen[:2])
    commands.add(moving[:3], "Health")
    commands.remove(players, "Health")
    assert apply(world, "py", commands.take()) == []
    agree(world, dead=frozen[:2])


def test_a_processor_sees_the_entities_of_the_step_before() -> None:
    world, moving, _, _ = populated()
    seen: list[int] = []

    class Count(esper.Processor):
        def process(self) -> None:
            seen.append(len(esper.get_components(T("Position"), T("Velocity"))))

    esper.add_processor(Count())
    esper.process()
    world.despawn(moving[:10])
    esper.process()
    world.spawn(7, {"Position": None, "Velocity": None})
    esper.process()
    assert seen == [40, 30, 37]


def test_state_restore_and_checkpoint_restore() -> None:
    world, moving, frozen, players = populated()
    saved = state.capture(world)
    checkpoint = Checkpoint.capture(world)
    world.despawn(moving)
    world.add(players, "Frozen")
    later = world.spawn(6, {"Color": None})
    agree(world, dead=moving)
    state.restore(saved, world)
    agree(world, dead=later)
    assert len(esper.get_component(T("Position"))) == 43
    world.despawn(frozen)
    agree(world, dead=frozen)
    checkpoint.restore(world)
    agree(world, dead=later)
    assert esper.entity_exists(int(frozen[0]))


def test_restore_into_a_fresh_world() -> None:
    world, *_ = populated()
    saved = state.capture(world)
    registry.use_fresh_world()
    other = World(320, 240, seed=9, schema=small_schema())
    assert esper.get_component(T("Position")) == []
    state.restore(saved, other)
    agree(other)
    assert len(esper.get_component(T("Position"))) == 43


def test_reset_and_migration_that_drops_tables() -> None:
    world, moving, _, players = populated()
    world.despawn(players)
    world.migrate({n: s for n, s in world.schema.items() if n not in ("Player", "Health")})
    agree(world, dead=players)
    world.reset()
    agree(world, dead=moving)
    assert list(esper.get_entities()) == []


def test_a_long_queue_falls_back_to_a_rebuild(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(registry, "MAX_PENDING", 25)
    world, moving, frozen, _ = populated()  # 43 queued ids: past the bound
    world.despawn(moving[:4])
    world.add(frozen[:2], "Health")
    agree(world, dead=moving[:4])
    for _ in range(5):  # queue, overflow, queue again: every read still agrees
        world.add(moving[10:20], "Target")
        world.remove(moving[10:20], "Target")
        agree(world)


@pytest.mark.parametrize(
    "change",
    [
        lambda e: esper.add_component(e, T("Health")()),
        lambda e: esper.remove_component(e, T("Velocity")),
        lambda e: esper.try_remove_component(e, T("Velocity")),
        lambda e: esper.delete_entity(e, immediate=True),
        lambda e: esper.delete_entity(e),
    ],
    ids=["add_component", "remove_component", "try_remove_component", "delete_entity now", "delete_entity later"],
)
def test_esper_side_changes_to_world_entities_are_refused_and_change_nothing(change: Any) -> None:
    """Structural changes go through the world: esper's own would change esper but not the
    tables (or, on the shared per-table map, every entity of the table)."""
    world, moving, _, _ = populated()
    world.despawn(moving[-1:])  # queued: the guard catches esper up first
    with pytest.raises(TypeError, match=r"entity 1v1 belongs to the world"):
        change(int(moving[0]))
    esper.clear_dead_entities()
    agree(world, dead=moving[-1:])


def test_esper_entities_of_its_own_still_work() -> None:
    world, *_ = populated()
    mine = esper.create_entity(T("Health")())
    esper.add_component(mine, T("Player")())
    assert esper.has_component(mine, T("Player"))
    esper.remove_component(mine, T("Player"))
    esper.delete_entity(mine, immediate=True)
    assert not esper.entity_exists(mine)
    agree(world)
