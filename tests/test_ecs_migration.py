"""Editing components.zig and pressing F5 in a running game migrates the world by component
and field name (a new component, a new field with its default, a wider field), and refuses
every change that would lose data, naming the component and the field, with the world
left bit-identical and the systems running."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pygame
import pytest

from game.app import Game
from tests.conftest import assert_consistent, assert_same, edit, press, world_state
from tests.test_ecs_reload import f5, started

MEDIC = """//! Medic (a test system): every Health entity gains 1 hp a step.
const std = @import("std");
const sdk = @import("sdk");
const c = @import("components");
pub const panic = sdk.panic;

pub const build_id: u32 = 1;

const Patients = sdk.Query(.{ .health = .{ c.Health, .read_write } }, .{});
const W = sdk.World(.{ .queries = .{ .patients = Patients } });

const api = sdk.system(W, .{ .name = "NAME", .build_id = build_id, .order = 60, .run = run });

export fn plugin_entry() *const sdk.Api {
    return &api;
}

fn run(w: *W) !void {
    var patients = w.query(.patients);
    while (patients.next()) |t| {
        for (t.health.hp) |*hp| hp.* += 1;
    }
}
"""

HEALTH = "pub const Health = struct { hp: i32 = 100 };"
PATIENTS = 50


def spawn_patients(game: Game) -> np.ndarray:
    """50 entities holding Health (hp 10..59) and a Position, alongside the scene's."""
    n = PATIENTS
    return game.world.spawn(
        n,
        {
            "Position": {"x": np.linspace(0, 300, n, dtype=np.float32), "y": np.full(n, 20, np.float32)},
            "Health": {"hp": np.arange(10, 10 + n)},
        },
    )


def hp(game: Game, ids: np.ndarray) -> np.ndarray:
    return np.array([game.world.get(int(e), "Health")["hp"] for e in ids])


def pause(game: Game) -> None:
    press(game, pygame.K_SPACE)
    game.frame()
    assert game.paused


def resume(game: Game) -> None:
    press(game, pygame.K_SPACE)
    game.frame()
    assert not game.paused


def running_on(game: Game, frames: int = 3) -> None:
    """The systems keep running: steps advance, the scene moves, no system is off."""
    step = game.world.step
    body = game.world.tables[0]
    x = body.column("Position.x").copy()
    for _ in range(frames):
        game.frame()
    assert game.world.step == step + frames
    assert not np.array_equal(body.column("Position.x"), x)
    assert all(s.error is None for s in game.pipeline.slots.values())
    assert_consistent(game)


def test_components_zig_edits_migrate_a_running_world_by_name(project: Path) -> None:
    (project / "ecs_systems" / "medic.zig").write_text(MEDIC.replace("NAME", "medic"))
    components = project / "ecs_systems" / "components.zig"
    game = started(project)
    try:
        patients = spawn_patients(game)
        for _ in range(5):
            game.frame()
        np.testing.assert_array_equal(hp(game, patients), np.arange(10, 10 + PATIENTS) + 5)  # medic runs
        medic = game.pipeline.slots["medic"]
        pause(game)

        # A new component: the schema gains it, nothing else changes.
        before = world_state(game)
        edit(components, "/// Tags.", "pub const Mass = struct { m: f32 = 2.5 };\n/// Tags.")
        f5(game)
        assert not game.reloader.round[0].refused, game.reloader.round[0].refused
        assert "Mass" in game.world.schema and game.world.schema["Mass"].field("m").default == 2.5
        after = world_state(game)
        assert after["meta.schema"] != before["meta.schema"]
        assert_same(
            {k: v for k, v in before.items() if k != "meta.schema"},
            {k: v for k, v in after.items() if k != "meta.schema"},
        )
        assert game.pipeline.slots["medic"] is not medic  # every library carries the schema: all rebuilt

        # A new field in a component entities hold: each gets the default, hp unchanged.
        values = hp(game, patients)
        edit(components, HEALTH, "pub const Health = struct { hp: i32 = 100, armor: i32 = 3 };")
        f5(game)
        assert not game.reloader.round[0].refused
        for e, value in zip(patients.tolist(), values.tolist(), strict=True):
            assert game.world.get(e, "Health") == {"hp": value, "armor": 3}
        assert game.world.get(int(patients[0]), "Health")["armor"].dtype == np.int32

        # A wider field and a new field in a resource: values kept.
        game.world.resource("Score")["value"] = -(2**40)
        game.world.resource("Tunables")["max_speed"] = 777.25
        edit(components, "hp: i32 = 100, armor", "hp: i64 = 100, armor")
        edit(components, "value: i64 = 0,", "value: i64 = 0,\n    bonus: u8 = 7,")
        f5(game)
        assert not game.reloader.round[0].refused
        widened = hp(game, patients)
        assert widened.dtype == np.int64
        np.testing.assert_array_equal(widened, values)
        tunables, score = game.world.resource("Tunables"), game.world.resource("Score")
        assert tunables["max_speed"][0] == 777.25
        assert tunables["attract"][0] == np.float32(90_000)
        assert score["value"][0] == -(2**40) and score["bonus"][0] == 7
        assert_consistent(game)

        # The medic, rebuilt against hp: i64, works on the widened column.
        resume(game)
        running_on(game)
        np.testing.assert_array_equal(hp(game, patients), values + 4)  # resume's frame and three more
        assert all(game.world.get(e, "Health")["armor"] == 3 for e in patients.tolist())
    finally:
        game.close()


def test_components_zig_edits_that_would_lose_data_are_refused_and_change_nothing(project: Path) -> None:
    components = project / "ecs_systems" / "components.zig"
    original = components.read_text()
    game = started(project)
    try:
        spawn_patients(game)
        for _ in range(3):
            game.frame()
        pause(game)
        before = world_state(game)

        def refused(new_health: str, *expected: str) -> list[str]:
            components.write_text(original.replace(HEALTH, new_health))
            f5(game)
            outcome = game.reloader.round[0]
            assert outcome is not None and outcome.refused
            first = outcome.refused[0]
            assert first.startswith("ecs_systems/components.zig"), first
            for text in expected:
                assert text in first, (text, first)
            assert game.reloader.message.startswith(f"refused: {first}")
            assert_same(before, world_state(game))
            assert game.world.schema["Health"].field("hp").dtype.label == "i32"
            return outcome.refused

        def libraries() -> dict[str, object]:
            return {name: slot.system.library for name, slot in game.pipeline.slots.items()}

        live = libraries()
        reasons = refused("pub const Health = struct { hp: u8 = 100 };", "Health.hp declared u8, the world has i32")
        # Every system was rebuilt against hp: u8 too: each is refused by name, the old builds run on.
        assert {r.split(":")[0] for r in reasons[1:]} == {f"ecs_systems/{n}.zig" for n in live}
        assert all("Health.hp is u8 in this build" in r for r in reasons[1:]), reasons
        assert libraries() == live

        # Removals: refused for the world. The systems rebuilt against the edited file know
        # nothing the world disagrees with (they see Health as a tag, or not at all), so
        # they may run; what matters is that no data went.
        refused("pub const Health = struct {};", "removes field Health.hp, which entities still hold")
        refused("", "removes Health, which entities still have")

        # A retyped field and a new system built against it in the same F5: the schema change
        # is refused, and so is the system, naming itself, the component and the field.
        live = libraries()
        (project / "ecs_systems" / "healer.zig").write_text(MEDIC.replace("NAME", "healer"))
        reasons = refused("pub const Health = struct { hp: f32 = 100 };", "Health.hp declared f32, the world has i32")
        healer = [r for r in reasons if "healer" in r]
        assert len(healer) == 1, reasons
        assert healer[0].startswith("ecs_systems/healer.zig: Health.hp is f32 in this build"), healer
        assert "healer" not in game.pipeline.slots
        assert libraries() == live

        resume(game)
        running_on(game)
        assert_consistent(game)
    finally:
        game.close()


def test_rewinding_past_a_components_zig_change_migrates_the_checkpoint_or_refuses(
    project: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """R after F5 migrated the world: the systems are built against the new schema, so a
    checkpoint from before the change comes back migrated (as a world file does), or, when
    that would lose its data, the rewind is refused and nothing changes."""
    components = project / "ecs_systems" / "components.zig"
    mass = "pub const Mass = struct { m: f32 = 2.5 };\n"
    edit(components, "/// Tags.", mass + "/// Tags.")
    (project / "ecs_systems" / "medic.zig").write_text(MEDIC.replace("NAME", "medic"))
    game = started(project)
    try:
        patients = spawn_patients(game)
        heavy = game.world.spawn(5, {"Position": {"x": np.full(5, 9.0, np.float32)}, "Mass": {"m": 7.0}})
        while game.world.step < 15:
            game.frame()
        game.world.despawn(heavy)  # the checkpoint of step 10 still holds them
        while game.world.step < 25:
            game.frame()
        # Mass goes (no entity holds it now), Health.hp widens and gains armor.
        edit(components, mass, "")
        edit(components, HEALTH, "pub const Health = struct { hp: i64 = 100, armor: i32 = 3 };")
        f5(game)
        assert not game.reloader.round[0].refused, game.reloader.round[0].refused
        assert "Mass" not in game.world.schema
        migrated_at = game.world.step
        while game.world.step < 30:
            game.frame()

        # Back one second is before the oldest checkpoint, step 0 (the recovery's first): its
        # Mass entities cannot come back.
        pause(game)
        before = world_state(game)
        press(game, pygame.K_r)
        game.frame()
        assert_same(before, world_state(game))
        said = [r.getMessage() for r in caplog.records if "cannot rewind" in r.getMessage()]
        assert len(said) == 1 and "rewind to step 0: removes Mass, which entities still have" in said[0], said
        resume(game)

        # Later, back one second is the checkpoint of step 20: before the change, no Mass.
        while game.world.step < 81:
            game.frame()
        press(game, pygame.K_r)
        game.frame()
        assert game.world.step == 21 < migrated_at
        assert game.world.schema["Health"].field("hp").dtype.label == "i64" and "Mass" not in game.world.schema
        values = hp(game, patients)
        assert values.dtype == np.int64
        np.testing.assert_array_equal(values, np.arange(10, 10 + PATIENTS) + game.world.step)
        assert all(game.world.get(e, "Health")["armor"] == 3 for e in patients.tolist())
        assert_consistent(game)
        running_on(game)  # the medic, built against hp: i64, runs on the rewound world
        np.testing.assert_array_equal(hp(game, patients), np.arange(10, 10 + PATIENTS) + game.world.step)
    finally:
        game.close()
