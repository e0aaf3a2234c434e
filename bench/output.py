"""Where a benchmark writes its results: bench/out/ by default, bench/results/ with `--record`
(bench/results/ holds the runs the README cites, each with its machine and date)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
OUT = BENCH / "out"
RESULTS = BENCH / "results"


def write(name: str, results: dict[str, Any], text: str, record: bool) -> Path:
    """Print `text` and write it to `name`.md and `results` to `name`.json, in bench/results/ if
    `record`, else in bench/out/; returns the .md's path."""
    print("\n" + text)
    folder = RESULTS if record else OUT
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{name}.json").write_text(json.dumps(results, indent=2) + "\n")
    path = folder / f"{name}.md"
    path.write_text(text)
    print(f"written to {path} and .json")
    return path


def header(title: str, results: dict[str, Any]) -> list[str]:
    """A results file's first lines: its title with the run's date, and the machine it ran on
    (what the README's figures check for: bench/figures.py)."""
    machine = ", ".join(f"{k} {v}" for k, v in results["machine"].items())
    return [f"# {title} ({results['date']})", "", f"Machine: {machine}", ""]
