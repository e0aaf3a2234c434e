"""Builds: the one start that compiles every system says so (cold), and the copies of the
sources each build keeps for the panic locator."""

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
from game.hotreload.compiler import Sources
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


def test_an_import_in_a_comment_is_not_an_import(tmp_path: Path) -> None:
    """shared/arena.zig shows how to import it in its doc comment; that once counted as an
    import of shared/shared/arena.zig, a file that does not exist."""
    systems = tmp_path / "ecs_systems"
    (systems / "shared").mkdir(parents=True)
    (systems / "shared" / "lib.zig").write_text('//! Import it: `@import("shared/lib.zig")`.\npub const x = 1;\n')
    (systems / "user.zig").write_text(
        '// const old = @import("old.zig");\nconst lib = @import("shared/lib.zig");\n'
        'const s = "//\\""; const more = @import("more.zig");\n'
        'const text =\n    \\\\ @import("in_a_string.zig")\n;\n'
    )
    (systems / "more.zig").write_text("pub const y = 2;\n")
    found = [p.relative_to(tmp_path).as_posix() for p in Sources(tmp_path).imports("user")]
    assert found == ["ecs_systems/more.zig", "ecs_systems/shared/lib.zig", "ecs_systems/user.zig"]


def test_a_build_keeps_a_copy_of_every_file_it_read_shared_files_included(project: Path) -> None:
    """The panic locator shows a line as it was built, and builds a stripped library's sources
    again, from this copy. A system importing shared/arena.zig once had none kept at all."""
    shutil.rmtree(project / ".zig-cache" / "live" / "sources", ignore_errors=True)
    builds = Builds(project)
    key = builds.key("asteroids")
    assert builds.build(["asteroids"], 1)["asteroids"].ok
    kept = builds.kept_sources(key)
    assert kept is not None
    read = [p.relative_to(project).as_posix() for p in builds.sources.imports("asteroids")]
    assert "ecs_systems/shared/arena.zig" in read
    for name in read:
        assert (kept / name).read_bytes() == (project / name).read_bytes(), name
