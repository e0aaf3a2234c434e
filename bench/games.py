"""`python -m bench.games [--quick] [--record]`: frame times of the two games, written to
games.md (and .json) in bench/out/, or in bench/results/ (the README cites them) with `--record`.

- arena with 10,000 bullets and 2,000 asteroids: the game as the autopilot plays it, plus
  that many bullets and small asteroids spawned at once (bullets living 5 s; the
  asteroids very tough, so they stay while bullets hit them and are spent);
- flock at 50k, 100k and 200k boids.

A frame is the game's own work (`Game.work_ms`: input, steps, every system, drawing, the
HUD, the rewind history), at 1280x720, systems at tier 2 (ReleaseSafe), not paced. Side
by side: the grid's build in numpy (stable argsort by cell, the same sort the `grid`
system does by counting), at the same sizes.
"""

from __future__ import annotations

import argparse
import datetime
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np

from bench.__main__ import machine
from bench.frames import copy_project
from bench.output import add_record_flag, write
from bench.timing import percentile
from game.app import Game
from game.options import PROJECT_ROOT, Options

SIZE = (1280, 720)
LAYER_BULLET, LAYER_ASTEROID = 2, 4


def started(project: Path, scene: str, entities: int = 0) -> Game:
    game = Game(Options(headless=True, fast=True, scene=scene, entities=entities, size=SIZE, project=project, tier=2))
    if not game.start():
        raise RuntimeError("no system could be built")
    return game


def measure(game: Game, frames: int) -> dict[str, float]:
    work = []
    for _ in range(frames):
        game.frame()
        work.append(game.work_ms)
    systems = {name: round(slot.avg_ms, 3) for name, slot in game.pipeline.slots.items() if slot.avg_ms >= 0.005}
    return {
        "frame_p50_ms": round(statistics.median(work), 2),
        "frame_p95_ms": round(percentile(work, 95), 2),
        "frame_mean_ms": round(statistics.fmean(work), 2),
        "fps_equivalent": round(1000 / statistics.fmean(work), 1),
        "systems_ms": systems,  # type: ignore[dict-item]
    }


def arena(project: Path, frames: int, apart: bool) -> dict[str, object]:
    """The arena after its first wave, plus 10,000 bullets and 2,000 small, very tough
    asteroids. `apart`: the bullets fly sideways in the bottom half and the asteroids in the
    top half, so all of them stay (every system does its whole work, no hits); otherwise
    they are mixed and most bullets hit something within a few steps (collisions, `Hit`s,
    sparks: the costliest frames), and only the first `frames` after the spawn are measured."""
    game = started(project, "arena")
    try:
        for _ in range(120):  # the first wave is out
            game.frame()
        rng = np.random.default_rng(5)
        n, m = 10_000, 2_000
        w, h = SIZE
        f32 = np.float32
        if apart:
            bullet_y, rock_y = rng.uniform(h / 2 + 20, h - 5, n), rng.uniform(5, h / 2 - 60, m)
            angle = np.where(rng.random(n) < 0.5, 0.0, np.pi)
            spin = np.where(rng.random(m) < 0.5, 0.0, np.pi)
        else:
            bullet_y, rock_y = rng.uniform(0, h, n), rng.uniform(0, h, m)
            angle, spin = rng.uniform(0, 2 * np.pi, n), rng.uniform(0, 2 * np.pi, m)
        game.world.spawn(
            n,
            {
                "Position": {"x": rng.uniform(0, w, n).astype(f32), "y": bullet_y.astype(f32)},
                "Velocity": {"x": (np.cos(angle) * 520).astype(f32), "y": (np.sin(angle) * 520).astype(f32)},
                "Body": {"radius": np.full(n, 2, f32), "layer": np.full(n, LAYER_BULLET, np.uint32)},
                "Bullet": None,
                "Lifetime": {"seconds": np.full(n, 30, f32)},
            },
        )
        game.world.spawn(
            m,
            {
                "Position": {"x": rng.uniform(0, w, m).astype(f32), "y": rock_y.astype(f32)},
                "Velocity": {"x": (np.cos(spin) * 40).astype(f32), "y": (np.sin(spin) * 40).astype(f32)},
                "Heading": {
                    "angle": rng.uniform(0, 2 * np.pi, m).astype(f32),
                    "spin": rng.uniform(-1, 1, m).astype(f32),
                },
                "Body": {"radius": np.full(m, 12, f32), "layer": np.full(m, LAYER_ASTEROID, np.uint32)},
                "Asteroid": {
                    "size": np.ones(m, np.uint32),
                    "hp": np.full(m, 1_000_000, np.int32),
                    "seed": rng.integers(0, 2**32, m, dtype=np.uint32),
                },
            },
        )

        def counts() -> dict[str, int]:
            return {k: sum(t.count for t in game.world.query(k)) for k in ("Bullet", "Asteroid", "Spark", "Hit")}

        at_start = counts()
        result = measure(game, frames)
        refused = {n: s.warning for n, s in game.pipeline.slots.items() if s.warning}
        return {**result, "at_start": at_start, "at_end": counts(), "frames": frames, "refused": refused}
    finally:
        game.close()


def flock(project: Path, boids: int, frames: int) -> dict[str, object]:
    game = started(project, "flock", boids)
    try:
        for _ in range(60):
            game.frame()
        return {**measure(game, frames), "boids": boids, "frames": frames}
    finally:
        game.close()


def numpy_grid(n: int, cell: float = 10.0, repeats: int = 20) -> float:
    """ms to sort n bodies into cells with numpy: cell index, stable argsort, gather, counts."""
    rng = np.random.default_rng(1)
    x = rng.uniform(0, SIZE[0], n).astype(np.float32)
    y = rng.uniform(0, SIZE[1], n).astype(np.float32)
    vx, vy = x.copy(), y.copy()
    cols, rows = int(np.ceil(SIZE[0] / cell)), int(np.ceil(SIZE[1] / cell))
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        c = np.clip((y // cell).astype(np.int64), 0, rows - 1) * cols + np.clip(
            (x // cell).astype(np.int64), 0, cols - 1
        )
        order = np.argsort(c, kind="stable")
        _ = x[order], y[order], vx[order], vy[order]
        starts = np.concatenate(([0], np.cumsum(np.bincount(c, minlength=cols * rows))))
        times.append((time.perf_counter() - t) * 1000)
        del starts
    return round(statistics.median(times), 3)


def markdown(results: dict[str, object]) -> str:
    lines = [
        f"# The games: frame times ({results['date']})",
        "",
        "Machine: " + ", ".join(f"{k} {v}" for k, v in results["machine"].items()),  # type: ignore[attr-defined]
        "",
        "A frame is the game's own work (input, steps, every system, drawing, HUD, history) at",
        "1280x720, systems at tier 2 (ReleaseSafe), not paced; 60 FPS is 16.7 ms.",
        "",
        "## arena: 10,000 bullets and 2,000 asteroids (plus the game's own)",
        "",
        "| field | frames | frame p50 | p95 | mean | FPS equivalent | bullets start / end | asteroids | sparks |",
        "|---|---:|---:|---:|---:|---:|---|---:|---:|",
    ]
    for label, key in (("apart: no hits", "arena"), ("mixed: hits every step", "arena_mixed")):
        a = results[key]
        assert isinstance(a, dict)
        lines.append(
            f"| {label} | {a['frames']} | {a['frame_p50_ms']} | {a['frame_p95_ms']} | {a['frame_mean_ms']} "
            f"| {a['fps_equivalent']} | {a['at_start']['Bullet']:,} / {a['at_end']['Bullet']:,} "
            f"| {a['at_end']['Asteroid']:,} | {a['at_end']['Spark']:,} |"
        )
    for label, key in (("apart", "arena"), ("mixed", "arena_mixed")):
        a = results[key]
        assert isinstance(a, dict)
        systems = ", ".join(f"{k} {v}" for k, v in a["systems_ms"].items())
        lines.append(f"\n{label}, systems (ms per call, moving average): {systems}")
        if a["refused"]:
            lines.append(f"\nrefused commands: {a['refused']}")
    lines += [
        "",
        "Apart, the bullets fly sideways in the bottom half and the asteroids in the top half: all",
        "of them stay and every system does its whole work. Mixed, most bullets hit something within",
        "a few steps: the first 20 frames after the spawn, the ones with the most hits.",
        "",
        "## flock",
        "",
        "| boids | frame p50 | p95 | mean | FPS equivalent | boids system | grid | flock_draw | grid in numpy |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for f in results["flock"]:  # type: ignore[attr-defined]
        s = f["systems_ms"]
        lines.append(
            f"| {f['boids']:,} | {f['frame_p50_ms']} | {f['frame_p95_ms']} | {f['frame_mean_ms']} "
            f"| {f['fps_equivalent']} | {s.get('boids', 0)} | {s.get('grid', 0)} | {s.get('flock_draw', 0)} "
            f"| {f['numpy_grid_ms']} |"
        )
    lines += [
        "",
        '"grid in numpy" sorts the same number of bodies into the same cells with numpy',
        "(stable argsort, gather, counts): the `grid` system's job, for comparison.",
        "",
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="fewer frames, 50k boids only (games_quick.*)")
    add_record_flag(parser)
    ns = parser.parse_args()
    frames = 60 if ns.quick else 300
    sizes = (50_000,) if ns.quick else (50_000, 100_000, 200_000)
    with tempfile.TemporaryDirectory() as tmp:
        project = copy_project(Path(tmp) / "project", PROJECT_ROOT)
        results: dict[str, object] = {
            "date": datetime.date.today().isoformat(),
            "machine": machine(),
            "arena": arena(project, min(frames, 120), apart=True),
            "arena_mixed": arena(project, 20, apart=False),
            "flock": [{**flock(project, n, frames), "numpy_grid_ms": numpy_grid(n)} for n in sizes],
        }
    write("games_quick" if ns.quick else "games", results, markdown(results), ns.record)


if __name__ == "__main__":
    main()
