"""Resources and input are part of the world's history: a resource a Zig system writes is
saved, loaded and rewound with the world, and keyboard and mouse input recorded per step
replays after a rewind to the very same world."""

from __future__ import annotations

from pathlib import Path

import pygame

from game.app import Game
from tests.conftest import assert_consistent, assert_same, press, world_state
from tests.test_ecs_reload import started

SCORER = """//! Scorer (a test system): Score grows every step by the step number and the entity count.
const std = @import("std");
const sdk = @import("sdk");
const c = @import("components");
pub const panic = sdk.panic;

const All = sdk.Query(.{ .pos = .{ c.Position, .read } }, .{});
const W = sdk.World(.{ .queries = .{ .all = All }, .resources = .{ .score = .{ c.Score, .write } } });

const api = sdk.system(W, .{ .name = "scorer", .build_id = 1, .order = 70, .run = run });

export fn plugin_entry() *const sdk.Api {
    return &api;
}

fn run(w: *W) !void {
    const all = w.query(.all);
    const score = w.resource(.score);
    score.value = score.value * 3 + @as(i64, @intCast(w.step() + all.count()));
    score.value = @mod(score.value, 1_000_000_007);
}
"""

KEYS = """//! Keys (a test system): J spawns a Player at the pointer, L held moves the players right,
//! K released lifts them, a middle click spawns a moving Player.
const std = @import("std");
const sdk = @import("sdk");
const c = @import("components");
pub const panic = sdk.panic;

const Players = sdk.Query(.{ .pos = .{ c.Position, .read_write } }, .{ .with = .{c.Player} });
const W = sdk.World(.{ .queries = .{ .players = Players } });

const api = sdk.system(W, .{ .name = "keys", .build_id = 1, .order = 5, .run = run });

export fn plugin_entry() *const sdk.Api {
    return &api;
}

fn run(w: *W) !void {
    const in = w.input;
    if (in.pressed(.j)) w.spawn(.{ c.Position{ .x = in.mouse_x, .y = in.mouse_y }, c.Player{} });
    if (in.clicked(.middle)) {
        w.spawn(.{ c.Position{ .x = in.mouse_x, .y = in.mouse_y }, c.Velocity{ .x = 30 }, c.Player{} });
    }
    var players = w.query(.players);
    while (players.next()) |t| {
        for (t.pos.x, t.pos.y) |*x, *y| {
            if (in.held(.l)) x.* += 3;
            if (in.released(.k)) y.* -= 10;
        }
    }
}
"""


def score(game: Game) -> int:
    return int(game.world.resource("Score")["value"][0])


def post(kind: int, **fields: object) -> None:
    pygame.event.post(pygame.event.Event(kind, **fields))


def key(kind: int, k: int) -> None:
    post(kind, key=k, mod=0, unicode="", scancode=0)


def test_a_resource_written_by_a_system_is_saved_loaded_and_rewound_with_the_world(project: Path) -> None:
    (project / "ecs_systems" / "scorer.zig").write_text(SCORER)
    saved_world = project / "saves" / "exit.npz"
    game = started(project, save_world=saved_world)
    scores: dict[int, int] = {}

    def frames(n: int) -> None:
        for _ in range(n):
            game.frame()
            scores[game.world.step] = score(game)

    try:
        assert "scorer" in game.pipeline.slots
        assert score(game) == 0
        frames(20)
        assert len(set(scores.values())) == 20  # a new value every step
        press(game, pygame.K_F9)  # quick-save: the frame saves before its step runs
        frames(1)
        saved_step = game.world.step - 1
        assert (project / "saves" / "quick.npz").is_file()
        frames(15)
        assert score(game) != scores[saved_step]
        press(game, pygame.K_F10)  # quick-load: the frame loads, then runs one step from there
        game.frame()
        assert game.world.step == saved_step + 1
        assert score(game) == scores[saved_step + 1]
        scores[game.world.step] = score(game)

        frames(40)
        now = game.world.step
        press(game, pygame.K_r)  # back one second (to a checkpoint), then one step of the recorded input
        game.frame()
        back = game.world.step
        assert back < now
        assert score(game) == scores[back]
        while game.world.step < now:
            game.frame()
        assert score(game) == scores[now]
        assert_consistent(game)
        final = world_state(game)
        final_score = score(game)
    finally:
        game.close()  # writes --save-world

    loaded = started(project, load_world=saved_world)
    try:
        assert score(loaded) == final_score
        assert_same(final, world_state(loaded))
        loaded.frame()
        assert score(loaded) != final_score  # the system goes on from the loaded value
        assert_consistent(loaded)
    finally:
        loaded.close()


def test_keyboard_and_mouse_input_replay_after_a_rewind_to_the_same_world(project: Path) -> None:
    (project / "ecs_systems" / "keys.zig").write_text(KEYS)
    game = started(project)
    try:
        assert "keys" in game.pipeline.slots

        def frames(n: int) -> None:
            for _ in range(n):
                game.frame()

        frames(35)  # the rewind below lands on a checkpoint before any of the input
        post(pygame.MOUSEMOTION, pos=(100, 80), rel=(0, 0), buttons=(0, 0, 0))
        key(pygame.KEYDOWN, pygame.K_j)
        frames(1)
        key(pygame.KEYUP, pygame.K_j)
        key(pygame.KEYDOWN, pygame.K_l)
        frames(6)
        key(pygame.KEYUP, pygame.K_l)
        post(pygame.MOUSEMOTION, pos=(200, 50), rel=(100, -30), buttons=(0, 0, 0))
        post(pygame.MOUSEBUTTONDOWN, pos=(200, 50), button=2)
        frames(1)
        post(pygame.MOUSEBUTTONUP, pos=(200, 50), button=2)
        key(pygame.KEYDOWN, pygame.K_k)
        post(pygame.MOUSEBUTTONDOWN, pos=(200, 50), button=1)  # the Python MouseSpawner: 100 a step
        frames(1)
        key(pygame.KEYUP, pygame.K_k)
        frames(1)
        post(pygame.MOUSEBUTTONUP, pos=(200, 50), button=1)
        key(pygame.KEYDOWN, pygame.K_j)
        key(pygame.KEYDOWN, pygame.K_l)
        frames(3)
        key(pygame.KEYUP, pygame.K_l)
        key(pygame.KEYUP, pygame.K_j)
        frames(40)
        now = game.world.step
        assert now == 35 + 1 + 6 + 1 + 1 + 1 + 3 + 40

        players = [t for t in game.world.query("Player")]
        assert sum(t.count for t in players) == 3
        # What the input did: J at (100, 80) then 6 steps of L, K released, J and L again;
        # the middle click's Player moved on its own; the left button spawned 200 entities.
        still = next(t for t in players if "Velocity" not in t.key)
        xy = sorted(zip(still.column("Position.x").tolist(), still.column("Position.y").tolist(), strict=True))
        # (100, 80) +3 for 6 steps, -10 once, +3 for 2 steps; (200, 50) spawned, +3 for 2 steps
        assert xy == [(127.0, 70.0), (206.0, 50.0)], xy
        assert sum(t.count for t in game.world.query("Lifetime")) == 200
        expected, count = world_state(game), game.world.count

        press(game, pygame.K_r)  # back one second; the recorded input plays again
        game.frame()
        assert game.world.step < 35
        assert sum(t.count for t in game.world.query("Player")) == 0
        while game.world.step < now:
            game.frame()
        assert_same(expected, world_state(game))
        assert_consistent(game)

        # Without the recorded input the same rewind gives another world: the test can fail.
        press(game, pygame.K_r)
        game.frame()
        game.replay.clear()
        while game.world.step < now:
            game.frame()
        assert sum(t.count for t in game.world.query("Player")) == 0
        assert game.world.count == count - 3 - 200
    finally:
        game.close()
