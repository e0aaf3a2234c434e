from __future__ import annotations

from pathlib import Path

from game.hotreload.zigbuild import ZigBuild, parse_errors
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
