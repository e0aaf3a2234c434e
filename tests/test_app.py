"""The game as a user runs it: `python run_game.py --headless ...` in a real subprocess, and
the event loop in process: keys and the mouse reach the systems."""

from __future__ import annotations

import itertools
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pygame
import pytest

from game.app import Game
from game.cli import PROJECT_ROOT, parse_keys
from game.native.input import KEY_NUMBER
from game.world.snapshot import read_state
from tests.conftest import assert_consistent, assert_same, headless


def run_game(project: Path, *args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, SDL_VIDEODRIVER="dummy", SDL_AUDIODRIVER="dummy")
    cmd = [sys.executable, str(PROJECT_ROOT / "run_game.py"), "--headless", "--project", str(project), *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env, cwd=project)


def load(path: Path) -> dict[str, np.ndarray]:
    """A world file's arrays (checked by the game's own reader), plus its metadata as text."""
    ws = read_state(path)
    arrays = dict(ws.arrays)
    arrays["meta"] = np.array(repr(sorted(ws.meta.items())))
    return arrays


def entities(world: dict[str, np.ndarray]) -> int:
    return sum(len(v) for k, v in world.items() if k.endswith(".entities"))


def test_headless_run_exits_0_and_logs_what_happened(built_project: Path, tmp_path: Path) -> None:
    out = run_game(built_project, "--frames", "30", "--entities", "500", "--save-world", str(tmp_path / "w.npz"))
    assert out.returncode == 0, out.stderr
    assert "game running: 500 entities" in out.stderr
    assert "systems: pilot, autopilot, ship, attractor, boids, movement, bounds, grid, collide" in out.stderr
    assert "exit after 30 frames" in out.stderr
    assert entities(load(tmp_path / "w.npz")) == 500


def test_two_runs_with_the_same_flags_end_in_identical_worlds(built_project: Path, tmp_path: Path) -> None:
    args = ("--fast", "--frames", "120", "--entities", "3000", "--size", "400x300", "--scene", "fountain")
    a = run_game(built_project, *args, "--seed", "7", "--save-world", str(tmp_path / "a.npz"))
    b = run_game(built_project, *args, "--seed", "7", "--save-world", str(tmp_path / "b.npz"))
    c = run_game(built_project, *args, "--seed", "8", "--save-world", str(tmp_path / "c.npz"))
    assert a.returncode == b.returncode == c.returncode == 0, a.stderr
    wa, wb, wc = load(tmp_path / "a.npz"), load(tmp_path / "b.npz"), load(tmp_path / "c.npz")
    assert_same(wa, wb)
    assert not np.array_equal(wa["t0.Position.x"], wc["t0.Position.x"])


def test_save_then_load_continues_exactly(built_project: Path, tmp_path: Path) -> None:
    common = ("--fast", "--entities", "1000", "--size", "300x200", "--scene", "galaxy")
    straight = run_game(built_project, *common, "--frames", "80", "--save-world", str(tmp_path / "straight.npz"))
    first = run_game(built_project, *common, "--frames", "50", "--save-world", str(tmp_path / "half.npz"))
    second = run_game(
        built_project,
        *common,
        "--frames",
        "30",
        "--load-world",
        str(tmp_path / "half.npz"),
        "--save-world",
        str(tmp_path / "resumed.npz"),
    )
    assert straight.returncode == first.returncode == second.returncode == 0, second.stderr
    a, b = load(tmp_path / "straight.npz"), load(tmp_path / "resumed.npz")
    assert len([k for k in a if k.endswith(".entities")]) == 2  # the galaxy's arms and its frozen core
    assert_same(a, b)


def test_a_corrupt_world_file_is_a_clear_error(built_project: Path, tmp_path: Path) -> None:
    bad = tmp_path / "bad.npz"
    bad.write_bytes(b"not a zip")
    out = run_game(built_project, "--frames", "1", "--load-world", str(bad))
    assert out.returncode == 2
    assert "cannot load the world" in out.stderr and "not a world file" in out.stderr
    assert "Traceback" not in out.stderr


def test_bad_flags_are_refused_by_argparse(built_project: Path) -> None:
    out = run_game(built_project, "--keys", "F5-360")
    assert out.returncode == 2 and "expected KEY@FRAME" in out.stderr


def test_scripted_space_pauses_the_simulation(built_project: Path) -> None:
    game = Game(headless(built_project, keys=parse_keys("SPACE@10,SPACE@30"), frames=40))
    try:
        assert game.start()
        game.run()
        assert game.frame_index == 40
        assert game.world.step == 20  # frames 10..29 were paused
    finally:
        game.close()


def post_key(event_type: int, key: int) -> None:
    pygame.event.post(pygame.event.Event(event_type, key=key, mod=0, unicode="", scancode=0))


def bit(words: object, number: int) -> bool:
    return bool(words[number // 64] >> (number % 64) & 1)  # type: ignore[index]


def test_keyboard_reaches_systems(built_project: Path) -> None:
    """A key pressed and released through pygame's events is in the `sdk.Input` of the
    next step: pressed and held, then released; and again as the step's recorded input."""
    game = Game(headless(built_project, entities=100))
    try:
        assert game.start()
        k, j = KEY_NUMBER["k"], KEY_NUMBER["j"]
        game.frame()
        s = game.inputs.struct
        assert not bit(s.keys_held, k) and not bit(s.keys_pressed, k)

        post_key(pygame.KEYDOWN, pygame.K_k)
        game.frame()
        assert bit(s.keys_pressed, k) and bit(s.keys_held, k) and not bit(s.keys_released, k)
        assert not bit(s.keys_held, j)
        pressed_step = game.pipeline.last_input

        game.frame()  # still held, no new edge
        assert bit(s.keys_held, k) and not bit(s.keys_pressed, k)

        post_key(pygame.KEYUP, pygame.K_k)
        game.frame()
        assert bit(s.keys_released, k) and not bit(s.keys_held, k) and not bit(s.keys_pressed, k)

        game.frame()
        assert not bit(s.keys_released, k) and not bit(s.keys_held, k)

        game.inputs.load(pressed_step)  # the recorded bytes of that step say the same
        assert bit(s.keys_pressed, k) and bit(s.keys_held, k)
    finally:
        game.close()


KEY_COUNTER = """const std = @import("std");
const sdk = @import("sdk");
const c = @import("components");
pub const panic = sdk.panic;
const W = sdk.World(.{ .resources = .{ .score = .{ c.Score, .write } } });
fn run(w: *W) !void {
    const s = w.resource(.score);
    if (w.input.pressed(.k)) s.value += 1;
    if (w.input.held(.k)) s.value += 100;
    if (w.input.released(.k)) s.value += 10_000;
}
const api = sdk.system(W, .{ .name = "keys", .build_id = 1, .order = 5, .run = run });
export fn plugin_entry() *const sdk.Api {
    return &api;
}
"""


def test_a_zig_system_sees_a_key_pressed_held_and_released(project: Path) -> None:
    (project / "ecs_systems" / "keys.zig").write_text(KEY_COUNTER)
    game = Game(headless(project, entities=100))
    try:
        assert game.start()
        assert "keys" in game.pipeline.slots

        def score() -> int:
            return int(game.world.resource("Score")["value"][0])

        game.frame()
        assert score() == 0
        post_key(pygame.KEYDOWN, pygame.K_k)
        game.frame()
        assert score() == 101  # pressed and held
        game.frame()
        game.frame()
        assert score() == 301  # held two more steps
        post_key(pygame.KEYUP, pygame.K_k)
        game.frame()
        assert score() == 10_301  # released
        post_key(pygame.KEYDOWN, pygame.K_j)  # another key: not k
        game.frame()
        assert score() == 10_301
    finally:
        game.close()


def mouse(event_type: int, pos: tuple[int, int], **extra: object) -> None:
    pygame.event.post(pygame.event.Event(event_type, pos=pos, **extra))


def lifetime_count(game: Game) -> int:
    return sum(t.count for t in game.world.query("Lifetime"))


def test_mouse_left_button_spawns_at_the_pointer_and_lifetime_despawns_them(built_project: Path) -> None:
    game = Game(headless(built_project, entities=0))
    try:
        assert game.start()
        assert game.world.count == 0
        mouse(pygame.MOUSEMOTION, (100, 80), rel=(0, 0), buttons=(0, 0, 0))
        mouse(pygame.MOUSEBUTTONDOWN, (100, 80), button=1)
        game.frame()
        game.frame()
        assert game.world.count == lifetime_count(game) == 200  # every one carries a Lifetime
        mouse(pygame.MOUSEBUTTONUP, (100, 80), button=1)
        game.frame()
        assert game.world.count == 200
        x = np.concatenate([t.column("Position.x") for t in game.world.query("Position", "Lifetime")])
        assert abs(float(np.mean(x)) - 100) < 20
        seconds = np.concatenate([t.column("Lifetime.seconds") for t in game.world.query("Lifetime")])
        assert seconds.min() > 4.9 and seconds.max() < 6.0  # 5 to 6 s, minus the 3 steps run
        assert_consistent(game)

        counts = []
        for _ in range(6 * 60):  # every lifetime runs out within 6 s
            game.frame()
            counts.append(game.world.count)
        assert counts[0] == 200 and counts[-1] == 0
        assert all(a >= b for a, b in itertools.pairwise(counts))  # only ever fewer
        assert 0 < counts[330 - 3] < 200  # gone one by one, as each timer ran out (5.5 s)
        assert_consistent(game)
    finally:
        game.close()


def test_frame_is_drawn_and_hud_lists_every_system(built_project: Path) -> None:
    game = Game(headless(built_project, entities=3000))
    try:
        assert game.start()
        for _ in range(5):
            game.frame()
        pixels = np.frombuffer(game.renderer.canvas.get_buffer().raw, dtype=np.uint32)
        assert np.count_nonzero(pixels) > 1000  # entities were plotted by the Zig render system
        from game.render.hud import HudState

        text = "\n".join(t for t, _ in game.hud.lines(HudState(60, False, 5, 3000), game.pipeline, game.reloader))
        for name in ("attractor", "movement", "bounds", "colorize", "lifetime", "render"):
            assert name in text
        assert "entities 3,000" in text and "build 1" in text
    finally:
        game.close()


@pytest.mark.parametrize("text", ["F5", "F5@x", "@3", "FOO@3"])
def test_parse_keys_rejects_malformed(text: str) -> None:
    with pytest.raises(ValueError):
        parse_keys(text)
