"""Edit to running with per-system, tiered builds, against the compiler's own floor.

`python -m bench.tiers [--quick] [--record]` measures, in one run on a copy of the project:

- **The floor**: `zig build-lib -O debug` of movement.zig after a one-line edit, run
  directly from a shell's point of view (a small process), the machine otherwise quiet;
  and the same for the tier-2 mode (safe) and for `zig build` (the build runner).
- **Edit to running, watch mode**: the real game paced at 60 FPS, as played, with the
  watcher on; a one-line edit of movement.zig is saved and the time runs until the first
  step that runs the new code (`Reloader.outcomes`), split into debounce, build, canary,
  load, swap and the wait for that step; then the same until tier 2 is live. At 100k and
  at 1M entities (1M builds tier 2 at once: see game/hotreload/reloader.py).
- **Frames** while those builds, canaries (their world copy) and swaps happen, at 1M.
- **Three systems at once**: components.zig edited (every system imports it).
- **The tier trade at 1M**: each system's step in debug against safe.
- **First build on an empty Zig cache** (local and global), every system in one parallel
  pass, and `zig build` the same way; then the cache's size after 500 builds.

Results: tiers.md and .json (tiers_quick.* with `--quick`) in bench/out/, or in bench/results/
(the README cites them) with `--record`.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import re
import shutil
import statistics
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.frames import copy_project
from bench.output import add_record_flag, write
from bench.timing import percentile
from game.app import Game
from game.hotreload.builds import Builds
from game.hotreload.compiler import build_args, zig_command
from game.options import Options

SOURCE = "ecs_systems/movement.zig"
WARM_UP = 400  # frames before measuring: the rewind ring's first 5 s allocate its memory
_BUILD_ID = re.compile(r"pub const build_id: u32 = (\d+);")


def bump(path: Path) -> int:
    """The one-line edit: movement's build id goes up by one (the file is written in place)."""
    text = path.read_text()
    value = int(_BUILD_ID.search(text).group(1)) + 1  # type: ignore[union-attr]
    path.write_text(_BUILD_ID.sub(f"pub const build_id: u32 = {value};", text))
    return value


def floor(project: Path, mode: str, edits: int) -> list[float]:
    """ms of `zig build-lib -O mode` of movement.zig after each of `edits` one-line edits."""
    times = []
    for _ in range(edits):
        bump(project / SOURCE)
        time.sleep(0.05)
        command = [*zig_command(), *build_args("movement", mode, Path(".zig-cache/floor")), "-femit-bin=floor.so"]
        started = time.perf_counter()
        subprocess.run(command, cwd=project, check=True, capture_output=True)
        times.append((time.perf_counter() - started) * 1e3)
    return times


def zig_build(project: Path, edits: int) -> list[float]:
    """ms of `zig build` (the build runner, every library) after each one-line edit."""
    times = []
    for _ in range(edits):
        bump(project / SOURCE)
        time.sleep(0.05)
        started = time.perf_counter()
        subprocess.run(
            [*zig_command(), "build", "--prefix", "zig-out-shell"], cwd=project, check=True, capture_output=True
        )
        times.append((time.perf_counter() - started) * 1e3)
    return times


def stats(values: list[float]) -> dict[str, float]:
    return {"p50": statistics.median(values), "p95": percentile(values, 95), "max": max(values), "n": len(values)}


def edit_to_running(project: Path, entities: int, edits: int) -> dict[str, Any]:
    """Watch mode, paced: `edits` saves of movement.zig, each timed to its first new step."""
    g = Game(Options(headless=True, fast=False, entities=entities, project=project, watch=True))
    if not g.start():
        raise RuntimeError("no system could be built")
    source = project / SOURCE
    first: dict[str, list[float]] = {k: [] for k in ("total", "debounce", "build", "canary", "load", "swap", "step")}
    tier2: list[float] = []
    tiers: list[int] = []
    busy: list[float] = []
    swaps: list[float] = []
    idle: list[float] = []
    try:
        for _ in range(WARM_UP):  # the rewind history fills its ring first (5 s of checkpoints)
            g.frame()
        for _ in range(120):
            g.frame()
            idle.append(g.work_ms)
        for _ in range(edits):
            seen = len(g.reloader.outcomes)
            build_id = bump(source)
            saved = time.perf_counter()  # the save itself: the watcher's own latency counts
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                applied = len(g.reloader.outcomes)
                g.frame()
                (swaps if len(g.reloader.outcomes) > applied else busy).append(g.work_ms)
                slot = g.pipeline.slots["movement"]
                done = slot.system.info.build_id == build_id and slot.system.library.tier == 2
                if done and g.reloader.settled:
                    break
            else:
                raise RuntimeError(f"edit {build_id} did not go live: {g.reloader.message}")
            live = [o for o in list(g.reloader.outcomes)[seen:] if o.ready and o.first_step_seconds]
            o = live[0]
            noticed = o.requested_at - saved  # the save to the watcher's event
            first["total"].append((noticed + o.first_step_seconds) * 1e3)
            first["debounce"].append((noticed + o.debounce_seconds) * 1e3)
            first["build"].append(o.build_seconds * 1e3)
            first["canary"].append(o.canary_seconds * 1e3)
            first["load"].append(o.load_seconds * 1e3)
            first["swap"].append(o.swap_seconds * 1e3)
            first["step"].append((o.first_step_seconds - o.total_seconds) * 1e3)  # waits for a frame, then runs
            tiers.append(o.tier)
            tier2.append((noticed + live[-1].first_step_seconds) * 1e3)
            for _ in range(30):  # a quiet half second between edits, as between a user's saves
                g.frame()
                idle.append(g.work_ms)
    finally:
        g.close()
    return {
        "entities": entities,
        "edits": edits,
        "first_tier": sorted(set(tiers)),
        "first_live": {k: stats(v) for k, v in first.items()},
        "tier2_live": stats(tier2),
        "frames_busy": stats(busy),
        "frames_swap": stats(swaps),
        "frames_idle": stats(idle),
    }


def components_edit(project: Path, entities: int, edits: int) -> dict[str, Any]:
    """components.zig edited (a comment): every system rebuilds; save to all of them live."""
    g = Game(Options(headless=True, fast=False, entities=entities, project=project, watch=True))
    if not g.start():
        raise RuntimeError("no system could be built")
    path = project / "ecs_systems" / "components.zig"
    totals: list[float] = []
    tier2: list[float] = []
    try:
        for _ in range(30):
            g.frame()
        for i in range(edits):
            seen = len(g.reloader.outcomes)
            path.write_text(path.read_text() + f"// edit {i}\n")
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                g.frame()
                outcomes = list(g.reloader.outcomes)[seen:]
                if not g.reloader.building and outcomes and outcomes[-1].tier == 2 and outcomes[-1].first_step_seconds:
                    break
            outcomes = [o for o in list(g.reloader.outcomes)[seen:] if o.ready]
            totals.append(outcomes[0].first_step_seconds * 1e3)
            tier2.append(outcomes[-1].first_step_seconds * 1e3)
            systems = len(outcomes[0].ready)
            for _ in range(30):
                g.frame()
    finally:
        g.close()
    return {"entities": entities, "systems": systems, "first_live": stats(totals), "tier2_live": stats(tier2)}


def tier_trade(project: Path, entities: int) -> dict[str, dict[str, float]]:
    """Each system's step time at `entities` when built at tier 1 (debug) and tier 2 (safe)."""
    found: dict[str, dict[str, float]] = {}
    for tier in (2, 1):
        g = Game(Options(headless=True, fast=True, entities=entities, project=project, tier=tier))
        if not g.start():
            raise RuntimeError("no system could be built")
        try:
            for _ in range(5):
                g.frame()
            samples: dict[str, list[float]] = {n: [] for n in g.pipeline.slots}
            frames = []
            for _ in range(10):
                g.frame()
                frames.append(g.work_ms)
                for name, slot in g.pipeline.slots.items():
                    samples[name].append(slot.system.last_ms)
            for name, values in samples.items():
                found.setdefault(name, {})[f"tier{tier}_ms"] = statistics.median(values)
            found.setdefault("(whole frame)", {})[f"tier{tier}_ms"] = statistics.median(frames)
        finally:
            g.close()
    return found


def first_build(project: Path) -> dict[str, Any]:
    """Every system from an empty Zig cache (local and global): per-system builds in one
    parallel pass (tier 2), then `zig build`, each from empty."""
    found: dict[str, Any] = {}
    for label in ("builds", "zig build"):
        shutil.rmtree(project / ".zig-cache", ignore_errors=True)
        shutil.rmtree(project / "zig-out", ignore_errors=True)
        with tempfile.TemporaryDirectory(prefix="zig-global-") as global_cache:
            os.environ["ZIG_GLOBAL_CACHE_DIR"] = global_cache
            try:
                started = time.perf_counter()
                if label == "builds":
                    builds = Builds(project)
                    results = builds.build(builds.names(), 2)
                    ok = all(r.ok for r in results.values())
                    found["systems"] = len(results)
                else:
                    ok = subprocess.run([*zig_command(), "build"], cwd=project, capture_output=True).returncode == 0
                found[label] = {"seconds": time.perf_counter() - started, "ok": ok}
            finally:
                del os.environ["ZIG_GLOBAL_CACHE_DIR"]
    return found


def cache_growth(project: Path, builds_count: int) -> dict[str, Any]:
    """The Zig caches' size before and after `builds_count` builds of edited sources (tiers 1
    and 2 alternating, as an editing session makes them)."""
    global_cache = Path(os.environ.get("ZIG_GLOBAL_CACHE_DIR", Path.home() / ".cache" / "zig"))

    def size(path: Path) -> int:
        return sum(f.stat().st_size for f in path.rglob("*") if f.is_file()) if path.exists() else 0

    builds = Builds(project)
    builds.build(["movement"], 1)
    builds.build(["movement"], 2)
    before = {"local": size(project / ".zig-cache"), "global": size(global_cache)}
    started = time.perf_counter()
    for i in range(builds_count):
        bump(project / SOURCE)
        result = builds.build(["movement"], 1 + i % 2)["movement"]
        if not result.ok:
            raise RuntimeError(result.output)
    after = {"local": size(project / ".zig-cache"), "global": size(global_cache)}
    return {"builds": builds_count, "seconds": time.perf_counter() - started, "before": before, "after": after}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer edits, no empty-cache build, 50 builds of growth")
    add_record_flag(parser)
    args = parser.parse_args()
    from bench.__main__ import machine

    edits = 6 if args.quick else 20
    results: dict[str, Any] = {"machine": machine(), "date": datetime.date.today().isoformat(), "edits": edits}
    with tempfile.TemporaryDirectory(prefix="bench-tiers-") as tmp:
        project = copy_project(Path(tmp) / "project")
        results["floor"] = {
            "debug": stats(floor(project, "debug", edits)),
            "safe": stats(floor(project, "safe", edits)),
            "zig build": stats(zig_build(project, max(3, edits // 4))),
        }
        print("floor", json.dumps(results["floor"]), flush=True)
        for entities in (100_000, 1_000_000):
            results[f"edit_{entities}"] = edit_to_running(project, entities, edits)
            print(entities, json.dumps(results[f"edit_{entities}"]["first_live"]["total"]), flush=True)
        results["components"] = components_edit(project, 100_000, max(3, edits // 4))
        results["trade_1m"] = tier_trade(project, 1_000_000)
        results["cache"] = cache_growth(project, 50 if args.quick else 500)
        if not args.quick:
            results["first_build"] = first_build(copy_project(Path(tmp) / "cold", with_build=False))
    write("tiers_quick" if args.quick else "tiers", results, report(results), args.record)


def report(r: dict[str, Any]) -> str:
    m = r["machine"]
    floor_debug = r["floor"]["debug"]["p50"]
    lines = [
        f"# Edit to running: per-system tiered builds ({r['date']})",
        "",
        "Machine: " + ", ".join(f"{k} {v}" for k, v in m.items()),
        "",
        "## The compiler's floor (one-line edit of movement.zig, ms)",
        "",
        "| build | p50 | p95 |",
        "|---|---:|---:|",
    ]
    for label, s in r["floor"].items():
        what = "`zig build` (build runner, every library)" if label == "zig build" else f"`zig build-lib -O {label}`"
        lines.append(f"| {what} | {s['p50']:.0f} | {s['p95']:.0f} |")
    lines += [
        "",
        f"## Save to the first step of the new code (watch mode, paced at 60 FPS, {r['edits']} edits)",
        "",
        "| entities | first tier | p50 | p95 | floor + | debounce | build | canary | load | swap | to the step "
        "| tier 2 live p50 | tier 2 p95 |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for entities in (100_000, 1_000_000):
        e = r[f"edit_{entities}"]
        f = e["first_live"]
        lines.append(
            f"| {entities:,} | {'/'.join(map(str, e['first_tier']))} | {f['total']['p50']:.0f} | "
            f"{f['total']['p95']:.0f} | {f['total']['p50'] - floor_debug:+.0f} / "
            f"{f['total']['p95'] - floor_debug:+.0f} | "
            + " | ".join(f"{f[k]['p50']:.0f}" for k in ("debounce", "build", "canary", "load", "swap", "step"))
            + f" | {e['tier2_live']['p50']:.0f} | {e['tier2_live']['p95']:.0f} |"
        )
    lines += [
        "",
        '(parts are p50s; "floor +" is p50 and p95 against the debug floor\'s p50)',
        "",
        "## Frames while building, checking and swapping (work per frame, ms)",
        "",
        "| entities | frames during builds: p50 / p95 / max | swap frames: max | no build: max |",
        "|---:|---|---:|---:|",
    ]
    for entities in (100_000, 1_000_000):
        e = r[f"edit_{entities}"]
        b = e["frames_busy"]
        lines.append(
            f"| {entities:,} | {b['p50']:.1f} / {b['p95']:.1f} / {b['max']:.1f} | {e['frames_swap']['max']:.1f} "
            f"| {e['frames_idle']['max']:.1f} |"
        )
    c = r["components"]
    lines += [
        "",
        f"## components.zig edited: {c['systems']} libraries rebuilt at once ({c['entities']:,} entities)",
        "",
        f"Save to all of them running: p50 {c['first_live']['p50']:.0f} ms, p95 {c['first_live']['p95']:.0f} ms; "
        f"at tier 2: p50 {c['tier2_live']['p50']:.0f} ms.",
        "",
        "## The tier trade at 1M entities (ms per step)",
        "",
        "| system | tier 1 (debug) | tier 2 (safe) | ratio |",
        "|---|---:|---:|---:|",
    ]
    for name, t in r["trade_1m"].items():
        ratio = t["tier1_ms"] / t["tier2_ms"] if t.get("tier2_ms") else 0.0
        lines.append(f"| {name} | {t['tier1_ms']:.2f} | {t['tier2_ms']:.2f} | {ratio:.0f}x |")
    cache = r["cache"]
    mib = 1 << 20
    lines += [
        "",
        f"## Cache after {cache['builds']} builds ({cache['seconds']:.0f} s)",
        "",
        f"Local `.zig-cache`: {cache['before']['local'] / mib:.1f} MiB before, {cache['after']['local'] / mib:.1f} "
        f"MiB after; global: {cache['before']['global'] / mib:.1f} MiB before, "
        f"{cache['after']['global'] / mib:.1f} MiB after.",
    ]
    if "first_build" in r:
        fb = r["first_build"]
        lines += [
            "",
            "## First build, empty caches (local and global)",
            "",
            f"Per-system builds, {fb['systems']} libraries in one parallel pass: {fb['builds']['seconds']:.1f} s; "
            f"`zig build`: {fb['zig build']['seconds']:.1f} s.",
        ]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
