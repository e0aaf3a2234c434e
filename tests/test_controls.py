"""Every key through the real event loop, and the HUD and overlays really drawn (dummy driver)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pygame
import pytest

from game.app import Game
from game.cli import PROJECT_ROOT
from game.controls import KEYS
from game.render.hud import HudState
from tests.conftest import assert_same, edit, headless, press, world_state


@pytest.fixture
def game(built_project: Path) -> Iterator[Game]:
    g = Game(headless(built_project, entities=3000))
    assert g.start()
    yield g
    g.close()


def frames(g: Game, n: int) -> None:
    for _ in range(n):
        g.frame()


def screen(g: Game) -> np.ndarray:
    return pygame.surfarray.array3d(g.screen).astype(int)  # (w, h, rgb)


def test_f1_draws_a_help_panel_listing_every_key(game: Game) -> None:
    game.paused = True
    frames(game, 1)
    without = screen(game)
    press(game, pygame.K_F1)
    frames(game, 1)
    with_help = screen(game)
    w, h = game.options.size
    centre = with_help[w // 2 - 40 : w // 2 + 40, h // 2 - 20 : h // 2 + 20]
    assert (centre != without[w // 2 - 40 : w // 2 + 40, h // 2 - 20 : h // 2 + 20]).any()
    labels = [k for k, _ in game.hud.help_lines()]
    assert [label for _, label, _ in KEYS] == labels[: len(KEYS)]
    press(game, pygame.K_F1)
    frames(game, 1)
    assert not game.hud.show_help


def test_error_overlay_shows_file_line_caret_and_backspace_hides_it(project: Path) -> None:
    g = Game(headless(project, entities=500))
    try:
        assert g.start()
        edit(project / "ecs_systems" / "movement.zig", "integrate(py, vy, frame.dt);", "integrate(py, vy, frame.dt)")
        press(g, pygame.K_F5)
        frames(g, 1)
        status = [text for text, _ in g.hud.lines(HudState(0, False, 0, 0), g.pipeline, g.reloader)]
        assert any(text[:1] in "|/-\\" and "building..." in text for text in status), status
        g.reloader.wait()
        g.paused = True
        frames(g, 1)
        text = [t for t, _ in g.hud.error_lines(g.pipeline, g.reloader)]
        assert any(t.startswith("ecs_systems/movement.zig:") for t in text)
        caret = next(t for t in text if t.strip() == "^")
        source = text[text.index(caret) - 1]
        column = g.reloader.errors[0].column
        assert caret.index("^") == column - 1 and source.strip().startswith("integrate(py, vy, frame.dt)")
        w, h = g.options.size
        shown = screen(g)[20 : w - 20, h - 30 : h - 12]
        assert (shown[..., 0] > shown[..., 2] + 20).mean() > 0.5  # the red panel is there
        press(g, pygame.K_BACKSPACE)
        frames(g, 1)
        assert g.hud.error_lines(g.pipeline, g.reloader) == []
        hidden = screen(g)[20 : w - 20, h - 30 : h - 12]
        assert (hidden[..., 0] > hidden[..., 2] + 20).mean() < 0.5
    finally:
        g.close()


def test_number_keys_select_then_switch_a_system_off_and_on(game: Game) -> None:
    order = list(game.pipeline.slots)
    n = order.index("movement") + 1
    key = getattr(pygame, f"K_{n}")
    press(game, key)
    frames(game, 1)
    assert game.selected == "movement" and game.pipeline.slots["movement"].enabled
    press(game, key)
    frames(game, 1)
    assert not game.pipeline.slots["movement"].enabled
    before = game.world.store.column("pos_x").copy()
    frames(game, 3)
    inside = (before > 1) & (before < game.options.size[0] - 1)
    np.testing.assert_array_equal(game.world.store.column("pos_x")[inside], before[inside])  # nothing moves
    status = [t for t, _ in game.hud.lines(HudState(0, False, 0, 0), game.pipeline, game.reloader)]
    assert any("movement" in t and t.endswith("off") for t in status), status
    press(game, key)
    frames(game, 1)
    assert game.pipeline.slots["movement"].enabled


def test_speed_keys_and_single_step(game: Game) -> None:
    start = game.world.step
    press(game, pygame.K_EQUALS)
    frames(game, 3)
    assert game.world.step == start + 6  # the key is handled before the frame's steps: 2 a frame
    press(game, pygame.K_MINUS)
    press(game, pygame.K_MINUS)
    press(game, pygame.K_MINUS)
    frames(game, 1)
    assert game.speed.label() == "1/4x"
    s = game.world.step
    frames(game, 8)
    assert game.world.step == s + 2
    press(game, pygame.K_SPACE)
    frames(game, 2)
    s = game.world.step
    press(game, pygame.K_PERIOD)
    frames(game, 1)
    assert game.world.step == s + 1
    frames(game, 3)
    assert game.world.step == s + 1


def test_rewind_replays_the_same_moment(game: Game) -> None:
    frames(game, 60)
    at_60 = world_state(game)
    frames(game, 60)
    at_120 = world_state(game)
    press(game, pygame.K_r)
    frames(game, 1)  # the rewind, then this frame's step
    assert game.world.step == 61
    frames(game, 59)
    assert_same(at_120, world_state(game))  # the same code replays the same moment
    assert at_60["ids"].tolist() == at_120["ids"].tolist()


def test_quick_save_and_quick_load(project: Path) -> None:
    g = Game(headless(project, entities=1000))
    try:
        assert g.start()
        frames(g, 10)
        saved = world_state(g)
        saved_step = g.world.step
        press(g, pygame.K_F9)  # saved at the start of the next frame, before its step
        frames(g, 1)
        frames(g, 30)
        press(g, pygame.K_F10)
        g.paused = True
        frames(g, 1)
        assert g.world.step == saved_step
        assert_same(saved, world_state(g))
        assert (project / "saves" / "quick.npz").exists()
    finally:
        g.close()


def test_tab_cycles_scenes_and_f12_writes_a_screenshot(project: Path) -> None:
    g = Game(headless(project, entities=1000))
    try:
        assert g.start()
        seen = [g.scene]
        for _ in range(4):
            press(g, pygame.K_TAB)
            frames(g, 1)
            seen.append(g.scene)
            assert g.world.count == 1000
        assert seen == ["drift", "galaxy", "fountain", "rain", "drift"]
        press(g, pygame.K_F12)
        frames(g, 1)
        shots = list((project / "screenshots").glob("*.png"))
        assert len(shots) == 1 and pygame.image.load(str(shots[0])).get_size() == g.options.size
    finally:
        g.close()


def test_watch_mode_reloads_a_saved_file_without_f5(project: Path) -> None:
    g = Game(headless(project, entities=500, watch=True, fast=False))
    try:
        assert g.start()
        edit(project / "ecs_systems" / "bounds.zig", "build_id: u32 = 1;", "build_id: u32 = 2;")
        deadline = time.monotonic() + 60
        while g.pipeline.slots["bounds"].system.info.build_id != 2 and time.monotonic() < deadline:
            g.frame()
        assert g.pipeline.slots["bounds"].system.info.build_id == 2
        assert "bounds rebuilt in" in g.reloader.message and "build 2" in g.reloader.message
        press(g, pygame.K_w)  # off: a save no longer reloads
        frames(g, 1)
        edit(project / "ecs_systems" / "bounds.zig", "build_id: u32 = 2;", "build_id: u32 = 3;")
        frames(g, 40)
        assert not g.reloader.building and g.pipeline.slots["bounds"].system.info.build_id == 2
    finally:
        g.close()


def test_new_system_command_and_deleting_a_source_unloads_it(project: Path) -> None:
    out = subprocess.run(
        [sys.executable, str(PROJECT_ROOT / "run_game.py"), "new-system", "gravity", "--project", str(project)],
        capture_output=True,
        text=True,
        timeout=60,
        env=dict(os.environ),
    )
    assert out.returncode == 0, out.stderr
    assert (project / "ecs_systems" / "gravity.zig").exists()
    g = Game(headless(project, entities=500))
    try:
        assert g.start()
        assert "gravity" in g.pipeline.slots
        g.pipeline.slots["attractor"].enabled = False
        before = g.world.store.column("vel_y").copy()
        frames(g, 1)
        after = g.world.store.column("vel_y")
        falling = (after - before)[np.abs(before) < 1e3]
        assert np.allclose(np.median(falling), 1.0, atol=0.01)  # 60 px/s² * 1/60 s, bounces aside
        (project / "ecs_systems" / "gravity.zig").unlink()
        press(g, pygame.K_F5)
        frames(g, 1)
        g.reloader.wait()
        assert "gravity" not in g.pipeline.slots and "gravity unloaded" in g.reloader.message
    finally:
        g.close()
    again = subprocess.run(
        [sys.executable, str(PROJECT_ROOT / "run_game.py"), "new-system", "Bad-Name", "--project", str(project)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert again.returncode == 2 and "lower_snake_case" in again.stderr
