"""The game as a user runs it: `python run_game.py --headless ...` in a real subprocess."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from game.app import Game
from game.cli import PROJECT_ROOT, parse_keys
from tests.conftest import headless


def run_game(project: Path, *args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, SDL_VIDEODRIVER="dummy", SDL_AUDIODRIVER="dummy")
    cmd = [sys.executable, str(PROJECT_ROOT / "run_game.py"), "--headless", "--project", str(project), *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env, cwd=project)


def load(path: Path) -> dict[str, np.ndarray]:
    with np.load(path, allow_pickle=False) as npz:
        return {k: npz[k] for k in npz.files if k != "meta"}


def test_headless_run_exits_0_and_logs_what_happened(built_project: Path, tmp_path: Path) -> None:
    out = run_game(built_project, "--frames", "30", "--entities", "500", "--save-world", str(tmp_path / "w.npz"))
    assert out.returncode == 0, out.stderr
    assert "game running: 500 entities" in out.stderr
    assert "systems: attractor, movement, bounds, colorize, render" in out.stderr
    assert "exit after 30 frames" in out.stderr
    assert len(load(tmp_path / "w.npz")["ids"]) == 500


def test_two_runs_with_the_same_flags_end_in_identical_worlds(built_project: Path, tmp_path: Path) -> None:
    args = ("--fast", "--frames", "120", "--entities", "3000", "--size", "400x300")
    a = run_game(built_project, *args, "--seed", "7", "--save-world", str(tmp_path / "a.npz"))
    b = run_game(built_project, *args, "--seed", "7", "--save-world", str(tmp_path / "b.npz"))
    c = run_game(built_project, *args, "--seed", "8", "--save-world", str(tmp_path / "c.npz"))
    assert a.returncode == b.returncode == c.returncode == 0
    wa, wb, wc = load(tmp_path / "a.npz"), load(tmp_path / "b.npz"), load(tmp_path / "c.npz")
    for name in wa:
        np.testing.assert_array_equal(wa[name], wb[name], err_msg=name)
    assert not np.array_equal(wa["col_pos_x"], wc["col_pos_x"])


def test_save_then_load_continues_exactly(built_project: Path, tmp_path: Path) -> None:
    common = ("--fast", "--entities", "1000", "--size", "300x200")
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
    for name in a:
        np.testing.assert_array_equal(a[name], b[name], err_msg=name)


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


def test_mouse_left_button_spawns_at_the_pointer(built_project: Path) -> None:
    import pygame

    game = Game(headless(built_project, entities=0))
    try:
        assert game.start()
        pygame.event.post(pygame.event.Event(pygame.MOUSEMOTION, pos=(100, 80), rel=(0, 0), buttons=(0, 0, 0)))
        pygame.event.post(pygame.event.Event(pygame.MOUSEBUTTONDOWN, pos=(100, 80), button=1))
        game.frame()
        game.frame()
        assert game.world.count == 200
        pygame.event.post(pygame.event.Event(pygame.MOUSEBUTTONUP, pos=(100, 80), button=1))
        game.frame()
        assert game.world.count == 200
        assert abs(float(np.mean(game.world.store.column("pos_x"))) - 100) < 20
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
        for name in ("attractor", "movement", "bounds", "colorize", "render"):
            assert name in text
        assert "entities 3,000" in text and "build 1" in text
    finally:
        game.close()


@pytest.mark.parametrize("text", ["F5", "F5@x", "@3", "FOO@3"])
def test_parse_keys_rejects_malformed(text: str) -> None:
    with pytest.raises(ValueError):
        parse_keys(text)
