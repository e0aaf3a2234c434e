"""Fault soak: hundreds of reloads of a system that faults at random; nothing may be lost or leak.

`python -m bench.fault_soak [--cycles 200] [--seed 1] [--record]` runs the game headless on a temporary
copy of the project with one extra system, `faulty` (tests/faults/faulty.zig.in), which
reads Position and never writes the world. Each cycle edits its source (a new build with a
new trigger file), presses F5 through the real event loop and steps on; at random the new
build is armed to fault early (in the canary: plugin_entry, run, save_state, load_state or
shutdown) or late (in the game: `run` a few steps after the swap, or its save_state or
shutdown at the next reload), with any of the faults (segfault, bus error, panic, trap,
abort, stack overflow, hang, arithmetic fault).

At the end: the world must equal, bit for bit, the world of a run of the same number of
steps in which nothing faulted (the faulty system never writes it); the open fds, threads,
mapped library copies, copies on disk and resident memory must not grow; and once the game
is closed no child process (canary, compiler) may be left. Linux only (/proc).
Results: fault_soak.md and .json in bench/out/, or in bench/results/ (the README cites them)
with `--record`.
"""

from __future__ import annotations

import argparse
import datetime
import json
import logging
import os
import random
import tempfile
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np
import pygame

from bench.frames import copy_project
from bench.output import add_record_flag, write
from bench.soak import usage
from game.app import Game
from game.options import Options
from game.world import audit, state
from tests.faults.template import FAULTS, arm, render

NAME = "faulty"
BOUND = 0.1  # seconds a call may run: the soak's hangs end fast


def fault_fds() -> int:
    """Open fds the faulting code itself made (the `bus` fault's memfd, opened before it faults):
    a faulted build's own leaks are not the host's to reclaim."""
    count = 0
    for fd in os.listdir("/proc/self/fd"):
        try:
            count += "faulty-bus" in os.readlink(f"/proc/self/fd/{fd}")
        except OSError:
            pass
    return count


def children() -> list[int]:
    """Processes whose parent is this one (still running or not yet reaped)."""
    me, found = os.getpid(), []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    fields = f.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == me:
                found.append(int(entry))
    return found


def options(project: Path, out: Path) -> Options:
    return Options(
        headless=True,
        fast=True,
        entities=2000,
        size=(320, 240),
        project=project,
        step_timeout=BOUND,
        autosave=out / "autosave.npz",
    )


def world_arrays(game: Game) -> dict[str, np.ndarray]:
    captured = state.capture(game.world)
    return dict(captured.arrays, meta=np.array(json.dumps(captured.meta, sort_keys=True)))


def soak(project: Path, triggers: Path, cycles: int, seed: int = 1) -> dict[str, Any]:
    rng = random.Random(seed)
    source = project / "ecs_systems" / f"{NAME}.zig"
    source.write_text(render(NAME, triggers / "t0"))
    game = Game(options(project, triggers))
    samples: list[dict[str, Any]] = []
    plan: dict[str, int] = {}
    started = time.perf_counter()
    try:
        if not game.start():
            raise RuntimeError("no system could be built")
        for cycle in range(1, cycles + 1):
            trigger = triggers / f"t{cycle}"
            text = render(NAME, trigger).replace("build_id: u32 = 1", f"build_id: u32 = {cycle + 1}")
            source.write_text(text)
            when = rng.choice(["none", "early", "late", "late"])
            fault = rng.choice(FAULTS) if rng.random() > 0.05 else "hang"
            entry = rng.choice(["plugin_entry", "run", "save_state", "load_state", "shutdown"])
            if when == "late" and entry in ("plugin_entry", "load_state"):
                entry = "run"  # the canary runs those first: they cannot be late with it on
            if when == "early":
                arm(trigger, entry, fault)
            plan[f"{when} {entry}"] = plan.get(f"{when} {entry}", 0) + 1
            pygame.event.post(pygame.event.Event(pygame.KEYDOWN, key=pygame.K_F5, mod=0, unicode="", scancode=0))
            game.frame()
            while game.reloader.building:
                game.frame()
            frames = 12
            if when == "late":
                # run: inside probation (rolled back) or well after it (restored and replayed)
                delay = rng.choice([3, 45])
                arm(trigger, entry, fault, game.world.step + delay if entry == "run" else None)
                frames = delay + 12 if entry == "run" else frames
            for _ in range(frames):
                game.frame()
            if cycle in (1, 10) or cycle % max(cycles // 10, 1) == 0:
                samples.append(dict(asdict(usage(project)), fault_fds=fault_fds()))
        steps = game.world.step
        problems = audit.problems(game.world)
        final = world_arrays(game)
        recoveries = len(game.reloader.recovery.reports)
        faults = len(game.pipeline.faults)
        set_aside = len(game.pipeline.set_aside)
        slowest = max((r.seconds for r in game.reloader.recovery.reports), default=0.0)
    finally:
        game.close()
    orphans = children()
    seconds = time.perf_counter() - started
    return {
        "cycles": cycles,
        "seed": seed,
        "seconds": seconds,
        "steps": steps,
        "plan": plan,
        "faults_caught": faults,
        "recoveries": recoveries,
        "slowest_recovery_ms": slowest * 1000,
        "builds_set_aside": set_aside,
        "consistency_problems": problems,
        "orphans_after_close": orphans,
        "samples": samples,
        "final": final,
    }


def reference(project: Path, out: Path, steps: int) -> dict[str, np.ndarray]:
    """The world after `steps` steps of the same project with nothing armed."""
    game = Game(options(project, out))
    try:
        if not game.start():
            raise RuntimeError("no system could be built")
        while game.world.step < steps:
            game.frame()
        return world_arrays(game)
    finally:
        game.close()


def same(a: dict[str, np.ndarray], b: dict[str, np.ndarray]) -> bool:
    return a.keys() == b.keys() and all(np.array_equal(a[k], b[k]) for k in a)


def run(cycles: int, seed: int) -> dict[str, Any]:
    os.environ["SDL_VIDEODRIVER"] = "dummy"
    logging.getLogger("sandbox").setLevel(logging.CRITICAL)  # hundreds of expected FAULT lines
    with tempfile.TemporaryDirectory(prefix="ecs-fault-soak-") as tmp:
        root = Path(tmp)
        project = copy_project(root / "project")
        triggers = root / "triggers"
        triggers.mkdir()
        result = soak(project, triggers, cycles, seed)
        clean = copy_project(root / "clean", project, with_build=True)
        (clean / "ecs_systems" / f"{NAME}.zig").write_text(render(NAME, root / "never"))
        expected = reference(clean, root, result["steps"])
    result["world_equals_faultless_run"] = same(result.pop("final"), expected)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(
        prog="python -m bench.fault_soak", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--cycles", type=int, default=200)
    parser.add_argument("--seed", type=int, default=1)
    add_record_flag(parser)
    args = parser.parse_args()
    result = run(args.cycles, args.seed)
    from bench.__main__ import machine

    result["machine"], result["date"] = machine(), datetime.date.today().isoformat()
    samples = result["samples"]
    tenth, last = samples[1], samples[-1]
    lines = [
        f"# Fault soak ({result['cycles']} reloads with random faults, seed {result['seed']}, {result['date']})",
        "",
        "Machine: " + ", ".join(f"{k} {v}" for k, v in result["machine"].items()),
        "",
        f"{result['seconds']:.0f} s in all, {result['steps']} steps. Faults caught: {result['faults_caught']} "
        f"({result['recoveries']} needed the world restored, slowest {result['slowest_recovery_ms']:.0f} ms); "
        f"builds set aside: {result['builds_set_aside']}.",
        f"World after the soak equals a run of the same steps with no fault: {result['world_equals_faultless_run']}. "
        f"Consistency problems: {len(result['consistency_problems'])}. "
        f"Child processes left after closing: {len(result['orphans_after_close'])}.",
        "",
        "Cycles by plan: " + ", ".join(f"{k} {v}" for k, v in sorted(result["plan"].items())) + ".",
        "",
        "| sample | open fds | of which the faulting code's own | threads | mapped copies | copies on disk | RSS MiB |",
        "|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for i, s in enumerate(samples):
        lines.append(
            f"| {i + 1} | {s['fds']} | {s['fault_fds']} | {s['threads']} | {s['mapped_copies']} | "
            f"{s['copies_on_disk']} | {s['rss_mib']:.1f} |"
        )
    lines += [
        "",
        f"Growth from cycle 10 to the end: fds {last['fds'] - tenth['fds']:+d} (of which the faulting code's own "
        f"{last['fault_fds'] - tenth['fault_fds']:+d}), threads "
        f"{last['threads'] - tenth['threads']:+d}, mapped copies {last['mapped_copies'] - tenth['mapped_copies']:+d}, "
        f"copies on disk {last['copies_on_disk'] - tenth['copies_on_disk']:+d}, RSS "
        f"{last['rss_mib'] - tenth['rss_mib']:+.1f} MiB.",
    ]
    write("fault_soak", result, "\n".join(lines) + "\n", args.record)


if __name__ == "__main__":
    main()
