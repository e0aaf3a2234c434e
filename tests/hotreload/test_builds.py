"""Builds.cold: the one start that compiles every system says so, and only that one."""

from __future__ import annotations

import logging
import os
import shutil
import signal
from pathlib import Path

import pytest

from bench.frames import copy_project
from game.app import Game
from game.hotreload.builds import KEPT_SOURCES, Builds, _oldest_copies
from tests.conftest import headless
from tests.test_quitting import Running

FIRST_BUILD = "this first build takes longer"


def test_a_project_never_built_is_cold_and_a_built_one_is_not(built_project: Path, tmp_path: Path) -> None:
    assert not Builds(built_project).cold
    fresh = copy_project(tmp_path / "fresh", built_project, with_build=False)
    assert not (fresh / ".zig-cache").exists()
    assert Builds(fresh).cold
    (fresh / ".zig-cache" / "live").mkdir(parents=True)  # an empty cache folder
    assert Builds(fresh).cold


def test_a_manifest_whose_libraries_are_gone_is_cold(built_project: Path, tmp_path: Path) -> None:
    project = copy_project(tmp_path / "project", built_project)
    assert not Builds(project).cold
    shutil.rmtree(project / "zig-out")
    for mode in ("debug", "safe"):
        shutil.rmtree(project / ".zig-cache" / "live" / mode, ignore_errors=True)
    assert (project / ".zig-cache" / "live" / "built.json").is_file()
    assert Builds(project).cold


def test_a_warm_start_does_not_announce_a_first_build(built_project: Path, caplog: pytest.LogCaptureFixture) -> None:
    game = Game(headless(built_project))
    try:
        with caplog.at_level(logging.INFO, logger="sandbox"):
            assert game.start()
    finally:
        game.close()
    assert "building systems with Zig (only those whose sources changed)" in caplog.text
    assert FIRST_BUILD not in caplog.text


def test_a_start_with_an_empty_cache_announces_the_first_build(built_project: Path, tmp_path: Path) -> None:
    """Not built through: the game is stopped (Ctrl+C) once it has said so."""
    fresh = copy_project(tmp_path / "fresh", built_project, with_build=False)
    game = Running(fresh, "--entities", "100")
    game.wait_for("reload started (startup)")
    assert game.signal(signal.SIGINT) == 130
    assert FIRST_BUILD in game.stderr and "none is built yet in this project" in game.stderr


def test_pruning_kept_sources_skips_copies_being_written_and_copies_that_vanish(tmp_path: Path) -> None:
    """Parallel builds keep and prune source copies in one folder: another thread's scratch
    copy is not pruned, and a copy that vanishes while the folder is read (here: a link to
    nothing) is skipped. It once raised, and the whole start-up build died with it."""
    root = tmp_path / "sources"
    root.mkdir()
    copies = []
    for i in range(KEPT_SOURCES + 3):
        copy = root / f"key{i:03}"
        copy.mkdir()
        os.utime(copy, (1000 + i, 1000 + i))
        copies.append(copy)
    (root / ".key999.123.456").mkdir()  # a copy another thread is still writing
    (root / "vanished").symlink_to(tmp_path / "nothing")
    assert _oldest_copies(root) == copies[:3]
    assert _oldest_copies(tmp_path / "gone") == []
