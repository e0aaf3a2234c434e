from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from game.hotreload.zigbuild import DEFAULT_TIMEOUT, BuildResult, ZigBuild, parse_errors
from tests.conftest import edit

SAMPLE = """install
+- install movement
   +- compile lib movement safe native 1 errors
ecs_systems/movement.zig:27:5: error: expected ';' after statement
    integrate(py, vy, frame.dt)
    ^~~~~~~~~
ecs_systems/movement.zig:27:5: error: expected ';' after statement
    integrate(py, vy, frame.dt)
note: this is not an error
"""


def test_parse_errors_dedupes_and_keeps_the_source_line() -> None:
    errors = parse_errors(SAMPLE)
    assert len(errors) == 1
    e = errors[0]
    assert (e.file, e.line, e.column) == ("ecs_systems/movement.zig", 27, 5)
    assert e.message == "expected ';' after statement"
    assert e.source_line.strip() == "integrate(py, vy, frame.dt)"
    assert str(e) == "ecs_systems/movement.zig:27:5: expected ';' after statement"


def test_real_syntax_error_is_reported_with_file_line_col(project: Path) -> None:
    edit(
        project / "ecs_systems" / "movement.zig",
        "integrate(t.pos.y, t.vel.y, w.dt);",
        "integrate(t.pos.y, t.vel.y, w.dt)",
    )
    result = ZigBuild(project).run(timeout=300)
    assert not result.ok
    assert any(e.file.endswith("movement.zig") and "expected ';'" in e.message for e in result.errors)
    assert result.summary.startswith("build failed: ecs_systems/movement.zig:")


def test_real_type_error_is_reported(project: Path) -> None:
    edit(
        project / "ecs_systems" / "bounds.zig",
        "bounce(t.pos.x, t.vel.x, w.width());",
        'bounce(t.pos.x, t.vel.x, "wide");',
    )
    result = ZigBuild(project).run(timeout=300)
    assert not result.ok
    assert any(e.file.endswith("bounds.zig") for e in result.errors), result.output


def test_missing_project_is_a_failed_result_not_an_exception(tmp_path: Path) -> None:
    result = ZigBuild(tmp_path / "no-such-dir").run(timeout=60)
    assert not result.ok
    assert "no-such-dir" in result.summary or "cannot start" in result.summary


def test_zig_unit_tests_pass(built_project: Path) -> None:
    """`zig build test`: the SDK's layout pins and every system's own tests (components.zig's
    schema library included). In Debug: the same safety checks, and a sixth of the time of
    ten test binaries through LLVM's optimizer."""
    build = ZigBuild(built_project, optimize="Debug", prefix=built_project / "zig-out-test")
    result = build.run(step="test", timeout=600, extra=["--summary", "all"])
    assert result.ok, result.output
    declared = sum(p.read_text().count('\ntest "') for p in (built_project / "ecs_systems").rglob("*.zig"))
    assert declared >= 10 and f"{declared}/{declared} tests passed" in result.output, result.output


# --- a build that runs too long, and cancel(): the whole process group goes --------------------


def group_members(pgid: int) -> list[str]:
    """Live (not zombie) processes in process group `pgid`, as "pid comm"."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:
            continue  # gone while we looked
        comm = text[text.index("(") + 1 : text.rindex(")")]
        fields = text[text.rindex(")") + 2 :].split()
        if int(fields[2]) == pgid and fields[0] != "Z":
            found.append(f"{stat.parent.name} {comm}")
    return found


def wait_for(condition: Callable[[], bool], seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return condition()


SLOW = """const std = @import("std");
comptime { // minutes of compile-time work: the compiler is still busy when the build is stopped
    @setEvalBranchQuota(4_000_000_000);
    var x: u64 = 0;
    var i: u64 = 0;
    while (i < 1_000_000_000) : (i += 1) x +%= i *% 2654435761;
    if (x == 1) @compileError("unreachable");
}
"""


def slow_build(project: Path, timeout: float) -> ZigBuild:
    """A build that would take minutes: its build runner starts a compiler for slow.zig,
    so the build's group holds several processes when it is stopped."""
    (project / "ecs_systems" / "slow.zig").write_text(SLOW)
    return ZigBuild(project, timeout=timeout)


def watch_group(build: ZigBuild, seen: dict[str, Any], stop: threading.Event) -> None:
    """Records the build's process group and the most processes seen in it at once."""
    while not stop.is_set():
        proc = build._proc
        if proc is not None:
            seen["pgid"] = proc.pid
            members = group_members(proc.pid)
            if len(members) > len(seen.get("members", [])):
                seen["members"] = members
        time.sleep(0.05)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_a_build_past_its_timeout_is_killed_with_its_compiler_processes(project: Path) -> None:
    build = slow_build(project, timeout=10)
    seen: dict[str, Any] = {}
    stop = threading.Event()
    watcher = threading.Thread(target=watch_group, args=(build, seen, stop))
    watcher.start()
    try:
        result = build.run()
    finally:
        stop.set()
        watcher.join()
    assert not result.ok and result.stopped
    assert 10 <= result.seconds < 30
    assert result.summary.startswith("build failed: zig build did not finish within 10 s; it was stopped with its ")
    assert "\n" not in result.summary
    assert len(seen["members"]) >= 2, seen  # zig build and the processes it started: the group was real
    assert wait_for(lambda: not group_members(seen["pgid"]), 5), group_members(seen["pgid"])


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_cancel_kills_the_whole_build(project: Path) -> None:
    build = slow_build(project, timeout=300)
    results: list[BuildResult] = []
    runner = threading.Thread(target=lambda: results.append(build.run()))
    runner.start()
    try:
        assert wait_for(lambda: build._proc is not None and len(group_members(build._proc.pid)) >= 2, 60)
        proc = build._proc
        assert proc is not None
        started = time.monotonic()
        build.cancel()
        runner.join(30)
        assert not runner.is_alive() and time.monotonic() - started < 10
    finally:
        build.cancel()
        runner.join(30)
    (result,) = results
    assert not result.ok and result.summary == "build failed: zig build was cancelled"
    assert wait_for(lambda: not group_members(proc.pid), 5), group_members(proc.pid)
    build.cancel()  # nothing running: harmless


def test_the_default_timeout_outlasts_a_first_build() -> None:
    assert DEFAULT_TIMEOUT >= 4 * 150  # a first build on an empty cache takes 80-150 s here
    assert ZigBuild(Path("."), timeout=7).timeout == 7
