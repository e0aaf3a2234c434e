"""The seed experiment, run as a user would, on a temporary copy of the project."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from game.app import Game
from game.cli import PROJECT_ROOT
from game.native.abi import Kind
from game.native.library import NativeLibrary
from game.native.platform import built_libraries
from tests.conftest import edit, headless


def demo(project: Path, *args: str) -> subprocess.CompletedProcess[str]:
    cmd = [sys.executable, str(PROJECT_ROOT / "run_game.py"), "--demo", "--project", str(project), *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=600, env=dict(os.environ))


def test_demo_bumps_rebuilds_reloads_and_shows_each_build_id(project: Path) -> None:
    repo_source = (PROJECT_ROOT / "ecs_systems" / "plugin_a.zig").read_text()
    out = demo(project, "--cycles", "3")
    assert out.returncode == 0, out.stdout + out.stderr
    lines = out.stdout.splitlines()
    assert "  plugin_a: hello from BuildId 1" in lines and "  plugin_b: hello from BuildId 1" in lines
    for n in (2, 3, 4):
        assert f"    plugin_a: hello from BuildId {n}" in lines
    assert sum(1 for ln in lines if ln.startswith("  zig build ... ") and ln.endswith(" ms")) == 3
    assert "pub const BuildId: u32 = 4;" in (project / "ecs_systems" / "plugin_a.zig").read_text()
    assert (PROJECT_ROOT / "ecs_systems" / "plugin_a.zig").read_text() == repo_source  # the repo is never edited


def test_demo_takes_library_paths_like_the_seeds_host(project: Path) -> None:
    built = built_libraries(project / "zig-out")
    out = demo(project, "--cycles", "1", str(built["plugin_a"]), str(built["plugin_b"]))
    assert out.returncode == 0, out.stdout + out.stderr
    assert "plugin_a: hello from BuildId 2" in out.stdout


def test_a_library_that_is_not_one_is_a_clear_failure(project: Path, tmp_path: Path) -> None:
    fake = tmp_path / "libplugin_a.so"
    fake.write_bytes(b"\x7fELF but not really")
    out = demo(project, "--cycles", "1", str(fake), str(fake))
    assert out.returncode == 1
    assert "demo failed: cannot load" in out.stderr and "not a loadable shared library" in out.stderr
    assert "Traceback" not in out.stderr


def test_a_broken_plugin_source_stops_with_the_compiler_error(project: Path) -> None:
    source = project / "ecs_systems" / "plugin_a.zig"
    edit(source, "    return sdk.ok;\n}", "    return sdk.ok\n}")
    out = demo(project, "--cycles", "1")
    assert out.returncode == 1
    assert "demo failed: zig build failed: build failed: ecs_systems/plugin_a.zig:" in out.stderr
    assert "Traceback" not in out.stderr


def test_the_demo_plugins_are_bare_and_never_join_the_game(built_project: Path, tmp_path: Path) -> None:
    """plugin_a and plugin_b are `sdk.bare` libraries of kind demo: they carry the schema but
    no query, and the game skips them (they are for `--demo` only)."""
    built = built_libraries(built_project / "zig-out")
    schema = NativeLibrary.load(built["components"], tmp_path, version=0)
    try:
        for name in ("plugin_a", "plugin_b"):
            lib = NativeLibrary.load(built[name], tmp_path, version=1)
            try:
                info = lib.info
                assert (info.name, info.kind, info.build_id) == (name, Kind.DEMO, 1)
                assert info.queries == () and info.resources == () and info.has_run
                assert info.components == schema.info.components
            finally:
                lib.close()
    finally:
        schema.close()
    game = Game(headless(built_project, entities=10))
    try:
        assert game.start()
        assert not {"plugin_a", "plugin_b", "components"} & set(game.pipeline.slots)
        assert game.pipeline.schema_library is not None
    finally:
        game.close()
