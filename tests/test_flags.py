"""Flags as the README promises them: a paced run and a `--fast` run end in the same world,
Esc ends a run early and saves, `--no-canary` swaps builds in without a canary process, and
`--optimize` is the mode the final tier is built in."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pygame
import pytest

from game.app import Game
from game.cli import PROJECT_ROOT, parse
from game.native.library import file_digest
from game.native.platform import library_filename
from game.world.snapshot import read_state
from tests.conftest import assert_consistent, edit, press
from tests.test_app import load


def run_game(project: Path, *args: str) -> str:
    """`python run_game.py --headless ARGS` on `project`: its log; it must exit 0. (One at a
    time: two games building in one project at once race on its build cache.)"""
    env = dict(os.environ, SDL_VIDEODRIVER="dummy", SDL_AUDIODRIVER="dummy")
    cmd = [sys.executable, str(PROJECT_ROOT / "run_game.py"), "--headless", "--project", str(project), *args]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=300, env=env, cwd=project)
    assert done.returncode == 0, done.stderr
    return done.stderr


def assert_same_bits(a: Path, b: Path) -> None:
    """Two world files hold the same arrays and metadata, bit for bit (NaN included)."""
    wa, wb = load(a), load(b)
    assert wa.keys() == wb.keys()
    for name in wa:
        assert wa[name].dtype == wb[name].dtype and wa[name].tobytes() == wb[name].tobytes(), name


ARENA = ["--scene", "arena", "--seed", "3", "--size", "480x360"]


def test_a_paced_run_and_a_fast_run_end_in_the_same_world(built_project: Path, tmp_path: Path) -> None:
    """The arena (autopilot, bullets, splitting asteroids: spawns and despawns every step),
    the fire key held from frame 5, paused for frames 60-74: 120 frames at 60 FPS and 120
    frames back to back end in identical worlds, every column, id and resource."""
    args = [*ARENA, "--frames", "120", "--keys", "X@5,SPACE@60,SPACE@75"]
    run_game(built_project, *args, "--fast", "--save-world", str(tmp_path / "fast.npz"))
    started = time.monotonic()
    run_game(built_project, *args, "--save-world", str(tmp_path / "paced.npz"))
    assert time.monotonic() - started >= 119 / 60  # it was paced: 120 frames at 60 FPS take 2 s at least
    assert_same_bits(tmp_path / "paced.npz", tmp_path / "fast.npz")
    world = read_state(tmp_path / "fast.npz")
    assert world.step == 105  # 15 frames paused
    assert (world.arrays["entities.generation"] > 1).any()  # entities despawned, their indices reused
    assert any(
        "Bullet" in names and len(world.arrays[f"t{i}.entities"]) for i, names in enumerate(world.meta["tables"])
    )


def test_esc_ends_the_run_early_and_saves_the_world(built_project: Path, tmp_path: Path) -> None:
    """ESC at frame 40 of 200: exit 0 after 41 frames (the frame that read it steps no
    more), and the saved world is the one 40 frames make."""
    said = run_game(
        built_project,
        *ARENA,
        "--fast",
        "--frames",
        "200",
        "--keys",
        "ESC@40",
        "--save-world",
        str(tmp_path / "esc.npz"),
    )
    assert "exit after 41 frames" in said, said[-2000:]
    run_game(built_project, *ARENA, "--fast", "--frames", "40", "--save-world", str(tmp_path / "forty.npz"))
    assert_same_bits(tmp_path / "esc.npz", tmp_path / "forty.npz")
    assert read_state(tmp_path / "esc.npz").step == 40


def edit_movement_and_reload(game: Game, project: Path) -> None:
    """movement.zig's build id 1 becomes 2, F5 through the event loop, every tier swapped in."""
    edit(project / "ecs_systems" / "movement.zig", "build_id: u32 = 1;", "build_id: u32 = 2;")
    press(game, pygame.K_F5)
    game.frame()
    game.reloader.wait()
    game.frame()


def canary_workers() -> list[int]:
    """The canary worker processes (`python -m game.native.canary`) this process started."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
            cmdline = (stat.parent / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue  # gone while we looked
        fields = text[text.rindex(")") + 2 :].split()
        if int(fields[1]) == os.getpid() and fields[0] != "Z" and b"game.native.canary" in cmdline:
            found.append(int(stat.parent.name))
    return found


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
@pytest.mark.parametrize("flags", [[], ["--no-canary"]], ids=["canary", "no-canary"])
def test_no_canary_swaps_builds_in_without_a_canary_process(project: Path, flags: list[str]) -> None:
    """An edit of movement.zig and F5, with the flags parsed as the command line parses them:
    both go live; only without --no-canary did a worker process check them first."""
    canary = not flags
    options = parse(
        ["--headless", "--fast", "--entities", "500", "--size", "320x240", "--project", str(project), *flags]
    )
    assert options.canary is canary
    game = Game(options)
    try:
        assert game.start()
        edit_movement_and_reload(game, project)
        checked = [o.canary_seconds > 0 for o in game.reloader.round]
        assert [o.tier for o in game.reloader.round] == [1, 2]
        assert all(lib.info.build_id == 2 for o in game.reloader.round for lib in o.ready)
        assert game.pipeline.slots["movement"].system.info.build_id == 2
        assert (game.reloader.canary is not None) is canary
        assert checked == [canary, canary]
        assert bool(canary_workers()) is canary
        assert_consistent(game)
    finally:
        game.close()
    assert canary_workers() == []


def build_mode(library: Path) -> str:
    """The optimize mode a library was built in, as its bytes show it: debug builds keep
    their DWARF sections; safe builds keep the safety checks' panic messages; fast and
    small builds have neither."""
    data = library.read_bytes()
    if b".debug_info" in data:
        return "debug"
    return "safe" if b"integer overflow" in data else "fast or small"


SYSTEMS_KEPT = ("components", "movement", "bounds")
"""The optimize test's project: every other system is removed, so that startup compiles
three libraries in the new mode rather than twenty."""


@pytest.mark.parametrize("mode", ["fast", "debug"])
def test_optimize_is_the_mode_of_the_final_tier(project: Path, libs: dict[str, Path], mode: str) -> None:
    """--optimize fast: startup builds every system at tier 2 in ReleaseFast, and an edit
    goes live at tier 1 (debug), then tier 2 (fast). --optimize debug: the final tier is 1,
    so an edit builds once, in debug. (The session's default build is safe.)"""
    assert build_mode(libs["movement"]) == "safe"  # the probe tells the modes apart
    for source in (project / "ecs_systems").glob("*.zig"):
        if source.stem not in SYSTEMS_KEPT:
            source.unlink()
    options = parse(["--headless", "--fast", "--optimize", mode, "--project", str(project), "--size", "320x240"])
    assert options.optimize == mode
    final = 1 if mode == "debug" else 2
    expect = "debug" if mode == "debug" else "fast or small"
    game = Game(options)
    try:
        assert game.start()
        assert sorted(game.pipeline.slots) == ["bounds", "movement"]
        for name, slot in game.pipeline.slots.items():
            lib = slot.system.library
            assert lib.tier == final, name
            assert lib.digest == file_digest(project / ".zig-cache" / "live" / mode / library_filename(name)), name
            assert build_mode(lib.copy) == expect, name
        edit_movement_and_reload(game, project)
        ready = [(o.tier, lib) for o in game.reloader.round for lib in o.ready]
        assert all(lib.digest == file_digest(lib.source) for _, lib in ready)  # the file each was loaded from
        went_in = [(tier, build_mode(lib.source)) for tier, lib in ready]
        assert went_in == ([(1, "debug")] if mode == "debug" else [(1, "debug"), (2, "fast or small")])
        live = game.pipeline.slots["movement"].system.library
        assert (live.info.build_id, live.tier, build_mode(live.copy)) == (2, final, expect)
    finally:
        game.close()
