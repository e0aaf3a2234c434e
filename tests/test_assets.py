"""Asset files saved while the real game runs headless (watch mode, the real watcher thread,
the real Zig systems): the resource takes the new values a few frames later and the scene's
system uses them (the next wave, the boids' colours, the ship's picture, read back from the
world and the pixels); a broken file keeps the last good values and the HUD's error overlay
and the log say why; the files' values outlive a rewind and a scene change."""

from __future__ import annotations

import io
import json
import logging
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pygame
import pytest

from game.app import Game
from tests.conftest import headless, press

SIZE = (640, 360)
SHIP_GREEN = 0x00FF80  # in no picture or palette the project ships


def started(project: Path, scene: str, **overrides: object) -> Game:
    game = Game(headless(project, scene=scene, size=SIZE, watch=True, **overrides))  # type: ignore[arg-type]
    assert game.start()
    game.frame()
    return game


def frames_until(game: Game, condition: Callable[[], bool], seconds: float = 30.0) -> int:
    """Runs frames until `condition` holds (the watcher's thread reports a save a little
    later); returns how many it took."""
    deadline = time.monotonic() + seconds
    frames = 0
    while not condition():
        assert time.monotonic() < deadline, "the game did not pick up the saved file"
        game.frame()
        frames += 1
        time.sleep(0.002)
    return frames


def first_rocks(game: Game) -> int:
    return int(game.world.resource("Waves")["rocks"][0, 0])


def count(game: Game, component: str) -> int:
    return sum(t.count for t in game.world.query(component))


def edit_waves(project: Path, **row: int) -> Path:
    """Saves assets/arena/waves.json with wave 1 changed."""
    path = project / "assets" / "arena" / "waves.json"
    doc = json.loads(path.read_text())
    doc["waves"][0].update(row)
    path.write_text(json.dumps(doc, indent=1))
    return path


def png(rgba: list[list[int]]) -> bytes:
    """A PNG of rows of 0xAARRGGBB, written by pygame."""
    surface = pygame.Surface((len(rgba[0]), len(rgba)), pygame.SRCALPHA)
    for y, row in enumerate(rgba):
        for x, p in enumerate(row):
            surface.set_at((x, y), (p >> 16 & 255, p >> 8 & 255, p & 255, p >> 24))
    out = io.BytesIO()
    pygame.image.save(surface, out, "x.png")
    return out.getvalue()


def pixels_of(game: Game, rgb: int) -> int:
    """Pixels of colour `rgb` the render systems drew (the canvas, under the HUD)."""
    return int(np.count_nonzero(pygame.surfarray.array2d(game.renderer.canvas) & 0xFFFFFF == rgb))


def overlay(game: Game) -> list[str]:
    return [text for text, _ in game.hud.error_lines(game.pipeline, game.reloader)]


def test_a_saved_wave_table_shapes_the_next_wave(project: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="sandbox")
    game = started(project, "arena")
    try:
        assert first_rocks(game) == 3  # the file the project ships
        assert game.world.resource("Arena")["wave"][0] == 0  # wave 1 comes after the breather
        game.toggle_pause()  # no steps while the file is saved: the next wave is wave 1
        step = game.world.step
        edit_waves(project, rocks=9, hunters=2)
        frames_until(game, lambda: first_rocks(game) == 9)
        assert game.world.step == step
        assert game.world.resource("Waves")["hunters"][0, 0] == 2
        assert any(r.getMessage() == "assets/arena/waves.json loaded" for r in caplog.records)

        game.toggle_pause()
        frames_until(game, lambda: game.world.resource("Arena")["wave"][0] == 1)
        assert (count(game, "Asteroid"), count(game, "Hunter")) == (9, 2)  # waves.zig read the table
    finally:
        game.close()


def test_a_broken_wave_table_keeps_the_last_good_one_and_says_why(
    project: Path, caplog: pytest.LogCaptureFixture
) -> None:
    game = started(project, "arena")
    try:
        game.toggle_pause()
        path = edit_waves(project, rocks=7)
        frames_until(game, lambda: first_rocks(game) == 7)
        good = path.read_text()
        before = game.world.resource("Waves").copy()

        with caplog.at_level(logging.ERROR, logger="sandbox"):
            path.write_text(good.replace('"rocks": 7', '"rocks": -7', 1))
            frames_until(game, lambda: any("waves.json" in line for line in overlay(game)))
        why = 'assets/arena/waves.json: row 1 of "waves": "rocks" must be a whole number from 0 to 4294967295, not -7'
        assert [line for line in overlay(game) if "waves.json" in line] == [f"{why}; the last good values stay in use"]
        assert any(why in r.getMessage() for r in caplog.records)
        assert game.world.resource("Waves").tobytes() == before.tobytes()
        # The overlay as drawn: wrapped to its width, nothing of the reason cut off.
        drawn = game.hud.error_lines(game.pipeline, game.reloader, 60)
        assert all(len(text) <= 60 for text, _ in drawn)
        assert "stay in use" in drawn[-1][0]

        press(game, pygame.K_BACKSPACE)  # hides it, as it hides a compiler error
        game.frame()
        assert not any("waves.json" in line for line in overlay(game))
        game.toggle_pause()
        for _ in range(5):
            game.frame()
        assert game.world.resource("Waves").tobytes() == before.tobytes()  # steps ran with the old table

        path.write_text(good.replace('"rocks": 7', '"rocks": 5', 1))  # fixed
        frames_until(game, lambda: first_rocks(game) == 5)
        assert not any("waves.json" in line for line in overlay(game))
    finally:
        game.close()


def test_a_saved_palette_recolours_the_flock(project: Path) -> None:
    game = started(project, "flock", entities=3000)
    try:
        colour = 0x12EE34
        assert game.world.resource("Palette")["count"][0] == 12
        assert pixels_of(game, colour) == 0
        (project / "assets" / "flock" / "palette.png").write_bytes(png([[0xFF000000 | colour] * 2]))
        frames_until(game, lambda: game.world.resource("Palette")["count"][0] == 2)
        game.frame()
        assert pixels_of(game, colour) > 1000  # every boid's stroke
    finally:
        game.close()


def test_a_saved_ship_picture_is_drawn_and_a_broken_one_keeps_the_last(project: Path) -> None:
    game = started(project, "arena")
    try:
        assert game.world.resource("ShipSprite")["width"][0] == 29  # the file the project ships
        assert pixels_of(game, SHIP_GREEN) == 0
        ship = project / "assets" / "arena" / "ship.png"
        ship.write_bytes(png([[0xFF000000 | SHIP_GREEN] * 10] * 6))
        frames_until(game, lambda: game.world.resource("ShipSprite")["width"][0] == 10)
        game.frame()
        # The lives in the corner are the picture too (never blinking): 3 of them at 0.7x.
        assert pixels_of(game, SHIP_GREEN) >= 3 * 7 * 4

        ship.write_bytes(b"\x89PNG not really")
        frames_until(game, lambda: any("ship.png" in line for line in overlay(game)))
        assert any("cannot decode the image" in line and "stay in use" in line for line in overlay(game))
        for _ in range(3):
            game.frame()
        assert game.world.resource("ShipSprite")["width"][0] == 10
        assert pixels_of(game, SHIP_GREEN) >= 3 * 7 * 4
    finally:
        game.close()


def test_the_files_values_outlive_a_rewind_and_a_scene_change(project: Path) -> None:
    """Assets are not world data: a rewind restores the world's older copy of the table, and
    the next frame boundary writes the file's values back before any step runs."""
    game = started(project, "arena")
    try:
        for _ in range(90):
            game.frame()
        edit_waves(project, rocks=11)
        frames_until(game, lambda: first_rocks(game) == 11)
        epoch = game.pipeline.epoch

        game.rewind()  # R: back a second, to a checkpoint taken before the save
        assert first_rocks(game) == 3
        game.frame()
        assert first_rocks(game) == 11
        assert game.pipeline.epoch > epoch  # the data steps run on changed: replays are not exact across it

        press(game, pygame.K_TAB)  # arena -> flock: a fresh world, flock's own assets
        game.frame()
        assert game.scene == "flock"
        assert game.world.resource("Waves")["count"][0] == 0
        assert game.world.resource("Palette")["count"][0] == 12
        while game.scene != "arena":
            press(game, pygame.K_TAB)
            game.frame()
        assert first_rocks(game) == 11
    finally:
        game.close()
