"""World files: the whole world as an .npz (no pickle: a file never runs code).

Format `ecs-sandbox-world/2`: the `WorldState` arrays plus its metadata as JSON. Every
field is checked before the running world changes. A file saved under another schema is
migrated by name to the game's (a new field gets its default); one that would lose data
is refused. Format 1 files (the flat particle table before component sets) are converted.
Writes are atomic: a temporary file, flushed, then renamed over the target.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import numpy as np

from game.world import state
from game.world.schema import MigrationError, plan_migration
from game.world.state import StateError, WorldState
from game.world.world import World

FORMAT = "ecs-sandbox-world/2"
FORMAT_V1 = "ecs-sandbox-world/1"


class WorldFileError(ValueError):
    """The file is not a world this game can load; the message says why."""


def save(world: World, path: Path) -> None:
    """Writes the whole world to `path` atomically. Raises OSError when it cannot be written
    (the previous file, if any, is left whole)."""
    write_state(state.capture(world), path)


def write_state(ws: WorldState, path: Path, durable: bool = True) -> None:
    """Writes `ws` atomically; `durable` also waits for the disk (not for scratch files)."""
    meta = dict(ws.meta, format=FORMAT)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with tmp.open("wb") as f:
            arrays: dict[str, Any] = dict(ws.arrays)
            np.savez(f, **arrays, meta=np.array(json.dumps(meta)))
            f.flush()
            if durable:
                os.fsync(f.fileno())
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def read_state(path: Path) -> WorldState:
    """The state in a world file, checked. Raises WorldFileError naming what is wrong."""
    data = _read_npz(path)
    try:
        meta = json.loads(str(data.pop("meta")))
    except (KeyError, json.JSONDecodeError, TypeError, ValueError) as exc:
        raise WorldFileError(f"{path}: not a world file (missing or bad meta: {exc})") from None
    if not isinstance(meta, dict):
        raise WorldFileError(f"{path}: not a world file (meta is not an object)")
    fmt = meta.get("format")
    if fmt == FORMAT_V1:
        meta, data = _from_v1(path, meta, data)
    elif fmt != FORMAT:
        raise WorldFileError(f"{path}: format {fmt!r}; this game reads {FORMAT} (and converts {FORMAT_V1})")
    ws = WorldState(meta, data)
    try:
        state.check(ws)
    except StateError as exc:
        raise WorldFileError(f"{path}: {exc}") from None
    return ws


def load(path: Path, world: World) -> None:
    """Replaces `world` by the one in `path`, migrated to the world's schema.
    Raises WorldFileError, the world untouched, when the file cannot be used."""
    ws = read_state(path)
    file_schema = state.schema_from_json(ws.meta["schema"])
    held = [names for i, names in enumerate(ws.meta["tables"]) if len(ws.arrays[f"t{i}.entities"])]  # empty: no data
    used = {n for names in held for n in names} | {n for n, s in file_schema.items() if s.is_resource}
    try:
        plan_migration(file_schema, world.schema, used, source=str(path))
    except MigrationError as exc:
        raise WorldFileError(f"{exc} (the file's schema does not fit components.zig)") from None
    current = dict(world.schema)
    state.restore(ws, world, checked=True)
    world.migrate(current, source=str(path))


def _read_npz(path: Path) -> dict[str, np.ndarray]:
    try:
        loaded = np.load(path, allow_pickle=False)
        if not isinstance(loaded, np.lib.npyio.NpzFile):
            raise WorldFileError(f"{path}: not a world file (a bare array, not an .npz archive)")
        with loaded as npz:
            return {k: npz[k] for k in npz.files}
    except FileNotFoundError:
        raise WorldFileError(f"{path}: no such file") from None
    except WorldFileError:
        raise
    except Exception as exc:  # untrusted bytes: zipfile and numpy raise many kinds (fuzzing found
        # NotImplementedError and RuntimeError besides the obvious ones); all mean the same here
        raise WorldFileError(f"{path}: not a world file ({type(exc).__name__}: {exc})") from None


def _from_v1(
    path: Path, meta: dict[str, Any], data: dict[str, np.ndarray]
) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """Format 1: one flat table (pos_x, pos_y, vel_x, vel_y, color) with esper's ids.
    Becomes one table of Position, Velocity and Color, ids renumbered 1..n (generation 1)."""
    try:
        n = len(data["ids"])
        columns = {
            "Color.rgb": data["col_color"].astype(np.uint32),
            "Position.x": data["col_pos_x"].astype(np.float32),
            "Position.y": data["col_pos_y"].astype(np.float32),
            "Velocity.x": data["col_vel_x"].astype(np.float32),
            "Velocity.y": data["col_vel_y"].astype(np.float32),
        }
        if any(len(c) != n for c in columns.values()):
            raise ValueError("columns of different lengths")
        new_meta = {
            "format": FORMAT,
            "step": int(meta["step"]),
            "seed": int(meta["seed"]),
            "size": list(meta["size"]),
            "rng": meta["rng"],
            "schema": [
                ["Color", False, 4, [["rgb", 4, 1, float(0x3050FF), 0]]],
                ["Position", False, 8, [["x", 1, 1, 0.0, 0], ["y", 1, 1, 0.0, 4]]],
                ["Velocity", False, 8, [["x", 1, 1, 0.0, 0], ["y", 1, 1, 0.0, 4]]],
            ],
            "tables": [["Color", "Position", "Velocity"]],
        }
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise WorldFileError(f"{path}: a {FORMAT_V1} file, but not a whole one ({exc})") from None
    arrays = {f"t0.{k}": v for k, v in columns.items()}
    arrays["t0.entities"] = (np.arange(1, n + 1, dtype=np.uint64)) | (np.uint64(1) << np.uint64(32))
    generation = np.ones(n + 1, dtype=np.uint32)
    generation[0] = 0
    arrays["entities.generation"] = generation
    arrays["entities.free"] = np.zeros(0, dtype=np.uint32)
    return new_meta, arrays
