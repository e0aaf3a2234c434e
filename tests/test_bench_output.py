"""Where benchmarks write (bench/output.py), checked without running one: bench/out/ by
default, not tracked by git; bench/results/, the files the README cites, only with --record."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from bench import output
from game.cli import PROJECT_ROOT

BENCH = PROJECT_ROOT / "bench"
CHECKER = "figures"  # reads bench/results/, writes nothing
ENTRY_POINTS = sorted(p.stem for p in BENCH.glob("*.py") if "def main(" in p.read_text() and p.stem != CHECKER)


def test_the_folder_is_out_unless_recording() -> None:
    assert output.folder(record=False) == BENCH / "out"
    assert output.folder(record=True) == BENCH / "results"


def test_out_is_ignored_by_git_and_results_are_not() -> None:
    def ignored(path: str) -> bool:
        done = subprocess.run(["git", "check-ignore", "-q", path], cwd=PROJECT_ROOT, check=False)
        assert done.returncode in (0, 1)
        return done.returncode == 0

    assert ignored("bench/out/full.md") and ignored("bench/out/tiers.json")
    assert not ignored("bench/results/full.md") and not ignored("bench/results/games.json")


@pytest.mark.parametrize("record", [False, True])
def test_write_goes_where_folder_says_and_the_log_says_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], record: bool
) -> None:
    monkeypatch.setattr(output, "OUT", tmp_path / "out")
    monkeypatch.setattr(output, "RESULTS", tmp_path / "results")
    path = output.write("run", {"date": "2026-11-26", "x": 1}, "# run\n", record)
    where = tmp_path / ("results" if record else "out")
    assert path == where / "run.md" and path.read_text() == "# run\n"
    assert (where / "run.json").read_text() == '{\n  "date": "2026-11-26",\n  "x": 1\n}\n'
    assert not (tmp_path / ("out" if record else "results")).exists()
    said = capsys.readouterr().out
    assert f"written to {path} and .json" in said
    assert ("not recorded: --record writes bench/results/" in said) is not record


def test_every_benchmark_writes_through_bench_output() -> None:
    """No entry point names bench/results/ itself: `output.write` picks the folder."""
    assert len(ENTRY_POINTS) >= 9, ENTRY_POINTS
    for name in ENTRY_POINTS:
        source = (BENCH / f"{name}.py").read_text()
        assert '"results"' not in source and "RESULTS" not in source, name
        assert "write(" in source and "add_record_flag(parser)" in source, name


@pytest.mark.parametrize("name", ENTRY_POINTS)
def test_every_benchmark_offers_record_in_its_help(name: str) -> None:
    module = "bench" if name == "__main__" else f"bench.{name}"
    done = subprocess.run(
        [sys.executable, "-m", module, "--help"], cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    text = " ".join(done.stdout.split())
    assert f"--record {' '.join(output.RECORD_HELP.split())}" in text
