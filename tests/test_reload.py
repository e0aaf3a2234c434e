"""F5 through the real event loop, with the real compiler, on a private copy of the project."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pygame

from game.app import Game
from tests.conftest import assert_consistent, assert_same, edit, headless, press, world_state


def frames_until_idle(game: Game, limit: int = 3000) -> None:
    """Runs frames (paced, like the window) until the reload in flight has been swapped in."""
    for _ in range(limit):
        game.frame()
        if not game.reloader.building:
            return
    raise AssertionError("the build did not finish")


def column(game: Game, name: str) -> np.ndarray:
    """Column `name` ("Position.y") of every entity that has it, table by table."""
    component = name.split(".")[0]
    return np.concatenate([t.column(name) for t in game.world.query(component)])


def test_edit_then_f5_runs_new_code_and_keeps_every_entity(project: Path) -> None:
    game = Game(headless(project, fast=False))
    try:
        assert game.start()
        for _ in range(20):
            game.frame()
        press(game, pygame.K_SPACE)  # pause: the swap itself must not touch the data
        game.frame()
        before = world_state(game)
        ids = game.world.tables[0].ids().copy()
        y_before, x_before = column(game, "Position.y").copy(), column(game, "Position.x").copy()
        assert np.any(column(game, "Velocity.y") != 0)

        source = project / "ecs_systems" / "movement.zig"
        edit(source, "build_id: u32 = 1;", "build_id: u32 = 2;")
        edit(source, "integrate(t.pos.y, t.vel.y, w.dt);", "integrate(t.pos.y, t.vel.y, 0);")  # y no longer moves
        press(game, pygame.K_F5)
        game.frame()
        assert game.reloader.building
        frames_until_idle(game)

        slot = game.pipeline.slots["movement"]
        assert slot.system.info.build_id == 2 and slot.system.library.version > 1
        assert_same(before, world_state(game))  # same ids, same values

        press(game, pygame.K_SPACE)  # resume
        for _ in range(5):
            game.frame()
        np.testing.assert_array_equal(column(game, "Position.y"), y_before)  # movement no longer moves y
        assert np.any(column(game, "Position.x") != x_before)  # but still moves x
        np.testing.assert_array_equal(game.world.tables[0].ids(), ids)
        assert game.world.count == len(ids)
        assert_consistent(game)
    finally:
        game.close()


def test_failed_build_keeps_old_code_and_world_matches_a_run_without_it(
    project: Path, reference: dict[str, np.ndarray]
) -> None:
    game = Game(headless(project))
    try:
        assert game.start()
        live = game.pipeline.slots["movement"].system.library
        for _ in range(10):
            game.frame()
        edit(
            project / "ecs_systems" / "movement.zig",
            "integrate(t.pos.y, t.vel.y, w.dt);",
            "integrate(t.pos.y, t.vel.y, w.dt)",
        )
        press(game, pygame.K_F5)
        while game.frame_index < 60:
            game.frame()
            if game.reloader.building:  # keep the step count fixed: hold frames until the build is done
                game.reloader.wait()
        assert game.pipeline.slots["movement"].system.library is live  # old code still running
        assert game.reloader.errors and game.reloader.errors[0].file.endswith("movement.zig")
        assert game.reloader.errors[0].line > 0 and game.reloader.errors[0].column > 0
        assert "build failed: ecs_systems/movement.zig:" in game.reloader.message
        assert_same(reference, world_state(game))
    finally:
        game.close()


def spawn_short_lived(game: Game) -> None:
    """Entities whose lifetimes run out over the first 1.4 s: despawns before and after the swap."""
    n = 300
    rng = np.random.default_rng(5)
    game.world.spawn(
        n,
        {
            "Position": {"x": rng.uniform(0, 320, n), "y": rng.uniform(0, 240, n)},
            "Velocity": {"x": rng.normal(0, 50, n), "y": rng.normal(0, 50, n)},
            "Color": None,
            "Lifetime": {"seconds": np.linspace(0.1, 1.4, n)},
        },
    )


def test_f5_over_an_unchanged_behaviour_ends_in_the_same_world(project: Path) -> None:
    """The seed's BuildId bump: a real swap mid-run must not change a single value."""
    without = Game(headless(project))
    try:
        assert without.start()
        spawn_short_lived(without)
        for _ in range(90):
            without.frame()
        expected = world_state(without)
    finally:
        without.close()

    game = Game(headless(project))
    try:
        assert game.start()
        spawn_short_lived(game)
        for _ in range(30):
            game.frame()
        assert 2000 < game.world.count < 2300  # some lifetimes ran out, some not yet
        edit(project / "ecs_systems" / "bounds.zig", "build_id: u32 = 1;", "build_id: u32 = 7;")
        edit(project / "ecs_systems" / "lifetime.zig", "build_id: u32 = 1;", "build_id: u32 = 7;")
        press(game, pygame.K_F5)
        while game.frame_index < 90:
            game.frame()
            if game.frame_index == 60:
                game.reloader.wait()  # make sure the swap lands mid-run
        assert game.pipeline.slots["bounds"].system.info.build_id == 7
        assert game.pipeline.slots["lifetime"].system.info.build_id == 7
        assert game.world.count == 2000
        assert_same(expected, world_state(game))
        assert_consistent(game)
    finally:
        game.close()


def test_f5_during_a_build_queues_one_more_and_newest_source_wins(project: Path) -> None:
    game = Game(headless(project))
    try:
        assert game.start()
        source = project / "ecs_systems" / "colorize.zig"
        edit(source, "build_id: u32 = 1;", "build_id: u32 = 2;")
        press(game, pygame.K_F5)
        game.frame()
        edit(source, "build_id: u32 = 2;", "build_id: u32 = 3;")
        press(game, pygame.K_F5)
        press(game, pygame.K_F5)
        game.frame()
        for _ in range(2):
            game.reloader.wait()
            game.frame()
        assert not game.reloader.building
        assert game.pipeline.slots["colorize"].system.info.build_id == 3
        loaded = sum(1 + (slot.previous is not None) for slot in game.pipeline.slots.values())
        loaded += game.pipeline.schema_library is not None
        assert len(list((project / ".hot").iterdir())) == loaded  # only live and last-good copies remain
        assert game.pipeline.slots["colorize"].previous is not None
    finally:
        game.close()
