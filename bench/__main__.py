"""`python -m bench [--quick] [--record]`: every benchmark side by side, one table, written to
bench/out/ (bench/results/, the runs the README cites, with `--record`).

Quick mode (about a minute): movement at 10k-1M (esper up to 100k), 5 reloads, 60 frames.
Full mode (a few minutes): movement at 10k-10M (esper up to 1M), 20 reloads, 300 frames.
Both: movement over 8 component sets, commands (100k spawns + 100k despawns at 1M live),
esper's share, dispatch per extra table, a 1M world churning 10k entities a step.
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import tempfile
from importlib import metadata
from pathlib import Path

from bench import ecs, frames, movement
from bench.output import add_record_flag, write
from game.native.platform import built_libraries

TARGETS = {
    "movement_vs_probe_1M": 0.95,  # one component set: at least 95% of the probe's throughput
    "movement_vs_probe_1M_8sets": 0.90,
    "commands_100k_ms": 3.0,
    "churn_step_max_ms": 20.0,
    "dispatch_us": 1.0,
    "speedup_vs_esper_1M": 300.0,
    "speedup_vs_numpy_1M": 2.0,
    "frame_1M_ms": 16.7,
    "edit_to_running_p50_ms": 250.0,
    "frame_during_build_max_ms": 25.0,
}


def machine() -> dict[str, object]:
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next(line.split(":", 1)[1].strip() for line in f if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30 if hasattr(os, "sysconf") else 0
    versions = {p: metadata.version(p) for p in ("numpy", "esper", "pygame-ce", "cffi", "ziglang")}
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory_gib": round(memory, 1),
        "os": platform.platform(),
        "python": platform.python_version(),
        **versions,
    }


def run(quick: bool) -> dict[str, object]:
    sizes = [10_000, 100_000, 1_000_000] + ([] if quick else [10_000_000])
    with tempfile.TemporaryDirectory(prefix="ecs-bench-") as tmp:
        project = frames.copy_project(Path(tmp) / "project")
        print("building the systems and the probe ...", flush=True)
        frames.game(project, 0).close()
        libs = built_libraries(project / "zig-out")
        lib = libs["movement"]
        probe = movement.build_probe(Path(tmp) / "probe")
        copies = Path(tmp) / "copies"
        schema = ecs.churn_schema(libs["components"], copies)
        rows = movement.measure(sizes, 1_000_000 if not quick else 100_000, lib, probe, copies, schema)
        rows += movement.measure([100_000, 1_000_000], 0, lib, probe, copies, schema, sets=8)
        dispatch = movement.dispatch_cost(lib, copies, schema)
        print(f"  dispatch: {dispatch * 1e6:.2f} us per system call", flush=True)
        per_table = ecs.dispatch_per_table(lib, schema, copies)
        print(f"  dispatch per extra table: {per_table['per_extra_table_us']:.3f} us", flush=True)
        print("building the churn project ...", flush=True)
        churn_lib, churn_components = ecs.churn_project(Path(tmp) / "churn")
        churn_schema = ecs.churn_schema(churn_components, copies)
        applied = ecs.commands_apply(churn_lib, churn_schema, copies, 1_000_000, 20_000, 10 if quick else 30)
        print(
            f"  commands: 100k spawns + 100k despawns at 1M: {applied['apply_ms']:.2f} ms "
            f"(esper {applied['esper_ms']:.2f} ms)",
            flush=True,
        )
        esper_cost = ecs.esper_per_1k(churn_schema)
        print(
            f"  esper per 1k: spawn {esper_cost['spawn_us']:.0f} + {esper_cost['spawn_flush_us']:.0f} us, "
            f"despawn {esper_cost['despawn_us']:.0f} + {esper_cost['despawn_flush_us']:.0f} us"
        )
        steady = ecs.steady_churn(Path(tmp) / "churn", 2_000, 60 if quick else 300)
        print(f"  churn 10k/step at 1M: step max {steady['step_max_ms']:.1f} ms", flush=True)
        reading = ecs.steady_churn(Path(tmp) / "churn", 2_000, 60 if quick else 300, read_esper=True)
        print(f"  the same with a Python system reading esper: step max {reading['step_max_ms']:.1f} ms", flush=True)
        frame_rows = [frames.full_frame(project, n, 60 if quick else 300) for n in (100_000, 1_000_000)]
        for r in frame_rows:
            print(f"  full frame {r['entities']:,}: p50 {r['p50_ms']:.2f} ms, p95 {r['p95_ms']:.2f} ms", flush=True)
        reload = frames.edit_to_running(project, 5 if quick else 20)
        print(f"  edit-to-running: p50 {reload['total']['p50_ms']:.0f} ms", flush=True)  # type: ignore[index]
        during = frames.frames_during_build(project, 100_000, 3 if quick else 10)
        print(f"  frames during builds: max {during['busy_max_ms']:.1f} ms", flush=True)
    return {
        "date": datetime.date.today().isoformat(),
        "mode": "quick" if quick else "full",
        "machine": machine(),
        "movement": rows,
        "dispatch_us": dispatch * 1e6,
        "dispatch_tables": per_table,
        "commands": applied,
        "esper_per_1k": esper_cost,
        "churn": steady,
        "churn_reading_esper": reading,
        "full_frame": frame_rows,
        "edit_to_running": reload,
        "frames_during_build": during,
    }


def verdicts(r: dict[str, object]) -> list[tuple[str, str, str, bool]]:
    """(what, target, measured, met) for each target the issue sets."""
    m1 = next(row for row in r["movement"] if row["entities"] == 1_000_000 and row["sets"] == 1)  # type: ignore[attr-defined]
    m8 = next(row for row in r["movement"] if row["entities"] == 1_000_000 and row["sets"] == 8)  # type: ignore[attr-defined]
    f1 = next(row for row in r["full_frame"] if row["entities"] == 1_000_000)  # type: ignore[attr-defined]
    c, ch = r["commands"], r["churn"]
    out = [
        (
            "movement at 1M (1 component set) vs same-bytes probe",
            ">= 95%",
            f"{m1['probe_s'] / m1['zig_s']:.0%}",
            m1["probe_s"] / m1["zig_s"] >= 0.95,
        ),
        (
            "movement at 1M over 8 component sets vs same-bytes probe",
            ">= 90%",
            f"{m8['probe_s'] / m8['zig_s']:.0%}",
            m8["probe_s"] / m8["zig_s"] >= 0.90,
        ),
        (
            "100k spawns + 100k despawns (5 sets) applied at 1M live",
            "<= 3 ms",
            f"{c['apply_ms']:.2f} ms (tables {c['tables_ms']:.2f}, esper {c['esper_ms']:.2f})",  # type: ignore[index]
            c["apply_ms"] <= 3.0,  # type: ignore[index]
        ),
        (
            "worst step, 10k spawned + despawned a step at 1M live",
            "<= 20 ms",
            f"{ch['step_max_ms']:.1f} ms (esper {ch['esper_max_ms']:.1f})",  # type: ignore[index]
            ch["step_max_ms"] <= 20.0,  # type: ignore[index]
        ),
        (
            "the same, a Python system reading esper every step",
            "<= 20 ms",
            f"{r['churn_reading_esper']['step_max_ms']:.1f} ms",  # type: ignore[index]
            r["churn_reading_esper"]["step_max_ms"] <= 20.0,  # type: ignore[index]
        ),
        ("native dispatch per system per frame", "<= 1 us", f"{r['dispatch_us']:.2f} us", r["dispatch_us"] <= 1.0),  # type: ignore[operator]
        ("speed-up over numpy at 1M", ">= 2x", f"{m1['numpy_s'] / m1['zig_s']:.2f}x", m1["numpy_s"] / m1["zig_s"] >= 2),
    ]
    if m1["esper_s"]:
        out.append(
            (
                "speed-up over esper at 1M",
                ">= 300x",
                f"{m1['esper_s'] / m1['zig_s']:.0f}x",
                m1["esper_s"] / m1["zig_s"] >= 300,
            )
        )
    out += [
        ("1M entities simulated and drawn, frame p50", "<= 16.7 ms", f"{f1['p50_ms']:.1f} ms", f1["p50_ms"] <= 16.7),
        (
            "edit-to-running p50 (one-line edit, F5 to the first step)",
            "<= 250 ms",
            f"{r['edit_to_running']['total']['p50_ms']:.0f} ms",  # type: ignore[index]
            r["edit_to_running"]["total"]["p50_ms"] <= 250,
        ),  # type: ignore[index]
        (
            "worst frame while a build runs",
            "<= 25 ms",
            f"{r['frames_during_build']['busy_max_ms']:.1f} ms",  # type: ignore[index]
            r["frames_during_build"]["busy_max_ms"] <= 25,
        ),  # type: ignore[index]
    ]
    return out


def markdown(r: dict[str, object]) -> str:
    mach = r["machine"]
    lines = [
        f"# Benchmark results ({r['mode']} run, {r['date']})",
        "",
        "Machine: " + ", ".join(f"{k} {v}" for k, v in mach.items()),
        "",  # type: ignore[attr-defined]
        "## Movement update (ms per update; lower is better)",
        "",
        "| entities | esper (Python objects) | numpy in place | Zig system (frame path) | same-bytes probe "
        "| Zig vs probe | Zig vs numpy | Zig vs esper |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for row in r["movement"]:  # type: ignore[attr-defined]
        esper_ms = f"{row['esper_s'] * 1e3:.2f}" if row["esper_s"] else "not run"
        vs_esper = f"{row['esper_s'] / row['zig_s']:.0f}x" if row["esper_s"] else "-"
        lines.append(
            f"| {row['entities']:,}{' in 8 sets' if row['sets'] == 8 else ''} "
            f"| {esper_ms} | {row['numpy_s'] * 1e3:.3f} | {row['zig_s'] * 1e3:.3f} | "
            f"{row['probe_s'] * 1e3:.3f} | {row['probe_s'] / row['zig_s']:.0%} | "
            f"{row['numpy_s'] / row['zig_s']:.1f}x | {vs_esper} |"
        )
    lines += [
        "",
        f"Native dispatch (one system, empty world): **{r['dispatch_us']:.2f} µs** per call; each extra "
        f"matching table adds {r['dispatch_tables']['per_extra_table_us']:.3f} µs "  # type: ignore[index]
        f"(movement over {r['dispatch_tables']['tables']} tables of 8 entities: "  # type: ignore[index]
        f"{r['dispatch_tables']['us_64']:.2f} µs a call).",  # type: ignore[index]
        "",
        "## Commands and esper (a Zig system's commands through decode and apply)",
        "",
        "| what | p50 ms | max ms | of which esper (p50 ms) |",
        "|---|---:|---:|---:|",
        f"| 100k spawns + 100k despawns over 5 component sets, 1M live | {r['commands']['apply_ms']:.2f} | "  # type: ignore[index]
        f"{r['commands']['apply_max_ms']:.2f} | {r['commands']['esper_ms']:.2f} |",  # type: ignore[index]
        f"| a whole step (all systems + churn) spawning and despawning 10k, 1M live | "
        f"{r['churn']['step_p50_ms']:.2f} | {r['churn']['step_max_ms']:.2f} | {r['churn']['esper_p50_ms']:.2f} |",  # type: ignore[index]
        f"| the same, with a Python system reading esper every step (esper synced every step) | "
        f"{r['churn_reading_esper']['step_p50_ms']:.2f} | {r['churn_reading_esper']['step_max_ms']:.2f} | - |",  # type: ignore[index]
        "",
        f"esper kept in step, per 1k entities (3 components, 1M live): queued on the frame path, spawn "
        f"{r['esper_per_1k']['spawn_us']:.0f} µs and despawn {r['esper_per_1k']['despawn_us']:.0f} µs; "  # type: ignore[index]
        f"applied to esper's dicts and sets at the next esper read, spawn "
        f"{r['esper_per_1k']['spawn_flush_us']:.0f} µs and despawn "  # type: ignore[index]
        f"{r['esper_per_1k']['despawn_flush_us']:.0f} µs.",  # type: ignore[index]
        "",
        "## Full frame (all default systems, drawing, HUD; 1280x720; the frame's work without pacing)",
        "",
        "| entities | p50 ms | p95 ms | max ms | per system (ms, last frame) |",
        "|---:|---:|---:|---:|---|",
    ]
    for f in r["full_frame"]:  # type: ignore[attr-defined]
        per = ", ".join(
            f"{k[:-3]} {v:.2f}" for k, v in f.items() if k.endswith("_ms") and k not in ("p50_ms", "p95_ms", "max_ms")
        )
        lines.append(f"| {f['entities']:,} | {f['p50_ms']:.2f} | {f['p95_ms']:.2f} | {f['max_ms']:.2f} | {per} |")
    e = r["edit_to_running"]
    lines += [
        "",
        f"## Edit-to-running (one-line edit of movement.zig, F5 with 100k entities, {e['reloads']} reloads): "
        "F5 to the first step of the new code (tier 1), its parts, and F5 to tier 2 running",
        "",  # type: ignore[index]
        "| part | p50 ms | p95 ms |",
        "|---|---:|---:|",
    ]
    e.setdefault("canary", {"p50_ms": float("nan"), "p95_ms": float("nan")})  # type: ignore[union-attr]
    for part in ("total", "build", "canary", "load", "checks", "swap", "tier 2"):
        lines.append(f"| {part} | {e[part]['p50_ms']:.1f} | {e[part]['p95_ms']:.1f} |")  # type: ignore[index]
    d = r["frames_during_build"]
    lines += [
        "",
        f"## Frames while a build runs ({d['entities']:,} entities, paced at 60 FPS)",
        "",  # type: ignore[index]
        "| | max ms | p99 ms |",
        "|---|---:|---:|",
        f"| during builds ({d['frames_during_builds']} frames) | {d['busy_max_ms']:.1f} | {d['busy_p99_ms']:.1f} |",  # type: ignore[index]
        f"| no build (120 frames) | {d['idle_max_ms']:.1f} | {d['idle_p99_ms']:.1f} |",  # type: ignore[index]
        "",
        "## Targets",
        "",
        "| what | target | measured | met |",
        "|---|---|---|---|",
    ]
    for what, target, measured, met in verdicts(r):
        lines.append(f"| {what} | {target} | {measured} | {'yes' if met else '**no**'} |")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(
        prog="python -m bench", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="the under-a-minute subset")
    add_record_flag(parser)
    args = parser.parse_args()
    os.environ["SDL_VIDEODRIVER"] = "dummy"
    results = run(args.quick)
    write("quick" if args.quick else "full", results, markdown(results), args.record)


if __name__ == "__main__":
    main()
