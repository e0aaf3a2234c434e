"""Whole frames of the real game, and the reload loop, on a temporary copy of the project."""

from __future__ import annotations

import shutil
import statistics
from pathlib import Path

from bench.timing import percentile
from game.app import Game
from game.options import PROJECT_ROOT, Options

SOURCES = ("build.zig", "build.zig.zon", "ecs_systems", "assets")


def copy_project(dst: Path, src: Path = PROJECT_ROOT, with_build: bool = True) -> Path:
    """The Zig sources and asset files of the project at `src` (not the README's captures under
    `assets/readme/`) and, `with_build`, its warm Zig cache and output."""
    dst.mkdir(parents=True, exist_ok=True)
    for name in (*SOURCES, *((".zig-cache", "zig-out") if with_build else ())):
        path = src / name
        if path.is_dir():
            shutil.copytree(path, dst / name, ignore=shutil.ignore_patterns("readme") if name == "assets" else None)
        elif path.exists():
            shutil.copy2(path, dst / name)
    return dst


def game(project: Path, entities: int, fast: bool = True) -> Game:
    g = Game(Options(headless=True, fast=fast, entities=entities, size=(1280, 720), project=project))
    if not g.start():
        raise RuntimeError("no system could be built")
    return g


def full_frame(project: Path, entities: int, frames: int) -> dict[str, float]:
    """Every default system plus drawing and the HUD: the frame's work, without pacing."""
    g = game(project, entities)
    try:
        for _ in range(10):
            g.frame()
        times = []
        for _ in range(frames):
            g.frame()
            times.append(g.work_ms)
        systems = {name: slot.system.last_ms for name, slot in g.pipeline.slots.items()}
    finally:
        g.close()
    return {
        "entities": entities,
        "p50_ms": statistics.median(times),
        "p95_ms": percentile(times, 95),
        "max_ms": max(times),
        **{f"{k}_ms": v for k, v in systems.items()},
    }


def bump(source: Path) -> None:
    text = source.read_text()
    marker = "pub const build_id: u32 = "
    start = text.index(marker) + len(marker)
    end = text.index(";", start)
    source.write_text(text[:start] + str(int(text[start:end]) + 1) + text[end:])


def edit_to_running(project: Path, reloads: int) -> dict[str, object]:
    """F5 after a one-line edit of movement.zig, `reloads` times: F5 to the first step of the
    new code (tier 1) and its parts, and F5 to tier 2 running (bench/tiers.py measures the
    same in watch mode against the compiler's floor, at 100k and 1M).

    The game runs paced at 60 FPS, as played: frames run back to back would take a core
    from the (low-priority) build on a 2-core machine and measure that contention instead.
    The swap waits for the next frame boundary, so this includes up to one frame (16.7 ms).
    """
    g = game(project, 100_000, fast=False)
    source = project / "ecs_systems" / "movement.zig"
    keys = ("total", "build", "canary", "load", "checks", "swap", "tier 2")
    parts: dict[str, list[float]] = {k: [] for k in keys}
    try:
        for _ in range(reloads):
            seen = len(g.reloader.outcomes)
            bump(source)
            g.reloader.request("bench")
            while g.reloader.building or not g.reloader.outcomes[-1].first_step_seconds:
                g.frame()  # the frame loop keeps running; its poll() swaps at the boundary
            live = [o for o in list(g.reloader.outcomes)[seen:] if o.ready]
            if not live:
                raise RuntimeError(f"reload swapped nothing: {g.reloader.message}")
            first = live[0]
            parts["total"].append(first.first_step_seconds * 1e3)
            parts["build"].append(first.build_seconds * 1e3)
            parts["canary"].append(first.canary_seconds * 1e3)
            parts["load"].append(first.load_seconds * 1e3)
            parts["checks"].append(first.check_seconds * 1e3)
            parts["swap"].append(first.swap_seconds * 1e3)
            parts["tier 2"].append(live[-1].first_step_seconds * 1e3)
    finally:
        g.close()
    return {k: {"p50_ms": statistics.median(v), "p95_ms": percentile(v, 95)} for k, v in parts.items()} | {
        "reloads": reloads
    }


def frames_during_build(project: Path, entities: int, builds: int) -> dict[str, float]:
    """Frame work (paced at 60 FPS, as played) while builds run, and without one."""
    g = game(project, entities, fast=False)
    source = project / "ecs_systems" / "colorize.zig"
    idle: list[float] = []
    busy: list[float] = []
    try:
        for _ in range(120):
            g.frame()
            idle.append(g.work_ms)
        for _ in range(builds):
            bump(source)
            g.reloader.request("bench")
            while g.reloader.building:
                g.frame()
                busy.append(g.work_ms)
            g.frame()
            busy.append(g.work_ms)
    finally:
        g.close()
    return {
        "entities": entities,
        "frames_during_builds": len(busy),
        "busy_max_ms": max(busy),
        "busy_p99_ms": percentile(busy, 99),
        "idle_max_ms": max(idle),
        "idle_p99_ms": percentile(idle, 99),
    }
