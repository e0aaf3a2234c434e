"""Commands: structural changes systems ask for during a step, applied at its end.

Zig systems write `sdk.Command` records (and payload bytes) into a host buffer; Python
systems call `Commands.spawn/despawn/add/remove`. Both become the same batches and are
applied by `apply`, system by system in pipeline order, and within one system's buffer:

  1. adds and removes, in the order issued (consecutive ones of the same kind and
     component as one vectorized batch),
  2. despawns, in the order issued,
  3. spawns, grouped by component set in the order each set first appears.

So the same seed and input give the same world, ids included. A command that cannot
apply (a dead or repeated entity, a component the entity already has or lacks, an unknown
component, a full buffer, too many entities) is skipped and reported with the system's
name and the entity; the rest apply, and the world stays consistent.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from game.world.entities import Ids, describe
from game.world.schema import ComponentSpec
from game.world.world import World

FieldValues = Mapping[str, npt.ArrayLike]


class Op(enum.IntEnum):
    """`sdk.Op`: the kinds of command, with the ABI's numbers."""

    SPAWN = 1
    DESPAWN = 2
    ADD = 3
    REMOVE = 4


@dataclass
class Batch:
    """Commands in the form `apply` takes them."""

    changes: list[tuple[Op, str, Ids, dict[str, np.ndarray] | None]] = field(default_factory=list)
    despawns: list[Ids] = field(default_factory=list)
    spawns: list[tuple[tuple[str, ...], int, dict[str, dict[str, Any] | None]]] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.changes or self.despawns or self.spawns or self.problems)


class Commands:
    """A Python system's command buffer: the same semantics as a Zig system's."""

    def __init__(self) -> None:
        self.batch = Batch()

    def spawn(self, n: int, values: Mapping[str, FieldValues | None]) -> None:
        """`n` entities with the components named in `values` (field arrays, or None for a tag)."""
        if n > 0:
            self.batch.spawns.append((tuple(sorted(values)), n, {k: dict(v) if v else None for k, v in values.items()}))

    def despawn(self, ids: npt.ArrayLike) -> None:
        self.batch.despawns.append(np.asarray(ids, dtype=np.uint64).reshape(-1))

    def add(self, ids: npt.ArrayLike, component: str, values: FieldValues | None = None) -> None:
        array = np.asarray(ids, dtype=np.uint64).reshape(-1)
        self.batch.changes.append((Op.ADD, component, array, {k: np.asarray(v) for k, v in (values or {}).items()}))

    def remove(self, ids: npt.ArrayLike, component: str) -> None:
        self.batch.changes.append((Op.REMOVE, component, np.asarray(ids, dtype=np.uint64).reshape(-1), None))

    def take(self) -> Batch:
        batch, self.batch = self.batch, Batch()
        return batch


def decode(records: np.ndarray, data: np.ndarray, schema: tuple[ComponentSpec, ...], dropped: int = 0) -> Batch:
    """A Zig system's buffer (`sdk.Command` records, payload bytes) as a Batch; `schema` is
    the library's own (its records index it). Works on whole columns: no per-record Python."""
    batch = Batch()
    if dropped:
        batch.problems.append(
            f"command buffer full: {dropped} commands dropped ({len(records)} kept); "
            "the buffer is doubled for the next step"
        )
    cols = {name: np.ascontiguousarray(records[name]) for name in ("op", "component", "entity", "mask", "data_offset")}
    ops = cols["op"]
    unknown = (ops < Op.SPAWN) | (ops > Op.REMOVE)
    if unknown.any():
        batch.problems.append(
            f"{int(unknown.sum())} records with an unknown op (first: {int(ops[unknown][0])}) skipped"
        )
    _decode_changes(cols, data, schema, batch)
    despawn = cols["entity"][ops == Op.DESPAWN]
    if len(despawn):
        batch.despawns.append(despawn)
    spawning = ops == Op.SPAWN
    _decode_spawns(cols["mask"][spawning], cols["data_offset"][spawning], data, schema, batch)
    return batch


def _decode_changes(
    cols: dict[str, np.ndarray], data: np.ndarray, schema: tuple[ComponentSpec, ...], batch: Batch
) -> None:
    ops = cols["op"]
    picked = (ops == Op.ADD) | (ops == Op.REMOVE)
    if not picked.any():
        return
    op_col, component, entity, offset = (cols[k][picked] for k in ("op", "component", "entity", "data_offset"))
    key = op_col.astype(np.uint64) << np.uint64(32) | component.astype(np.uint64)
    starts = np.flatnonzero(np.concatenate([[True], key[1:] != key[:-1]]))
    ends = np.append(starts[1:], len(key))
    for start, end in zip(starts.tolist(), ends.tolist(), strict=True):
        op, index = Op(int(op_col[start])), int(component[start])
        if index >= len(schema):
            batch.problems.append(f"{op.name.lower()}: component #{index} is not in this build's schema")
            continue
        spec = schema[index]
        try:
            values = _payloads(data, offset[start:end], spec) if op == Op.ADD and spec.fields else None
        except ValueError as exc:
            batch.problems.append(f"{op.name.lower()}: {exc}")
            continue
        batch.changes.append((op, spec.name, entity[start:end], values))


def _decode_spawns(
    masks: np.ndarray, offsets: np.ndarray, data: np.ndarray, schema: tuple[ComponentSpec, ...], batch: Batch
) -> None:
    seen = np.zeros(len(masks), dtype=bool)
    while not seen.all():  # component sets in the order each first appears: O(n) per set, no sort
        mask = int(masks[int(np.argmin(seen))])
        picked = masks == np.uint64(mask)
        seen |= picked
        indices = [i for i in range(64) if mask >> i & 1]
        count = int(picked.sum())
        if not indices or indices[-1] >= len(schema):
            batch.problems.append(f"spawn: component set {mask:#x} names a component not in this build's schema")
            continue
        at = offsets[picked]
        spawn_values: dict[str, dict[str, Any] | None] = {}
        try:
            for i in indices:
                spec = schema[i]
                if spec.fields:
                    spawn_values[spec.name] = _payloads(data, at, spec)
                    at = at + np.uint64((spec.size + 7) & ~7)
                else:
                    spawn_values[spec.name] = None
        except ValueError as exc:
            batch.problems.append(f"spawn: {exc}")
            continue
        batch.spawns.append((tuple(sorted(spawn_values)), count, spawn_values))


def _payloads(data: np.ndarray, offsets: np.ndarray, spec: ComponentSpec) -> dict[str, np.ndarray]:
    """Field arrays of the payloads of `spec` at `offsets` in `data`."""
    size = spec.size
    if not len(offsets):
        return {f.name: np.zeros(0, dtype=f.dtype.numpy) for f in spec.fields}
    if int(offsets.max()) + size > len(data):
        raise ValueError(f"{spec.name}: a payload lies outside the command data")
    dtype = spec.payload_dtype()
    start = int(offsets[0])
    step = int(offsets[1]) - start if len(offsets) > 1 else size
    if step >= size and np.all(np.diff(offsets.astype(np.int64)) == step):
        # Evenly spaced (a loop spawning the same sets): a strided view, no gather.
        rows = np.ndarray((len(offsets),), dtype=dtype, buffer=data, offset=start, strides=(step,))
    else:
        index = offsets.astype(np.int64)[:, None] + np.arange(size, dtype=np.int64)
        rows = np.ascontiguousarray(data[index]).view(dtype).reshape(-1)
    return {f.name: rows[f.name] for f in spec.fields}  # views: applied before the buffer is reused


def apply(world: World, source: str, batch: Batch) -> list[str]:
    """Applies `batch` (see the module's order); returns one message per kind of refused
    command, each naming `source` and the first entity concerned."""
    problems = [f"{source}: {p}" for p in batch.problems]
    for op, name, ids, values in batch.changes:
        problems += _change(world, source, op, name, ids, values)
    if batch.despawns:  # one batch, as a Zig buffer's: an id named twice is reported as such
        live = _valid(world, source, "despawn", np.concatenate(batch.despawns), problems)
        world.despawn_live(live)
    first: dict[tuple[str, ...], int] = {}
    for i, (names, _, _) in enumerate(batch.spawns):
        first.setdefault(names, i)
    for names, n, spawn_values in sorted(batch.spawns, key=lambda s: first[s[0]]):  # grouped by set, stable
        try:
            for name in names:
                spec = world.schema.get(name)
                if spec is None or spec.is_resource:
                    raise KeyError(f"{name} is not a component of the world")
            world.spawn(n, spawn_values)
        except (KeyError, ValueError) as exc:
            reason = exc.args[0] if exc.args else exc
            problems.append(f"{source}: spawn of {n} {{{', '.join(names)}}} refused: {reason}")
    return problems


def _valid(world: World, source: str, what: str, ids: Ids, problems: list[str], keep: np.ndarray | None = None) -> Ids:
    """The live, first-named ids of `ids`; the rest are reported."""
    alive = world.entities.alive(ids)
    if not alive.all():
        dead = ids[~alive]
        ids = ids.copy()
        ids[~alive] = 0
        problems.append(
            f"{source}: {what} {describe(int(dead[0]))}: not a live entity"
            + (f" ({len(dead)} such commands skipped)" if len(dead) > 1 else "")
        )
    unique = world.entities.first_occurrence(np.where(alive, ids, np.uint64(0)))
    repeated = alive & ~unique
    if repeated.any():
        problems.append(f"{source}: {what} {describe(int(ids[repeated][0]))}: named twice in one step; once applied")
    ok = alive & unique
    if keep is not None:
        keep[:] = ok
    return ids[ok]


def _change(world: World, source: str, op: Op, name: str, ids: Ids, values: dict[str, np.ndarray] | None) -> list[str]:
    problems: list[str] = []
    verb = f"add {name} to" if op == Op.ADD else f"remove {name} from"
    spec = world.schema.get(name)
    if spec is None or spec.is_resource:
        who = describe(int(ids[0])) if len(ids) else "entities"
        more = f" ({len(ids)} such commands skipped)" if len(ids) > 1 else ""
        return [f"{source}: {verb} {who}: {name} is not a component of the world{more}"]
    keep = np.zeros(len(ids), dtype=bool)
    live = _valid(world, source, verb, ids, problems, keep)
    if values is not None:
        values = {k: v[keep] if np.ndim(v) and len(v) == len(keep) else v for k, v in values.items()}
    tids, _ = world.entities.locate(live)
    has = np.zeros(len(live), dtype=bool)
    for tid in np.unique(tids).tolist():
        if name in world.tables[tid].key:
            has[tids == tid] = True
    wrong = has if op == Op.ADD else ~has
    if wrong.any():
        state = "already has it" if op == Op.ADD else "does not have it"
        problems.append(
            f"{source}: {verb} {describe(int(live[wrong][0]))}: {state}"
            + (f" ({int(wrong.sum())} such commands skipped)" if wrong.sum() > 1 else "")
        )
        live = live[~wrong]
        if values is not None:
            values = {k: v[~wrong] if np.ndim(v) and len(v) == len(wrong) else v for k, v in values.items()}
    if len(live):
        if op == Op.ADD:
            world.move(live, add=spec, values=values)
        else:
            world.move(live, drop=name)
    return problems
