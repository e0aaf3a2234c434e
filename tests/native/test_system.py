"""Real systems, built by the real compiler, over a real World of several tables, checked
against the same formula in numpy."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest

from bench.frames import copy_project
from game.hotreload.zigbuild import ZigBuild
from game.native.errors import SystemRunError
from game.native.input import InputState
from game.native.library import NativeLibrary
from game.native.platform import built_libraries
from game.native.system import COMMAND_RECORDS, NativeSystem
from game.world.commands import apply
from game.world.schema import ComponentSpec
from game.world.table import Table
from game.world.world import World
from tests.conftest import assert_consistent

DT = np.float32(1 / 60)
Load = Callable[[str], NativeLibrary]


@pytest.fixture
def schema(libs: dict[str, Path], tmp_path: Path) -> dict[str, ComponentSpec]:
    """The world's schema, from the real components library."""
    lib = NativeLibrary.load(libs["components"], tmp_path, 0)
    try:
        return lib.info.components
    finally:
        lib.close()


def moving(rng: np.random.Generator, n: int) -> dict[str, dict[str, np.ndarray]]:
    return {
        "Position": {"x": rng.uniform(0, 320, n).astype(np.float32), "y": rng.uniform(0, 240, n).astype(np.float32)},
        "Velocity": {"x": rng.uniform(-90, 90, n).astype(np.float32), "y": rng.uniform(-90, 90, n).astype(np.float32)},
    }


@pytest.fixture
def world(schema: dict[str, ComponentSpec]) -> World:
    """Five tables; sizes not multiples of the 8 SIMD lanes."""
    w = World(320, 240, seed=11, schema=schema.values())
    rng = w.rng
    w.spawn(1003, {**moving(rng, 1003), "Color": None})
    w.spawn(37, {**moving(rng, 37), "Frozen": None})
    w.spawn(250, {**moving(rng, 250), "Lifetime": {"seconds": rng.uniform(1, 5, 250).astype(np.float32)}})
    w.spawn(20, {"Position": {"x": np.arange(20, dtype=np.float32)}})  # no Velocity: nothing moves it
    w.spawn(9, {**moving(rng, 9), "Frozen": None, "Lifetime": {"seconds": np.full(9, 3, dtype=np.float32)}})
    assert [t.label for t in w.tables] == [
        "{Color, Position, Velocity}",
        "{Frozen, Position, Velocity}",
        "{Lifetime, Position, Velocity}",
        "{Position}",
        "{Frozen, Lifetime, Position, Velocity}",
    ]
    return w


@pytest.fixture
def load(libs: dict[str, Path], tmp_path: Path) -> Iterator[Load]:
    loaded: list[NativeLibrary] = []

    def _load(name: str) -> NativeLibrary:
        lib = NativeLibrary.load(libs[name], tmp_path, version=len(loaded) + 1)
        loaded.append(lib)
        return lib

    yield _load
    for lib in loaded:
        lib.close()


def snapshot(world: World) -> dict[tuple[int, str], np.ndarray]:
    return {(t.id, name): t.column(name).copy() for t in world.tables for name in t.columns}


def unmoved(table: Table) -> bool:
    return "Velocity" not in table.key or "Frozen" in table.key


def test_movement_moves_exactly_the_non_frozen_entities_of_every_table(world: World, load: Load) -> None:
    before = snapshot(world)
    system = NativeSystem(load("movement"), world, InputState())
    system.run(float(DT))
    assert system.tables_bound == 2  # {Color, Position, Velocity} and {Lifetime, Position, Velocity}
    for table in world.tables:
        for name in table.columns:
            got, was = table.column(name), before[table.id, name]
            if unmoved(table) or not name.startswith("Position."):
                np.testing.assert_array_equal(got, was, err_msg=f"{table.label} {name}")
        if not unmoved(table):
            for axis in "xy":
                expected = before[table.id, f"Position.{axis}"] + before[table.id, f"Velocity.{axis}"] * DT
                np.testing.assert_array_equal(table.column(f"Position.{axis}"), expected, err_msg=table.label)
    assert_consistent(world)


def test_views_are_rebound_after_a_table_grows_and_a_new_table_appears(world: World, load: Load) -> None:
    system = NativeSystem(load("movement"), world, InputState())
    system.run(float(DT))
    capacity = world.tables[0].capacity
    world.spawn(5000, {**moving(world.rng, 5000), "Color": None})  # reallocates every column of table 0
    assert world.tables[0].capacity > capacity
    world.spawn(11, {**moving(world.rng, 11), "Team": None})  # a new matching table
    world.despawn(world.tables[2].ids()[:100].copy())  # a count change only
    before = snapshot(world)
    system.run(float(DT))
    assert system.tables_bound == 3
    for table in world.tables:
        if not unmoved(table):
            expected = before[table.id, "Position.x"] + before[table.id, "Velocity.x"] * DT
            np.testing.assert_array_equal(table.column("Position.x"), expected, err_msg=table.label)
        else:
            np.testing.assert_array_equal(table.column("Position.x"), before[table.id, "Position.x"])
    assert world.tables[-1].label == "{Position, Team, Velocity}"


def test_an_emptied_table_is_skipped(world: World, load: Load) -> None:
    system = NativeSystem(load("movement"), world, InputState())
    world.despawn(world.tables[0].ids().copy())
    before = snapshot(world)
    system.run(float(DT))
    expected = before[2, "Position.y"] + before[2, "Velocity.y"] * DT
    np.testing.assert_array_equal(world.tables[2].column("Position.y"), expected)
    assert world.tables[0].count == 0


def velocity_change(world: World, system: NativeSystem) -> dict[int, np.ndarray]:
    before = snapshot(world)
    system.run(float(DT))
    return {
        t.id: np.stack(
            [t.column("Velocity.x") - before[t.id, "Velocity.x"], t.column("Velocity.y") - before[t.id, "Velocity.y"]]
        )
        for t in world.tables
        if "Velocity" in t.key
    }


def test_attractor_pulls_towards_the_mouse_with_the_tunables_strength(world: World, load: Load) -> None:
    inputs = InputState()
    inputs.update(mouse_x=160, mouse_y=120, in_window=True)
    inputs.begin_step()
    system = NativeSystem(load("attractor"), world, inputs)
    positions = {t.id: (t.column("Position.x").copy(), t.column("Position.y").copy()) for t in world.tables}
    dv = velocity_change(world, system)
    for table in world.tables:
        if "Velocity" not in table.key:
            continue
        if "Frozen" in table.key or "Color" not in table.key:
            # Frozen entities keep their velocity; what has no Color is not a particle (the games' entities).
            assert not dv[table.id].any(), table.label
            continue
        px, py = positions[table.id]
        away = np.abs(px - 160) > 1
        assert away.sum() > 10
        assert np.all(np.sign(dv[table.id][0][away]) == np.sign(160 - px[away])), table.label
        k = 90_000 * DT  # Tunables.attract's default
        expected = k * (160 - px) / ((160 - px) ** 2 + (120 - py) ** 2 + 2500)
        np.testing.assert_allclose(dv[table.id][0], expected, rtol=1e-3, atol=1e-4)

    world.resource("Tunables")["attract"] = 0
    assert not any(d.any() for d in velocity_change(world, system).values())
    world.resource("Tunables")["attract"] = 180_000
    doubled = velocity_change(world, system)
    np.testing.assert_allclose(doubled[0], 2 * dv[0], rtol=1e-3, atol=1e-4)

    inputs.update(buttons=4)  # the right button pushes away
    inputs.begin_step()
    pushed = velocity_change(world, system)
    np.testing.assert_allclose(pushed[0], -doubled[0], rtol=1e-3, atol=1e-4)


def test_attractor_without_a_mouse_pulls_gently_to_the_centre(world: World, load: Load) -> None:
    system = NativeSystem(load("attractor"), world, InputState())  # headless: mouse not in the window
    px = world.tables[0].column("Position.x").copy()
    dv = velocity_change(world, system)
    away = np.abs(px - 160) > 1
    assert np.all(np.sign(dv[0][0][away]) == np.sign(160 - px[away]))
    world.resource("Tunables")["idle_attract"] = 0
    assert not any(d.any() for d in velocity_change(world, system).values())


def test_lifetime_counts_down_and_despawns_through_commands(world: World, load: Load) -> None:
    timed = [t for t in world.tables if "Lifetime" in t.key]
    timed[0].column("Lifetime.seconds")[:30] = np.linspace(0.001, DT, 30, dtype=np.float32)  # run out now
    timed[0].column("Lifetime.seconds")[30:33] = -1  # ran out before: asked again
    timed[1].column("Lifetime.seconds")[:2] = 0.01  # frozen entities age too
    before = {t.id: t.column("Lifetime.seconds").copy() for t in timed}
    ids = {t.id: t.ids().copy() for t in timed}
    system = NativeSystem(load("lifetime"), world, InputState())
    system.run(float(DT))
    expired = np.concatenate([ids[t.id][before[t.id] - DT <= 0] for t in timed])
    assert len(expired) == 35
    assert world.alive(expired).all()  # nothing changes before the commands apply
    for t in timed:
        np.testing.assert_array_equal(t.column("Lifetime.seconds"), before[t.id] - DT)
    batch = system.take_commands()
    assert batch is not None and batch.problems == [] and batch.spawns == [] and batch.changes == []
    assert sorted(np.concatenate(batch.despawns).tolist()) == sorted(expired.tolist())
    count = world.count
    assert apply(world, "lifetime", batch) == []
    assert world.count == count - 35 and not world.alive(expired).any()
    assert system.take_commands() is None  # the buffer was emptied
    assert_consistent(world)


def test_a_command_buffer_overflow_is_reported_and_the_buffer_doubles(world: World, load: Load) -> None:
    n = COMMAND_RECORDS + 3000
    doomed = world.spawn(n, {"Lifetime": {"seconds": np.full(n, 0.001, dtype=np.float32)}, "Player": None})
    system = NativeSystem(load("lifetime"), world, InputState())
    system.run(float(DT))
    batch = system.take_commands()
    assert batch is not None
    assert batch.problems == [
        f"command buffer full: 3000 commands dropped ({COMMAND_RECORDS} kept); the buffer is doubled for the next step"
    ]
    problems = apply(world, "lifetime", batch)
    assert problems == [f"lifetime: {batch.problems[0]}"]
    assert int(world.alive(doomed).sum()) == 3000
    assert int(system._commands.cap) == 2 * COMMAND_RECORDS
    assert_consistent(world)
    # the dropped ones are still expired: the next step asks again, and the bigger buffer holds them
    system.run(float(DT))
    batch = system.take_commands()
    assert batch is not None and batch.problems == []
    assert apply(world, "lifetime", batch) == []
    assert not world.alive(doomed).any()
    assert int(system._commands.cap) == 2 * COMMAND_RECORDS
    assert_consistent(world)


def test_bounds_reflects_entities_outside_in_every_table(world: World, load: Load) -> None:
    for table in world.query("Position", "Velocity"):
        table.column("Position.x")[:3] = [-5, 330, 100]
        table.column("Velocity.x")[:3] = [-1, 2, 3]
    NativeSystem(load("bounds"), world, InputState()).run(float(DT))
    for table in world.query("Position", "Velocity"):
        assert table.column("Position.x")[:3].tolist() == [5, 310, 100], table.label
        assert table.column("Velocity.x")[:3].tolist() == [1, -2, 3], table.label
        assert table.column("Position.x").min() >= 0 and table.column("Position.x").max() <= 320
    assert world.tables[3].column("Position.x").tolist() == list(range(20))  # no Velocity: not a body


def test_colorize_paints_by_speed_against_tunables_max_speed(world: World, load: Load) -> None:
    table = world.tables[0]
    table.column("Velocity.x")[:3] = [0, 5000, 300]
    table.column("Velocity.y")[:3] = 0
    system = NativeSystem(load("colorize"), world, InputState())
    system.run(float(DT))
    color = table.column("Color.rgb")
    assert color[0] == 0x0000FF and (color[1] >> 16) == 0xFF
    assert len(np.unique(color)) > 10  # a ramp, not one colour
    half = int(color[2])
    world.resource("Tunables")["max_speed"] = 300  # 300 px/s is now the hottest
    system.run(float(DT))
    assert int(color[2]) == int(color[1]) != half


def test_render_plots_into_a_pixel_buffer(world: World, load: Load) -> None:
    pixels = np.zeros((240, 320), dtype=np.uint32)
    table = world.tables[0]
    table.column("Position.x")[:] = 10.5
    table.column("Position.y")[:] = 20.5
    table.column("Color.rgb")[:] = 0x123456
    NativeSystem(load("render"), world, InputState()).run(0.0, (pixels.ctypes.data, 320, 240, 320 * 4))
    assert pixels[20, 10] == 0x123456 and pixels[21, 11] == 0x123456
    assert np.count_nonzero(pixels) == 4  # only table 0 has Color: the others are not drawn


def test_a_bad_target_is_a_clear_error_not_a_crash(world: World, load: Load) -> None:
    system = NativeSystem(load("render"), world, InputState())
    with pytest.raises(SystemRunError, match=r"^render: run returned 3 \(bad_target\): BadTarget$"):
        system.run(0.0, (0, 320, 240, 1280))


FAULTY = """
//! A test system: counts its steps in Score, ages every Health, spawns a player each step,
//! and fails with a message of its own once the score reaches 3.
const sdk = @import("sdk");
const c = @import("components");
pub const panic = sdk.panic;

const Living = sdk.Query(.{ .health = .{ c.Health, .read_write } }, .{});
const W = sdk.World(.{ .queries = .{ .living = Living }, .resources = .{ .score = .{ c.Score, .write } } });

const api = sdk.system(W, .{ .name = "faulty", .build_id = 7, .order = 60, .run = run });

export fn plugin_entry() *const sdk.Api {
    return &api;
}

fn run(w: *W) !void {
    const score = w.resource(.score);
    score.value += 1;
    var tables = w.query(.living);
    while (tables.next()) |t| {
        for (t.health.hp) |*hp| hp.* -= 1;
    }
    w.spawn(.{ c.Position{ .x = @floatFromInt(score.value), .y = 2 }, c.Player{} });
    if (score.value >= 3) {
        w.say("score reached {d}", .{score.value});
        return error.TooHigh;
    }
}
"""


@pytest.fixture(scope="module")
def faulty(built_project: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The library of FAULTY, built by the real compiler in a copy of the project."""
    root = copy_project(tmp_path_factory.mktemp("faulty"), built_project)
    (root / "ecs_systems" / "faulty.zig").write_text(FAULTY)
    result = ZigBuild(root).run(timeout=600)
    assert result.ok, result.output
    return built_libraries(root / "zig-out")["faulty"]


def test_a_failing_system_raises_with_its_message_and_its_commands_are_dropped(
    world: World, faulty: Path, tmp_path: Path
) -> None:
    lib = NativeLibrary.load(faulty, tmp_path, version=1)
    try:
        hp = world.spawn(4, {"Health": {"hp": [10, 20, 30, 40]}})
        system = NativeSystem(lib, world, InputState())
        for step in (1, 2):
            system.run(float(DT))
            batch = system.take_commands()
            assert batch is not None and apply(world, "faulty", batch) == []
            assert int(world.resource("Score")["value"][0]) == step
        assert [int(world.get(int(e), "Health")["hp"]) for e in hp] == [8, 18, 28, 38]
        players = [t for t in world.query("Player")]
        assert [t.label for t in players] == ["{Player, Position}"]
        assert players[0].column("Position.x").tolist() == [1, 2]
        assert players[0].column("Position.y").tolist() == [2, 2]

        with pytest.raises(SystemRunError) as err:
            system.run(float(DT))
        assert str(err.value) == "faulty: run returned 1 (failed): score reached 3"
        assert system.take_commands() is None  # the failed step's spawn is not applied
        assert world.tables[-1].count == 2
        with pytest.raises(SystemRunError, match=r"score reached 4$"):  # a fresh message, not the old one
            system.run(float(DT))
        assert_consistent(world)
    finally:
        lib.close()
