"""F5 in the middle of structural churn (spawns, despawns, tags added and removed, entity
references) through the real event loop and the real compiler: the world after the swap
is bit-identical, ids included, to a run that never reloaded."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pygame
import pytest

from bench.frames import copy_project
from game.app import Game
from tests.conftest import assert_consistent, assert_same, edit, headless, press, world_state

CHURN = """//! Churn (a test system): every step spawns entities of three component sets, wears
//! Health down (despawned at 0), points new entities at live Health entities (Target),
//! and freezes / thaws entities with the Frozen tag. Random choices come from the Rng
//! resource, so the run is reproducible.
const std = @import("std");
const sdk = @import("sdk");
const c = @import("components");
pub const panic = sdk.panic;

pub const build_id: u32 = 1;

const Healthy = sdk.Query(.{ .hp = .{ c.Health, .read_write } }, .{});
const Thawed = sdk.Query(.{ .pos = .{ c.Position, .read } }, .{ .without = .{ c.Frozen, c.Lifetime, c.Health } });
const Frozen = sdk.Query(.{ .pos = .{ c.Position, .read } }, .{ .with = .{c.Frozen} });
const W = sdk.World(.{
    .queries = .{ .healthy = Healthy, .thawed = Thawed, .frozen = Frozen },
    .resources = .{ .rng = .{ c.Rng, .write } },
});

const api = sdk.system(W, .{ .name = "churn", .build_id = build_id, .order = 60, .run = run });

export fn plugin_entry() *const sdk.Api {
    return &api;
}

fn run(w: *W) !void {
    const rng = &w.resource(.rng).state;
    const step = w.step();
    var target: sdk.Entity = .none;
    var healthy = w.query(.healthy);
    while (healthy.next()) |t| {
        for (t.hp.hp, t.entities) |*hp, e| {
            hp.* -= 1;
            if (hp.* == 0) {
                w.despawn(e);
            } else if (target == .none and hp.* > 3) {
                target = e;
            }
        }
    }
    const n = 1 + sdk.nextRandom(rng) % 3;
    for (0..n) |_| {
        const x = sdk.randomFloat(rng) * w.width();
        const y = sdk.randomFloat(rng) * w.height();
        const life = 0.05 + sdk.randomFloat(rng) * 0.3;
        w.spawn(.{ c.Position{ .x = x, .y = y }, c.Velocity{ .x = 40, .y = -20 }, c.Lifetime{ .seconds = life } });
        const hp: i32 = @intCast(2 + sdk.nextRandom(rng) % 12);
        w.spawn(.{ c.Position{ .x = y, .y = x }, c.Health{ .hp = hp }, c.Team{ .id = @intCast(step % 3) } });
    }
    if (target != .none) {
        w.spawn(.{ c.Position{ .x = 5, .y = 5 }, c.Velocity{ .x = 1, .y = 1 }, c.Target{ .entity = target } });
    }
    // Every 7th step one thawed entity freezes; every 5th the frozen ones with an odd index thaw.
    if (step % 7 == 0) {
        var thawed = w.query(.thawed);
        const count = thawed.count();
        if (count > 0) {
            var pick = sdk.nextRandom(rng) % count;
            while (thawed.next()) |t| {
                if (pick < t.len) {
                    w.add(t.entities[pick], c.Frozen{});
                    break;
                }
                pick -= t.len;
            }
        }
    }
    if (step % 5 == 0) {
        var frozen = w.query(.frozen);
        while (frozen.next()) |t| {
            for (t.entities) |e| {
                if (e.index() % 2 == 1) w.remove(e, c.Frozen);
            }
        }
    }
}
"""

FRAMES = 90
LATER = 110


def later(game: Game) -> dict[str, np.ndarray]:
    while game.world.step < LATER:
        game.frame()
    return world_state(game)


def add_churn(project: Path) -> None:
    (project / "ecs_systems" / "churn.zig").write_text(CHURN)


def started(project: Path, **overrides: object) -> Game:
    game = Game(headless(project, **overrides))
    assert game.start()
    return game


def f5(game: Game) -> None:
    """Presses F5 through the event queue and blocks until the build is swapped in (or refused)."""
    press(game, pygame.K_F5)
    game.frame()
    assert game.reloader.building
    game.reloader.wait()
    assert not game.reloader.building


def warnings(game: Game) -> dict[str, str]:
    return {name: slot.warning for name, slot in game.pipeline.slots.items() if slot.warning or slot.error}


def churn_totals(game: Game) -> tuple[int, int]:
    """(entities ever spawned, entities ever despawned), from the entity index's generations."""
    generation = game.world.entities.export()["generation"].astype(np.int64)
    spawned = int(generation.sum())
    return spawned, spawned - game.world.count


@dataclass
class Reference:
    state: dict[str, np.ndarray]
    spawned: int
    despawned: int
    nonempty: list[list[str]]
    frozen: int
    later: dict[str, np.ndarray]
    """The world LATER frames on."""


@pytest.fixture(scope="module")
def churn_reference(built_project: Path, tmp_path_factory: pytest.TempPathFactory) -> Reference:
    """The world after FRAMES frames of the default systems and churn, never reloaded."""
    project = copy_project(tmp_path_factory.mktemp("churn"), built_project)
    add_churn(project)
    game = started(project)
    try:
        for _ in range(FRAMES):
            game.frame()
        assert_consistent(game)
        world = game.world
        return Reference(
            world_state(game),
            *churn_totals(game),
            [sorted(t.key) for t in world.tables if t.count],
            sum(t.count for t in world.query("Frozen")),
            later(game),
        )
    finally:
        game.close()


def test_the_churn_is_real(churn_reference: Reference) -> None:
    """Hundreds of ids handed out over several component sets, many gone again, indices
    reused with a new generation, a tag added (13 times) and removed."""
    ref = churn_reference
    assert ref.spawned - 2000 > 150 and ref.despawned > 100
    assert int(ref.state["entities.generation"].max()) > 1
    for key in (
        ["Color", "Position", "Velocity"],
        ["Color", "Frozen", "Position", "Velocity"],
        ["Lifetime", "Position", "Velocity"],
        ["Health", "Position", "Team"],
        ["Position", "Target", "Velocity"],
    ):
        assert key in ref.nonempty, (key, ref.nonempty)
    assert 0 < ref.frozen < 13  # frozen on steps 0, 7, ..., 84; some thawed since (none of them despawns)
    # The payloads landed in the right fields (each spawn packs them in schema order).
    columns = {k.split(".", 1)[1]: v for k, v in ref.state.items() if k.startswith("t") and len(v)}
    assert set(np.unique(columns["Team.id"]).tolist()) == {0, 1, 2}
    assert columns["Health.hp"].min() >= 1 and columns["Health.hp"].max() <= 13
    assert 0 < columns["Lifetime.seconds"].max() <= 0.35
    refs = columns["Target.entity"]
    assert np.all(refs != 0) and np.all(refs & 0xFFFF_FFFF < len(ref.state["entities.generation"]))


def test_f5_mid_churn_ends_bit_identical_to_a_run_without_it(project: Path, churn_reference: Reference) -> None:
    add_churn(project)
    game = started(project)
    try:
        for _ in range(30):
            game.frame()
        # Behaviour kept, bytes changed: both the integrator and the churning system itself are swapped.
        edit(project / "ecs_systems" / "movement.zig", "build_id: u32 = 1;", "build_id: u32 = 2;")
        edit(project / "ecs_systems" / "churn.zig", "build_id: u32 = 1;", "build_id: u32 = 2;")
        press(game, pygame.K_F5)
        while game.frame_index < FRAMES:
            game.frame()
            if game.frame_index == 45:
                game.reloader.wait()  # the swap lands mid-run, never after the end
        assert game.world.step == FRAMES
        assert game.reloader.round and not game.reloader.round[0].refused
        assert game.pipeline.slots["movement"].system.info.build_id == 2
        assert game.pipeline.slots["churn"].system.info.build_id == 2
        assert game.pipeline.slots["churn"].system.library.version > 1
        assert warnings(game) == {}
        assert_same(churn_reference.state, world_state(game))
        assert_consistent(game)
    finally:
        game.close()


def test_a_churn_build_failing_in_probation_is_rolled_back_to_the_same_world(
    project: Path, churn_reference: Reference
) -> None:
    """The new build freezes on other steps and passes the canary (its first steps are fine),
    then fails at step 50, after writing hp in place and issuing commands: the reload is
    undone, the steps since replayed with the old build, and the world is the one the old
    code alone makes. Rewinding later and replaying never brings back a moment of the
    discarded build: the history holds only the timeline that stands."""
    add_churn(project)
    game = started(project)
    try:
        for _ in range(30):
            game.frame()
        source = project / "ecs_systems" / "churn.zig"
        edit(source, "build_id: u32 = 1;", "build_id: u32 = 2;")
        edit(source, "if (step % 7 == 0) {", "if (step % 8 == 0) {")
        edit(source, "    if (step % 5 == 0) {", "    if (step >= 50) return error.Boom;\n    if (step % 5 == 0) {")
        press(game, pygame.K_F5)
        game.frame()
        game.reloader.wait()  # swapped in at step 31, on probation until step 61
        assert game.pipeline.slots["churn"].system.info.build_id == 2
        while game.frame_index < FRAMES:
            game.frame()
        slot = game.pipeline.slots["churn"]
        assert slot.system.info.build_id == 1 and slot.error is None
        message = game.reloader.message
        assert message.startswith("rolled back: churn: run returned 1 (failed): Boom"), message
        assert game.world.step == FRAMES
        assert_same(churn_reference.state, world_state(game))
        assert_consistent(game)

        assert_same(churn_reference.later, later(game))
        press(game, pygame.K_r)  # one second back (to step 50 or before), then a step
        game.frame()
        assert game.world.step <= LATER - 60 + 1
        assert_same(churn_reference.later, later(game))
        assert_consistent(game)
    finally:
        game.close()
