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
from game.native.input import KEY_NUMBER
from game.newsystem import create
from game.render.hud import HudState
from tests.conftest import assert_consistent, assert_same, edit, headless, press, world_state


@pytest.fixture
def game(built_project: Path) -> Iterator[Game]:
    g = Game(headless(built_project, entities=3000))
    assert g.start()
    yield g
    g.close()


def frames(g: Game, n: int) -> None:
    for _ in range(n):
        g.frame()


def column(g: Game, name: str) -> np.ndarray:
    """Column `name` ("Position.x") of every entity that has it, table by table."""
    return np.concatenate([t.column(name) for t in g.world.query(name.split(".")[0])])


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
        edit(
            project / "ecs_systems" / "movement.zig",
            "integrate(t.pos.y, t.vel.y, w.dt);",
            "integrate(t.pos.y, t.vel.y, w.dt)",
        )
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
        assert caret.index("^") == column - 1 and source.strip().startswith("integrate(t.pos.y, t.vel.y, w.dt)")
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
    assert game.selection.selected == "movement" and game.pipeline.slots["movement"].enabled
    press(game, key)
    frames(game, 1)
    assert not game.pipeline.slots["movement"].enabled
    before = column(game, "Position.x").copy()
    frames(game, 3)
    inside = (before > 1) & (before < game.options.size[0] - 1)
    assert inside.sum() > 1000
    np.testing.assert_array_equal(column(game, "Position.x")[inside], before[inside])  # nothing moves
    selected = [t for t, _ in game.hud.selected_lines(HudState(0, False, 0, 0, selected="movement"), game.pipeline)]
    assert selected[0].startswith("movement: off") and any("Position" in t and "Velocity" in t for t in selected)
    status = [t for t, _ in game.hud.lines(HudState(0, False, 0, 0), game.pipeline, game.reloader)]
    assert any("movement" in t and t.endswith("off") for t in status), status
    press(game, key)
    frames(game, 1)
    assert game.pipeline.slots["movement"].enabled


def status(g: Game) -> list[str]:
    """The HUD's status lines as the game draws them (its selection and numbers)."""
    state = HudState(0, False, 0, 0, selected=g.selection.selected, numbers=g.selection.sync(g.pipeline.slots))
    return [t for t, _ in g.hud.lines(state, g.pipeline, g.reloader)]


def test_the_cursor_keys_reach_every_system_and_0_switches_the_selected_one(game: Game) -> None:
    names = list(game.pipeline.slots)
    assert len(names) > 9  # more systems than number keys
    seen = []
    for _ in names:
        press(game, pygame.K_PAGEDOWN)
        frames(game, 1)
        seen.append(game.selection.selected)
    assert seen == names
    press(game, pygame.K_RIGHTBRACKET)  # past the last: back to the first
    frames(game, 1)
    assert game.selection.selected == names[0]
    press(game, pygame.K_PAGEUP)
    press(game, pygame.K_LEFTBRACKET)
    frames(game, 1)
    target = names[-2]
    assert game.selection.selected == target and names.index(target) >= 9  # out of the number keys' reach
    press(game, pygame.K_0)
    frames(game, 1)
    assert not game.pipeline.slots[target].enabled
    assert game.inputs.held(KEY_NUMBER["0"])  # the digit still reaches the systems' input
    number = game.selection.sync(game.pipeline.slots)[target]
    line = next(t for t in status(game) if f" {target} " in t)
    assert line.startswith(f">{number:>2} {target} ") and line.endswith("off"), line
    press(game, pygame.K_0)
    frames(game, 1)
    assert game.pipeline.slots[target].enabled and game.selection.selected == target


def test_a_system_added_while_running_keeps_every_number_and_the_selection(project: Path) -> None:
    g = Game(headless(project, entities=500))
    try:
        assert g.start()
        frames(g, 1)
        before = dict(g.selection.sync(g.pipeline.slots))
        assert sorted(before.values()) == list(range(1, len(before) + 1))
        key = getattr(pygame, f"K_{before['bounds']}")
        press(g, key)
        frames(g, 1)
        assert g.selection.selected == "bounds"
        create(project, "gravity")  # `run_game.py new-system gravity`: runs at order 15, before bounds
        press(g, pygame.K_F5)
        frames(g, 1)
        g.reloader.wait()
        frames(g, 1)
        names = list(g.pipeline.slots)
        assert "gravity" in names and names.index("gravity") < names.index("bounds")  # positions moved
        numbers = g.selection.sync(g.pipeline.slots)
        assert {name: numbers[name] for name in before} == before and numbers["gravity"] == len(before) + 1
        assert g.selection.selected == "bounds"
        assert any(t.startswith(f" {len(before) + 1:>2} gravity ") for t in status(g))
        press(g, key)  # the same key as before the new system: still bounds, now off
        frames(g, 1)
        assert not g.pipeline.slots["bounds"].enabled and g.pipeline.slots["gravity"].enabled
    finally:
        g.close()


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
    """The second rewound over spawned entities with the mouse: the replay spawns them again,
    same ids, same values."""
    frames(game, 60)
    at_60 = world_state(game)
    pygame.event.post(pygame.event.Event(pygame.MOUSEMOTION, pos=(100, 80), rel=(0, 0), buttons=(1, 0, 0)))
    pygame.event.post(pygame.event.Event(pygame.MOUSEBUTTONDOWN, pos=(100, 80), button=1))
    frames(game, 5)
    pygame.event.post(pygame.event.Event(pygame.MOUSEBUTTONUP, pos=(100, 80), button=1))
    frames(game, 55)
    at_120 = world_state(game)
    assert game.world.count == 3000 + 500
    press(game, pygame.K_r)
    frames(game, 1)  # the rewind, then this frame's step
    assert game.world.step == 61
    assert game.world.count == 3000 + 100  # step 60 replayed: the button was down, 100 spawned again
    frames(game, 59)
    assert_same(at_120, world_state(game))  # the same code replays the same moment
    assert at_60["t0.entities"].tolist() == at_120["t0.entities"].tolist()
    assert_consistent(game)


def test_escape_quits(game: Game) -> None:
    game.options.frames = None
    press(game, pygame.K_ESCAPE)
    game.run()  # returns once Esc was handled
    assert not game.running and game.frame_index == 1


def test_quick_save_and_quick_load(project: Path) -> None:
    """A galaxy (two tables) and short-lived entities: the save holds freed ids too."""
    g = Game(headless(project, entities=1000, scene="galaxy"))
    try:
        assert g.start()
        n = 200
        g.world.spawn(
            n,
            {
                "Position": {"x": np.linspace(5, 300, n), "y": np.full(n, 50.0)},
                "Velocity": None,
                "Lifetime": {"seconds": np.linspace(0.05, 0.6, n)},
            },
        )
        frames(g, 10)
        assert 1000 < g.world.count < 1000 + n
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
        assert_consistent(g)
        g.paused = False
        frames(g, 40)
        assert g.world.count == 1000  # the loaded timers ran out as before
    finally:
        g.close()


def test_tab_cycles_scenes_and_f12_writes_a_screenshot(project: Path) -> None:
    g = Game(headless(project, entities=1000))
    try:
        assert g.start()
        seen = [g.scene]
        tables = [sorted(sorted(t.key) for t in g.world.tables if t.count)]
        for _ in range(6):
            press(g, pygame.K_TAB)
            frames(g, 1)
            seen.append(g.scene)
            # The arena starts empty: its waves system spawns the ship in the first step.
            assert g.world.count == (1 if g.scene == "arena" else 1000)
            assert_consistent(g)
            tables.append(sorted(sorted(t.key) for t in g.world.tables if t.count))
        assert seen == ["drift", "galaxy", "fountain", "rain", "arena", "flock", "drift"]
        assert tables[4] == [["Body", "Control", "Heading", "Position", "Ship", "Velocity"]]
        assert tables[5] == [["Body", "Boid", "Position", "Velocity"]]
        assert ["Color", "Frozen", "Position", "Velocity"] in tables[1]  # the galaxy's frozen core
        assert tables[2] == [["Color", "Lifetime", "Position", "Velocity"]]  # the fountain's drops
        press(g, pygame.K_F12)
        frames(g, 1)
        shots = list((project / "screenshots").glob("*.png"))
        assert len(shots) == 1 and pygame.image.load(str(shots[0])).get_size() == g.options.size
    finally:
        g.close()


@pytest.mark.parametrize("how", [{"watch": True}, {"headless": False}], ids=["--watch", "a window, no flag"])
def test_watch_mode_reloads_a_saved_file_without_f5(project: Path, how: dict[str, bool]) -> None:
    g = Game(headless(project, entities=500, fast=False, **how))  # type: ignore[arg-type]
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
        before = column(g, "Velocity.y").copy()
        frames(g, 1)
        after = column(g, "Velocity.y")
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
