"""Per-system, tiered builds with the real compiler: isolation, tiers, keys, the log line."""

from __future__ import annotations

import logging
import threading
import time
from pathlib import Path
from typing import Any

import pygame
import pytest

from game.app import Game
from game.hotreload.builds import Builds
from game.hotreload.compiler import compile_system, imports
from game.hotreload.watcher import SourceWatcher
from game.hotreload.zigbuild import ZigBuild
from game.native.canary import sample
from game.native.library import file_digest
from game.native.platform import built_libraries, library_filename
from game.render.hud import HudState
from game.world import state
from game.world.snapshot import read_state, write_state
from game.world.world import World
from tests.conftest import assert_consistent, edit, headless, press
from tests.test_reload import frames_until_idle

MOVEMENT_Y = "integrate(t.pos.y, t.vel.y, w.dt);"


def break_source(path: Path) -> None:
    edit(path, MOVEMENT_Y if "movement" in path.name else "pub const build_id", "this is not zig;\npub const build_id")


# --- builds on their own --------------------------------------------------------------------


def test_per_system_builds_make_the_same_libraries_as_zig_build(project: Path, tmp_path: Path) -> None:
    prefix = tmp_path / "shell"
    assert ZigBuild(project, prefix=prefix).run(timeout=600).ok
    (project / ".zig-cache" / "live" / "built.json").unlink()  # no library to reuse: every one is compiled
    builds = Builds(project, prefix=tmp_path / "direct")
    results = builds.build(builds.names(), 2)
    assert all(r.ok for r in results.values()), [r.output for r in results.values() if not r.ok]
    by_shell = built_libraries(prefix)
    by_builds = built_libraries(tmp_path / "direct")
    assert set(by_shell) == set(by_builds) == set(builds.names())
    for name in by_shell:
        assert file_digest(by_shell[name]) == file_digest(by_builds[name]), name


def test_only_systems_whose_sources_or_imports_changed_get_a_new_key(project: Path) -> None:
    builds = Builds(project)
    before = builds.keys()
    edit(project / "ecs_systems" / "movement.zig", "build_id: u32 = 1;", "build_id: u32 = 2;")
    after = builds.keys()
    assert [n for n in before if before[n] != after[n]] == ["movement"]

    helper = project / "ecs_systems" / "shared" / "maths.zig"
    helper.parent.mkdir(exist_ok=True)
    helper.write_text("pub fn half(x: f32) f32 {\n    return x / 2;\n}\n")
    edit(
        project / "ecs_systems" / "bounds.zig",
        "const sdk = @import",
        'const maths = @import("shared/maths.zig");\nconst sdk = @import',
    )
    assert helper in imports(project, "bounds")
    keyed = builds.keys()
    helper.write_text("pub fn half(x: f32) f32 {\n    return x * 0.5;\n}\n")
    assert [n for n in keyed if keyed[n] != builds.keys()[n]] == ["bounds"]  # only the system importing it

    edit(project / "ecs_systems" / "components.zig", "pub const Position", "// a comment\npub const Position")
    changed = builds.keys()
    assert all(changed[n] != keyed[n] for n in keyed)  # every system imports components.zig


def test_a_build_of_unchanged_sources_reuses_the_library_without_the_compiler(project: Path) -> None:
    builds = Builds(project)
    first = builds.build(["movement"], 1)["movement"]
    assert first.ok and builds.builds == 1
    again = builds.build(["movement"], 1)["movement"]
    assert again.ok and again.output == "reused" and builds.builds == 1
    assert again.library is not None and file_digest(again.library) == file_digest(first.library)  # type: ignore[arg-type]
    edit(project / "ecs_systems" / "movement.zig", "build_id: u32 = 1;", "build_id: u32 = 3;")
    assert builds.build(["movement"], 1)["movement"].output != "reused" and builds.builds == 2


def test_a_compile_error_is_parsed_with_its_line_and_column(project: Path, tmp_path: Path) -> None:
    source = project / "ecs_systems" / "movement.zig"
    edit(source, "build_id: u32 = 1;", "build_id: u32 = 1")
    result = compile_system(project, "movement", "debug", tmp_path / "m.so", Path(".zig-cache/live"), 300)
    assert not result.ok and result.library is None
    error = result.errors[0]
    assert (error.file, error.line, error.message) == ("ecs_systems/movement.zig", 7, "expected ';' after declaration")
    assert "build_id: u32 = 1" in error.source_line


def test_a_compiler_past_its_timeout_is_stopped_with_a_clear_message(project: Path, tmp_path: Path) -> None:
    endless = (
        "comptime {\n    @setEvalBranchQuota(4_000_000_000);\n"
        "    var i: u64 = 0;\n    while (i < 4_000_000_000) : (i += 1) {}\n}\n"
    )
    (project / "ecs_systems" / "movement.zig").write_text(
        (project / "ecs_systems" / "movement.zig").read_text() + endless
    )
    started = time.perf_counter()
    result = compile_system(project, "movement", "debug", tmp_path / "m.so", Path(".zig-cache/live"), 1.0)
    assert time.perf_counter() - started < 10
    assert not result.ok and "did not finish within 1 s" in result.output


def test_libraries_of_deleted_systems_are_removed(project: Path) -> None:
    (project / "ecs_systems" / "colorize.zig").unlink()
    assert "colorize" in built_libraries(project / "zig-out")
    removed = Builds(project).remove_stale()
    assert [p.name for p in removed] == [library_filename("colorize")]
    assert "colorize" not in built_libraries(project / "zig-out")


def test_the_canary_sample_is_a_consistent_world_with_every_table(project: Path, tmp_path: Path) -> None:
    game = Game(headless(project, entities=30_000, scene="galaxy"))
    try:
        assert game.start()
        image = state.capture(game.world)
    finally:
        game.close()
    small = sample(image, 1000)
    assert sample(image, 10**9) is image
    tables = len(image.meta["tables"])
    assert tables > 1
    kept = [len(small.arrays[f"t{i}.entities"]) for i in range(tables)]
    assert 1000 <= sum(kept) <= 1000 + tables and all(k > 0 for k in kept)
    path = tmp_path / "sample.npz"
    write_state(small, path, durable=False)
    back = read_state(path)  # checked in full: ids, free list and generations agree
    width, height = image.meta["size"]
    restored = World(width, height, seed=3)
    state.restore(back, restored, checked=True)
    assert restored.count == sum(kept)


# --- in the game ------------------------------------------------------------------------------


def test_one_broken_system_at_startup_does_not_stop_the_others(project: Path) -> None:
    source = project / "ecs_systems" / "bounds.zig"
    break_source(source)
    game = Game(headless(project, fast=False))
    try:
        assert game.start()
        assert "bounds" not in game.pipeline.slots
        assert {"attractor", "movement", "colorize", "lifetime", "render"} <= set(game.pipeline.slots)
        assert "bounds" in game.reloader.failures
        assert game.reloader.errors and game.reloader.errors[0].file == "ecs_systems/bounds.zig"
        assert any("bounds.zig" in text for text, _ in game.hud.error_lines(game.pipeline, game.reloader))
        before = game.world.step
        for _ in range(10):
            game.frame()
        assert game.world.step == before + 10  # the others run

        edit(source, "this is not zig;\n", "")  # fixed: it goes live at the next build
        press(game, pygame.K_F5)
        frames_until_idle(game)
        assert "bounds" in game.pipeline.slots and not game.reloader.failures and not game.reloader.errors
        assert game.pipeline.slots["bounds"].system.library.tier == 2
        assert_consistent(game)
    finally:
        game.close()


def test_one_broken_system_in_a_reload_does_not_hold_back_the_other(project: Path) -> None:
    game = Game(headless(project, fast=False))
    try:
        assert game.start()
        for _ in range(5):
            game.frame()
        edit(project / "ecs_systems" / "movement.zig", "build_id: u32 = 1;", "build_id: u32 = 7;")
        break_source(project / "ecs_systems" / "colorize.zig")
        old_colorize = game.pipeline.slots["colorize"].system.library
        press(game, pygame.K_F5)
        frames_until_idle(game)
        assert game.pipeline.slots["movement"].system.info.build_id == 7
        assert game.pipeline.slots["colorize"].system.library is old_colorize  # still running its old code
        assert set(game.reloader.failures) == {"colorize"}
        assert "colorize" in game.reloader.message
    finally:
        game.close()


def test_an_edit_goes_live_at_tier_1_then_tier_2_replaces_it(project: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="sandbox")
    game = Game(headless(project, fast=False))
    try:
        assert game.start()
        for _ in range(10):
            game.frame()
        ids = game.world.tables[0].ids().copy()
        previous = game.pipeline.slots["movement"].system.library
        edit(project / "ecs_systems" / "movement.zig", "build_id: u32 = 1;", "build_id: u32 = 5;")
        press(game, pygame.K_F5)
        seen: list[int] = []
        for _ in range(3000):
            game.frame()
            slot = game.pipeline.slots["movement"]
            if slot.system.info.build_id == 5 and (not seen or seen[-1] != slot.system.library.tier):
                seen.append(slot.system.library.tier)
                hud = "\n".join(text for text, _ in game.hud.lines(_state(game), game.pipeline, game.reloader))
                assert f"T{slot.system.library.tier}" in hud
            if not game.reloader.building:
                break
        assert seen == [1, 2]
        assert (game.world.tables[0].ids() == ids).all()  # every entity kept through both swaps
        assert_consistent(game)
        slot = game.pipeline.slots["movement"]
        assert slot.previous is previous  # F6 goes back past both tiers, to the code before the edit
        for _ in range(3):
            game.frame()
        live = [r.getMessage() for r in caplog.records if " live: " in r.getMessage()]
        assert any("movement build 5 tier 1 (debug) live:" in m and "ms from F5 to its first step" in m for m in live)
        assert any("movement build 5 tier 2 (safe) live:" in m for m in live)
        press(game, pygame.K_F6)
        game.frame()
        assert game.pipeline.slots["movement"].system.library is previous
    finally:
        game.close()


@pytest.mark.parametrize("tier", [1, 2])
def test_a_pinned_tier_builds_only_that_tier(project: Path, tier: int) -> None:
    game = Game(headless(project, fast=False, tier=tier))
    try:
        assert game.start()
        assert {s.system.library.tier for s in game.pipeline.slots.values()} == {tier}
        edit(project / "ecs_systems" / "movement.zig", "build_id: u32 = 1;", "build_id: u32 = 4;")
        press(game, pygame.K_F5)
        frames_until_idle(game)
        tiers = [o.tier for o in game.reloader.outcomes if o.reason == "F5"]
        assert tiers == [tier]
        assert game.pipeline.slots["movement"].system.library.tier == tier
    finally:
        game.close()


def test_the_t_key_cycles_the_pinned_tier_and_rebuilds_to_match(project: Path) -> None:
    game = Game(headless(project, fast=False))
    try:
        assert game.start()
        assert game.reloader.pin is None
        press(game, pygame.K_t)
        frames_until_idle(game)
        assert game.reloader.pin == 1
        assert {s.system.library.tier for s in game.pipeline.slots.values()} == {1}
        press(game, pygame.K_t)
        frames_until_idle(game)
        assert game.reloader.pin == 2
        assert {s.system.library.tier for s in game.pipeline.slots.values()} == {2}
        press(game, pygame.K_t)
        game.frame()
        assert game.reloader.pin is None
    finally:
        game.close()


def test_watch_mode_reloads_from_the_watchers_thread_with_the_save_time(project: Path) -> None:
    seen: list[tuple[str, float]] = []
    watcher = SourceWatcher(project / "ecs_systems", on_due=lambda reason, at: seen.append((reason, at)))
    watcher.start()
    try:
        time.sleep(0.2)
        saved = time.perf_counter()
        edit(project / "ecs_systems" / "movement.zig", "build_id: u32 = 1;", "build_id: u32 = 2;")
        deadline = time.monotonic() + 5
        while not seen and time.monotonic() < deadline:
            time.sleep(0.01)
    finally:
        watcher.stop()
    assert len(seen) == 1
    reason, at = seen[0]
    assert reason == "saved movement.zig" and saved <= at < saved + 1


def test_a_large_world_builds_tier_2_at_once(project: Path) -> None:
    from game.hotreload import reloader as module

    game = Game(headless(project, fast=False))
    try:
        assert game.start()
        module_limit = module.TIER1_ENTITIES
        module.TIER1_ENTITIES = game.world.count - 1  # this world counts as large
        game.frame()  # the reloader sees the world as of the last frame
        try:
            edit(project / "ecs_systems" / "movement.zig", "build_id: u32 = 1;", "build_id: u32 = 6;")
            press(game, pygame.K_F5)
            frames_until_idle(game)
        finally:
            module.TIER1_ENTITIES = module_limit
        assert [o.tier for o in game.reloader.outcomes if o.reason == "F5"] == [2]
    finally:
        game.close()


@pytest.mark.parametrize("how", ["faulted", "flipped"])
def test_a_tier_2_build_is_not_swapped_in_when_its_tier_1_build_stopped_running_meanwhile(
    project: Path, how: str, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """Tier 2 compiles while tier 1 plays. When tier 1 faults (set aside, rolled back) or F6
    flips it back in that time, tier 2 of the same source is not swapped in: the build that
    runs stays the one before the edit (the tour caught tier 2 of a panicking edit going live,
    then panicking again with nothing to go back to)."""
    caplog.set_level(logging.INFO, logger="sandbox")
    game = Game(headless(project, fast=False))
    held, go = threading.Event(), threading.Event()
    try:
        assert game.start()
        for _ in range(10):
            game.frame()
        before = game.pipeline.slots["movement"].system.library
        build = game.reloader.builds.build

        def tier_2_held(names: Any, tier: int) -> Any:
            if tier == 2:
                held.set()
                go.wait(120)
            return build(names, tier)

        monkeypatch.setattr(game.reloader.builds, "build", tier_2_held)
        late = game.world.step + 100  # past the canary's steps: the game meets it, tier 1 live
        change = f'if (w.step() >= {late}) @panic("late");\n    var tables' if how == "faulted" else "var tables"
        edit(project / "ecs_systems" / "movement.zig", "build_id: u32 = 1;", "build_id: u32 = 7;")
        edit(project / "ecs_systems" / "movement.zig", "var tables", change)
        press(game, pygame.K_F5)
        for _ in range(3000):
            game.frame()
            if game.pipeline.slots["movement"].system.info.build_id == 7:
                break
        assert game.pipeline.slots["movement"].system.library.tier == 1
        assert held.wait(60)
        if how == "faulted":
            while game.world.step < late + 2:
                game.frame()
            assert game.pipeline.faults and game.pipeline.faults[-1].name == "movement"
        else:
            press(game, pygame.K_F6)
            game.frame()
        assert game.pipeline.slots["movement"].system.library is before
        go.set()
        frames_until_idle(game)
        for _ in range(3):
            game.frame()
        assert game.pipeline.slots["movement"].system.library is before  # tier 2 of build 7 never went in
        assert game.pipeline.slots["movement"].enabled
        assert any("movement: its tier-2 build is not swapped in" in r.getMessage() for r in caplog.records)
        assert_consistent(game)
    finally:
        go.set()
        game.close()


def _state(game: Game) -> HudState:
    return HudState(fps=60.0, paused=game.paused, step=game.world.step, count=game.world.count)
