"""Soak: many edit-and-reload cycles headless; resources must not grow.

`python -m bench.soak [--cycles 500] [--record]` edits movement.zig's build id, presses F5 through the
real event loop and waits for the swap, `cycles` times, on a temporary copy of the project.
It records open file descriptors, mapped versioned copies, copies on disk and resident
memory, and counts the reloads in the log. Linux only (/proc). The tests run a short one.
Results: soak.md and .json in bench/out/, or in bench/results/ (the README cites them) with
`--record`.
"""

from __future__ import annotations

import argparse
import datetime
import logging
import os
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

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


def usage(project: Path) -> Usage:
    hot = str(project / ".hot")
    with open("/proc/self/maps") as f:
        mapped = {line.split()[-1] for line in f if hot in line}
    with open("/proc/self/status") as f:
        fields = dict(line.split(":", 1) for line in f)
    return Usage(
        len(os.listdir("/proc/self/fd")),
        len(mapped),
        len(list((project / ".hot").iterdir())),
        int(fields["VmRSS"].split()[0]) / 1024,
        int(fields["Threads"]),
    )


class _Count(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.finished = 0

    def emit(self, record: logging.LogRecord) -> None:
        said = record.getMessage()
        if said.startswith("reload finished") and ", tier 2 " in said:  # one per reload: its last tier
            self.finished += 1


def soak(project: Path, cycles: int, entities: int = 20_000) -> dict[str, object]:
    counter = _Count()
    logger = logging.getLogger("sandbox")
    level = logger.level
    logger.setLevel(logging.INFO)  # the reload lines are INFO
    logger.addHandler(counter)
    game = Game(Options(headless=True, fast=True, entities=entities, size=(640, 360), project=project))
    samples: list[Usage] = []
    started = time.perf_counter()
    try:
        if not game.start():
            raise RuntimeError("no system could be built")
        source = project / "ecs_systems" / "movement.zig"
        for cycle in range(cycles):
            bump(source)
            pygame.event.post(pygame.event.Event(pygame.KEYDOWN, key=pygame.K_F5, mod=0, unicode="", scancode=0))
            game.frame()
            while game.reloader.building:
                game.frame()
            if game.reloader.last_outcome is None or not game.reloader.last_outcome.ready:
                raise RuntimeError(f"cycle {cycle}: {game.reloader.message}")
            if cycle in (0, 9) or (cycle + 1) % max(cycles // 10, 1) == 0:
                samples.append(usage(project))
        build_id = game.pipeline.slots["movement"].system.info.build_id
    finally:
        game.close()
        logger.removeHandler(counter)
        logger.setLevel(level)
    return {
        "cycles": cycles,
        "seconds": time.perf_counter() - started,
        "reloads_logged": counter.finished - 1,
        "final_build_id": build_id,
        "samples": [asdict(s) for s in samples],
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
