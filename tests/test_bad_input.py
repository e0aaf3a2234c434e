"""The bad-input catalogue: each one is a one-line error naming the file and what to do,
the game keeps running, and the world is what it would have been without it."""

from __future__ import annotations

import re
import shutil
import sys
import threading
from pathlib import Path
from typing import Any

import numpy as np
import pygame
import pytest

from game.app import Game
from game.hotreload import builds as builds_module
from game.hotreload.compiler import Compiled
from game.hotreload.zigbuild import ZigBuild
from game.native.abi import LAYOUT
from game.native.canary import CanaryWorker
from game.native.library import NativeLibrary, probe
from game.native.platform import built_libraries
from game.world import spawn, state
from game.world.schema import ComponentSpec
from game.world.world import World
from tests.conftest import assert_same, edit, headless, press
from tests.test_safe_reload import HEADER, add, run_with_edit, system

NO_ENTRY = HEADER + "fn helper() void {}\ncomptime { _ = helper; }\n"
NULL_ENTRY = HEADER + "export fn plugin_entry() ?*const sdk.Api {\n    return null;\n}\n"

CATALOGUE = {
    "no_plugin_entry": (
        NO_ENTRY,
        r"refused: .*libno_plugin_entry\.so: exports no plugin_entry; every system must `export fn plugin_entry`",
    ),
    "null_plugin_entry": (
        NULL_ENTRY,
        r"refused: .*plugin_entry returned NULL; it must return a pointer to its sdk\.Api",
    ),
    "null_run": (
        system("null_run", "    _ = w;", lie="    a.run = null;"),
        r"refused: ecs_systems/null_run\.zig: the Api's run is NULL; build the Api with sdk\.system",
    ),
    "null_shutdown": (
        system("null_shutdown", "    _ = w;", lie="    a.shutdown = null;"),
        r"refused: ecs_systems/null_shutdown\.zig: the Api's shutdown is NULL; build the Api with sdk\.system",
    ),
    "unknown_kind": (
        system("unknown_kind", "    _ = w;").replace(  # sdk.Kind has no 7: patched in at run time
            "    return &api;",
            "    patched = api;\n    @as(*u32, @ptrCast(&patched.kind)).* = 7;\n    return &patched;",
        )
        + "var patched: sdk.Api = undefined;\n",
        r"refused: ecs_systems/unknown_kind\.zig: unknown kind 7; expected 0-3",
    ),
    "schema_not_from_components": (
        system("schema_not_from_components", "    _ = w;", lie="    a.kind = .schema;"),
        r"refused: ecs_systems/schema_not_from_components\.zig: only components\.zig may describe the schema",
    ),
    "stale_layout": (
        system("stale_layout", "    _ = w;", lie="    a.layout.input = 64;"),
        rf"refused: ecs_systems/stale_layout\.zig: sdk struct input is 64 bytes, host expects {LAYOUT['input']}",
    ),
    "writes_past_its_column": (
        system(
            "writes_past_its_column",
            "    var tables = w.query(.q);\n    while (tables.next()) |t| {\n        var i: usize = 0;\n"
            "        while (i <= t.len) : (i += 1) t.pos.x[i] = 0;\n    }",
        ),
        r"refused: .*canary caught writes_past_its_column: panic in run: index out of bounds: index 2000, len 2000",
    ),
}


@pytest.mark.parametrize("case", sorted(CATALOGUE))
def test_bad_system_is_refused_with_a_clear_line(case: str, project: Path, reference: dict[str, np.ndarray]) -> None:
    source, pattern = CATALOGUE[case]
    game = run_with_edit(project, add(case, source))
    assert re.search(pattern, game.reloader.message), game.reloader.message
    assert "\n" not in game.reloader.message
    assert_same(reference, game.final_state)  # type: ignore[attr-defined]


COMPILE_ERRORS = {
    "type_error": (
        lambda s: edit(s / "bounds.zig", "bounce(t.pos.x, t.vel.x, w.width());", 'bounce(t.pos.x, t.vel.x, "wide");'),
        r"build failed: ecs_systems/bounds\.zig:\d+:\d+: ",
    ),
    "resource_in_a_query": (
        add(
            "peek",
            system(
                "peek",
                "    _ = w;",
                world=".{ .queries = .{ .q = sdk.Query(.{ .tun = .{ c.Tunables, .read } }, .{}) } }",
            ),
        ),
        r"build failed: ecs_systems/sdk/sdk\.zig:\d+:\d+: query term \.tun: components\.Tunables is a resource; "
        r"declare it in \.resources",
    ),
    "tag_as_data": (
        add(
            "peek",
            system(
                "peek", "    _ = w;", world=".{ .queries = .{ .q = sdk.Query(.{ .p = .{ c.Player, .read } }, .{}) } }"
            ),
        ),
        r"build failed: ecs_systems/sdk/sdk\.zig:\d+:\d+: query term \.p: components\.Player is a tag; "
        r"put it in \.with",
    ),
    "bad_field_type": (
        lambda s: edit(s / "components.zig", "hp: i32 = 100", "hp: i32 = 100, alive: bool = true"),
        r"build failed: ecs_systems/sdk/sdk\.zig:\d+:\d+: Health\.alive: type bool is not a component field type",
    ),
}


@pytest.mark.parametrize("case", sorted(COMPILE_ERRORS))
def test_compile_errors_name_file_line_and_what_is_wrong(
    case: str, project: Path, reference: dict[str, np.ndarray]
) -> None:
    change, pattern = COMPILE_ERRORS[case]
    game = run_with_edit(project, change)
    assert re.match(pattern, game.reloader.message), game.reloader.message
    assert game.reloader.errors and game.reloader.errors[0].line > 0
    assert_same(reference, game.final_state)  # type: ignore[attr-defined]


@pytest.fixture(scope="module")
def foreign_libraries(built_project: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Files that are not loadable systems: junk, a truncated library, one for another CPU."""
    out = tmp_path_factory.mktemp("foreign")
    real = built_project / "zig-out" / "lib" / "libmovement.so"
    (out / "libjunk.so").write_bytes(b"\x7fELF" + bytes(range(256)) * 8)
    (out / "libtruncated.so").write_bytes(real.read_bytes()[: real.stat().st_size // 3])
    arm = ZigBuild(built_project, prefix=out / "arm").run(timeout=600, extra=["-Dtarget=aarch64-linux"])
    assert arm.ok, arm.output
    shutil.copy(out / "arm" / "lib" / "libmovement.so", out / "libarm.so")
    return {p.stem.removeprefix("lib"): p for p in out.glob("*.so")}


@pytest.fixture(scope="module")
def real_schema(built_project: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, ComponentSpec]:
    """The schema of components.zig, as the built components library describes it."""
    path = built_libraries(built_project / "zig-out")["components"]
    lib = NativeLibrary.load(path, tmp_path_factory.mktemp("schema"), version=0)
    try:
        return lib.info.components
    finally:
        lib.close()


@pytest.mark.skipif(sys.platform != "linux", reason="ELF files")
@pytest.mark.parametrize("kind", ["junk", "truncated", "arm"])
def test_foreign_files_are_refused_by_the_canary_and_the_host_survives(
    kind: str, foreign_libraries: dict[str, Path], real_schema: dict[str, ComponentSpec], tmp_path: Path
) -> None:
    """The host never dlopens such a file itself: dlopen of a malformed ELF can crash the
    process (a bus error, seen here), which is why the canary always loads first."""
    path = foreign_libraries[kind]
    world = World(64, 64, seed=1, schema=real_schema.values())
    world.spawn(10, spawn.scatter(world.rng, 10, 64, 64))
    worker = CanaryWorker(tmp_path / "copies")
    try:
        verdict = worker.check(path, worker.world_file(state.capture(world)), kind)
    finally:
        worker.close()
    assert verdict is not None and verdict.startswith(kind), verdict
    assert "not a loadable shared library" in verdict or "canary crashed" in verdict, verdict
    assert probe(path, tmp_path / "copies") is not None


def test_a_missing_compiler_is_a_clear_error_and_the_game_goes_on(project: Path) -> None:
    game = Game(headless(project))
    try:
        assert game.start()
        live = {n: s.system.library for n, s in game.pipeline.slots.items()}
        game.reloader.builds.zig = [str(project / "no-python-here"), "-m", "ziglang"]
        edit(project / "ecs_systems" / "movement.zig", "build_id: u32 = 1;", "build_id: u32 = 2;")  # a build to make
        press(game, pygame.K_F5)
        game.frame()
        game.reloader.wait()
        assert "cannot start the Zig compiler" in game.reloader.message
        assert "reinstall with pip install -e ." in game.reloader.message
        game.reloader.builds.zig = [sys.executable, "-m", "no_such_zig_module"]
        press(game, pygame.K_F5)  # F5 tries a build that failed again
        game.frame()
        game.reloader.wait()
        assert "No module named no_such_zig_module" in game.reloader.message
        game.frame()
        assert {n: s.system.library for n, s in game.pipeline.slots.items()} == live
    finally:
        game.close()


def test_an_unwritable_build_directory_is_a_clear_error(project: Path) -> None:
    blocker = project / "not-a-dir"
    blocker.write_text("a file where the output folder should go")
    result = ZigBuild(project, prefix=blocker / "zig-out").run(timeout=300)
    assert not result.ok
    assert "not-a-dir" in result.summary and "NotDir" in result.summary, result.summary


def test_a_source_saved_mid_build_is_built_again_so_the_newest_wins(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The second save lands while the first build is running, every time: the compiler
    of the first build has read build 2 and the reloader's build has not finished (it waits
    for the test). Build 2 goes in, stale, and the newest source, build 3, is what runs."""
    compiled, resume = threading.Event(), threading.Event()
    real = builds_module.compile_system

    def held(project: Path, name: str, *args: Any, **kwargs: Any) -> Compiled:
        result = real(project, name, *args, **kwargs)
        if name == "movement" and not compiled.is_set():  # the first build of the edit: held open
            compiled.set()
            assert resume.wait(120), "the test never resumed the build"
        return result

    game = Game(headless(project, watch=False))
    try:
        assert game.start()
        monkeypatch.setattr(builds_module, "compile_system", held)
        source = project / "ecs_systems" / "movement.zig"
        edit(source, "build_id: u32 = 1;", "build_id: u32 = 2;")
        press(game, pygame.K_F5)
        game.frame()
        assert compiled.wait(120), "the build of build 2 never ran"
        assert game.reloader.building
        edit(source, "build_id: u32 = 2;", "build_id: u32 = 3;")  # saved while the build runs
        resume.set()
        game.reloader.wait()
        game.frame()
        first, *later = [o for o in game.reloader.outcomes if o.reason != "startup"]
        assert first.reason == "F5" and first.stale
        assert [lib.info.build_id for lib in first.ready] == [2]  # what zig had read: the save came after
        assert later and later[0].reason == "source saved during the build"
        assert {lib.info.build_id for o in later for lib in o.ready} == {3}
        live = game.pipeline.slots["movement"].system.library
        assert (live.info.build_id, live.tier, live.key) == (3, 2, game.reloader.builds.key("movement"))
    finally:
        resume.set()
        game.close()


def test_a_library_without_a_source_is_never_loaded(project: Path) -> None:
    lib_dir = project / "zig-out" / "lib"
    shutil.copy(lib_dir / "libbounds.so", lib_dir / "libintruder.so")
    game = Game(headless(project))
    try:
        assert game.start()
        assert "intruder" not in game.pipeline.slots and "bounds" in game.pipeline.slots
    finally:
        game.close()
