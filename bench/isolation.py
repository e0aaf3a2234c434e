"""What crash-proof system calls cost, two ways, side by side in one run.

`python -m bench.isolation [--quick] [--record]` measures, on the real movement system:

- **In process, guarded** (what the game does, game/native/guard.py): every call into a
  system goes through a C trampoline (sigsetjmp, signal handlers, a watchdog thread).
  Cost per call against the same call straight through cffi, and movement at 100k and 1M
  entities guarded, unguarded and against the same-bytes probe (the compiler's floor).
- **Out of process**: the system runs in a worker process over the world's columns in
  shared memory; the host sends "step" down a pipe and waits for "done". Cost per step
  (the round trip) at 1k, 100k and 1M entities. A worker cannot scribble over the host's
  memory, but to restore the last completed step after a fault without a replay it also
  needs a copy of the columns a step writes: that copy's cost per step is measured too.
- **Recovery**: a late fault in `run` at 100k and 1M entities, in the real game: the time
  from the fault to the game stepping again (autosave, restore, replay, set aside, retry),
  at the worst point (just before the next checkpoint: the longest replay).

Results: isolation.md and .json in bench/out/, or in bench/results/ (the README cites them)
with `--record`.
"""

from __future__ import annotations

import argparse
import datetime
import functools
import multiprocessing
import os
import statistics
import tempfile
import time
from multiprocessing.connection import Connection
from multiprocessing.shared_memory import SharedMemory
from pathlib import Path
from typing import Any

import numpy as np

from bench import ecs, frames, movement
from bench.output import add_record_flag, write
from bench.timing import interleaved, per_call
from game.native import guard
from game.native.abi import ffi
from game.native.input import InputState
from game.native.library import NativeLibrary
from game.native.platform import built_libraries
from game.native.system import NativeSystem
from game.world import registry
from game.world.schema import ComponentSpec
from game.world.world import World

DT = 1.0 / 60.0
SYSTEMS_PER_STEP = 6  # attractor, movement, bounds, colorize, lifetime, render (a frame)


def call_overhead(lib_path: Path, copies: Path, schema: list[ComponentSpec], calls: int = 20000) -> dict[str, float]:
    """µs per call of movement's `run` over an empty world: guarded vs straight through cffi."""
    registry.use_fresh_world()
    world = World(1280, 720, seed=1, schema=schema)
    lib = NativeLibrary.load(lib_path, copies, version=7001)
    system = NativeSystem(lib, world, InputState())
    system.run(DT)  # binds the views
    raw, frame = lib.api.run, system._frame
    hot = system._hot  # what NativeSystem.run calls: guard_run(fn, frame)
    assert hot is not None, "the guard is not available"
    enter, fn, arg = hot

    def unguarded() -> None:
        for _ in range(calls):
            raw(frame)

    def guarded() -> None:
        for _ in range(calls):
            enter(fn, arg)

    timed = interleaved({"unguarded": unguarded, "guarded": guarded}, budget=2.0)
    lib.close()
    out = {k + "_us": v / calls * 1e6 for k, v in timed.items()}
    out["overhead_us"] = out["guarded_us"] - out["unguarded_us"]
    out["per_step_us"] = out["overhead_us"] * SYSTEMS_PER_STEP
    return out


def movement_guarded(
    lib_path: Path, probe_lib: Path, copies: Path, schema: list[ComponentSpec], sizes: list[int]
) -> list[dict[str, float]]:
    """Movement per update, guarded and unguarded, against the probe, interleaved."""
    ffi.cdef("void probe_add(float *a, const float *b, size_t n);", override=True)
    probe = ffi.dlopen(str(probe_lib))
    rows = [_movement_row(lib_path, probe, copies, schema, n) for n in sizes]
    ffi.dlclose(probe)
    return rows


def _movement_row(lib_path: Path, probe: Any, copies: Path, schema: list[ComponentSpec], n: int) -> dict[str, float]:
    world = movement.make_world(schema, n, 1)
    lib = NativeLibrary.load(lib_path, copies, version=7100 + n % 97)
    system = NativeSystem(lib, world, InputState())
    system.run(DT)
    timed = interleaved(
        {
            "guarded_s": functools.partial(system.run, DT),
            "unguarded_s": functools.partial(lib.api.run, system._frame),
            "probe_s": movement.probe_update(world, probe),
        },
        budget=4.0,
    )
    print(
        f"  movement {n:,}: guarded {timed['guarded_s'] * 1e3:.3f} ms, unguarded "
        f"{timed['unguarded_s'] * 1e3:.3f} ms, probe {timed['probe_s'] * 1e3:.3f} ms",
        flush=True,
    )
    lib.close()
    return {"entities": n, **timed}


# --- out of process ---------------------------------------------------------------------------


def _shared_world(
    schema: list[ComponentSpec], n: int, names: dict[str, str] | None
) -> tuple[World, list[SharedMemory], dict[str, str]]:
    """The movement world with its table's columns in shared memory (created, or attached by
    name); returns the world, the segments and their names by column."""
    world = movement.make_world(schema, n, 1)
    table = next(t for t in world.tables if t.count)
    shms, made = [], {}
    for name, col in list(table.columns.items()):
        if names is None:
            shm = SharedMemory(create=True, size=max(col.nbytes, 1))
            array: np.ndarray = np.ndarray(col.shape, col.dtype, buffer=shm.buf)
            array[:] = col
        else:
            shm = SharedMemory(name=names[name])
            array = np.ndarray(col.shape, col.dtype, buffer=shm.buf)
        made[name] = shm.name
        table.columns[name] = array
        shms.append(shm)
    world.layout_version += 1
    return world, shms, made


def _worker(conn: Connection, lib_path: str, copies: str, schema_json: Any, n: int, names: dict[str, str]) -> None:
    from game.world.state import schema_from_json

    schema = list(schema_from_json(schema_json).values())
    world, shms, _ = _shared_world(schema, n, names)
    lib = NativeLibrary.load(Path(lib_path), Path(copies), version=os.getpid())
    system = NativeSystem(lib, world, InputState())
    conn.send_bytes(b"ready")
    while conn.recv_bytes() == b"s":
        system.run(DT)
        conn.send_bytes(b"d")
    lib.close()
    del system, world
    for shm in shms:
        shm.close()


def out_of_process(
    lib_path: Path, copies: Path, schema: list[ComponentSpec], sizes: list[int]
) -> list[dict[str, float]]:
    return [_remote_row(lib_path, copies, schema, n) for n in sizes]


def _remote_row(lib_path: Path, copies: Path, schema: list[ComponentSpec], n: int) -> dict[str, float]:
    from game.world.state import schema_to_json

    context = multiprocessing.get_context("spawn")
    world, shms, names = _shared_world(schema, n, None)
    host_end, worker_end = context.Pipe()
    spec = schema_to_json({s.name: s for s in schema})
    proc = context.Process(target=_worker, args=(worker_end, str(lib_path), str(copies), spec, n, names))
    proc.start()
    assert host_end.recv_bytes() == b"ready"
    lib = NativeLibrary.load(lib_path, copies, version=7200 + n % 97)
    local = NativeSystem(lib, world, InputState())
    table = next(t for t in world.tables if t.count)
    written = [table.columns["Position.x"], table.columns["Position.y"]]
    backup = [np.empty_like(c) for c in written]

    def remote() -> None:
        host_end.send_bytes(b"s")
        host_end.recv_bytes()

    def copy_written() -> None:
        for src, dst in zip(written, backup, strict=True):
            np.copyto(dst, src)

    timed = interleaved(
        {"in_process_s": functools.partial(local.run, DT), "out_of_process_s": remote, "double_buffer_s": copy_written},
        budget=4.0,
    )
    host_end.send_bytes(b"q")
    proc.join(10)
    lib.close()
    for shm in shms:
        shm.close()
        shm.unlink()
    timed["round_trip_s"] = timed["out_of_process_s"] - timed["in_process_s"]
    print(
        f"  out of process {n:,}: in process {timed['in_process_s'] * 1e3:.3f} ms, worker "
        f"{timed['out_of_process_s'] * 1e3:.3f} ms (round trip {timed['round_trip_s'] * 1e6:.0f} us), "
        f"copy of written columns {timed['double_buffer_s'] * 1e3:.3f} ms",
        flush=True,
    )
    return {"entities": n, **timed}


# --- recovery in the game ---------------------------------------------------------------------


def recovery(project: Path, n: int, faults: int) -> dict[str, float]:
    """Late segfaults in `run` with `n` entities: ms from the fault to the game stepping again."""
    from game.app import Game
    from game.options import Options
    from tests.faults.template import arm, disarm, render

    trigger = project.parent / f"trigger-{n}"
    (project / "ecs_systems" / "faulty.zig").write_text(render("faulty", trigger))
    seconds: list[float] = []
    replayed: list[int] = []
    for i in range(faults):
        disarm(trigger)
        game = Game(
            Options(
                headless=True, fast=True, entities=n, size=(1280, 720), project=project, autosave=project / "auto.npz"
            )
        )
        try:
            assert game.start()
            for _ in range(20):
                game.frame()
            interval = game.history.interval
            at = (game.world.step // interval + 2) * interval - 1  # the longest replay: interval - 1 steps
            arm(trigger, "run", "segv", at + i % 2)
            while not game.reloader.recovery.reports and game.world.step < at + 5:
                game.frame()
            report = game.reloader.recovery.reports[-1]
            seconds.append(report.seconds)
            replayed.append(report.replayed)
        finally:
            game.close()
            disarm(trigger)
    (project / "ecs_systems" / "faulty.zig").unlink()
    return {
        "entities": n,
        "faults": faults,
        "p50_ms": statistics.median(seconds) * 1000,
        "max_ms": max(seconds) * 1000,
        "replayed_max": max(replayed),
    }


def autosave_write(n: int) -> float:
    """ms to write the autosave (a checkpoint of `n` entities plus 60 steps of input)."""
    from game.world import snapshot
    from game.world.checkpoint import Checkpoint

    project = Path(tempfile.mkdtemp(prefix="ecs-autosave-"))
    path = project / "autosave.npz"
    registry.use_fresh_world()
    world = movement.make_world(SCHEMA[0], n, 1)
    checkpoint = Checkpoint.capture(world)
    ms = per_call(lambda: snapshot.write_state(checkpoint.state, path, replay=[b"\0" * 120] * 60), budget=2.0) * 1000
    path.unlink()
    project.rmdir()
    return ms


SCHEMA: list[list[ComponentSpec]] = []


def run(quick: bool) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="ecs-isolation-") as tmp:
        project = frames.copy_project(Path(tmp) / "project")
        print("building the systems and the probe ...", flush=True)
        frames.game(project, 0).close()
        libs = built_libraries(project / "zig-out")
        probe = movement.build_probe(Path(tmp) / "probe")
        copies = Path(tmp) / "copies"
        schema = ecs.churn_schema(libs["components"], copies)
        SCHEMA[:] = [schema]
        guard.install()
        calls = call_overhead(libs["movement"], copies, schema)
        print(
            f"  call: guarded {calls['guarded_us']:.3f} us, unguarded {calls['unguarded_us']:.3f} us, "
            f"+{calls['overhead_us']:.3f} us",
            flush=True,
        )
        moves = movement_guarded(libs["movement"], probe, copies, schema, [100_000, 1_000_000])
        remote = out_of_process(libs["movement"], copies, schema, [1_000, 100_000, 1_000_000])
        saves = {n: autosave_write(n) for n in (100_000, 1_000_000)}
        print("  autosave write: " + ", ".join(f"{n:,} {ms:.0f} ms" for n, ms in saves.items()), flush=True)
        recoveries = [recovery(project, n, 3 if quick else 6) for n in (100_000, 1_000_000)]
        for r in recoveries:
            print(f"  recovery {r['entities']:,}: p50 {r['p50_ms']:.0f} ms, max {r['max_ms']:.0f} ms", flush=True)
    return {
        "date": datetime.date.today().isoformat(),
        "mode": "quick" if quick else "full",
        "machine": _machine(),
        "calls": calls,
        "movement": moves,
        "out_of_process": remote,
        "autosave_ms": saves,
        "recovery": recoveries,
    }


def _machine() -> dict[str, object]:
    from bench.__main__ import machine

    return machine()


def markdown(r: dict[str, Any]) -> str:
    c = r["calls"]
    lines = [
        f"# Crash-proof system calls: what they cost ({r['mode']} run, {r['date']})",
        "",
        "Machine: " + ", ".join(f"{k} {v}" for k, v in r["machine"].items()),
        "",
        "## In process, guarded (what the game uses)",
        "",
        f"One call of a system's `run` (movement, empty world): guarded **{c['guarded_us']:.3f} µs**, straight "
        f"through cffi {c['unguarded_us']:.3f} µs: **{c['overhead_us']:+.3f} µs** a call, "
        f"{c['per_step_us']:+.2f} µs a frame of {SYSTEMS_PER_STEP} system calls (target: at most 100 µs).",
        "",
        "| entities | guarded ms | unguarded ms | same-bytes probe ms | guarded vs probe |",
        "|---:|---:|---:|---:|---:|",
    ]
    for m in r["movement"]:
        lines.append(
            f"| {m['entities']:,} | {m['guarded_s'] * 1e3:.3f} | {m['unguarded_s'] * 1e3:.3f} | "
            f"{m['probe_s'] * 1e3:.3f} | {m['probe_s'] / m['guarded_s']:.0%} |"
        )
    lines += [
        "",
        "## Out of process (a worker over shared-memory columns; measured, not used by the game)",
        "",
        "| entities | in process ms | in a worker ms | round trip µs | copy of the columns a step writes ms |",
        "|---:|---:|---:|---:|---:|",
    ]
    for o in r["out_of_process"]:
        lines.append(
            f"| {o['entities']:,} | {o['in_process_s'] * 1e3:.3f} | {o['out_of_process_s'] * 1e3:.3f} | "
            f"{o['round_trip_s'] * 1e6:.0f} | {o['double_buffer_s'] * 1e3:.3f} |"
        )
    lines += [
        "",
        "## Recovery from a late fault in `run` (the real game, worst case: the longest replay)",
        "",
        "| entities | faults | p50 ms | max ms | steps replayed (max) | autosave write ms |",
        "|---:|---:|---:|---:|---:|---:|",
    ]
    for rec in r["recovery"]:
        save = r["autosave_ms"].get(rec["entities"], r["autosave_ms"].get(str(rec["entities"]), float("nan")))
        lines.append(
            f"| {rec['entities']:,} | {rec['faults']} | {rec['p50_ms']:.0f} | {rec['max_ms']:.0f} | "
            f"{rec['replayed_max']} | {save:.0f} |"
        )
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(
        prog="python -m bench.isolation", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true")
    add_record_flag(parser)
    args = parser.parse_args()
    os.environ["SDL_VIDEODRIVER"] = "dummy"
    started = time.perf_counter()
    results = run(args.quick)
    write("isolation", results, markdown(results), args.record)
    print(f"({time.perf_counter() - started:.0f} s)")


if __name__ == "__main__":
    main()
