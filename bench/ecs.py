"""The ECS core's own costs: commands from a Zig system, esper kept in step, dispatch per table.

A bench-only system (`churn.zig`, written into a copy of the project together with a
`Churn` resource added to that copy's components.zig) spawns entities of 5 component
sets and despawns the first rows of every table, as many as the resource says. It runs
through the real path: its commands are written by Zig, decoded and applied by the host.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import esper
import numpy as np

from bench import frames
from bench.timing import per_call, percentile
from game.hotreload.zigbuild import ZigBuild
from game.native.input import InputState
from game.native.library import NativeLibrary
from game.native.platform import built_libraries
from game.native.system import NativeSystem
from game.world import commands, registry, spawn
from game.world.schema import ComponentSpec
from game.world.world import World

DT = 1.0 / 60.0

CHURN_RESOURCE = """
pub const Churn = struct {
    spawn_per_set: u32 = 0,
    despawn_per_table: u32 = 0,
    pub const resource = true;
};
"""

CHURN_SYSTEM = """//! Bench only: spawns `spawn_per_set` entities of each of 5 component sets and despawns the
//! first `despawn_per_table` rows of every table holding Position, every step.
const sdk = @import("sdk");
const c = @import("components");
pub const panic = sdk.panic;

const All = sdk.Query(.{ .pos = .{ c.Position, .read } }, .{});
const W = sdk.World(.{ .queries = .{ .all = All }, .resources = .{ .churn = .{ c.Churn, .read } } });
const api = sdk.system(W, .{ .name = "churn", .build_id = 1, .order = 60, .run = run });

export fn plugin_entry() *const sdk.Api {
    return &api;
}

fn run(w: *W) !void {
    const k = w.resource(.churn);
    var it = w.query(.all);
    while (it.next()) |t| {
        for (t.entities[0..@min(t.len, k.despawn_per_table)]) |e| w.despawn(e);
    }
    var i: u32 = 0;
    while (i < k.spawn_per_set) : (i += 1) {
        const f: f32 = @floatFromInt(i);
        const p = c.Position{ .x = f, .y = f };
        const v = c.Velocity{ .x = 1, .y = -1 };
        w.spawn(.{ p, v, c.Color{} });
        w.spawn(.{ p, v, c.Color{}, c.Health{} });
        w.spawn(.{ p, v, c.Color{}, c.Team{} });
        w.spawn(.{ p, v, c.Color{}, c.Lifetime{ .seconds = 1000 } });
        w.spawn(.{ p, c.Color{}, c.Player{} });
    }
}
"""

SETS: list[dict[str, dict[str, Any] | None]] = [
    {},
    {"Health": None},
    {"Team": None},
    {"Lifetime": {"seconds": 1000.0}},
]


def churn_project(root: Path) -> tuple[Path, Path]:
    """A built copy of the project with the churn system; (its library, the components library)."""
    project = frames.copy_project(root)
    components = project / "ecs_systems" / "components.zig"
    components.write_text(components.read_text() + CHURN_RESOURCE)
    (project / "ecs_systems" / "churn.zig").write_text(CHURN_SYSTEM)
    result = ZigBuild(project).run(timeout=900)
    if not result.ok:
        raise RuntimeError(f"churn build failed: {result.summary}")
    libs = built_libraries(project / "zig-out")
    return libs["churn"], libs["components"]


def live_world(schema: list[ComponentSpec], n: int) -> World:
    """A fresh world of `n` live entities over 5 component sets (the churn system's)."""
    registry.use_fresh_world()
    world = World(1280, 720, seed=1, schema=schema, max_entities=50_000_000)
    populate(world, n)
    return world


def populate(world: World, n: int) -> None:
    per = n // 5
    for extra in SETS:
        world.spawn(per, spawn.scatter(world.rng, per, 1280, 720) | extra)
    rng = world.rng
    world.spawn(
        per,
        {"Position": {"x": rng.uniform(0, 1280, per), "y": rng.uniform(0, 720, per)}, "Color": None, "Player": None},
    )


@contextmanager
def esper_timed() -> Iterator[list[float]]:
    """Times every esper sync call (registry.on_*) made inside the block."""
    spent: list[float] = []
    originals = {name: getattr(registry, name) for name in ("on_spawn", "on_despawn", "on_move")}

    def timed(fn: Callable[..., None]) -> Callable[..., None]:
        def wrapper(*args: Any) -> None:
            start = time.perf_counter()
            fn(*args)
            spent.append(time.perf_counter() - start)

        return wrapper

    for name, fn in originals.items():
        setattr(registry, name, timed(fn))
    try:
        yield spent
    finally:
        for name, fn in originals.items():
            setattr(registry, name, fn)


def commands_apply(
    churn_lib: Path, schema: list[ComponentSpec], copies: Path, live: int, per_set: int, reps: int
) -> dict[str, float]:
    """Applying `5 * per_set` spawns and as many despawns (per_set from each of 5 tables) at
    `live` entities: the host's whole apply (decode, tables, entity index, esper), and its
    esper part. Buffers grow on the first steps (overflow, then doubled); warm-up covers it."""
    world = live_world(schema, live)
    world.resource("Churn")["spawn_per_set"] = per_set
    world.resource("Churn")["despawn_per_table"] = per_set
    lib = NativeLibrary.load(churn_lib, copies, version=7)
    system = NativeSystem(lib, world, InputState())
    apply_s: list[float] = []
    esper_s: list[float] = []
    run_s: list[float] = []
    try:
        for rep in range(reps + 6):
            start = time.perf_counter()
            system.run(DT)
            ran = time.perf_counter() - start
            with esper_timed() as spent:
                start = time.perf_counter()
                batch = system.take_commands()
                assert batch is not None
                problems = commands.apply(world, "churn", batch)
                applied = time.perf_counter() - start
            world.step += 1
            if rep == 5:  # the warm-up grew the buffers (dropping commands): back to `live` entities
                populate(world, live - world.count)
            if rep >= 6:
                if problems:
                    raise RuntimeError(f"churn commands refused: {problems[:2]}")
                apply_s.append(applied)
                esper_s.append(sum(spent))
                run_s.append(ran)
    finally:
        lib.close()
    return {
        "live": world.count,
        "spawned": 5 * per_set,
        "despawned": 5 * per_set,
        "apply_ms": statistics.median(apply_s) * 1e3,
        "apply_max_ms": max(apply_s) * 1e3,
        "esper_ms": statistics.median(esper_s) * 1e3,
        "tables_ms": statistics.median(np.subtract(apply_s, esper_s)) * 1e3,
        "zig_run_ms": statistics.median(run_s) * 1e3,
    }


def esper_per_1k(schema: list[ComponentSpec]) -> dict[str, float]:
    """esper's cost per 1k entities spawned and despawned (3-component set) at 1M live: the
    queueing the frame path pays, and the bulk sync the next esper read pays (flush)."""
    world = live_world(schema, 1_000_000)
    registry.flush()
    values = spawn.scatter(world.rng, 1000, 1280, 720)
    queued: dict[str, list[float]] = {"spawn": [], "despawn": []}
    flushed: dict[str, list[float]] = {"spawn": [], "despawn": []}
    for _ in range(50):
        with esper_timed() as spent:
            ids = world.spawn(1000, values)
        queued["spawn"].append(sum(spent))
        flushed["spawn"].append(_timed_flush())
        with esper_timed() as spent:
            world.despawn(ids)
        queued["despawn"].append(sum(spent))
        flushed["despawn"].append(_timed_flush())
    return {
        "spawn_us": statistics.median(queued["spawn"]) * 1e6,
        "despawn_us": statistics.median(queued["despawn"]) * 1e6,
        "spawn_flush_us": statistics.median(flushed["spawn"]) * 1e6,
        "despawn_flush_us": statistics.median(flushed["despawn"]) * 1e6,
    }


def _timed_flush() -> float:
    start = time.perf_counter()
    registry.flush()
    return time.perf_counter() - start


class EsperReader(esper.Processor):
    """A Python system that reads esper every step (so every step pays esper's sync)."""

    def process(self, dt: float) -> None:
        esper.entity_exists(1)  # any esper call applies the queued changes first


def steady_churn(project: Path, per_set: int, steps: int, read_esper: bool = False) -> dict[str, float]:
    """The real game at 1M entities (all default systems + churn, no drawing): 5*per_set spawned and
    despawned every step. Step times and the esper part of each; with `read_esper`, a Python
    system reads esper every step, so each step also applies its changes to esper."""
    from game.app import Game
    from game.options import Options

    g = Game(Options(headless=True, fast=True, entities=0, size=(1280, 720), project=project))
    try:
        if not g.start():
            raise RuntimeError("no system could be built")
        if read_esper:
            esper.add_processor(EsperReader(), priority=-100)
        world = g.world
        world.max_entities = 50_000_000
        populate(world, 1_000_000)
        world.resource("Churn")["spawn_per_set"] = per_set
        world.resource("Churn")["despawn_per_table"] = per_set
        for _ in range(10):
            g.reloader.step(DT)
        populate(world, 1_000_000 - world.count)  # the warm-up grew the buffers, dropping commands
        times: list[float] = []
        esper_part: list[float] = []
        for _ in range(steps):
            with esper_timed() as spent:
                start = time.perf_counter()
                g.reloader.step(DT)
                times.append((time.perf_counter() - start) * 1e3)
            esper_part.append(sum(spent) * 1e3)
        live = world.count
    finally:
        g.close()
    return {
        "live": live,
        "read_esper": read_esper,
        "per_step": 5 * per_set,
        "step_p50_ms": statistics.median(times),
        "step_max_ms": max(times),
        "esper_p50_ms": statistics.median(esper_part),
        "esper_max_ms": max(esper_part),
        "step_p99_ms": percentile(times, 99),
    }


def dispatch_per_table(
    movement_lib: Path, schema: list[ComponentSpec], copies: Path, tables: int = 64
) -> dict[str, float]:
    """NativeSystem.run of movement over 1 table and over `tables` tables of 8 entities each:
    the fixed cost per call and what each extra matching table adds."""
    out = {}
    for count in (1, tables):
        registry.use_fresh_world()
        world = World(1280, 720, seed=1, schema=schema + _tag_schema(tables))
        for i in range(count):
            world.spawn(8, spawn.scatter(world.rng, 8, 1280, 720) | {f"BenchTag{i}": None})
        lib = NativeLibrary.load(movement_lib, copies, version=500 + count)
        system = NativeSystem(lib, world, InputState())

        def batch(system: NativeSystem = system, world: World = world) -> None:
            for _ in range(2000):
                world.step += 1
                system.run(DT)

        out[f"us_{count}"] = per_call(batch, budget=1.0) / 2000 * 1e6
        lib.close()
    out["per_extra_table_us"] = (out[f"us_{tables}"] - out["us_1"]) / (tables - 1)
    out["tables"] = tables
    return out


def _tag_schema(n: int) -> list[ComponentSpec]:
    return [ComponentSpec(f"BenchTag{i}") for i in range(n)]


def churn_schema(components_lib: Path, copies: Path) -> list[ComponentSpec]:
    lib = NativeLibrary.load(components_lib, copies, version=3)
    try:
        return list(lib.info.schema)
    finally:
        lib.close()
