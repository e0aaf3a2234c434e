"""What naming a panic's line costs: `python -m bench.lines [--record]`.

On a copy of the project, movement.zig is edited (one line) and built with `zig build-lib`
exactly as the game builds it, in debug and in ReleaseSafe, with and without DWARF line
tables (`-fstrip`), alternating, EDITS times each; the first two builds of each kind are
dropped (cache warm-up). Then the time game/hotreload/panics.py takes to read a line from a
debug library's table (pyelftools), for an address in `plugin_entry`, cold (a new parse)
each time. Tier 1 (debug) keeps its tables, tier 2 strips them and the locator rebuilds
with tables when a panic needs it: this is the trade in numbers.

Writes lines.md and .json to bench/out/, or to bench/results/ with `--record`.
"""

from __future__ import annotations

import argparse
import datetime
import statistics
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.frames import copy_project
from bench.output import add_record_flag, header, write
from bench.tiers import SOURCE, bump
from game.hotreload.compiler import build_args, zig_command
from game.hotreload.panics import line_of

ROOT = Path(__file__).resolve().parent.parent
EDITS = 10
MODES = ("debug", "safe")


def builds(project: Path, edits: int) -> dict[str, dict[str, list[float]]]:
    """ms of each build after a one-line edit, by mode and by tables kept or stripped."""
    times: dict[str, dict[str, list[float]]] = {m: {"stripped": [], "line tables": []} for m in MODES}
    for _ in range(edits):
        for mode in MODES:
            for kind, lines in (("stripped", False), ("line tables", True)):
                bump(project / SOURCE)
                time.sleep(0.05)
                out = f"-femit-bin=lines-{mode}-{int(lines)}.so"
                command = [*zig_command(), *build_args("movement", mode, Path(".zig-cache/lines"), lines), out]
                started = time.perf_counter()
                subprocess.run(command, cwd=project, check=True, capture_output=True)
                times[mode][kind].append((time.perf_counter() - started) * 1e3)
    return times


def lookups(library: Path, times: int) -> list[float]:
    """ms of `line_of` for an address inside plugin_entry, a fresh parse each time."""
    from elftools.elf.elffile import ELFFile

    with open(library, "rb") as f:
        elf = ELFFile(f)
        entry = next(s for s in elf.get_section_by_name(".dynsym").iter_symbols() if s.name == "plugin_entry")
        vaddr = int(entry["st_value"]) + 4
        load = next(
            g for g in elf.iter_segments() if g["p_type"] == "PT_LOAD" and 0 <= vaddr - g["p_vaddr"] < g["p_memsz"]
        )
        offset = vaddr - int(load["p_vaddr"]) + int(load["p_offset"])
    found = []
    for _ in range(times):
        started = time.perf_counter()
        assert line_of(library, offset) is not None
        found.append((time.perf_counter() - started) * 1e3)
    return found


def run(edits: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="bench-lines-") as tmp:
        project = copy_project(Path(tmp) / "project", ROOT)
        times = builds(project, edits)
        read = lookups(project / "lines-debug-1.so", 5)
        kinds = ((0, "stripped"), (1, "line tables"))
        size = {f"{m} {k}": (project / f"lines-{m}-{i}.so").stat().st_size for m in MODES for i, k in kinds}
    return {"edits": edits, "build_ms": times, "lookup_ms": read, "bytes": size}


def markdown(r: dict[str, Any]) -> str:
    lines = [
        *header("Line tables: what naming a panic's line costs", r),
        f"movement.zig, {r['edits']} one-line edits per kind (the first 2 dropped), `zig build-lib` as the game "
        "runs it.",
        "",
        "| mode | stripped: median ms | with line tables: median ms | difference | library bytes (stripped / tables) |",
        "|---|---:|---:|---:|---:|",
    ]
    for mode in MODES:
        plain = statistics.median(r["build_ms"][mode]["stripped"][2:])
        tables = statistics.median(r["build_ms"][mode]["line tables"][2:])
        lines.append(
            f"| {mode} | {plain:.0f} | {tables:.0f} | {tables - plain:+.0f} | "
            f"{r['bytes'][f'{mode} stripped']:,} / {r['bytes'][f'{mode} line tables']:,} |"
        )
    lines += [
        "",
        f"Reading one line from a debug library's table (pyelftools, a fresh parse): median "
        f"{statistics.median(r['lookup_ms']):.0f} ms of {len(r['lookup_ms'])}.",
        "",
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.lines", description=__doc__.splitlines()[0])
    add_record_flag(parser)
    parser.add_argument("--edits", type=int, default=EDITS, metavar="N")
    args = parser.parse_args()
    from bench.__main__ import machine

    results = {"date": datetime.date.today().isoformat(), "machine": machine(), **run(args.edits)}
    write("lines", results, markdown(results), args.record)


if __name__ == "__main__":
    main()
