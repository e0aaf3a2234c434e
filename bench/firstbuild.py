"""The first start on an empty Zig cache, and a warm one: `python -m bench.firstbuild [--record]`.

Measures, on copies of the project and with scratch Zig caches (the machine's own global
cache is not used):

- **The guard**: `guard.c` compiled with the pinned Zig's `zig cc`, exactly as
  game/native/guard.py does on first use, from empty local and global caches (3 times).
- **Every system from empty caches**: the game's per-system builds in one parallel pass, then
  `zig build`, each from empty (`bench.tiers.first_build`).
- **A warm start**: a new Python process that starts the game headless on a project whose
  systems are built (nothing to compile), runs one frame and exits, timed from its launch
  (5 times).
- **The panic handler**: a safe-mode rebuild of movement.zig after a one-line edit
  (`bench.tiers.floor`), with `pub const panic = sdk.panic;` and with Zig's default handler.

It compiles for a few minutes on every core: run it on a quiet machine; the tests never run it.
Writes firstbuild.md and .json to bench/out/, or to bench/results/ (the files the README cites)
with `--record`.
"""

from __future__ import annotations

import argparse
import datetime
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.frames import copy_project
from bench.output import add_record_flag, header, write
from bench.tiers import first_build, floor
from game.native.guard import FLAGS, SOURCE

ROOT = Path(__file__).resolve().parent.parent
PANIC_LINE = "pub const panic = sdk.panic;\n"
WARM_START = """
import sys, time
from pathlib import Path
from bench.frames import game
g = game(Path(sys.argv[1]), 20_000)
g.frame()
g.close()
"""


def guard_compile(times: int) -> list[float]:
    """Seconds of each `zig cc` of guard.c from empty caches, as game/native/guard.py runs it."""
    found = []
    for _ in range(times):
        with tempfile.TemporaryDirectory(prefix="bench-guard-") as tmp:
            env = {**os.environ, "ZIG_GLOBAL_CACHE_DIR": f"{tmp}/global", "ZIG_LOCAL_CACHE_DIR": f"{tmp}/local"}
            command = [sys.executable, "-m", "ziglang", "cc", *FLAGS, "-o", f"{tmp}/libguard.so", str(SOURCE)]
            started = time.perf_counter()
            subprocess.run(command, cwd=tmp, env=env, check=True, capture_output=True)
            found.append(time.perf_counter() - started)
    return found


def warm_start(project: Path, times: int) -> list[float]:
    """Seconds from launching Python to its exit after one frame of the game on `project`,
    whose systems are built by a first, untimed start."""
    env = {**os.environ, "SDL_VIDEODRIVER": "dummy"}  # the scratch ZIG_GLOBAL_CACHE_DIR included
    command = [sys.executable, "-c", WARM_START, str(project)]
    subprocess.run(command, cwd=ROOT, env=env, check=True, capture_output=True)
    found = []
    for _ in range(times):
        started = time.perf_counter()
        subprocess.run(command, cwd=ROOT, env=env, check=True, capture_output=True)
        found.append(time.perf_counter() - started)
    return found


def panic_handler(project: Path, edits: int) -> dict[str, list[float]]:
    """ms of a safe-mode rebuild of movement.zig after a one-line edit, with the SDK's panic
    handler (as every system has it) and with Zig's default one."""
    source = project / "ecs_systems" / "movement.zig"
    text = source.read_text()
    if PANIC_LINE not in text:
        raise RuntimeError(f"{source} has no line {PANIC_LINE.strip()!r}")
    found = {"sdk.panic": floor(project, "safe", edits)}
    source.write_text(source.read_text().replace(PANIC_LINE, ""))
    found["default"] = floor(project, "safe", edits)
    return found


def run() -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="bench-firstbuild-") as tmp:
        results: dict[str, Any] = {"guard_s": guard_compile(3)}
        print("guard", results["guard_s"], flush=True)
        results["first_build"] = first_build(copy_project(Path(tmp) / "cold", with_build=False))
        print("first build", results["first_build"], flush=True)
        os.environ["ZIG_GLOBAL_CACHE_DIR"] = str(Path(tmp) / "global")  # first_build set and removed its own
        project = copy_project(Path(tmp) / "warm")
        results["warm_start_s"] = warm_start(project, 5)
        print("warm start", results["warm_start_s"], flush=True)
        results["panic_rebuild_ms"] = panic_handler(project, 3)
        print("panic handler", results["panic_rebuild_ms"], flush=True)
    return results


def markdown(r: dict[str, Any]) -> str:
    fb = r["first_build"]
    panic = r["panic_rebuild_ms"]
    return "\n".join(
        [
            *header("The first start, and a warm one", r),
            "| what (empty local and global Zig caches unless said) | median | runs |",
            "|---|---:|---:|",
            f"| guard.c (`zig cc`, game/native/guard.py's command) | {statistics.median(r['guard_s']):.1f} s "
            f"| {len(r['guard_s'])} |",
            f"| every system, per-system builds in one parallel pass ({fb['systems']} libraries) "
            f"| {fb['builds']['seconds']:.1f} s | 1 |",
            f"| `zig build` (build runner first) | {fb['zig build']['seconds']:.1f} s | 1 |",
            f"| a warm start: Python launched to its exit after one headless frame, nothing to build "
            f"| {statistics.median(r['warm_start_s']):.2f} s | {len(r['warm_start_s'])} |",
            f"| safe-mode rebuild of movement.zig after a one-line edit, `sdk.panic` (warm cache) "
            f"| {statistics.median(panic['sdk.panic']) / 1e3:.2f} s | {len(panic['sdk.panic'])} |",
            f"| the same with Zig's default panic handler | {statistics.median(panic['default']) / 1e3:.2f} s "
            f"| {len(panic['default'])} |",
            "",
        ]
    )


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.firstbuild", description=__doc__.splitlines()[0])
    add_record_flag(parser)
    args = parser.parse_args()
    from bench.__main__ import machine

    results = {"date": datetime.date.today().isoformat(), "machine": machine(), **run()}
    write("firstbuild", results, markdown(results), args.record)


if __name__ == "__main__":
    main()
