"""Commands: buffered structural changes, their order, their problems, and decoding a Zig buffer."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from game.native.abi import COMMAND_DTYPE
from game.world.commands import Batch, Commands, Op, apply, decode
from game.world.entities import describe
from game.world.schema import ComponentSpec
from game.world.world import World
from tests.conftest import assert_consistent, assert_same, small_schema, world_state

SCHEMA: tuple[ComponentSpec, ...] = tuple(small_schema())
INDEX = {s.name: i for i, s in enumerate(SCHEMA)}
SPEC = {s.name: s for s in SCHEMA}


def make_world(max_entities: int = 1000) -> World:
    return World(320, 240, seed=3, schema=SCHEMA, max_entities=max_entities)


def names(ids: Any) -> list[str]:
    return [describe(int(e)) for e in ids]


def table_ids(world: World) -> dict[str, list[str]]:
    return {t.label: names(t.ids()) for t in world.tables}


def test_adds_and_removes_then_despawns_then_spawns() -> None:
    world = make_world()
    a = world.spawn(4, {"Position": {"x": [0, 1, 2, 3]}})  # 1v1..4v1
    commands = Commands()
    # issued in the opposite order to the one they apply in
    commands.spawn(2, {"Velocity": {"x": [5, 6]}})
    commands.despawn(a[[0, 1]])
    commands.add(a[[2, 3]], "Health", {"hp": [7, 8]})
    commands.remove(a[[3]], "Health")
    commands.add(a[[3]], "Frozen")
    assert apply(world, "py", commands.take()) == []
    # despawns ran before the spawns: the spawns reuse the freed indices, oldest first
    assert table_ids(world) == {
        "{Position}": [],
        "{Health, Position}": ["3v1"],
        "{Frozen, Position}": ["4v1"],
        "{Velocity}": ["1v2", "2v2"],
    }
    assert world.get(int(a[2]), "Health")["hp"] == 7
    assert world.components(int(a[3])) == {"Frozen": {}, "Position": {"x": 3.0, "y": 0.0}}
    assert world.tables[3].column("Velocity.x").tolist() == [5, 6]
    assert_consistent(world)


def test_a_later_add_sees_an_earlier_remove_of_the_same_step() -> None:
    world = make_world()
    a = world.spawn(2, {"Position": None, "Frozen": None})
    commands = Commands()
    commands.remove(a, "Frozen")
    commands.add(a, "Frozen")
    commands.remove(a[:1], "Frozen")
    assert apply(world, "py", commands.take()) == []
    assert [world.has(int(e), "Frozen") for e in a] == [False, True]
    assert_consistent(world)


def test_spawns_apply_grouped_by_component_set_in_order_of_first_appearance() -> None:
    world = make_world()
    commands = Commands()
    commands.spawn(2, {"Velocity": None})
    commands.spawn(1, {"Position": {"x": [9]}})
    commands.spawn(2, {"Velocity": {"x": [3, 4]}})
    commands.spawn(1, {"Position": None, "Player": None})
    commands.spawn(1, {"Position": {"x": [10]}})
    assert apply(world, "py", commands.take()) == []
    assert table_ids(world) == {
        "{Velocity}": ["1v1", "2v1", "3v1", "4v1"],
        "{Position}": ["5v1", "6v1"],
        "{Player, Position}": ["7v1"],
    }
    assert world.tables[0].column("Velocity.x").tolist() == [0, 0, 3, 4]
    assert world.tables[1].column("Position.x").tolist() == [9, 10]
    assert_consistent(world)


def script(commands: Commands, world: World, step: int) -> None:
    """A few steps' worth of every kind of command, depending only on the world and `step`."""
    live = np.concatenate([t.ids() for t in world.tables]) if world.tables else np.zeros(0, np.uint64)
    live = np.sort(live)
    commands.spawn(5 + step, {"Position": {"x": np.arange(5 + step, dtype=np.float32)}, "Velocity": None})
    commands.spawn(2, {"Health": {"hp": [step, -step]}, "Player": None})
    if len(live) > 6:
        commands.despawn(live[::5])
        commands.add(live[1::5], "Frozen")
        commands.remove(live[1::5][:1], "Frozen")  # added in this same step: applies after the add
        commands.add(live[2::7], "Target", {"entity": live[:1].repeat(len(live[2::7]))})


def run_script(steps: int) -> dict[str, np.ndarray]:
    world = make_world()
    commands = Commands()
    for step in range(steps):
        script(commands, world, step)
        problems = apply(world, "py", commands.take())
        assert all("already has it" in p or "does not have it" in p for p in problems), problems
        world.step += 1
        assert_consistent(world)
    return world_state(world)


def test_the_same_commands_give_the_same_world_ids_included() -> None:
    first = run_script(12)
    second = run_script(12)
    assert_same(first, second)
    assert first["entities.generation"].max() > 1  # indices were reused along the way
    assert len(first) > 20  # several tables, each with its columns


BadCase = Callable[[Commands, np.ndarray, int], None]

BAD: list[tuple[str, BadCase, str]] = [
    ("despawn dead", lambda c, a, d: c.despawn([d]), "py: despawn 6v1: not a live entity"),
    ("despawn never existed", lambda c, a, d: c.despawn([99 | 1 << 32]), "py: despawn 99v1: not a live entity"),
    ("despawn stale generation", lambda c, a, d: c.despawn([2 | 7 << 32]), "py: despawn 2v7: not a live entity"),
    (
        "despawn twice",
        lambda c, a, d: (c.despawn(a[[1]]), c.despawn(a[[1]])),
        "py: despawn 2v1: named twice in one step; once applied",
    ),
    ("add twice", lambda c, a, d: c.add(a[[1]], "Position"), "py: add Position to 2v1: already has it"),
    ("remove lacking", lambda c, a, d: c.remove(a[[2]], "Frozen"), "py: remove Frozen from 3v1: does not have it"),
    ("add to dead", lambda c, a, d: c.add([d], "Frozen"), "py: add Frozen to 6v1: not a live entity"),
    (
        "unknown component",
        lambda c, a, d: c.add(a[[3]], "Mass"),
        "py: add Mass to 4v1: Mass is not a component of the world",
    ),
    (
        "a resource as component",
        lambda c, a, d: c.remove(a[[3]], "Score"),
        "py: remove Score from 4v1: Score is not a component of the world",
    ),
    (
        "spawn unknown",
        lambda c, a, d: c.spawn(2, {"Mass": None}),
        "py: spawn of 2 {Mass} refused: Mass is not a component of the world",
    ),
    (
        "spawn past max_entities",
        lambda c, a, d: c.spawn(10, {"Position": None}),
        "py: spawn of 10 {Position} refused: spawning 10 entities would pass the bound of 12 (5 live)",
    ),
]


@pytest.mark.parametrize("case, message", [(c, m) for _, c, m in BAD], ids=[n for n, _, _ in BAD])
def test_a_bad_command_is_one_message_and_the_rest_applies(case: BadCase, message: str) -> None:
    world = make_world(max_entities=12)
    a = world.spawn(6, {"Position": None})  # 1v1..6v1
    world.despawn(a[5:])  # 6v1 is dead
    commands = Commands()
    case(commands, a, int(a[5]))
    commands.add(a[[0]], "Health", {"hp": [5]})  # a good command beside it
    commands.spawn(1, {"Velocity": None})
    problems = apply(world, "py", commands.take())
    assert problems == [message]
    assert world.get(int(a[0]), "Health")["hp"] == 5
    assert world.count in (6, 5)  # 5 + 1 spawned, minus one when the bad case despawned a live one
    assert_consistent(world)


def test_many_bad_commands_of_one_kind_are_counted_in_one_message() -> None:
    world = make_world()
    a = world.spawn(3, {"Position": None, "Frozen": None})
    world.despawn(a)
    commands = Commands()
    commands.despawn(a)
    commands.add(a, "Health")
    problems = apply(world, "sys", commands.take())
    assert problems == [
        "sys: add Health to 1v1: not a live entity (3 such commands skipped)",
        "sys: despawn 1v1: not a live entity (3 such commands skipped)",
    ]
    assert_consistent(world)


def test_add_values_follow_their_entities_when_some_are_skipped() -> None:
    world = make_world()
    a = world.spawn(4, {"Position": None})
    world.add(a[[1]], "Health")
    commands = Commands()
    commands.add(a, "Health", {"hp": [10, 20, 30, 40]})  # a[1] has it already
    (problem,) = apply(world, "py", commands.take())
    assert problem == "py: add Health to 2v1: already has it"
    assert [int(world.get(int(e), "Health")["hp"]) for e in a] == [10, 100, 30, 40]
    assert_consistent(world)


def test_an_empty_buffer_is_falsy_and_changes_nothing() -> None:
    world = make_world()
    world.spawn(3, {"Position": None})
    before = world_state(world)
    batch = Commands().take()
    assert not batch and isinstance(batch, Batch)
    assert apply(world, "py", batch) == []
    assert_same(world_state(world), before)


# --- decoding a Zig system's buffer ---------------------------------------------------------


class Buffer:
    """Builds `sdk.Command` records and payload bytes as a Zig system would write them."""

    def __init__(self) -> None:
        self.records: list[tuple[int, int, int, int, int]] = []
        self.data = bytearray()

    def _payload(self, name: str, values: dict[str, Any]) -> None:
        spec = SPEC[name]
        if not spec.fields:
            return
        payload = np.zeros(1, dtype=spec.payload_dtype())
        for f in spec.fields:
            payload[f.name] = values.get(f.name, f.default)
        raw = payload.view(np.uint8).tobytes()
        self.data += raw + bytes(-len(raw) % 8)  # each payload 8-aligned, like the sdk

    def spawn(self, **components: dict[str, Any]) -> None:
        mask = sum(1 << INDEX[n] for n in components)
        self.records.append((Op.SPAWN, 0, 0, mask, len(self.data)))
        for name in sorted(components, key=INDEX.__getitem__):  # ascending schema order
            self._payload(name, components[name])

    def add(self, who: int, name: str, **values: Any) -> None:
        self.records.append((Op.ADD, INDEX[name], who, 0, len(self.data)))
        self._payload(name, values)

    def remove(self, entity: int, name: str) -> None:
        self.records.append((Op.REMOVE, INDEX[name], entity, 0, len(self.data)))

    def despawn(self, entity: int) -> None:
        self.records.append((Op.DESPAWN, 0, entity, 0, len(self.data)))

    def arrays(self) -> tuple[np.ndarray, np.ndarray]:
        records = np.array(self.records, dtype=COMMAND_DTYPE)
        return records, np.frombuffer(bytes(self.data) + bytes(64), dtype=np.uint8)


def test_decode_reads_every_kind_of_record_and_its_payload() -> None:
    world = make_world()
    a = world.spawn(3, {"Position": None}).tolist()
    buf = Buffer()
    buf.spawn(Position={"x": 1.5, "y": 2.5}, Velocity={"x": -1}, Frozen={})
    buf.add(a[0], "Health", hp=-7)
    buf.add(a[1], "Health", hp=9)
    buf.despawn(a[2])
    buf.spawn(Color={"rgb": 0xABCDEF})
    buf.spawn(Position={"x": 3}, Velocity={"y": 4}, Frozen={})
    buf.add(a[0], "Target", entity=a[1])
    buf.remove(a[1], "Health")  # removes the Health its add gave it, in the same step
    batch = decode(*buf.arrays(), SCHEMA)
    assert batch.problems == []
    assert [(op, name, names(ids)) for op, name, ids, _ in batch.changes] == [
        (Op.ADD, "Health", ["1v1", "2v1"]),
        (Op.ADD, "Target", ["1v1"]),
        (Op.REMOVE, "Health", ["2v1"]),
    ]
    assert batch.changes[0][3] is not None and batch.changes[0][3]["hp"].tolist() == [-7, 9]
    assert [names(d) for d in batch.despawns] == [["3v1"]]
    assert [(n, count) for n, count, _ in batch.spawns] == [
        (("Frozen", "Position", "Velocity"), 2),
        (("Color",), 1),
    ]
    first = batch.spawns[0][2]
    assert first["Frozen"] is None
    assert first["Position"] is not None and first["Position"]["x"].tolist() == [1.5, 3]
    assert first["Velocity"] is not None and first["Velocity"]["y"].tolist() == [0, 4]

    assert apply(world, "zig", batch) == []
    assert world.components(a[0]) == {
        "Health": {"hp": -7},
        "Position": {"x": 0.0, "y": 0.0},
        "Target": {"entity": a[1]},
    }
    assert world.components(a[1]) == {"Position": {"x": 0.0, "y": 0.0}}
    assert table_ids(world)["{Frozen, Position, Velocity}"] == ["3v2", "4v1"]
    assert world.components(int(world.tables[-1].ids()[0])) == {"Color": {"rgb": 0xABCDEF}}
    assert_consistent(world)


def test_decode_reports_bad_records_without_raising_and_keeps_the_good_ones() -> None:
    world = make_world()
    a = world.spawn(2, {"Position": None}).tolist()
    buf = Buffer()
    buf.add(a[0], "Health", hp=3)
    buf.records.append((Op.ADD, 99, a[0], 0, 0))  # a component index past the schema
    buf.records.append((Op.ADD, INDEX["Health"], a[1], 0, 1 << 40))  # a payload far outside the data
    buf.records.append((Op.SPAWN, 0, 0, 1 << 40, 0))  # a component set naming index 40
    buf.records.append((Op.SPAWN, 0, 0, 1 << INDEX["Position"], 1 << 30))  # payload outside the data
    buf.records.append((77, 0, a[1], 0, 0))  # an unknown op
    buf.despawn(a[1])
    records, data = buf.arrays()
    batch = decode(records, data, SCHEMA, dropped=3)
    assert batch.problems == [
        f"command buffer full: 3 commands dropped ({len(records)} kept); the buffer is doubled for the next step",
        "1 records with an unknown op (first: 77) skipped",
        "add: component #99 is not in this build's schema",
        "add: Health: a payload lies outside the command data",
        "spawn: component set 0x10000000000 names a component not in this build's schema",
        "spawn: Position: a payload lies outside the command data",
    ]
    problems = apply(world, "zig", batch)
    assert problems == [f"zig: {p}" for p in batch.problems]
    assert world.get(a[0], "Health")["hp"] == 3
    assert not world.alive([a[1]])[0]
    assert world.count == 1
    assert_consistent(world)


def test_decode_of_an_empty_buffer_is_an_empty_batch() -> None:
    batch = decode(np.zeros(0, dtype=COMMAND_DTYPE), np.zeros(16, dtype=np.uint8), SCHEMA)
    assert not batch


def test_decode_maps_the_librarys_indices_to_names_not_the_worlds() -> None:
    """A library compiled against another components.zig indexes its own schema."""
    world = make_world()
    (e,) = world.spawn(1, {"Position": None}).tolist()
    own = (SPEC["Frozen"], SPEC["Health"])  # index 0 is Frozen, 1 is Health in this library
    records = np.array([(Op.ADD, 0, e, 0, 0), (Op.ADD, 1, e, 0, 0)], dtype=COMMAND_DTYPE)
    data = np.zeros(8, dtype=np.uint8)
    data[:4] = np.frombuffer(np.int32(42).tobytes(), dtype=np.uint8)
    assert apply(world, "zig", decode(records, data, own)) == []
    assert world.components(e) == {"Frozen": {}, "Health": {"hp": 42}, "Position": {"x": 0.0, "y": 0.0}}
    assert_consistent(world)


def test_a_python_buffer_and_a_zig_buffer_with_the_same_commands_make_the_same_world() -> None:
    def start() -> tuple[World, list[int]]:
        world = make_world()
        return world, world.spawn(4, {"Position": {"x": [1, 2, 3, 4]}}).tolist()

    py_world, a = start()
    commands = Commands()
    commands.spawn(1, {"Velocity": {"x": [1.0]}})
    commands.add([a[0], a[1]], "Health", {"hp": [5, 6]})
    commands.despawn([a[2]])
    commands.spawn(1, {"Color": None, "Player": None})
    commands.spawn(1, {"Velocity": {"y": [2.0]}})
    commands.despawn([a[2]])
    commands.remove([a[3]], "Position")
    py_problems = apply(py_world, "sys", commands.take())
    py_state = world_state(py_world)

    zig_world, a = start()
    buf = Buffer()
    buf.spawn(Velocity={"x": 1.0})
    buf.add(a[0], "Health", hp=5)
    buf.add(a[1], "Health", hp=6)
    buf.despawn(a[2])
    buf.spawn(Color={}, Player={})
    buf.spawn(Velocity={"y": 2.0})
    buf.despawn(a[2])
    buf.remove(a[3], "Position")
    zig_problems = apply(zig_world, "sys", decode(*buf.arrays(), SCHEMA))

    assert py_problems == zig_problems == ["sys: despawn 3v1: named twice in one step; once applied"]
    assert_same(world_state(zig_world), py_state)
    assert_consistent(zig_world)
