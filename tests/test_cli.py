"""The command line: `--help` lists every way to run the game (the hand-dispatched `new-system`
too), and watch mode's default follows the window."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from game.cli import PROJECT_ROOT, parse


def run_game(*args: str, cwd: Path = PROJECT_ROOT) -> subprocess.CompletedProcess[str]:
    cmd = [sys.executable, str(PROJECT_ROOT / "run_game.py"), *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=60, cwd=cwd)


def test_help_lists_new_system_and_what_it_does() -> None:
    out = run_game("--help")
    assert out.returncode == 0, out.stderr
    text = " ".join(out.stdout.split())
    assert "commands: run_game.py new-system NAME writes ecs_systems/NAME.zig, a new system" in text
    assert "joins the running game at once in watch mode (on in a window), else on the next F5" in text


def test_new_system_has_its_own_help_and_writes_nothing(tmp_path: Path) -> None:
    (tmp_path / "ecs_systems").mkdir()
    for flag in ("--help", "-h"):
        out = run_game("new-system", flag, "--project", str(tmp_path))
        assert out.returncode == 0, out.stderr
        assert out.stdout.startswith("usage: run_game.py new-system NAME\n")
        assert "writes ecs_systems/NAME.zig" in out.stdout
    assert list((tmp_path / "ecs_systems").iterdir()) == []
    out = run_game("new-system", "--project", str(tmp_path))
    assert out.returncode == 2 and out.stderr == "usage: run_game.py new-system NAME\n"


@pytest.mark.parametrize(
    ("flags", "watching"),
    [
        ([], True),  # a window: watch mode on
        (["--no-watch"], False),
        (["--watch"], True),
        (["--headless"], False),  # a script, a test, a benchmark: off
        (["--headless", "--watch"], True),
        (["--watch", "--no-watch"], False),  # the last one wins
    ],
)
def test_watch_mode_is_on_with_a_window_unless_turned_off(flags: list[str], watching: bool) -> None:
    options = parse(flags)
    assert options.watching is watching


def test_help_says_watch_mode_is_on_by_default_with_a_window() -> None:
    text = " ".join(run_game("--help").stdout.split())
    assert "--watch, --no-watch watch mode:" in text and "on by default with a window, off by default headless" in text
