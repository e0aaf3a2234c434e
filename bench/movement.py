"""The movement update four ways over the same entities: esper, numpy, the Zig system, the probe.

Each size runs twice for the tables: every entity in one component set (one table), and
the same number spread over 8 component sets (8 tables: Position, Velocity and Color plus
each subset of Health, Team and Player). numpy and the probe visit the same tables.
"""

from __future__ import annotations

import functools
import os
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import esper
import numpy as np

from bench.timing import interleaved, per_call
from game.native.abi import ffi
from game.native.input import InputState
from game.native.library import NativeLibrary
from game.native.system import NativeSystem
from game.world import registry, spawn
from game.world.schema import ComponentSpec
from game.world.table import Table
from game.world.world import World

DT = 1.0 / 60.0
BENCH = Path(__file__).resolve().parent


@dataclass
class Position:
    x: float
    y: float


@dataclass
class Velocity:
    x: float
    y: float


class EsperMovement(esper.Processor):
    """Idiomatic esper: components are Python objects, the processor loops over them."""

    def process(self, dt: float) -> None:
        for _, (pos, vel) in esper.get_components(Position, Velocity):
            pos.x += vel.x * dt
            pos.y += vel.y * dt


def esper_update(n: int, budget: float) -> float:
    registry.use_fresh_world()
    rng = np.random.default_rng(1)
    xs, vs = rng.uniform(0, 100, (n, 2)).tolist(), rng.uniform(-50, 50, (n, 2)).tolist()
    for (px, py), (vx, vy) in zip(xs, vs, strict=True):
        esper.create_entity(Position(px, py), Velocity(vx, vy))
    esper.add_processor(EsperMovement())
    seconds = per_call(lambda: esper.process(DT), budget=budget, min_reps=2)
    registry.use_fresh_world()
    return seconds


EXTRAS = ("Health", "Team", "Player")


def make_world(schema: list[ComponentSpec], n: int, sets: int) -> World:
    """`n` moving entities in `sets` component sets (1 or 8), as evenly as they divide."""
    registry.use_fresh_world()
    world = World(1280, 720, seed=1, schema=schema)
    for i in range(sets):
        k = n // sets + (1 if i < n % sets else 0)
        extra = {name: None for bit, name in enumerate(EXTRAS) if i >> bit & 1}
        world.spawn(k, spawn.scatter(world.rng, k, 1280, 720) | extra)
    return world


def _movers(world: World) -> list[Table]:
    return list(world.query("Position", "Velocity", without=["Frozen"]))


def numpy_update(world: World) -> Callable[[], None]:
    """In place, with a preallocated temporary: no allocation per update."""
    tables = [
        tuple(t.column(c) for c in ("Position.x", "Position.y", "Velocity.x", "Velocity.y")) for t in _movers(world)
    ]
    tmp = np.empty(max(len(t[0]) for t in tables), dtype=np.float32)
    dt = np.float32(DT)

    def update() -> None:
        for px, py, vx, vy in tables:
            t = tmp[: len(px)]
            np.multiply(vx, dt, out=t)
            np.add(px, t, out=px)
            np.multiply(vy, dt, out=t)
            np.add(py, t, out=py)

    return update


def build_probe(out_dir: Path) -> Path:
    """Compiles bench/probe.zig (ReleaseFast) into `out_dir`; returns the library path."""
    out_dir.mkdir(parents=True, exist_ok=True)
    lib = out_dir / ("probe.dll" if os.name == "nt" else "libprobe.so")
    cmd = [
        sys.executable,
        "-m",
        "ziglang",
        "build-lib",
        "-dynamic",
        "-Ofast",
        str(BENCH / "probe.zig"),
        "--name",
        "probe",
        f"-femit-bin={lib}",
    ]
    subprocess.run(cmd, check=True, cwd=out_dir, capture_output=True)
    return lib


def probe_update(world: World, probe: object) -> Callable[[], None]:
    """`a += b` over the very columns movement uses (Position.x += Velocity.x, and y), table
    by table: the same bytes read and written, with no arithmetic to speak of, through cffi."""
    calls = []
    for t in _movers(world):
        ptr = {
            c: ffi.cast("float *", t.column(c).ctypes.data)
            for c in ("Position.x", "Position.y", "Velocity.x", "Velocity.y")
        }
        calls.append((ptr["Position.x"], ptr["Velocity.x"], t.count))
        calls.append((ptr["Position.y"], ptr["Velocity.y"], t.count))
    fn = probe.probe_add  # type: ignore[attr-defined]

    def update() -> None:
        for a, b, n in calls:
            fn(a, b, n)

    return update


def measure(
    sizes: list[int],
    esper_limit: int,
    movement_lib: Path,
    probe_lib: Path,
    copies: Path,
    schema: list[ComponentSpec],
    sets: int = 1,
) -> list[dict[str, object]]:
    """Rows of seconds per update for each size; esper only up to `esper_limit` entities."""
    ffi.cdef("void probe_add(float *a, const float *b, size_t n);", override=True)
    probe = ffi.dlopen(str(probe_lib))
    rows = []
    for n in sizes:
        budget = 1.0 if n <= 1_000_000 else 3.0
        world = make_world(schema, n, sets)
        lib = NativeLibrary.load(movement_lib, copies, version=n * 10 + sets)
        system = NativeSystem(lib, world, InputState())
        row: dict[str, object] = {"entities": n, "sets": sets}
        timed = interleaved(
            {
                "zig_s": functools.partial(system.run, DT),
                "numpy_s": numpy_update(world),
                "probe_s": probe_update(world, probe),
            },
            budget=3 * budget,
        )
        row.update(timed)
        lib.close()
        del world, system
        row["esper_s"] = esper_update(n, budget) if n <= esper_limit and sets == 1 else None
        rows.append(row)
        print(
            f"  movement {n:>10,} in {sets} set(s): "
            + ", ".join(f"{k[:-2]} {v * 1e3:.3f} ms" for k, v in row.items() if k.endswith("_s") and v),
            flush=True,
        )
    ffi.dlclose(probe)
    return rows


def dispatch_cost(movement_lib: Path, copies: Path, schema: list[ComponentSpec], calls: int = 20000) -> float:
    """Seconds per NativeSystem.run over an empty world: the fixed cost of one system a frame."""
    registry.use_fresh_world()
    world = World(1280, 720, seed=1, schema=schema)
    lib = NativeLibrary.load(movement_lib, copies, version=999)
    system = NativeSystem(lib, world, InputState())

    def batch() -> None:
        for _ in range(calls):
            world.step += 1
            system.run(DT)

    seconds = per_call(batch, budget=1.0) / calls
    lib.close()
    return seconds
