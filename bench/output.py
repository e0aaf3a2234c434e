"""Where a benchmark writes its results: bench/out/ by default, bench/results/ with `--record`
(bench/results/ holds the runs the README cites, each with its machine and date).

bench/out/ is not tracked (.gitignore): a run to look at, or one on another machine, leaves
the repository as it was. Only `--record` replaces a file the README's figures are checked
against (bench/figures.py), and every benchmark's log says which folder it wrote.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
OUT = BENCH / "out"
RESULTS = BENCH / "results"


RECORD_HELP = "write to bench/results/, the runs the README cites (default: bench/out/, not tracked by git)"


def add_record_flag(parser: argparse.ArgumentParser) -> None:
    """`--record`: see `folder`."""
    parser.add_argument("--record", action="store_true", help=RECORD_HELP)


def folder(record: bool) -> Path:
    """Where a run's results go: bench/results/ when it is to be recorded, else bench/out/."""
    return RESULTS if record else OUT


def write(name: str, results: dict[str, Any], text: str, record: bool) -> Path:
    """Print `text` and write it to `name`.md and `results` to `name`.json, in bench/results/ if
    `record`, else in bench/out/; returns the .md's path."""
    print("\n" + text)
    where = folder(record)
    where.mkdir(parents=True, exist_ok=True)
    (where / f"{name}.json").write_text(json.dumps(results, indent=2) + "\n")
    path = where / f"{name}.md"
    path.write_text(text)
    print(f"written to {path} and .json" + ("" if record else " (not recorded: --record writes bench/results/)"))
    return path


def header(title: str, results: dict[str, Any]) -> list[str]:
    """A results file's first lines: its title with the run's date, and the machine it ran on
    (what the README's figures check for: bench/figures.py)."""
    machine = ", ".join(f"{k} {v}" for k, v in results["machine"].items())
    return [f"# {title} ({results['date']})", "", f"Machine: {machine}", ""]
