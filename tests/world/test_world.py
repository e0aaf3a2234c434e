"""World: tables by component set, structural changes, reading and writing by id, migration."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from game.world import state
from game.world.entities import describe
from game.world.schema import ComponentSpec, DType, MigrationError, component
from game.world.world import World
from tests.conftest import assert_consistent, assert_same, small_schema, world_state


def schema(**changes: ComponentSpec | None) -> dict[str, ComponentSpec]:
    """small_schema() by name, with components replaced (or removed: None)."""
    return {s.name: s for s in small_schema(**changes)}


def make_world(max_entities: int = 1_000_000) -> World:
    return World(320, 240, seed=7, schema=small_schema(), max_entities=max_entities)


def populated() -> tuple[World, dict[str, np.ndarray]]:
    """A world of four tables; the ids of each, by label."""
    world = make_world()
    groups = {
        "moving": world.spawn(
            20,
            {
                "Position": {"x": np.arange(20, dtype=np.float32), "y": 1.0},
                "Velocity": {"x": np.full(20, 2, dtype=np.float32)},
            },
        ),
        "frozen": world.spawn(
            5, {"Position": {"x": np.arange(100, 105, dtype=np.float32)}, "Velocity": None, "Frozen": None}
        ),
        "still": world.spawn(7, {"Position": {"y": np.arange(7, dtype=np.float32)}}),
        "players": world.spawn(3, {"Position": None, "Health": {"hp": [1, 2, 3]}, "Player": None}),
    }
    assert_consistent(world)
    return world, groups


def value(world: World, entity: Any, component: str, field: str) -> Any:
    return world.get(int(entity), component)[field].tolist()


def test_spawn_puts_each_component_set_in_its_own_table() -> None:
    world, groups = populated()
    assert [t.label for t in world.tables] == [
        "{Position, Velocity}",
        "{Frozen, Position, Velocity}",
        "{Position}",
        "{Health, Player, Position}",
    ]
    assert [t.count for t in world.tables] == [20, 5, 7, 3]
    assert world.count == 35
    assert world.counts[:4].tolist() == [20, 5, 7, 3]
    assert [describe(int(e)) for e in groups["moving"][:2]] == ["1v1", "2v1"]
    assert describe(int(groups["players"][-1])) == "35v1"
    moving = world.tables[0]
    assert moving.column("Position.x").tolist() == list(range(20))
    assert moving.column("Position.y").tolist() == [1.0] * 20
    assert moving.column("Velocity.y").tolist() == [0.0] * 20  # not given: the default
    assert world.tables[3].column("Health.hp").tolist() == [1, 2, 3]
    # the same component set again lands in the same table
    more = world.spawn(2, {"Velocity": None, "Position": None})
    assert len(world.tables) == 4 and world.tables[0].count == 22
    assert world.tables[0].ids()[-2:].tolist() == more.tolist()
    assert world.spawn(0, {"Position": None}).tolist() == []
    assert_consistent(world)


def test_get_set_components_and_has_by_id() -> None:
    world, groups = populated()
    player = int(groups["players"][1])
    assert world.get(player, "Health") == {"hp": 2}
    assert world.components(player) == {
        "Health": {"hp": 2},
        "Player": {},
        "Position": {"x": 0.0, "y": 0.0},
    }
    world.set(player, "Health", "hp", 50)
    world.set(player, "Position", "x", 3.5)
    assert world.get(player, "Health")["hp"] == 50
    assert world.tables[3].column("Position.x").tolist() == [0, 3.5, 0]
    got = world.get(player, "Position")
    got["x"][...] = 99  # a copy: writing it changes nothing
    assert value(world, player, "Position", "x") == 3.5
    assert world.has(player, "Player") and not world.has(player, "Frozen")
    assert world.has(int(groups["frozen"][0]), "Frozen")
    target = world.spawn(1, {"Target": {"entity": [player]}})
    assert value(world, target[0], "Target", "entity") == player
    assert_consistent(world)


def test_despawn_across_tables_keeps_every_survivor_and_its_values() -> None:
    world, groups = populated()
    gone = np.concatenate([groups["moving"][[0, 5, 19]], groups["frozen"][[2]], groups["players"][[0]]])
    world.despawn(gone)
    assert world.count == 30
    assert not world.alive(gone).any()
    assert [t.count for t in world.tables] == [17, 4, 7, 2]
    for i, e in enumerate(groups["moving"]):
        if e not in gone:
            assert value(world, e, "Position", "x") == i
    assert value(world, groups["players"][2], "Health", "hp") == 3
    assert sorted(value(world, e, "Position", "x") for e in groups["frozen"] if e not in gone) == [100, 101, 103, 104]
    assert_consistent(world)


def test_a_despawned_index_comes_back_with_a_new_generation() -> None:
    world, groups = populated()
    old = int(groups["still"][3])
    world.despawn([old])
    (new,) = world.spawn(1, {"Velocity": None}).tolist()
    assert describe(new) == "29v2" and describe(old) == "29v1"
    assert world.alive([old, new]).tolist() == [False, True]
    with pytest.raises(KeyError, match="29v1"):
        world.get(old, "Position")
    assert_consistent(world)


def test_add_and_remove_move_entities_between_tables_keeping_values() -> None:
    world, groups = populated()
    picked = np.concatenate([groups["moving"][[1, 2]], groups["still"][[4]]])
    world.add(picked, "Health", {"hp": [10, 20, 30]})
    assert [value(world, e, "Health", "hp") for e in picked] == [10, 20, 30]
    assert [value(world, e, "Position", "x") for e in picked] == [1, 2, 0]
    assert value(world, picked[2], "Position", "y") == 4
    assert value(world, picked[0], "Velocity", "x") == 2
    assert world.table_of(int(picked[0]))[0].label == "{Health, Position, Velocity}"
    assert world.table_of(int(picked[2]))[0].label == "{Health, Position}"
    world.add(picked[:2], "Frozen")  # a tag: no values
    assert world.table_of(int(picked[0]))[0].label == "{Frozen, Health, Position, Velocity}"
    assert_consistent(world)
    world.remove(np.concatenate([picked, groups["players"][:1]]), "Health")
    assert not any(world.has(int(e), "Health") for e in picked)
    assert world.components(int(groups["players"][0])) == {"Player": {}, "Position": {"x": 0.0, "y": 0.0}}
    assert value(world, picked[1], "Position", "x") == 2
    assert world.components(int(picked[2])) == {"Position": {"x": 0.0, "y": 4.0}}
    # back in the table it started in
    assert world.table_of(int(picked[2]))[0] is world.tables[2]
    # an add with no values gives defaults
    world.add(groups["still"][:2], "Health")
    assert [value(world, e, "Health", "hp") for e in groups["still"][:2]] == [100, 100]
    assert_consistent(world)


def test_query_matches_every_table_with_the_components_and_none_of_without() -> None:
    world, groups = populated()
    world.spawn(0, {"Color": None})
    world.table_for(["Position", "Color"])  # an empty table is never yielded

    def labels(*names: str, without: tuple[str, ...] = ()) -> list[str]:
        return [t.label for t in world.query(*names, without=without)]

    assert labels("Position", "Velocity") == ["{Position, Velocity}", "{Frozen, Position, Velocity}"]
    assert labels("Position", "Velocity", without=("Frozen",)) == ["{Position, Velocity}"]
    assert labels("Player") == ["{Health, Player, Position}"]
    assert labels("Position", without=("Velocity", "Player")) == ["{Position}"]
    assert len(labels()) == 4
    moved = sum(t.count for t in world.query("Position", "Velocity", without=("Frozen",)))
    assert moved == 20
    world.add(groups["moving"][:4], "Frozen")
    assert sum(t.count for t in world.query("Position", "Velocity", without=("Frozen",))) == 16
    with pytest.raises(KeyError, match="Mass"):
        list(world.query("Mass"))
    with pytest.raises(KeyError, match="Mass"):
        list(world.query("Position", without=("Mass",)))
    assert_consistent(world)


def test_resources_are_writable_in_place_and_reset_to_defaults() -> None:
    world = make_world()
    score = world.resource("Score")
    assert score.dtype.names == ("value",) and score["value"].tolist() == [0]
    score["value"] = 41
    world.resource("Score")["value"] += 1
    assert int(world.resource("Score")["value"][0]) == 42
    with pytest.raises(KeyError, match="no resource 'Tunables'"):
        world.resource("Tunables")
    with pytest.raises(KeyError, match="no resource 'Position'"):
        world.resource("Position")  # a component is not a resource
    with pytest.raises(ValueError, match="Score is a resource, not a component"):
        world.spawn(1, {"Score": None})
    world.spawn(5, {"Position": None})
    world.step = 9
    world.reset()
    assert world.count == 0 and world.step == 0 and world.tables == []
    assert int(world.resource("Score")["value"][0]) == 0
    assert_consistent(world)


def test_in_use_names_held_components_and_every_resource() -> None:
    world, groups = populated()
    assert world.in_use() == {"Position", "Velocity", "Frozen", "Health", "Player", "Score"}
    world.despawn(groups["players"])
    assert world.in_use() == {"Position", "Velocity", "Frozen", "Score"}


# --- migration ------------------------------------------------------------------------------


def test_migrate_adds_a_new_component_and_resource() -> None:
    world, groups = populated()
    new = schema(
        Mass=component("Mass", m=(DType.F32, 1, 2.5)),
        Gravity=component("Gravity", resource=True, g=(DType.F64, 1, 9.81), dir=(DType.F32, 2, -1.0)),
    )
    changes = world.migrate(new)
    assert sorted(c.describe() for c in changes) == ["adds component Gravity", "adds component Mass"]
    assert world.resource("Gravity")["g"].tolist() == [9.81]
    assert world.resource("Gravity")["dir"].tolist() == [[-1.0, -1.0]]
    world.add(groups["still"][:2], "Mass")
    assert value(world, groups["still"][0], "Mass", "m") == 2.5
    assert_consistent(world)


def test_migrate_adds_a_field_with_its_default_in_every_table_holding_the_component() -> None:
    world, groups = populated()
    before = {n: t.column("Position.x").copy() for n, t in zip("abcd", world.tables, strict=True)}
    new = schema(Position=component("Position", x=DType.F32, y=DType.F32, z=(DType.F32, 1, 7.0)))
    (change,) = world.migrate(new)
    assert change.describe() == "adds Position.z (f32, default 7)"
    for name, table in zip("abcd", world.tables, strict=True):
        assert table.column("Position.z").tolist() == [7.0] * table.count, table.label
        assert table.column("Position.x").tolist() == before[name].tolist()
    assert world.get(int(groups["players"][0]), "Position") == {"x": 0.0, "y": 0.0, "z": 7.0}
    # new entities get it too
    (e,) = world.spawn(1, {"Position": {"x": [1.0]}})
    assert value(world, e, "Position", "z") == 7.0
    assert_consistent(world)


def test_migrate_widens_f32_to_f64_and_width_2_to_3_keeping_values() -> None:
    world = make_world()
    world.migrate(schema(Trail=component("Trail", points=(DType.F32, 2, 0.0))))
    a = world.spawn(
        3, {"Position": {"x": np.float32([0.1, 1e30, -2.5])}, "Trail": {"points": [[1, 2], [3, 4], [5, 6]]}}
    )
    b = world.spawn(2, {"Position": {"x": np.float32([1 / 3, 8])}})
    x_before = np.float32([0.1, 1e30, -2.5, 1 / 3, 8]).astype(np.float64)
    changes = world.migrate(
        schema(
            Position=component("Position", x=DType.F64, y=DType.F32),
            Trail=component("Trail", points=(DType.F64, 3, 9.0)),
        )
    )
    assert sorted(c.describe() for c in changes) == [
        "widens Position.x from f32 to f64",
        "widens Trail.points from f32x2 to f64x3",
    ]
    xs = [value(world, e, "Position", "x") for e in np.concatenate([a, b])]
    assert xs == x_before.tolist()
    assert [value(world, e, "Trail", "points") for e in a] == [[1, 2, 9], [3, 4, 9], [5, 6, 9]]
    for table in world.tables:
        assert table.column("Position.x").dtype == np.float64
    assert world.schema["Position"].field("x").dtype == DType.F64
    assert_consistent(world)


def test_migrate_widens_a_resource_keeping_its_value() -> None:
    world = make_world()
    world.resource("Score")["value"] = -5
    world.migrate(schema(Score=component("Score", resource=True, value=DType.I64, best=(DType.I64, 2, 3.0))))
    assert world.resource("Score")["value"].tolist() == [-5]
    assert world.resource("Score")["best"].tolist() == [[3, 3]]


@pytest.mark.parametrize(
    "change, message",
    [
        (
            {"Position": component("Position", x=DType.F32, y=DType.I32)},
            r"Position\.y declared i32, the world has f32; only widening",
        ),
        ({"Health": component("Health", hp=DType.U8)}, r"Health\.hp declared u8, the world has i32"),
        ({"Position": component("Position", x=DType.F32)}, r"removes field Position\.y, which entities still hold"),
        ({"Health": None}, "removes Health, which entities still have"),
        ({"Score": None}, "removes Score"),
        ({"Player": component("Player", resource=True)}, "makes Player a resource"),
    ],
)
def test_migrate_refuses_losing_data_and_changes_nothing(change: dict[str, ComponentSpec | None], message: str) -> None:
    world, _ = populated()
    before = world_state(world)
    version = world.layout_version
    with pytest.raises(MigrationError, match=message):
        world.migrate(schema(**change), source="components.zig")
    assert_same(world_state(world), before)
    assert world.layout_version == version
    assert_consistent(world)


def test_narrowing_width_is_refused_naming_component_and_field() -> None:
    world = make_world()
    world.migrate(schema(Trail=component("Trail", points=(DType.F32, 3, 0.0))))
    world.spawn(1, {"Trail": None})
    with pytest.raises(MigrationError, match=r"edit\.zig: Trail\.points declared f32x2, the world has f32x3"):
        world.migrate(schema(Trail=component("Trail", points=(DType.F32, 2, 0.0))), source="edit.zig")


def test_removing_unused_components_drops_their_tables() -> None:
    world, groups = populated()
    world.despawn(groups["players"])  # the {Health, Player, Position} table is empty now
    colored = world.spawn(2, {"Color": None})
    assert world.migrate(schema(Player=None, Health=None)) == []
    assert "Player" not in world.schema and "Health" not in world.schema
    assert [t.label for t in world.tables] == [
        "{Position, Velocity}",
        "{Frozen, Position, Velocity}",
        "{Position}",
        "{Color}",
    ]
    assert value(world, colored[1], "Color", "rgb") == 0x3050FF
    assert world.count == 34
    assert_consistent(world)
    with pytest.raises(KeyError, match="unknown component 'Player'"):
        world.spawn(1, {"Player": None})
    # the world still checkpoints and restores
    captured = state.capture(world)
    state.restore(captured, world)
    assert [t.label for t in world.tables][-1] == "{Color}"
    assert_consistent(world)


def test_max_entities_bounds_spawn_and_nothing_changes() -> None:
    world = make_world(max_entities=10)
    world.spawn(8, {"Position": None})
    before = world_state(world)
    with pytest.raises(ValueError, match="spawning 3 entities would pass the bound of 10 \\(8 live\\)"):
        world.spawn(3, {"Velocity": None})
    assert_same(world_state(world), before)
    world.spawn(2, {"Position": None})
    assert world.count == 10
    assert_consistent(world)


# --- bad input -----------------------------------------------------------------------------


def dead_id(world: World) -> int:
    (e,) = world.spawn(1, {"Position": None}).tolist()
    world.despawn([e])
    return int(e)


BAD_CALLS = [
    # (call, exception, message); `g` is the populated groups, `d` a despawned id (36v1)
    (lambda w, g, d: w.despawn([d]), KeyError, r"despawn entity 36v1: not a live entity"),
    (lambda w, g, d: w.despawn([g["still"][0], 7 | 5 << 32]), KeyError, r"despawn entity 7v5: not a live entity"),
    (lambda w, g, d: w.despawn([g["still"][0], g["still"][0]]), ValueError, r"despawn: an entity is named twice"),
    (lambda w, g, d: w.add([g["moving"][0], d], "Color"), KeyError, r"add Color to entity 36v1: not a live entity"),
    (lambda w, g, d: w.add(g["frozen"][:2], "Frozen"), ValueError, r"add Frozen: entity 21v1 already has it"),
    (
        lambda w, g, d: w.add(np.concatenate([g["moving"][:2], g["frozen"][:1]]), "Frozen"),
        ValueError,
        r"add Frozen: entity 21v1 already has it",
    ),
    (lambda w, g, d: w.add(g["moving"][:2], "Mass"), KeyError, r"unknown component 'Mass'"),
    (lambda w, g, d: w.add(g["moving"][:2], "Score"), ValueError, r"Score is a resource"),
    (
        lambda w, g, d: w.add(np.concatenate([g["moving"][:2], g["still"][:1]]), "Health", {"hp": [1, 2]}),
        ValueError,
        r"Health\.hp: 2 values for 3 entities",
    ),
    (lambda w, g, d: w.add(g["moving"][:2], "Health", {"mana": 1}), KeyError, r"Health has no field 'mana'"),
    (lambda w, g, d: w.remove(g["moving"][:3], "Frozen"), ValueError, r"remove Frozen: entity 1v1 does not have it"),
    (lambda w, g, d: w.remove([d], "Position"), KeyError, r"remove Position from entity 36v1: not a live entity"),
    (lambda w, g, d: w.spawn(2, {"Mass": None}), KeyError, r"unknown component 'Mass'"),
    (lambda w, g, d: w.spawn(2, {"Position": {"z": [1, 2]}}), KeyError, r"Position has no field 'z'"),
    (lambda w, g, d: w.spawn(2, {"Position": {"x": [1, 2, 3]}}), ValueError, r"Position\.x: 3 values for 2"),
    (lambda w, g, d: w.get(d, "Position"), KeyError, r"entity 36v1 is not alive"),
    (lambda w, g, d: w.get(int(g["still"][0]), "Velocity"), KeyError, r"entity 26v1 has no Velocity"),
    (lambda w, g, d: w.set(d, "Position", "x", 1), KeyError, r"entity 36v1 is not alive"),
    (lambda w, g, d: w.set(int(g["still"][0]), "Health", "hp", 1), KeyError, r"entity 26v1 has no Health"),
    (lambda w, g, d: w.set(int(g["still"][0]), "Position", "z", 1), KeyError, r"Position has no field 'z'"),
    (lambda w, g, d: w.components(d), KeyError, r"entity 36v1 is not alive"),
    (lambda w, g, d: w.has(d, "Position"), KeyError, r"entity 36v1 is not alive"),
    (lambda w, g, d: w.has(int(g["still"][0]), "Mass"), KeyError, r"unknown component 'Mass'"),
    (lambda w, g, d: w.table_of(0), KeyError, r"entity 0v0 is not alive"),
]


@pytest.mark.parametrize("call, error, message", BAD_CALLS, ids=[m for _, _, m in BAD_CALLS])
def test_bad_input_raises_naming_the_entity_and_changes_nothing(call: Any, error: type, message: str) -> None:
    world, groups = populated()
    dead = dead_id(world)
    assert describe(dead) == "36v1"
    before = world_state(world)
    with pytest.raises(error, match=message):
        call(world, groups, dead)
    assert_same(world_state(world), before)
    assert_consistent(world)


def test_an_audit_of_ids_scribbled_over_names_the_problem_instead_of_raising() -> None:
    from game.world import audit

    world = World(100, 100, seed=1, schema=small_schema())
    world.spawn(10, {"Position": None})
    table = next(t for t in world.tables if t.count)
    table.entities[:5] = np.uint64(0xFFFF_FFFF_FFFF)  # what a wild write through @constCast leaves
    found = audit.problems(world)
    assert found and all(isinstance(p, str) for p in found)
