"""Soak: many edit-and-reload cycles headless; resources must not grow.

`python -m bench.soak [--cycles 500] [--record]` edits movement.zig's build id, presses F5 through the
real event loop and waits for the swap, `cycles` times, on a temporary copy of the project.
After every reload it records open file descriptors, threads, mapped files and versioned
copies (mapped and on disk), resident memory, malloc's bytes in use (small allocations and
big mapped buffers apart) and Python's tracked objects, and it counts the reloads in the
log; `growth` fits each series' slope per reload. Linux only (/proc; glibc for malloc's
figures). The tests run a short one.
Results: soak.md and .json in bench/out/, or in bench/results/ (the README cites them) with
`--record`.
"""

from __future__ import annotations

import argparse
import ctypes
import datetime
import gc
import logging
import os
import tempfile
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import astuple, dataclass, fields
from pathlib import Path
from typing import cast

import numpy as np
import pygame

from bench.frames import bump, copy_project
from bench.output import add_record_flag, write
from game.app import Game
from game.options import Options


@dataclass
class Usage:
    fds: int
    mapped_copies: int
    copies_on_disk: int
    rss_mib: float
    threads: int = 0
    mapped_files: int = 0
    """Distinct files mapped into the process (libraries, deleted ones included)."""
    heap_bytes: int = -1
    """malloc's bytes in use in its heap: every allocation under the mmap threshold (-1: no glibc)."""
    mmapped_bytes: int = -1
    """malloc's bytes in use in buffers mapped on their own (the world's copies)."""
    objects: int = 0
    """Objects Python's garbage collector tracks, after a collection."""


class _Mallinfo2(ctypes.Structure):
    _fields_ = [
        (name, ctypes.c_size_t)
        for name in ("arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks", "uordblks", "fordblks")
    ] + [("keepcost", ctypes.c_size_t)]


def _mallinfo() -> Callable[[], _Mallinfo2] | None:
    try:
        fn = ctypes.CDLL("libc.so.6").mallinfo2  # glibc 2.33 and later
    except (OSError, AttributeError):
        return None
    fn.restype = _Mallinfo2
    return cast("Callable[[], _Mallinfo2]", fn)


MALLINFO = _mallinfo()


def mapped(hot: str = "") -> set[str]:
    """The files mapped into this process (under `hot` only, if given). A file deleted while
    mapped is still one: its path is kept, without the kernel's " (deleted)"."""
    found = set()
    with open("/proc/self/maps") as f:
        for line in f:
            fields = line.split(maxsplit=5)
            if len(fields) == 6 and fields[5].startswith("/"):
                path = fields[5].rstrip("\n").removesuffix(" (deleted)")
                if path.startswith(hot):
                    found.add(path)
    return found


def usage(project: Path) -> Usage:
    """What the process holds now (after a garbage collection)."""
    gc.collect()
    objects = len(gc.get_objects())
    heap = mmapped_bytes = -1
    if MALLINFO is not None:
        info = MALLINFO()
        heap, mmapped_bytes = info.uordblks, info.hblkhd
    with open("/proc/self/status") as f:
        fields = dict(line.split(":", 1) for line in f)
    return Usage(
        len(os.listdir("/proc/self/fd")),
        len(mapped(str(project / ".hot"))),
        len(list((project / ".hot").iterdir())),
        int(fields["VmRSS"].split()[0]) / 1024,
        int(fields["Threads"]),
        len(mapped()),
        heap,
        mmapped_bytes,
        objects,
    )


def trend(values: Sequence[float], lag: int = 4) -> float:
    """Growth per cycle of `values` (one a cycle): the median, over every window of `lag`
    cycles, of the change across it divided by `lag`. A leak moves every window; a buffer or
    a dict that grows once moves only the few windows that span it, and a pattern that
    repeats every `lag` cycles (or every 2 or 1) adds up to its true net."""
    y = np.asarray(values, dtype=np.float64)
    if len(y) <= lag:
        return 0.0
    return float(np.median((y[lag:] - y[:-lag]) / lag))


def growth(series: dict[str, list[float]], start: int) -> dict[str, float]:
    """Each series' growth per reload (`trend`) from cycle `start` (0-based) on."""
    return {name: trend(values[start:]) for name, values in series.items()}


class _Count(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.finished = 0

    def emit(self, record: logging.LogRecord) -> None:
        said = record.getMessage()
        if said.startswith("reload finished") and ", tier 2 " in said:  # one per reload: its last tier
            self.finished += 1


def soak(
    project: Path,
    cycles: int,
    entities: int = 20_000,
    warmup_frames: int = 0,
    history_budget: int | None = None,
    outcomes_kept: int | None = None,
) -> dict[str, object]:
    """`cycles` edits of movement.zig, each reloaded with F5, with a sample of `usage` after
    each (`series`, one list per field) and at the cycles the report shows (`samples`).
    `warmup_frames` run first; `history_budget` (bytes) and `outcomes_kept` shrink the rewind
    history and the reloader's list of past reloads, buffers bounded by design that would
    otherwise still be filling during a short soak."""
    counter = _Count()
    logger = logging.getLogger("sandbox")
    level = logger.level
    logger.setLevel(logging.INFO)  # the reload lines are INFO
    logger.addHandler(counter)
    game = Game(Options(headless=True, fast=True, entities=entities, size=(640, 360), project=project))
    names = [f.name for f in fields(Usage)]
    # Filled in place: a sample kept as Python objects would itself be growth to measure.
    series = np.zeros((len(names), cycles), dtype=np.float64)
    started = time.perf_counter()
    try:
        if not game.start():
            raise RuntimeError("no system could be built")
        if history_budget is not None:
            game.history.budget = history_budget
        if outcomes_kept is not None:
            game.reloader.outcomes = deque(game.reloader.outcomes, maxlen=outcomes_kept)
        for _ in range(warmup_frames):
            game.frame()
        source = project / "ecs_systems" / "movement.zig"
        for cycle in range(cycles):
            bump(source)
            pygame.event.post(pygame.event.Event(pygame.KEYDOWN, key=pygame.K_F5, mod=0, unicode="", scancode=0))
            game.frame()
            while game.reloader.building:
                game.frame()
            if game.reloader.last_outcome is None or not game.reloader.last_outcome.ready:
                raise RuntimeError(f"cycle {cycle}: {game.reloader.message}")
            series[:, cycle] = astuple(usage(project))
        build_id = game.pipeline.slots["movement"].system.info.build_id
    finally:
        game.close()
        logger.removeHandler(counter)
        logger.setLevel(level)
    marks = [c for c in range(cycles) if c in (0, 9) or (c + 1) % max(cycles // 10, 1) == 0]
    kinds = [float if f.type == "float" else int for f in fields(Usage)]
    return {
        "cycles": cycles,
        "seconds": time.perf_counter() - started,
        "reloads_logged": counter.finished - 1,
        "final_build_id": build_id,
        "samples": [{n: kind(v) for n, kind, v in zip(names, kinds, series[:, c], strict=True)} for c in marks],
        "series": {name: series[i].tolist() for i, name in enumerate(names)},
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        prog="python -m bench.soak", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--cycles", type=int, default=500)
    add_record_flag(parser)
    args = parser.parse_args()
    os.environ["SDL_VIDEODRIVER"] = "dummy"
    with tempfile.TemporaryDirectory(prefix="ecs-soak-") as tmp:
        result = soak(copy_project(Path(tmp) / "project"), args.cycles)
    from bench.__main__ import machine

    result["machine"], result["date"] = machine(), datetime.date.today().isoformat()
    samples = result["samples"]
    first, tenth, last = samples[0], samples[1], samples[-1]  # type: ignore[index]
    lines = [
        f"# Soak ({result['cycles']} edit-and-reload cycles, {result['date']})",
        "",
        "Machine: " + ", ".join(f"{k} {v}" for k, v in result["machine"].items()),  # type: ignore[attr-defined]
        "",
        f"{result['seconds']:.0f} s in all; {result['reloads_logged']} reloads in the log; final build id "
        f"{result['final_build_id']}.",
        "",
        "| after cycle | open fds | mapped copies | copies on disk | RSS MiB |",
        "|---:|---:|---:|---:|---:|",
    ]
    marks = [1, 10] + [round(result["cycles"] * k / 10) for k in range(1, 11)]  # type: ignore[operator]
    for mark, s in zip(marks, samples, strict=False):  # type: ignore[arg-type]
        lines.append(f"| {mark} | {s['fds']} | {s['mapped_copies']} | {s['copies_on_disk']} | {s['rss_mib']:.1f} |")
    lines += [
        "",
        f"Growth from cycle 10 to the end: fds {last['fds'] - tenth['fds']:+d}, mapped copies "  # type: ignore[index]
        f"{last['mapped_copies'] - tenth['mapped_copies']:+d}, copies on disk "  # type: ignore[index]
        f"{last['copies_on_disk'] - tenth['copies_on_disk']:+d}, RSS {last['rss_mib'] - tenth['rss_mib']:+.1f} MiB "  # type: ignore[index]
        f"(from cycle 1: {last['rss_mib'] - first['rss_mib']:+.1f} MiB).",
    ]  # type: ignore[index]
    write("soak", result, "\n".join(lines) + "\n", args.record)


if __name__ == "__main__":
    main()
