"""World files: the whole world as an .npz (no pickle: a file never runs code).

Format `ecs-sandbox-world/2`: the `WorldState` arrays plus its metadata as JSON. Every
field is checked before the running world changes (`state.check`; the archive's members
are sized before any is read, and a world's entities must fit the running world's bound),
a bad one is a one-line WorldFileError naming it. A file saved under another schema is
migrated by name to the game's (a new field gets its default); one that would lose data
is refused. Format 1 files (the flat particle table before component sets) are converted.
Writes are atomic: a temporary file, flushed, then renamed over the target; a write that
fails leaves the previous file whole and raises OSError naming the target.
"""

from __future__ import annotations

import json
import logging
import os
import zipfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from game.world import state
from game.world.schema import MigrationError, plan_migration
from game.world.state import StateError, WorldState
from game.world.world import World

log = logging.getLogger("sandbox")

FORMAT = "ecs-sandbox-world/2"
FORMAT_V1 = "ecs-sandbox-world/1"
REPLAY = "replay.inputs"
MAX_REPLAY = 100_000
MAX_INPUT_BYTES = 4096
MAX_META = 16 << 20  # bytes of JSON metadata: a full schema and thousands of tables take well under 1 MiB


class WorldFileError(ValueError):
    """The file is not a world this game can load; the message names the file, says what is
    wrong with it in words (no numpy or zipfile terms) and what to do."""


WRITTEN_BY = "a world file is what --save-world, F9 or the autosave writes"
DAMAGED = "it cannot be read as it is: load another save"
EDITED = "the file was damaged or edited after it was saved: load another save"
ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")  # a member first, or an empty archive
NPY_MAGIC = b"\x93NUMPY"
PICKLE_MAGIC = b"\x80"


def save(world: World, path: Path) -> None:
    """Writes the whole world to `path` atomically. Raises OSError when it cannot be written
    (the previous file, if any, is left whole)."""
    write_state(state.capture(world), path)


def write_state(ws: WorldState, path: Path, durable: bool = True, replay: Sequence[bytes] = ()) -> None:
    """Writes `ws` atomically; `durable` also waits for the disk (not for scratch files).
    `replay`: the recorded input of steps to play after loading it (an autosave: the newest
    checkpoint plus the steps since), each the same number of bytes."""
    meta = dict(ws.meta, format=FORMAT)
    arrays: dict[str, Any] = dict(ws.arrays)
    if replay:
        width = len(replay[0])
        if not 0 < width <= MAX_INPUT_BYTES or any(len(r) != width for r in replay):
            raise ValueError("replay inputs must all have the same size, at most MAX_INPUT_BYTES")
        arrays[REPLAY] = np.frombuffer(b"".join(replay), dtype=np.uint8).reshape(len(replay), width)
        meta["replay"] = len(replay)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with tmp.open("wb") as f:
            np.savez(f, **arrays, meta=np.array(json.dumps(meta)))
            f.flush()
            if durable:
                os.fsync(f.fileno())
        os.replace(tmp, path)
    except OSError as exc:
        # One line naming the file: the bare errors name the temporary file, or nothing
        # (a full disk); the errno keeps the subclass (PermissionError, IsADirectoryError).
        message = f"cannot save the world to {path}: {exc.strerror or exc or type(exc).__name__}"
        raise (OSError(exc.errno, message) if exc.errno is not None else OSError(message)) from exc
    finally:
        try:
            tmp.unlink(missing_ok=True)
        except OSError:
            pass  # its folder could not be made or read: there is no temporary file


def read_state(path: Path, replay: list[bytes] | None = None) -> WorldState:
    """The state in a world file, checked. Raises WorldFileError naming what is wrong.
    An autosave's recorded inputs (see `write_state`) are appended to `replay` when given."""
    data = _read_npz(path)
    if "meta" not in data:
        raise WorldFileError(
            f"{path}: not a world file: an .npz archive without 'meta', the description every world file has; "
            f"{WRITTEN_BY}"
        )
    try:
        meta = json.loads(str(data.pop("meta")))
    except (json.JSONDecodeError, TypeError, ValueError):
        raise WorldFileError(
            f"{path}: a damaged world file: its description ('meta') is not valid JSON; {DAMAGED}"
        ) from None
    if not isinstance(meta, dict):
        raise WorldFileError(f"{path}: not a world file (its meta is not an object); {WRITTEN_BY}")
    fmt = meta.get("format")
    if fmt == FORMAT_V1:
        meta, data = _from_v1(path, meta, data)
    elif fmt != FORMAT:
        raise WorldFileError(f"{path}: format {fmt!r}; this game reads {FORMAT} (and converts {FORMAT_V1})")
    inputs = _read_replay(meta, data, path)
    if replay is not None:
        replay.extend(inputs)
    ws = WorldState(meta, data)
    try:
        state.check(ws)
    except StateError as exc:
        raise WorldFileError(f"{path}: {exc} ({EDITED})") from None
    return ws


def _read_replay(meta: dict[str, Any], data: dict[str, np.ndarray], path: Path) -> list[bytes]:
    """The inputs an autosave asks to replay after loading it (taken out of `meta` and
    `data`); [] for an ordinary world file. Raises WorldFileError when they are malformed."""
    inputs = data.pop(REPLAY, None)
    count = meta.pop("replay", 0)
    if inputs is None and count == 0:
        return []
    if (
        inputs is None
        or not isinstance(count, int)
        or isinstance(count, bool)
        or inputs.dtype != np.uint8
        or inputs.ndim != 2
        or inputs.shape[0] != count
        or not 0 < inputs.shape[1] <= MAX_INPUT_BYTES
        or not 0 < count <= MAX_REPLAY
    ):
        raise WorldFileError(f"{path}: field 'replay': not a list of at most {MAX_REPLAY} recorded step inputs")
    return [row.tobytes() for row in inputs]


def load(path: Path, world: World) -> list[bytes]:
    """Replaces `world` by the one in `path`, migrated to the world's schema; returns the
    recorded input of steps to replay from there (an autosave's; [] for other files).
    Raises WorldFileError, the world untouched, when the file cannot be used."""
    replay: list[bytes] = []
    ws = read_state(path, replay)
    live = sum(len(ws.arrays[f"t{i}.entities"]) for i in range(len(ws.meta["tables"])))
    if live > world.max_entities:
        raise WorldFileError(f"{path}: entities: {live:,}, more than this world's bound of {world.max_entities:,}")
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
    for why in world.tunables.restore(ws.meta.get("tunables")):
        log.warning("%s: %s (ignored)", path, why)
    return replay


def _read_npz(path: Path) -> dict[str, np.ndarray]:
    """Every member of the archive at `path`. Raises WorldFileError saying, in words, what the
    file is instead: missing, empty, not an archive, a pickle, cut short, damaged."""
    _check_opening(path, _opening(path))
    try:
        npz = np.load(path, allow_pickle=False)  # an NpzFile: the file starts as a zip archive does
    except Exception:  # untrusted bytes: zipfile and numpy raise many kinds (fuzzing found
        # NotImplementedError and RuntimeError besides the obvious ones); all mean the same here
        raise WorldFileError(
            f"{path}: not a world file, or one cut short: the archive's table of contents (at its end) is "
            f"missing or damaged (was the save, or a copy of it, interrupted?); {DAMAGED}"
        ) from None
    with npz:
        _check_sizes(path, npz.zip.infolist() if npz.zip is not None else [])
        return {name: _member(path, npz, name) for name in npz.files}


def _opening(path: Path) -> bytes:
    """The first bytes of the file at `path`. Raises WorldFileError when it cannot be read."""
    try:
        with path.open("rb") as f:
            return f.read(8)
    except FileNotFoundError:
        raise WorldFileError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise WorldFileError(f"{path}: a folder, not a world file") from None
    except OSError as exc:
        raise WorldFileError(f"{path}: cannot be read ({exc.strerror or exc})") from None


def _check_opening(path: Path, opening: bytes) -> None:
    """Refuses what is not a zip archive (an .npz), saying what it is."""
    if opening.startswith(ZIP_MAGIC):
        return
    if opening.startswith(NPY_MAGIC):
        why = "a bare array (.npy), not an .npz archive"
    elif not opening:
        why = "it is empty (a save that never finished?)"
    elif opening.startswith(PICKLE_MAGIC):
        why = "a Python pickle, which the game never loads (loading one can run code)"
    else:
        why = "not an .npz archive at all"
    raise WorldFileError(f"{path}: not a world file: {why}; {WRITTEN_BY}")


def _member(path: Path, npz: Any, name: str) -> np.ndarray:
    """One array of the archive. Raises WorldFileError for Python objects (which would need
    pickle) and for a damaged member."""
    try:
        array = npz[name]
    except zipfile.BadZipFile:
        raise WorldFileError(
            f"{path}: a damaged world file: {name} does not match its checksum (changed after it was saved); {DAMAGED}"
        ) from None
    except Exception as exc:  # zlib, EOF, a header numpy cannot parse; or Python objects
        if isinstance(exc, ValueError) and "pickle" in str(exc):
            raise WorldFileError(
                f"{path}: not a world file: {name} holds Python objects (pickled data), which the game never "
                f"loads (loading them can run code); {WRITTEN_BY}"
            ) from None
        array = None
    if not isinstance(array, np.ndarray):  # damaged, or a member with no .npy header (read as bytes)
        raise WorldFileError(f"{path}: a damaged world file: {name} cannot be read; {DAMAGED}")
    return array


def _check_sizes(path: Path, members: list[zipfile.ZipInfo]) -> None:
    """Refuses a file whose members would not fit in memory once read (a compressed member
    can unpack to a thousand times its size) before any of them is read."""
    total = sum(m.file_size for m in members)
    limit = memory_bound()
    if total > limit:
        raise WorldFileError(
            f"{path}: not a world file this machine can hold ({total:,} bytes unpacked, more than "
            f"half its memory, {limit:,})"
        )
    meta = next((m.file_size for m in members if m.filename == "meta.npy"), 0)
    if meta > MAX_META:
        raise WorldFileError(f"{path}: meta: {meta:,} bytes, at most {MAX_META:,}")


def memory_bound() -> int:
    """Half of this machine's physical memory (8 GiB where it cannot be asked)."""
    try:
        return os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE") // 2
    except (AttributeError, ValueError, OSError):
        return 8 << 30


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
    except (KeyError, TypeError, ValueError, AttributeError, OverflowError) as exc:
        raise WorldFileError(f"{path}: a {FORMAT_V1} file, but not a whole one ({exc})") from None
    arrays = {f"t0.{k}": v for k, v in columns.items()}
    arrays["t0.entities"] = (np.arange(1, n + 1, dtype=np.uint64)) | (np.uint64(1) << np.uint64(32))
    generation = np.ones(n + 1, dtype=np.uint32)
    generation[0] = 0
    arrays["entities.generation"] = generation
    arrays["entities.free"] = np.zeros(0, dtype=np.uint32)
    return new_meta, arrays
