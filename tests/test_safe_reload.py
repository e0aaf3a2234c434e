"""F5 on any edit is safe: every bad build is refused or undone with real libraries, and the
world afterwards equals what the old code alone would have produced."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pygame
import pytest

from game.app import Game
from game.native.abi import ABI_VERSION, ffi
from game.options import PROJECT_ROOT
from tests.conftest import REFERENCE_FRAMES, assert_consistent, assert_same, edit, headless, press, world_state

FRAMES = REFERENCE_FRAMES
EDIT_AT = 10

HEADER = """const std = @import("std");
const sdk = @import("sdk");
const c = @import("components");
pub const panic = sdk.panic;
"""

DEFAULT_SYSTEMS = tuple(
    p.stem
    for p in (PROJECT_ROOT / "ecs_systems").glob("*.zig")
    if p.stem not in ("components", "plugin_a", "plugin_b")  # the schema and the seed's demo plugins
)
"""Every system of the game: the particles' and the two games'."""
POSITIONS = ".{ .pos = .{ c.Position, .read_write } }"


def system(
    name: str,
    body: str,
    world: str = f".{{ .queries = .{{ .q = sdk.Query({POSITIONS}, .{{}}) }} }}",
    extra: str = "",
    spec: str = "",
    lie: str = "",
) -> str:
    """A system `name` (order 50) whose `run(w: *W) !void` is `body`. `world` is the
    `sdk.World` spec, `spec` more fields of `sdk.system`'s spec, and `lie` Zig statements
    that change the built Api `a` before it is exported (comptime)."""
    make = f'sdk.system(W, .{{ .name = "{name}", .build_id = 1, .order = 50, .run = run{spec} }})'
    api = f"const api = blk: {{\n    var a = {make};\n{lie}\n    break :blk a;\n}};" if lie else f"const api = {make};"
    return (
        HEADER
        + f"""
const W = sdk.World({world});
{extra}
fn run(w: *W) !void {{
{body}
}}
{api}
export fn plugin_entry() *const sdk.Api {{
    return &api;
}}
"""
    )


def run_with_edit(
    project: Path,
    change: Callable[[Path], None] | None,
    frames: int = FRAMES,
    setup: Callable[[Game], None] | None = None,
) -> Game:
    """FRAMES frames with `change` made and F5 pressed at frame EDIT_AT (`setup` runs right
    after start). Frames wait for the reload, so the step count is the same as the
    reference's. Returns the closed game, its last world in `final_state`."""
    game = Game(headless(project))
    try:
        assert game.start()
        if setup is not None:
            setup(game)
        while game.frame_index < frames:
            if game.frame_index == EDIT_AT and change is not None:
                change(project / "ecs_systems")
                press(game, pygame.K_F5)
            game.frame()
            if game.reloader.building:
                game.reloader.wait()
        assert_consistent(game)
        game.final_state = world_state(game)  # type: ignore[attr-defined]
        game.final_systems = {n: s.system.info.build_id for n, s in game.pipeline.slots.items()}  # type: ignore[attr-defined]
    finally:
        game.close()
    return game


def add(name: str, source: str) -> Callable[[Path], None]:
    return lambda systems: (systems / f"{name}.zig").write_text(source)


# Position declared as {x: u8, y: f32} in the library's schema: the lie of a stale build.
NARROW_POSITION = """const narrow = [_]sdk.FieldDecl{
    .{ .name = "x", .dtype = .u8, .width = 1, .offset = 0, .default = 0 },
    .{ .name = "y", .dtype = .f32, .width = 1, .offset = 4, .default = 0 },
};"""

BAD_SYSTEMS = {
    "segfault": (
        system("segfault", "    _ = w;\n    const p: *volatile u32 = @ptrFromInt(16);\n    p.* = 1;"),
        r"canary caught segfault: segfault in run: at address 0x10 at step \d+",
    ),
    "panic": (
        system(
            "panic",
            "    var tables = w.query(.q);\n    while (tables.next()) |t| {\n"
            "        t.pos.x[t.len + @as(usize, @intCast(w.step() % 2))] = 1;\n    }",
        ),
        r"canary caught panic: panic in run: index out of bounds: index 20\d\d, len 2000",
    ),
    "endless_loop": (
        system("endless_loop", "    while (@as(*volatile u64, &w.frame.step).* != std.math.maxInt(u64)) {}"),
        r"canary caught endless_loop: hang in run: no return after 1\.00 s \(the bound is 1 s\)",
    ),
    "error_status": (
        system("error_status", '    w.say("deliberately failing", .{});\n    return error.Sulky;'),
        r"error_status: run returned 1 \(failed\): deliberately failing",
    ),
    "wrong_abi": (
        system("wrong_abi", "    _ = w;", lie="    a.abi_version = 99;"),
        rf"ecs_systems/wrong_abi\.zig: ABI version 99, host expects {ABI_VERSION}; rebuild with the current sdk",
    ),
    "wrong_api_size": (
        system("wrong_api_size", "    _ = w;", lie="    a.api_size = 100;"),
        rf"Api struct is 100 bytes, host expects {ffi.sizeof('Api')}; rebuild with the current sdk",
    ),
    "incompatible_field": (
        system(
            "incompatible_field",
            "    _ = w;",
            extra=NARROW_POSITION,
            lie="    var s = sdk.schema[0..sdk.schema.len].*;\n    s[sdk.componentId(c.Position)].fields = &narrow;\n"
            "    const final = s;\n    a.schema = &final;",
        ),
        r"incompatible_field\.zig: Position\.x is u8 in this build, the world \(and the systems running\) have f32",
    ),
}


@pytest.mark.parametrize("case", sorted(BAD_SYSTEMS))
def test_a_bad_new_build_is_refused_and_the_world_is_untouched(
    case: str, project: Path, reference: dict[str, np.ndarray]
) -> None:
    source, reason = BAD_SYSTEMS[case]
    game = run_with_edit(project, add(case, source))
    assert game.reloader.message.startswith("refused:"), game.reloader.message
    assert re.search(reason, game.reloader.message), game.reloader.message
    assert sorted(game.final_systems) == sorted(DEFAULT_SYSTEMS)  # type: ignore[attr-defined]
    assert_same(reference, game.final_state)  # type: ignore[attr-defined]


def components_edit(old: str, new: str) -> Callable[[Path], None]:
    return lambda systems: edit(systems / "components.zig", old, new)


def test_a_new_field_is_added_with_its_default_and_nothing_is_lost(
    project: Path, reference: dict[str, np.ndarray]
) -> None:
    game = run_with_edit(
        project,
        components_edit(
            "pub const Position = struct { x: f32 = 0, y: f32 = 0 };",
            "pub const Position = struct { x: f32 = 0, y: f32 = 0, z: f32 = 2.5 };",
        ),
    )
    state = dict(game.final_state)  # type: ignore[attr-defined]
    assert "refused" not in game.reloader.message and "movement rebuilt" in game.reloader.message
    assert game.world.schema["Position"].field("z").default == 2.5
    added = [k for k in state if k.endswith(".Position.z")]
    assert added and all(k.replace(".Position.z", ".Position.x") in state for k in added)
    for key in added:  # every entity with a Position got the default
        z = state.pop(key)
        assert z.dtype == np.float32 and len(z) == len(state[key.replace(".z", ".x")])
        np.testing.assert_array_equal(z, np.full(len(z), 2.5, dtype=np.float32))
    assert "['z', 1, 1, 2.5, 8]" in str(state.pop("meta.schema"))  # f32, width 1, default 2.5, offset 8
    assert_same({k: v for k, v in reference.items() if k != "meta.schema"}, state)


HEALTHY = 100


def spawn_healthy(game: Game) -> None:
    """Some entities that also have a Health (hp 0..99), before any reload."""
    n = HEALTHY
    game.world.spawn(
        n,
        {
            "Position": {"x": np.linspace(10, 300, n), "y": np.linspace(10, 230, n)},
            "Velocity": {"x": np.full(n, 30.0), "y": np.full(n, -20.0)},
            "Color": None,
            "Health": {"hp": np.arange(n, dtype=np.int32)},
        },
    )


@pytest.fixture(scope="module")
def healthy_reference(built_project: Path) -> dict[str, np.ndarray]:
    """The world of `run_with_edit` with `spawn_healthy` and no edit: what the old code alone makes."""
    return run_with_edit(built_project, None, setup=spawn_healthy).final_state  # type: ignore[attr-defined,no-any-return]


def hp_columns(state: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    return {k: v for k, v in state.items() if k.endswith(".Health.hp")}


def test_a_widened_field_keeps_its_values(project: Path, healthy_reference: dict[str, np.ndarray]) -> None:
    game = run_with_edit(project, components_edit("hp: i32 = 100", "hp: i64 = 100"), setup=spawn_healthy)
    assert "refused" not in game.reloader.message, game.reloader.message
    state = dict(game.final_state)  # type: ignore[attr-defined]
    expected = hp_columns(healthy_reference)
    assert expected and hp_columns(state).keys() == expected.keys()
    for key, old in expected.items():
        new = state.pop(key)
        assert old.dtype == np.int32 and new.dtype == np.int64
        np.testing.assert_array_equal(new, old.astype(np.int64))
    assert sum(len(v) for v in expected.values()) == HEALTHY
    state.pop("meta.schema")
    assert_same({k: v for k, v in healthy_reference.items() if k not in expected and k != "meta.schema"}, state)


def test_a_narrowed_field_is_refused_and_the_world_is_untouched(
    project: Path, healthy_reference: dict[str, np.ndarray]
) -> None:
    game = run_with_edit(project, components_edit("hp: i32 = 100", "hp: u8 = 100"), setup=spawn_healthy)
    assert game.reloader.message.startswith(
        "refused: ecs_systems/components.zig: Health.hp declared u8, the world has i32"
    )
    assert "only widening" in game.reloader.message
    assert all(lib.closed for outcome in game.reloader.round for lib in outcome.ready)
    assert game.world.schema["Health"].field("hp").dtype.label == "i32"
    assert_same(healthy_reference, game.final_state)  # type: ignore[attr-defined]


HEALER = system(
    "healer",
    "    var tables = w.query(.q);\n    while (tables.next()) |t| {\n        for (t.h.hp) |*hp| hp.* += 1;\n    }",
    world=".{ .queries = .{ .q = sdk.Query(.{ .h = .{ c.Health, .read_write } }, .{}) } }",
)


def test_a_widening_a_still_running_build_was_not_made_for_is_refused(project: Path) -> None:
    """components.zig widens Health.hp, but healer's new build is refused (it crashes in the
    canary), so the old healer, built for i32, keeps running: the change is refused, and so
    is every new build made for it. Nothing changes; healer keeps counting."""
    systems = project / "ecs_systems"
    (systems / "healer.zig").write_text(HEALER)
    game = Game(headless(project))
    try:
        assert game.start()
        spawn_healthy(game)
        for _ in range(5):
            game.frame()
        live = {n: s.system.library for n, s in game.pipeline.slots.items()}
        before = world_state(game)
        hp = np.concatenate([t.column("Health.hp") for t in game.world.query("Health")])
        np.testing.assert_array_equal(np.sort(hp), np.arange(HEALTHY) + 5)

        edit(systems / "components.zig", "hp: i32 = 100", "hp: i64 = 100")
        edit(systems / "healer.zig", "var tables", "_ = @as(*volatile u32, @ptrFromInt(16)).*;\n    var tables")
        press(game, pygame.K_F5)
        game.frame()
        game.reloader.wait()
        game.frame()
        refused = " | ".join(game.reloader.round[0].refused)
        assert "healer.zig: canary caught healer: segfault in run" in refused
        assert (
            "ecs_systems/components.zig: change refused: ecs_systems/healer.zig (running): Health.hp is i32" in refused
        )
        assert "movement.zig: Health.hp is i64 in this build" in refused  # built for the refused schema
        assert {n: s.system.library for n, s in game.pipeline.slots.items()} == live
        assert game.world.schema["Health"].field("hp").dtype.label == "i32"
        hp = np.concatenate([t.column("Health.hp") for t in game.world.query("Health")])
        assert hp.dtype == np.int32
        np.testing.assert_array_equal(np.sort(hp), np.arange(HEALTHY) + 7)
        after = world_state(game)
        assert [k for k in after if k.endswith("entities")] == [k for k in before if k.endswith("entities")]
        for key in (k for k in before if k.endswith("entities")):  # every entity kept, same ids
            np.testing.assert_array_equal(after[key], before[key])
        assert_consistent(game)
    finally:
        game.close()


COUNTER = system(
    "counter",
    "    calls += 1;\n    w.resource(.score).value = calls;",
    world=".{ .resources = .{ .score = .{ c.Score, .write } } }",
    extra="""var calls: i64 = 0;
fn save(buf: [*]u8, cap: u64, len: *u64) callconv(.c) i32 {
    if (cap < 8) return 1;
    std.mem.writeInt(i64, buf[0..8], calls, .little);
    len.* = 8;
    return sdk.ok;
}
fn load(buf: [*]const u8, len: u64, version: u32) callconv(.c) i32 {
    if (len != 8 or version != 1) return 1;
    calls = std.mem.readInt(i64, buf[0..8], .little);
    return sdk.ok;
}""",
    spec=", .state_version = 1, .save_state = save, .load_state = load",
)


def score(game: Game) -> int:
    return int(game.world.resource("Score")["value"][0])


def test_plugin_state_is_carried_across_a_reload_and_a_misfit_is_dropped(project: Path) -> None:
    systems = project / "ecs_systems"
    (systems / "counter.zig").write_text(COUNTER)
    game = Game(headless(project))
    try:
        assert game.start()
        for _ in range(7):
            game.frame()
        assert score(game) == 7
        edit(systems / "counter.zig", ".build_id = 1", ".build_id = 2")
        press(game, pygame.K_F5)
        game.frame()  # step 8 runs the old build, then the reload lands
        game.reloader.wait()
        game.frame()
        assert game.pipeline.slots["counter"].system.info.build_id == 2
        assert score(game) == 9  # counted on, not restarted
        for build_id, expected in ((1, 10), (2, 11)):  # F6 back and forth: the state goes along
            press(game, pygame.K_F6)
            game.frame()
            assert game.pipeline.slots["counter"].system.info.build_id == build_id
            assert score(game) == expected

        edit(systems / "counter.zig", ".state_version = 1", ".state_version = 2")
        edit(systems / "counter.zig", "version != 1", "version != 2")
        press(game, pygame.K_F5)
        game.frame()
        game.reloader.wait()
        game.frame()
        assert game.pipeline.slots["counter"].system.info.state_version == 2
        assert score(game) == 1  # refused state: a fresh start
    finally:
        game.close()


def test_a_build_failing_in_its_first_frames_is_rolled_back_with_the_world(
    project: Path, reference: dict[str, np.ndarray]
) -> None:
    """Passes the canary (it runs steps 10-14), fails from step 16 on: rolled back, replayed."""

    def fail_later(systems: Path) -> None:
        source = systems / "movement.zig"
        edit(source, "fn run(w: *W) !void {", "fn run(w: *W) !void {\n    if (w.step() > 15) return error.Boom;")
        edit(source, "build_id: u32 = 1;", "build_id: u32 = 2;")

    game = run_with_edit(project, fail_later)
    assert game.reloader.message.startswith("rolled back: movement: run returned 1 (failed): Boom"), (
        game.reloader.message
    )
    assert game.final_systems["movement"] == 1  # type: ignore[attr-defined]
    assert_same(reference, game.final_state)  # type: ignore[attr-defined]


def test_a_new_system_failing_in_its_first_frames_is_removed_with_what_it_did(
    project: Path, reference: dict[str, np.ndarray]
) -> None:
    """A brand-new system that adds a field, spawns, then fails: after the rollback neither
    the system, nor its entities, nor the field are there."""
    spawner = system(
        "spawner",
        "    if (w.step() > 15) return error.Boom;\n    w.spawn(.{ c.Position{ .x = 5, .y = 5 }, c.Health{} });",
    )

    def change(systems: Path) -> None:
        add("spawner", spawner)(systems)
        edit(systems / "components.zig", "hp: i32 = 100", "hp: i32 = 100, armour: u8 = 3")

    game = run_with_edit(project, change)
    assert game.reloader.message.startswith("rolled back: spawner: run returned 1 (failed): Boom"), (
        game.reloader.message
    )
    assert_same(reference, game.final_state)  # type: ignore[attr-defined]


def test_f6_flips_between_the_last_two_builds_without_a_rebuild(project: Path) -> None:
    game = Game(headless(project))
    try:
        assert game.start()
        edit(project / "ecs_systems" / "bounds.zig", "build_id: u32 = 1;", "build_id: u32 = 2;")
        press(game, pygame.K_F5)
        game.frame()
        game.reloader.wait()
        assert game.pipeline.slots["bounds"].system.info.build_id == 2
        count = game.world.count
        for expected in (1, 2, 1):
            press(game, pygame.K_F6)
            game.frame()
            assert not game.reloader.building
            assert game.pipeline.slots["bounds"].system.info.build_id == expected
            assert game.reloader.message.startswith(f"flipped bounds to build {expected}")
        assert game.world.count == count
        assert_consistent(game)
    finally:
        game.close()
