"""F5 through the real event loop, with the real compiler, on a private copy of the project."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pygame

from game.app import Game
from tests.conftest import assert_same, edit, headless, press, world_state


def frames_until_idle(game: Game, limit: int = 3000) -> None:
    """Runs frames (paced, like the window) until the reload in flight has been swapped in."""
    for _ in range(limit):
        game.frame()
        if not game.reloader.building:
            return
    raise AssertionError("the build did not finish")


def test_edit_then_f5_runs_new_code_and_keeps_every_entity(project: Path) -> None:
    game = Game(headless(project, fast=False))
    try:
        assert game.start()
        for _ in range(20):
            game.frame()
        press(game, pygame.K_SPACE)  # pause: the swap itself must not touch the data
        game.frame()
        before = world_state(game)
        assert np.any(before["vel_y"] != 0)

        source = project / "ecs_systems" / "movement.zig"
        edit(source, "build_id: u32 = 1;", "build_id: u32 = 2;")
        edit(source, "integrate(py, vy, frame.dt);", "integrate(py, vy, 0);")  # new behaviour: y no longer moves
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
        after = world_state(game)
        np.testing.assert_array_equal(after["pos_y"], before["pos_y"])  # movement no longer moves y
        assert np.any(after["pos_x"] != before["pos_x"])  # but still moves x
        np.testing.assert_array_equal(after["ids"], before["ids"])
    finally:
        game.close()


def test_failed_build_keeps_old_code_and_world_matches_a_run_without_it(project: Path) -> None:
    reference = Game(headless(project))
    try:
        assert reference.start()
        for _ in range(60):
            reference.frame()
        expected = world_state(reference)
    finally:
        reference.close()

    game = Game(headless(project))
    try:
        assert game.start()
        live = game.pipeline.slots["movement"].system.library
        for _ in range(10):
            game.frame()
        edit(project / "ecs_systems" / "movement.zig", "integrate(py, vy, frame.dt);", "integrate(py, vy, frame.dt)")
        press(game, pygame.K_F5)
        while game.frame_index < 60:
            game.frame()
            if game.reloader.building:  # keep the step count fixed: hold frames until the build is done
                game.reloader.wait()
        assert game.pipeline.slots["movement"].system.library is live  # old code still running
        assert game.reloader.errors and game.reloader.errors[0].file.endswith("movement.zig")
        assert game.reloader.errors[0].line > 0 and game.reloader.errors[0].column > 0
        assert "build failed: ecs_systems/movement.zig:" in game.reloader.message
        assert_same(expected, world_state(game))
    finally:
        game.close()


def test_f5_over_an_unchanged_behaviour_ends_in_the_same_world(project: Path) -> None:
    """The seed's BuildId bump: a real swap mid-run must not change a single value."""
    without = Game(headless(project))
    try:
        assert without.start()
        for _ in range(90):
            without.frame()
        expected = world_state(without)
    finally:
        without.close()

    game = Game(headless(project))
    try:
        assert game.start()
        for _ in range(30):
            game.frame()
        edit(project / "ecs_systems" / "bounds.zig", "build_id: u32 = 1;", "build_id: u32 = 7;")
        press(game, pygame.K_F5)
        while game.frame_index < 90:
            game.frame()
            if game.frame_index == 60:
                game.reloader.wait()  # make sure the swap lands mid-run
        assert game.pipeline.slots["bounds"].system.info.build_id == 7
        assert_same(expected, world_state(game))
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
        assert len(list((project / ".hot").iterdir())) == loaded  # only live and last-good copies remain
        assert game.pipeline.slots["colorize"].previous is not None
    finally:
        game.close()
