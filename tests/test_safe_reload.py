"""F5 on any edit is safe: every bad build is refused or undone with real libraries, and the
world afterwards equals what the old code alone would have produced."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pygame
import pytest

from game.app import Game
from tests.conftest import REFERENCE_FRAMES, assert_same, edit, headless, press, world_state

FRAMES = REFERENCE_FRAMES
EDIT_AT = 10

HEADER = """const std = @import("std");
const sdk = @import("sdk");
pub const panic = sdk.panic;
"""


def system(
    name: str, body: str, columns: str = 'sdk.col("pos_x", .f32, 1, .read_write)', extra: str = "", api: str = ""
) -> str:
    return (
        HEADER
        + f"""
const columns = [_]sdk.ColumnDecl{{ {columns} }};
{extra}
fn run(frame: *sdk.Frame) callconv(.c) i32 {{
{body}
}}
const api = sdk.api(.{{ .name = "{name}", .build_id = 1, .order = 50, .columns = &columns, .run = run{api} }});
export fn plugin_entry() *const sdk.Api {{
    return &api;
}}
"""
    )


def run_with_edit(project: Path, change: Callable[[Path], None], frames: int = FRAMES) -> Game:
    """FRAMES frames with `change` made and F5 pressed at frame EDIT_AT. Frames wait for the
    reload, so the step count is the same as the reference's. Returns the closed game."""
    game = Game(headless(project))
    try:
        assert game.start()
        while game.frame_index < frames:
            if game.frame_index == EDIT_AT:
                change(project / "ecs_systems")
                press(game, pygame.K_F5)
            game.frame()
            if game.reloader.building:
                game.reloader.wait()
        game.final_state = world_state(game)  # type: ignore[attr-defined]
    finally:
        game.close()
    return game


def add(name: str, source: str) -> Callable[[Path], None]:
    return lambda systems: (systems / f"{name}.zig").write_text(source)


BAD_SYSTEMS = {
    "segfault": (
        system(
            "segfault",
            "    const p: *volatile u32 = @ptrFromInt(16);\n    p.* = 1;\n    _ = frame;\n    return sdk.ok;",
        ),
        r"canary crashed \(killed by SIGSEGV\)",
    ),
    "panic": (
        system(
            "panicky",
            "    const xs = sdk.slice(frame, 0, .f32) catch return 2;\n"
            "    xs[xs.len + @as(usize, @intCast(frame.step % 2))] = 1;\n    return sdk.ok;",
        ),
        r"canary crashed \(killed by SIG\w+\): zig system panic: index out of bounds",
    ),
    "endless_loop": (
        system(
            "spinner", "    while (@as(*volatile u64, &frame.step).* != std.math.maxInt(u64)) {}\n    return sdk.ok;"
        ),
        r"canary did not finish 5 frames within 3 s \(endless loop\?\)",
    ),
    "error_status": (
        system("sulky", '    return sdk.report(frame, .failed, "deliberately failing", .{});'),
        r"sulky: run returned 1 \(failed\): deliberately failing",
    ),
    "wrong_abi": (
        system("stale", "    _ = frame;\n    return sdk.ok;")
        .replace("const api = sdk.api(", "const api = stale_abi(sdk.api(")
        .replace(
            "});\nexport",
            "}));\nfn stale_abi(a: sdk.Api) sdk.Api {\n    var b = a;\n    b.abi_version = 99;\n"
            "    return b;\n}\nexport",
        ),
        r"ABI version 99, host expects 1; rebuild with the current sdk",
    ),
    "incompatible_column": (
        system("narrow", "    _ = frame;\n    return sdk.ok;", columns='sdk.col("pos_x", .u8, 1, .read)'),
        r"column pos_x declared u8x1, the world has f32x1; only widening",
    ),
}


@pytest.mark.parametrize("case", sorted(BAD_SYSTEMS))
def test_a_bad_new_build_is_refused_and_the_world_is_untouched(
    case: str, project: Path, reference: dict[str, np.ndarray]
) -> None:
    source, reason = BAD_SYSTEMS[case]
    game = run_with_edit(project, add(case, source))
    assert game.reloader.message.startswith("refused:")
    assert __import__("re").search(reason, game.reloader.message), game.reloader.message
    assert sorted(game.final_state) == sorted(reference)  # type: ignore[attr-defined]
    assert_same(reference, game.final_state)  # type: ignore[attr-defined]


def test_a_new_column_is_added_with_its_default_and_nothing_is_lost(
    project: Path, reference: dict[str, np.ndarray]
) -> None:
    source = system(
        "massive",
        "    const m = sdk.slice(frame, 0, .f32) catch return 2;\n    for (m) |*v| v.* += 0;\n    return sdk.ok;",
        columns='sdk.col("mass", .f32, 1, .read_write).withDefault(2.5)',
    )
    game = run_with_edit(project, add("massive", source))
    state = game.final_state  # type: ignore[attr-defined]
    assert "massive" in game.reloader.message
    np.testing.assert_array_equal(state.pop("mass"), np.full(len(state["ids"]), 2.5, dtype=np.float32))
    assert_same(reference, state)


def test_a_widened_column_keeps_its_values_and_a_conflicting_widening_is_refused(project: Path) -> None:
    systems = project / "ecs_systems"
    (systems / "heat.zig").write_text(
        system(
            "heat",
            "    const h = sdk.slice(frame, 0, .f32) catch return 2;\n    for (h) |*v| v.* += 1;\n    return sdk.ok;",
            columns='sdk.col("heat", .f32, 1, .read_write)',
        )
    )
    game = Game(headless(project))
    try:
        assert game.start()
        for _ in range(5):
            game.frame()
        assert game.world.store.column("heat").tolist() == [5.0] * game.world.count
        edit(systems / "heat.zig", 'sdk.col("heat", .f32, 1, .read_write)', 'sdk.col("heat", .f64, 2, .read_write)')
        edit(systems / "heat.zig", "sdk.slice(frame, 0, .f32)", "sdk.slice(frame, 0, .f64)")
        press(game, pygame.K_F5)
        game.frame()
        game.reloader.wait()
        heat = game.world.store.column("heat")
        assert heat.dtype == np.float64 and heat.shape == (game.world.count, 2)
        assert heat[:, 0].tolist() == [6.0] * game.world.count and heat[:, 1].tolist() == [0.0] * game.world.count
        ids_before = game.world.store.ids.copy()

        edit(
            systems / "movement.zig", 'sdk.col("pos_x", .f32, 1, .read_write)', 'sdk.col("pos_x", .f64, 1, .read_write)'
        )
        edit(systems / "movement.zig", "sdk.slice(frame, 0, .f32)", "sdk.slice(frame, 0, .f64)")
        edit(systems / "movement.zig", "integrate(px, vx, frame.dt);", "for (px, vx) |*p, v| p.* += v * frame.dt;")
        press(game, pygame.K_F5)
        game.frame()
        game.reloader.wait()
        assert "but attractor still declares f32x1" in game.reloader.message
        assert game.world.store.column("pos_x").dtype == np.float32
        np.testing.assert_array_equal(game.world.store.ids, ids_before)
    finally:
        game.close()


COUNTER = system(
    "counter",
    "    calls += 1;\n    const t = sdk.slice(frame, 0, .u32) catch return 2;\n"
    "    @memset(t, calls);\n    return sdk.ok;",
    columns='sdk.col("ticks", .u32, 1, .write)',
    extra="""var calls: u32 = 0;
fn save(buf: [*]u8, cap: u64, len: *u64) callconv(.c) i32 {
    if (cap < 4) return 1;
    std.mem.writeInt(u32, buf[0..4], calls, .little);
    len.* = 4;
    return sdk.ok;
}
fn load(buf: [*]const u8, len: u64, version: u32) callconv(.c) i32 {
    if (len != 4 or version != 1) return 1;
    calls = std.mem.readInt(u32, buf[0..4], .little);
    return sdk.ok;
}""",
    api=", .state_version = 1, .save_state = save, .load_state = load",
)


def test_plugin_state_is_carried_across_a_reload_and_a_misfit_is_dropped(project: Path) -> None:
    systems = project / "ecs_systems"
    (systems / "counter.zig").write_text(COUNTER)
    game = Game(headless(project))
    try:
        assert game.start()
        for _ in range(7):
            game.frame()
        assert set(game.world.store.column("ticks").tolist()) == {7}
        edit(systems / "counter.zig", ".build_id = 1", ".build_id = 2")
        press(game, pygame.K_F5)
        game.frame()  # step 8 runs the old build, then the reload lands
        game.reloader.wait()
        game.frame()
        assert game.pipeline.slots["counter"].system.info.build_id == 2
        assert set(game.world.store.column("ticks").tolist()) == {9}  # counted on, not restarted

        edit(systems / "counter.zig", ".state_version = 1", ".state_version = 2")
        edit(systems / "counter.zig", "version != 1", "version != 2")
        press(game, pygame.K_F5)
        game.frame()
        game.reloader.wait()
        game.frame()
        assert set(game.world.store.column("ticks").tolist()) == {1}  # refused state: a fresh start
    finally:
        game.close()


def test_a_build_failing_in_its_first_frames_is_rolled_back_with_the_world(
    project: Path, reference: dict[str, np.ndarray]
) -> None:
    """Passes the canary (its first 5 calls are fine), fails on the 8th live call."""

    def fail_later(systems: Path) -> None:
        source = systems / "movement.zig"
        edit(
            source,
            "fn run(frame: *sdk.Frame) callconv(.c) i32 {",
            "var calls: u32 = 0;\nfn run(frame: *sdk.Frame) callconv(.c) i32 {\n    calls += 1;\n"
            '    if (calls == 8) return sdk.report(frame, .failed, "late failure", .{});',
        )
        edit(source, "build_id: u32 = 1;", "build_id: u32 = 2;")

    game = run_with_edit(project, fail_later)
    assert game.reloader.message.startswith("rolled back: movement: run returned 1 (failed): late failure")
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
        for expected in (1, 2, 1):
            press(game, pygame.K_F6)
            game.frame()
            assert not game.reloader.building
            assert game.pipeline.slots["bounds"].system.info.build_id == expected
    finally:
        game.close()
