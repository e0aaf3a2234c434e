"""Saving and loading the whole world as an .npz file (no pickle: a file never runs code)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from game.world import registry
from game.world.world import World

FORMAT = "ecs-sandbox-world/1"


class WorldFileError(ValueError):
    """The file is not a world this game can load; the message says why."""


def save(world: World, path: Path) -> None:
    """Writes ids, every column, the step, the next id and the RNG state to `path`."""
    arrays: dict[str, Any] = {f"col_{name}": world.store.column(name) for name in world.store.specs}
    meta = {
        "format": FORMAT,
        "step": world.step,
        "next_id": registry.next_entity_id(),
        "size": [world.width, world.height],
        "seed": world.seed,
        "rng": world.rng.bit_generator.state,
        "columns": {n: [s.dtype.label, s.width] for n, s in world.store.specs.items()},
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as f:
        np.savez(f, **arrays, ids=world.store.ids, meta=np.array(json.dumps(meta)))


def load(path: Path, world: World) -> None:
    """Replaces `world`'s entities with the ones in `path`.

    Raises WorldFileError (the world untouched) when the file is missing, not an npz,
    of another format, or its columns do not match the schema.
    """
    meta, ids, columns = _read(path, world)
    world.store.clear()
    registry.reset(next_id=1)
    world.store.append(ids, columns)
    registry.create_entities_with_ids(ids)
    registry.reset_next_id(int(meta["next_id"]))
    world.step = int(meta["step"])
    world.rng.bit_generator.state = meta["rng"]


def _read(path: Path, world: World) -> tuple[dict[str, Any], np.ndarray, dict[str, np.ndarray]]:
    try:
        loaded = np.load(path, allow_pickle=False)
        if not isinstance(loaded, np.lib.npyio.NpzFile):
            raise WorldFileError(f"{path}: not a world file (a bare array, not an .npz archive)")
        with loaded as npz:
            data = {k: npz[k] for k in npz.files}
    except FileNotFoundError:
        raise WorldFileError(f"{path}: no such file") from None
    except WorldFileError:
        raise
    except Exception as exc:  # untrusted bytes: zipfile and numpy raise many kinds (fuzzing found
        # NotImplementedError and RuntimeError besides the obvious ones); all mean the same here
        raise WorldFileError(f"{path}: not a world file ({type(exc).__name__}: {exc})") from None
    try:
        meta = json.loads(str(data["meta"]))
        if not isinstance(meta, dict) or meta.get("format") != FORMAT:
            raise WorldFileError(f"{path}: not a {FORMAT} file")
        ids = np.asarray(data["ids"], dtype=np.int64)
    except (KeyError, json.JSONDecodeError, TypeError) as exc:
        raise WorldFileError(f"{path}: not a world file (missing or bad {exc})") from None
    columns: dict[str, np.ndarray] = {}
    for name, spec in world.store.specs.items():
        col = data.get(f"col_{name}")
        if col is None:
            continue  # a column added since the file was saved starts at its default
        expected = (len(ids),) if spec.width == 1 else (len(ids), spec.width)
        if col.dtype != spec.dtype.numpy or col.shape != expected:
            raise WorldFileError(
                f"{path}: column {name} is {col.dtype}{list(col.shape)}, the game expects "
                f"{spec.dtype.numpy}{list(expected)}"
            )
        columns[name] = col
    if len(ids) and (ids.min() < 1 or len(np.unique(ids)) != len(ids) or ids.max() >= int(meta["next_id"])):
        raise WorldFileError(f"{path}: entity ids are not unique positive ids below next_id")
    return meta, ids, columns
