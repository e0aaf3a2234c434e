"""Facts stated in more than one file must agree."""

from __future__ import annotations

import re
import tomllib

from game.cli import PROJECT_ROOT


def test_zig_version_is_pinned_once_and_build_zig_zon_agrees() -> None:
    project = tomllib.loads((PROJECT_ROOT / "pyproject.toml").read_text())["project"]
    pins = [d for d in project["dependencies"] if d.startswith("ziglang")]
    assert len(pins) == 1 and "==" in pins[0]
    version = pins[0].split("==")[1]
    zon = (PROJECT_ROOT / "build.zig.zon").read_text()
    assert re.search(rf'\.minimum_zig_version = "{re.escape(version)}"', zon)


def test_ci_runs_the_readme_test_command() -> None:
    readme = (PROJECT_ROOT / "README.md").read_text()
    ci = (PROJECT_ROOT / ".ci" / "run").read_text()
    command = re.search(r"^(python3 -m venv .*pytest.*)$", readme, re.M)
    assert command, "README has no test command"
    assert command.group(1) in ci
