"""The fault matrix: every fault x every entry point x early and late, with real libraries.

A real `faulty` system (tests/faults/faulty.zig.in) is built into a copy of the project. It
reads a trigger file in every entry point and, when armed, faults there for real: segfault,
bus error, Zig panic, trap, abort, stack overflow, endless loop, arithmetic fault. Normally
it only reads Position, so the world must always equal the world of a run where it never
faulted: what the last good code alone produces. Two builds exist, A (the one the game
starts with, trigger `a`) and B (an edit, trigger `b`), so a case can fault the old build,
the new one, or both at different moments.

Early means inside the canary (the worker process runs B's entry points before the game
ever does); late means in the game, hundreds of steps in, or where the canary cannot see it
(canary off, a step the canary never reached, F6, quit). Each case asserts that the game
kept stepping, the world is bit-identical to the reference and consistent, no system code
of the faulting build runs again, and the log names the system, the fault and the step.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from bench.frames import copy_project
from game.app import Game
from game.hotreload.zigbuild import ZigBuild
from tests.conftest import assert_consistent, assert_same, headless, world_state
from tests.faults.template import FAULTS, arm, disarm, render

FRAMES = 300
FAULT_STEP = 200
BOUND = 0.25  # the per-call bound in these tests (the game's default is 1 s)
NAME = "faulty"
RENDER = "faultyr"

MESSAGES = {
    "segv": "segfault",
    "bus": "bus error",
    "panic": "panic in",
    "trap": "illegal instruction",
    "abort": "abort",
    "stack": "stack overflow",
    "hang": "hang in",
    "fpe": "arithmetic fault",
}


class Faulty:
    """The session's faulty project: the paths of its triggers and the sources of A and B."""

    def __init__(self, root: Path, triggers: Path) -> None:
        self.root = root
        self.triggers = triggers
        self.a = render(NAME, triggers / "a", order=25)
        self.b = render(NAME, triggers / "b", order=25).replace("build_id: u32 = 1", "build_id: u32 = 2")
        self.ra = render(RENDER, triggers / "ra", order=-100, kind="render")
        self.rb = render(RENDER, triggers / "rb", order=-100, kind="render").replace(
            "build_id: u32 = 1", "build_id: u32 = 2"
        )

    def trigger(self, which: str) -> Path:
        return self.triggers / which


@pytest.fixture(scope="session")
def faulty(built_project: Path, tmp_path_factory: pytest.TempPathFactory) -> Faulty:
    """Built once with B's sources, then with A's: both stay in the Zig cache, so a case's F5
    to B (or back) costs a cache hit, not a compile."""
    root = copy_project(tmp_path_factory.mktemp("faulty"), built_project)
    triggers = tmp_path_factory.mktemp("triggers")
    project = Faulty(root, triggers)
    for system, render_system in ((project.b, project.rb), (project.a, project.ra)):
        (root / "ecs_systems" / f"{NAME}.zig").write_text(system)
        (root / "ecs_systems" / f"{RENDER}.zig").write_text(render_system)
        result = ZigBuild(root).run(timeout=600)
        assert result.ok, result.output
    return project


@pytest.fixture(scope="session")
def reference(faulty: Faulty, tmp_path_factory: pytest.TempPathFactory) -> dict[str, np.ndarray]:
    """The world after FRAMES frames in which nothing faulted."""
    for name in ("a", "b", "ra", "rb"):
        disarm(faulty.trigger(name))
    game = Game(options(copy_project(tmp_path_factory.mktemp("ref"), faulty.root), tmp_path_factory.mktemp("ref-out")))
    try:
        assert game.start()
        for _ in range(FRAMES):
            game.frame()
        return world_state(game)
    finally:
        game.close()


def options(project: Path, out: Path, **overrides: Any) -> Any:
    base: dict[str, Any] = {"step_timeout": BOUND, "autosave": out / "autosave.npz", "save_world": out / "exit.npz"}
    base.update(overrides)
    return headless(project, **base)


@pytest.fixture
def case(faulty: Faulty, tmp_path: Path) -> Iterator[Case]:
    for name in ("a", "b", "ra", "rb"):
        disarm(faulty.trigger(name))
    c = Case(faulty, tmp_path)
    yield c
    for name in ("a", "b", "ra", "rb"):
        disarm(faulty.trigger(name))
    c.close()


class Case:
    def __init__(self, faulty: Faulty, tmp: Path) -> None:
        self.faulty = faulty
        self.tmp = tmp
        self.project = copy_project(tmp / "project", faulty.root)
        self.game: Game | None = None

    def start(self, **overrides: Any) -> Game:
        self.game = Game(options(self.project, self.tmp, **overrides))
        assert self.game.start()
        return self.game

    def frames(self, n: int) -> None:
        assert self.game is not None
        for _ in range(n):
            self.game.frame()

    def edit_to_b(self, render_too: bool = False) -> None:
        """Writes B's source (and the render system's) and reloads, waiting for the swap."""
        assert self.game is not None
        (self.project / "ecs_systems" / f"{NAME}.zig").write_text(self.faulty.b)
        if render_too:
            (self.project / "ecs_systems" / f"{RENDER}.zig").write_text(self.faulty.rb)
        self.game.reloader.request("F5")
        self.game.reloader.wait()

    def live(self, name: str = NAME) -> Any:
        assert self.game is not None
        return self.game.pipeline.slots[name]

    def close(self) -> None:
        if self.game is not None:
            self.game.close()
            self.game = None


def finish(case: Case, reference: dict[str, np.ndarray]) -> None:
    """Runs on to FRAMES frames; the world is the faultless one, step for step."""
    game = case.game
    assert game is not None
    case.frames(FRAMES - game.frame_index)
    assert game.world.step == FRAMES
    assert_same(world_state(game), reference)
    assert_consistent(game)


def named(caplog: pytest.LogCaptureFixture, fault: str, entry: str, system: str = NAME) -> None:
    lines = [r.getMessage() for r in caplog.records if "FAULT" in r.getMessage() or "canary" in r.getMessage()]
    wanted = f"{system}: {MESSAGES[fault]}" if fault != "hang" else f"{system}: hang in {entry}"
    assert any(wanted in line and entry in line for line in lines), (wanted, lines)


# --- run -------------------------------------------------------------------------------


@pytest.mark.parametrize("fault", FAULTS)
def test_run_late_with_no_earlier_build_switches_the_system_off(
    case: Case, reference: dict[str, np.ndarray], fault: str, caplog: pytest.LogCaptureFixture
) -> None:
    arm(case.faulty.trigger("a"), "run", fault, FAULT_STEP)
    game = case.start()
    case.frames(FAULT_STEP + 20)
    slot = case.live()
    assert slot.faulted and slot.error is not None and f"at step {FAULT_STEP}" in slot.error
    named(caplog, fault, "run")
    report = game.reloader.recovery.reports[-1]
    assert report.autosave is not None and report.autosave.is_file()
    assert report.seconds < 0.5 + (BOUND if fault == "hang" else 0)
    finish(case, reference)


@pytest.mark.parametrize("fault", FAULTS)
def test_run_late_after_a_reload_goes_back_to_the_last_good_build(
    case: Case, reference: dict[str, np.ndarray], fault: str, caplog: pytest.LogCaptureFixture
) -> None:
    game = case.start()
    case.frames(20)
    good = case.live().system.library.digest
    case.edit_to_b()
    assert case.live().system.info.build_id == 2
    arm(case.faulty.trigger("b"), "run", fault, FAULT_STEP)
    case.frames(FAULT_STEP + 20 - game.frame_index)
    slot = case.live()
    assert not slot.faulted and slot.error is None
    assert slot.system.library.digest == good and slot.system.info.build_id == 1
    named(caplog, fault, "run")
    # The build is set aside: F5 without a change of source does not bring it back.
    game.reloader.request("F5")
    game.reloader.wait()
    assert case.live().system.info.build_id == 1
    finish(case, reference)


@pytest.mark.parametrize("fault", FAULTS)
def test_run_early_is_caught_by_the_canary(
    case: Case, reference: dict[str, np.ndarray], fault: str, caplog: pytest.LogCaptureFixture
) -> None:
    game = case.start()
    case.frames(20)
    arm(case.faulty.trigger("b"), "run", fault)
    case.edit_to_b()
    assert case.live().system.info.build_id == 1
    assert "canary" in game.reloader.message and MESSAGES[fault] in game.reloader.message
    finish(case, reference)


# --- plugin_entry ------------------------------------------------------------------------


@pytest.mark.parametrize("canary", [True, False], ids=["early", "late"])
@pytest.mark.parametrize("fault", FAULTS)
def test_plugin_entry(
    case: Case, reference: dict[str, np.ndarray], fault: str, canary: bool, caplog: pytest.LogCaptureFixture
) -> None:
    game = case.start(canary=canary)
    case.frames(20)
    arm(case.faulty.trigger("b"), "plugin_entry", fault)
    case.edit_to_b()
    assert case.live().system.info.build_id == 1
    assert MESSAGES[fault] in game.reloader.message and "plugin_entry" in game.reloader.message
    if not canary:
        assert len(game.pipeline.set_aside) == 1
    finish(case, reference)


# --- save_state, load_state ----------------------------------------------------------------


@pytest.mark.parametrize("fault", FAULTS)
def test_save_state_early_is_caught_by_the_canary(case: Case, reference: dict[str, np.ndarray], fault: str) -> None:
    game = case.start()
    case.frames(20)
    arm(case.faulty.trigger("b"), "save_state", fault)
    case.edit_to_b()
    assert case.live().system.info.build_id == 1
    assert "canary" in game.reloader.message and "save_state" in game.reloader.message
    finish(case, reference)


@pytest.mark.parametrize("fault", FAULTS)
def test_save_state_late_in_the_old_build_sets_it_aside_and_the_new_one_starts_fresh(
    case: Case, reference: dict[str, np.ndarray], fault: str, caplog: pytest.LogCaptureFixture
) -> None:
    game = case.start()
    case.frames(FAULT_STEP)
    arm(case.faulty.trigger("a"), "save_state", fault)
    case.edit_to_b()
    slot = case.live()
    assert slot.system.info.build_id == 2 and slot.previous is None  # A is not kept for F6
    named(caplog, fault, "save_state")
    assert len(game.pipeline.set_aside) == 1
    finish(case, reference)


@pytest.mark.parametrize("canary", [True, False], ids=["early", "late"])
@pytest.mark.parametrize("fault", FAULTS)
def test_load_state_in_the_new_build_keeps_the_old_one(
    case: Case, reference: dict[str, np.ndarray], fault: str, canary: bool
) -> None:
    game = case.start(canary=canary)
    case.frames(FAULT_STEP if not canary else 20)
    arm(case.faulty.trigger("b"), "load_state", fault)
    case.edit_to_b()
    assert case.live().system.info.build_id == 1
    assert "load_state" in game.reloader.message and MESSAGES[fault] in game.reloader.message
    finish(case, reference)


# --- shutdown: on reload, on F6, at quit ---------------------------------------------------


@pytest.mark.parametrize("fault", FAULTS)
def test_shutdown_early_is_caught_by_the_canary(case: Case, reference: dict[str, np.ndarray], fault: str) -> None:
    game = case.start()
    case.frames(20)
    arm(case.faulty.trigger("b"), "shutdown", fault)
    case.edit_to_b()
    assert case.live().system.info.build_id == 1
    assert "canary" in game.reloader.message and "shutdown" in game.reloader.message
    finish(case, reference)


@pytest.mark.parametrize("fault", FAULTS)
def test_shutdown_late_on_reload_sets_the_old_build_aside(
    case: Case, reference: dict[str, np.ndarray], fault: str, caplog: pytest.LogCaptureFixture
) -> None:
    game = case.start()
    case.frames(FAULT_STEP)
    arm(case.faulty.trigger("a"), "shutdown", fault)
    case.edit_to_b()
    slot = case.live()
    assert slot.system.info.build_id == 2 and slot.previous is None
    named(caplog, fault, "shutdown")
    game.reloader.flip_back()  # nothing to flip back to: A was set aside
    assert case.live().system.info.build_id == 2
    finish(case, reference)


@pytest.mark.parametrize("fault", FAULTS)
def test_shutdown_late_on_f6_keeps_the_build_it_flipped_to(
    case: Case, reference: dict[str, np.ndarray], fault: str, caplog: pytest.LogCaptureFixture
) -> None:
    game = case.start()
    case.frames(20)
    case.edit_to_b()
    case.frames(FAULT_STEP - game.frame_index)
    arm(case.faulty.trigger("b"), "shutdown", fault)
    game.reloader.flip_back()
    assert case.live().system.info.build_id == 1
    named(caplog, fault, "shutdown")
    finish(case, reference)


@pytest.mark.parametrize("fault", FAULTS)
def test_shutdown_at_quit_still_saves_the_world(
    case: Case, reference: dict[str, np.ndarray], fault: str, caplog: pytest.LogCaptureFixture
) -> None:
    from game.world import snapshot
    from game.world.world import World

    game = case.start()
    finish(case, reference)
    arm(case.faulty.trigger("a"), "shutdown", fault)
    case.close()
    named(caplog, fault, "shutdown")
    saved = World(1, 1, 0)
    saved.migrate(game.world.schema)
    snapshot.load(case.tmp / "exit.npz", saved)
    assert_same(world_state(saved), reference)


# --- render ---------------------------------------------------------------------------------


@pytest.mark.parametrize("fault", FAULTS)
def test_render_late_leaves_the_other_render_systems_drawing(
    case: Case, reference: dict[str, np.ndarray], fault: str, caplog: pytest.LogCaptureFixture
) -> None:
    game = case.start()
    case.frames(FAULT_STEP)
    assert game.pipeline.renders[0] is case.live(RENDER)
    arm(case.faulty.trigger("ra"), "run", fault)
    case.frames(5)
    assert case.live(RENDER).faulted
    named(caplog, fault, "render", system=RENDER)
    assert [s.system.name for s in game.pipeline.renders] == ["render", "arena_draw", "flock_draw"]
    finish(case, reference)


@pytest.mark.parametrize("fault", FAULTS)
def test_render_early_is_caught_by_the_canary(case: Case, reference: dict[str, np.ndarray], fault: str) -> None:
    game = case.start()
    case.frames(20)
    arm(case.faulty.trigger("rb"), "run", fault)
    case.edit_to_b(render_too=True)
    assert case.live(RENDER).system.info.build_id == 1
    assert "canary" in game.reloader.message and MESSAGES[fault] in game.reloader.message
    finish(case, reference)


def test_the_logs_name_the_panic_message(case: Case, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    arm(case.faulty.trigger("a"), "run", "panic", 30)
    case.start()
    case.frames(40)
    assert any("index out of bounds: index 4, len 4 at step 30" in r.getMessage() for r in caplog.records)
    game = case.game
    assert game is not None
    shown = [text for text, _ in game.hud.error_lines(game.pipeline, game.reloader)]
    assert any(t.startswith("FAULT faulty: panic in run: index out of bounds") and "at step 30" in t for t in shown)
    assert game.reloader.message.startswith("FAULT faulty: panic in run")
    # Where: a tier-2 (stripped) library, so the locator builds it again with line tables.
    assert game.reloader.locator.idle.wait(120)
    where = f"ecs_systems/{NAME}.zig:{panic_line(case.faulty.a)}:"
    assert game.pipeline.fault_where.startswith(where) and "table[index]" in game.pipeline.fault_where
    assert any(f"faulty panicked at {where}" in r.getMessage() for r in caplog.records)
    shown = [text for text, _ in game.hud.error_lines(game.pipeline, game.reloader)]
    assert any(t.startswith(f"  at {where}") for t in shown)


def test_a_panic_after_its_source_was_edited_names_the_line_as_it_was_built(
    case: Case, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    arm(case.faulty.trigger("a"), "run", "panic", 30)
    game = case.start()  # tier 2: stripped, so the locator must build the code that ran again
    case.frames(10)
    # An edit that is saved but not reloaded: every line moves down by three.
    source = case.project / "ecs_systems" / f"{NAME}.zig"
    source.write_text("// one\n// two\n// three\n" + case.faulty.a)
    case.frames(30)
    assert game.reloader.locator.idle.wait(120)
    where = game.pipeline.fault_where
    assert where.startswith(f"ecs_systems/{NAME}.zig:{panic_line(case.faulty.a)}:"), where
    assert "table[index]" in where and "the file has changed since that build" in where, where


def panic_line(source: str) -> int:
    """The line of the faulty system's out-of-bounds read."""
    return next(i for i, text in enumerate(source.splitlines(), start=1) if "= table[index];" in text)


def test_a_panic_in_a_tier_1_build_and_one_the_canary_catches_name_their_line(
    case: Case, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    arm(case.faulty.trigger("a"), "run", "panic", 15)
    game = case.start(tier=1)  # debug builds: the line tables are in the library itself
    assert case.live().system.library.tier == 1
    case.frames(20)
    assert case.live().faulted
    assert game.reloader.locator.idle.wait(60)
    where = f"ecs_systems/{NAME}.zig:{panic_line(case.faulty.a)}:"
    assert game.pipeline.fault_where.startswith(where) and "table[index]" in game.pipeline.fault_where
    assert any(f"faulty panicked at {where}" in r.getMessage() for r in caplog.records)
    # An edit whose build panics in the canary: the refusal says where, too.
    arm(case.faulty.trigger("b"), "run", "panic")
    case.edit_to_b()
    said = game.reloader.message
    assert "canary caught faulty: panic in run" in said and f", at {where}" in said and "table[index]" in said, said


# --- wild writes -------------------------------------------------------------------------------

SCRIBBLER = """const std = @import("std");
const sdk = @import("sdk");
const c = @import("components");
pub const panic = sdk.panic;

const W = sdk.World(.{ .queries = .{ .q = sdk.Query(.{ .pos = .{ c.Position, .read } }, .{}) } });
const api = sdk.system(W, .{ .name = "scribbler", .build_id = 1, .order = 25, .run = run });

export fn plugin_entry() *const sdk.Api {
    return &api;
}

// A many-item pointer has no bounds check in any optimize mode: the classic wild write.
fn run(w: *W) !void {
    if (w.step() < 150) return;
    var tables = w.query(.q);
    while (tables.next()) |t| {
        const p: [*]f32 = @constCast(t.pos.x.ptr);
        var i: usize = DIRECTION_START;
        while (true) : (i = STEP) p[i] = 12345.0;
    }
}
"""


@pytest.mark.parametrize("direction", ["past the end", "before the start"], ids=["overrun", "underrun"])
def test_a_wild_write_off_a_column_faults_on_its_guard_page_and_corrupts_nothing(
    case: Case, reference: dict[str, np.ndarray], direction: str, caplog: pytest.LogCaptureFixture
) -> None:
    """A system writes through a raw pointer off the end (or the start) of the Position.x column
    it only declared for reading. The column ends at an inaccessible page, so the first byte
    past it faults inside the guarded call: the scribbler is set aside and the world is the
    one the other systems alone produce, bit for bit."""
    start, step = ("t.len", "i + 1") if direction == "past the end" else ("64", "i -% 1")
    source = SCRIBBLER.replace("DIRECTION_START", start).replace("STEP", step)
    (case.project / "ecs_systems" / "scribbler.zig").write_text(source)
    case.start()
    case.frames(160)
    slot = case.live("scribbler")
    assert slot.faulted and "segfault in run" in (slot.error or "")
    finish(case, reference)


# --- Ctrl+C and SIGTERM during a hang ------------------------------------------------------------


@pytest.mark.parametrize("sig", ["SIGINT", "SIGTERM"])
def test_ctrl_c_and_sigterm_end_a_hang_and_the_world_is_saved_at_the_last_completed_step(
    faulty: Faulty, tmp_path: Path, sig: str
) -> None:
    """The bound is 10 minutes, so only the signal can end the hang."""
    import signal
    import subprocess
    import sys
    import time

    from game.cli import PROJECT_ROOT
    from game.world import snapshot

    project = copy_project(tmp_path / "project", faulty.root)
    trigger = faulty.trigger("a")
    arm(trigger, "run", "hang", 45)  # not a checkpoint step: the exit replays from step 40
    saved = tmp_path / "exit.npz"
    cmd = [
        sys.executable, str(PROJECT_ROOT / "run_game.py"), "--headless", "--project", str(project),
        "--entities", "500", "--step-timeout", "600", "--save-world", str(saved),
    ]  # fmt: skip
    env = dict(os.environ, SDL_VIDEODRIVER="dummy", SDL_AUDIODRIVER="dummy")
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and not (tmp_path / "project" / ".hot").is_dir():
            time.sleep(0.1)
        time.sleep(3.0)  # started, 45 steps at 60 FPS, then stuck in the hang
        assert proc.poll() is None
        sent = time.monotonic()
        proc.send_signal(getattr(signal, sig))
        out, _ = proc.communicate(timeout=30)
        took = time.monotonic() - sent
    finally:
        proc.kill()
        disarm(trigger)
    assert proc.returncode == 128 + getattr(signal, sig), out  # 130 or 143: see game/quitting.py
    assert "Traceback" not in out
    assert took < 5, out
    assert "faulty: hang" not in out  # interrupted, not a 10-minute timeout
    loaded = snapshot.read_state(saved)
    assert loaded.step == 45, out
    reference = tmp_path / "reference.npz"
    done = subprocess.run(
        [*cmd[:-1], str(reference), "--fast", "--frames", "45"], env=env, capture_output=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    expected = snapshot.read_state(reference)
    assert loaded.meta == expected.meta
    for name, array in expected.arrays.items():
        np.testing.assert_array_equal(loaded.arrays[name], array, err_msg=name)


# --- several faults at once (found by an adversarial run) ------------------------------------


def writer(name: str, trigger: Path, order: int) -> str:
    """The faulty system, but writing: Position.x += 0.25 before its fault check, so a fault
    leaves the column half-written and a replay that loses its writes shows."""
    source = render(name, trigger, order=order)
    source = source.replace(".pos = .{ c.Position, .read }", ".pos = .{ c.Position, .read_write }")
    return source.replace(
        "    check(.run, w.step());\n    runs += 1;",
        "    var tables = w.query(.positions);\n    while (tables.next()) |t| {\n"
        "        for (t.pos.x) |*x| x.* += 0.25;\n    }\n    check(.run, w.step());\n    runs += 1;",
    )


def test_two_writers_faulting_in_one_step_leave_the_world_their_completed_steps_made(
    faulty: Faulty, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    triggers = {name: tmp_path / f"t-{name}" for name in ("w1", "w2")}
    project = copy_project(tmp_path / "project", faulty.root)
    for order, name in ((22, "w1"), (24, "w2")):
        (project / "ecs_systems" / f"{name}.zig").write_text(writer(name, triggers[name], order))
    for name in triggers:
        arm(triggers[name], "run", "segv", 205)
    game = Game(options(project, tmp_path))
    try:
        assert game.start()
        for _ in range(260):
            game.frame()
        assert game.pipeline.slots["w1"].faulted and game.pipeline.slots["w2"].faulted
        report = game.reloader.recovery.reports[-1]
        assert "faulted: w1, w2" in report.outcome and report.replayed == 5  # from step 200's checkpoint
        faulted = world_state(game)
        assert_consistent(game)
    finally:
        game.close()
    for name in triggers:
        disarm(triggers[name])
    # The reference: the same systems, switched off after step 205 instead of faulting.
    game = Game(options(project, tmp_path))
    try:
        assert game.start()
        while game.world.step < 205:
            game.frame()
        game.pipeline.toggle("w1")
        game.pipeline.toggle("w2")
        for _ in range(260 - game.frame_index):
            game.frame()
        assert_same(faulted, world_state(game))
    finally:
        game.close()


def test_a_fault_and_a_new_builds_error_in_one_step_during_probation_keep_the_game_going(
    faulty: Faulty, tmp_path: Path
) -> None:
    """w1 (not reloaded) segfaults in the same step in which faulty's new build, still on
    probation, returns an error: the game goes on, both end up off or back, nothing dies."""
    trigger = tmp_path / "t-w1"
    project = copy_project(tmp_path / "project", faulty.root)
    (project / "ecs_systems" / "w1.zig").write_text(writer("w1", trigger, 20))
    game = Game(options(project, tmp_path))
    try:
        assert game.start()
        for _ in range(200):
            game.frame()
        failing = faulty.a.replace("build_id: u32 = 1", "build_id: u32 = 3").replace(
            "    check(.run, w.step());", "    if (w.step() >= 215) return error.Failed;\n    check(.run, w.step());"
        )
        (project / "ecs_systems" / f"{NAME}.zig").write_text(failing)
        game.reloader.request("F5")
        game.reloader.wait()
        assert game.pipeline.slots[NAME].system.info.build_id == 3
        arm(trigger, "run", "segv", 215)
        for _ in range(60):
            game.frame()
        assert game.world.step == 260
        assert game.pipeline.slots["w1"].faulted
        assert game.pipeline.slots[NAME].error is not None  # its error after probation ended: off
        assert_consistent(game)
    finally:
        disarm(trigger)
        game.close()
