"""WorldState: the whole world as plain arrays and JSON metadata, and back.

One format for three uses: checkpoints in memory (probation, rewind), world files
(`game.world.snapshot`) and the canary's copy of the world. `check` validates a state
completely before `restore` changes anything, so a bad file never half-loads.
"""

from __future__ import annotations

import math
import reprlib
from dataclasses import dataclass
from typing import Any

import numpy as np

from game.world import registry
from game.world.entities import INDEX_MASK, MAX_INDEX, EntityIndex, describe
from game.world.schema import ComponentSpec, DType, FieldSpec
from game.world.table import Table, column_name
from game.world.world import World

# The bounds of a world (what `check` accepts, and the command line's flags).
MAX_STEP = 2**63 - 1  # fits numpy's int64 and the Frame's u64 step
MAX_SEED = 2**63 - 1  # --seed: numpy takes any non-negative int; this one fits an int64 anywhere
MIN_SIZE, MAX_SIZE = 64, 16384  # width and height, each
# A schema as a library describes it (game.native.library reads at most as many; a test pins them).
MAX_COMPONENTS = 64
MAX_FIELDS = 64
MAX_WIDTH = 64
MAX_PAYLOAD = MAX_FIELDS * MAX_WIDTH * 8  # bytes: every field as wide as can be, of 8-byte elements
MAX_RESOURCE_WIDTH = 1 << 24  # a resource is one value per world: it may hold a grid or a table
MAX_RESOURCE_PAYLOAD = 1 << 28  # bytes (256 MiB)


def limits(is_resource: bool) -> tuple[int, int]:
    """(widest array field, largest payload in bytes) of a component or of a resource."""
    return (MAX_RESOURCE_WIDTH, MAX_RESOURCE_PAYLOAD) if is_resource else (MAX_WIDTH, MAX_PAYLOAD)


MAX_NAME = 255  # characters of a component or field name

_REPR = reprlib.Repr()
_REPR.maxstring = _REPR.maxother = 50


class StateError(ValueError):
    """The state is not a consistent world; the message names the field."""


@dataclass
class WorldState:
    meta: dict[str, Any]
    arrays: dict[str, np.ndarray]
    spare: dict[str, np.ndarray] | None = None
    """Each array's whole buffer when it is a view of a larger one (a capture that reused
    memory): a later capture reuses it while it holds the new length."""

    @property
    def nbytes(self) -> int:
        return int(sum(a.nbytes for a in self.arrays.values()))

    @property
    def step(self) -> int:
        return int(self.meta["step"])


def schema_to_json(schema: dict[str, ComponentSpec]) -> list[Any]:
    return [
        [s.name, s.is_resource, s.size, [[f.name, int(f.dtype), f.width, f.default, f.offset] for f in s.fields]]
        for s in schema.values()
    ]


def schema_from_json(data: Any) -> dict[str, ComponentSpec]:
    """The schema a world file (or a state) describes. Raises StateError naming the entry
    for anything a components.zig could not have declared: a non-list, more than
    MAX_COMPONENTS components or MAX_FIELDS fields, a name that is not an identifier (or
    is used twice), an unknown dtype, a width outside 1..MAX_WIDTH, a field outside its
    payload or overlapping another, a payload over MAX_PAYLOAD bytes (for a resource:
    MAX_RESOURCE_WIDTH and MAX_RESOURCE_PAYLOAD), a default that is
    NaN or does not fit its type."""
    if not isinstance(data, list):
        raise StateError(f"schema: {_shown(data)} is not a list of components")
    if len(data) > MAX_COMPONENTS:
        raise StateError(f"schema: {len(data)} components, at most {MAX_COMPONENTS}")
    specs: dict[str, ComponentSpec] = {}
    for i, entry in enumerate(data):
        spec = _component_from_json(entry, i)
        if spec.name in specs:
            raise StateError(f"schema: component {spec.name} is declared twice")
        specs[spec.name] = spec
    return specs


def _component_from_json(entry: Any, i: int) -> ComponentSpec:
    if not isinstance(entry, list) or len(entry) != 4:
        raise StateError(f"schema: entry {i} ({_shown(entry)}) is not [name, is_resource, size, fields]")
    name, is_resource, size, fields = entry
    where = f"schema: entry {i}"
    _check_name(name, f"{where}: component name")
    where = f"schema: {name}"
    if not isinstance(is_resource, bool):
        raise StateError(f"{where}: is_resource {_shown(is_resource)} is not true or false")
    widest, largest = limits(is_resource)
    if not _is_int(size) or not 0 <= size <= largest:
        raise StateError(f"{where}: size {_shown(size)} is not 0..{largest} bytes")
    if not isinstance(fields, list) or len(fields) > MAX_FIELDS:
        raise StateError(f"{where}: fields are not a list of at most {MAX_FIELDS}")
    spec = ComponentSpec(
        name, tuple(_field_from_json(f, name, j, widest, largest) for j, f in enumerate(fields)), size, is_resource
    )
    problem = layout_problem(spec)
    if problem is not None:
        raise StateError(f"schema: {problem}")
    return spec


def layout_problem(spec: ComponentSpec) -> str | None:
    """What makes `spec` a layout no `extern struct` has, or None: a payload over
    MAX_PAYLOAD bytes, a field declared twice, outside the payload or overlapping another,
    a default its type cannot hold. One rule for world files and for libraries
    (game.native.handshake), so a world that runs also saves and loads."""
    largest = limits(spec.is_resource)[1]
    if not 0 <= spec.size <= largest:
        return f"{spec.name}: size {spec.size} is not 0..{largest} bytes"
    seen: set[str] = set()
    end = 0
    for f in sorted(spec.fields, key=lambda f: f.offset):
        if f.name in seen:
            return f"{spec.name}.{f.name}: declared twice"
        seen.add(f.name)
        if f.offset < end:
            return f"{spec.name}.{f.name}: offset {f.offset} overlaps the field before it"
        end = f.offset + f.dtype.numpy.itemsize * f.width
        if end > spec.size:
            return f"{spec.name}.{f.name}: lies outside its {spec.size}-byte payload"
        problem = default_problem(f)
        if problem is not None:
            return f"{spec.name}.{f.name}: {problem}"
    return None


def _field_from_json(entry: Any, component: str, j: int, widest: int, largest: int) -> FieldSpec:
    if not isinstance(entry, list) or len(entry) != 5:
        raise StateError(
            f"schema: {component} field {j} ({_shown(entry)}) is not [name, dtype, width, default, offset]"
        )
    name, dtype, width, default, offset = entry
    _check_name(name, f"schema: {component} field {j}: name")
    where = f"schema: {component}.{name}"
    if not _is_int(dtype) or dtype not in DType._value2member_map_:
        raise StateError(f"{where}: dtype {_shown(dtype)} is not one of {sorted(DType._value2member_map_)}")
    if not _is_int(width) or not 1 <= width <= widest:
        raise StateError(f"{where}: width {_shown(width)} is not 1..{widest}")
    if not _is_int(offset) or not 0 <= offset <= largest:
        raise StateError(f"{where}: offset {_shown(offset)} is not 0..{largest}")
    if not isinstance(default, (int, float)) or isinstance(default, bool):
        raise StateError(f"{where}: default {_shown(default)} is not a number")
    if isinstance(default, int) and abs(default) > 2**64:  # float() of it could overflow
        raise StateError(f"{where}: default {_shown(default)} is not a {DType(dtype).label} value")
    return FieldSpec(name, DType(dtype), width, float(default), offset)


def default_problem(f: FieldSpec) -> str | None:
    """Why `f.default` cannot fill a column of `f.dtype`, or None: NaN, or for an integer
    type a fraction, an infinity or a value out of range (the ABI carries defaults as f64).
    One rule for world files and for libraries (game.native.handshake)."""
    value = f.default
    if math.isnan(value):
        return "default is NaN"
    numpy_type: Any = f.dtype.numpy  # numpy's stubs want a concrete type for finfo / iinfo
    if numpy_type.kind == "f":
        if math.isinf(value) or abs(value) <= float(np.finfo(numpy_type).max):
            return None
        return f"default {value!r} is out of range for {f.dtype.label}"
    limits = np.iinfo(numpy_type)
    if math.isinf(value) or value != int(value) or not int(limits.min) <= int(value) <= int(limits.max):
        return f"default {value!r} is not a {f.dtype.label} value"
    return None


def is_name(text: str) -> bool:
    """A component or field name: an ASCII identifier of at most MAX_NAME characters."""
    return len(text) <= MAX_NAME and text.isascii() and text.isidentifier()


def _check_name(name: Any, where: str) -> None:
    if not isinstance(name, str):
        raise StateError(f"{where} {_shown(name)} is not a string")
    if not is_name(name):
        raise StateError(f"{where} {_shown(name)} is not an identifier of at most {MAX_NAME} characters")


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _shown(value: Any, limit: int = 60) -> str:
    """`value` as a message shows it: repr (so control characters are escaped), cut to `limit`."""
    try:
        text = _REPR.repr(value)
    except ValueError:  # an int too long to print
        text = f"<{type(value).__name__}>"
    return text if len(text) <= limit else text[: limit - 3] + "..."


def capture(world: World, reuse: WorldState | None = None) -> WorldState:
    """A copy of `world`. Given `reuse` (a state no longer needed) whose arrays have the same
    shapes, they are overwritten instead of allocated: at 1M entities fresh memory made a
    capture take 20-36 ms (page faults), reused memory about 2 ms."""
    views: dict[str, np.ndarray] = {}
    for table in world.tables:
        views[f"t{table.id}.entities"] = table.ids()
        for name in table.columns:
            views[f"t{table.id}.{name}"] = table.column(name)
    exported = world.entities.export()
    views["entities.generation"] = exported["generation"]
    views["entities.free"] = exported["free"]
    for name, value in world.resources.items():
        views[f"res.{name}"] = value.view(np.uint8)
    meta = {
        "step": world.step,
        "seed": world.seed,
        "size": [world.width, world.height],
        "rng": world.rng.bit_generator.state,
        "schema": schema_to_json(world.schema),
        "tables": [sorted(t.key) for t in world.tables],
        # Carried by world files, not by a rewind (see game/world/tunables.py).
        "tunables": world.tunables.saved(),
    }
    if reuse is None:
        return WorldState(meta, {key: np.array(view, copy=True) for key, view in views.items()})
    # Reuse `reuse`'s buffers where they hold the new length (tables grow and shrink with
    # spawns and despawns); a new buffer gets a quarter more room than it needs.
    old = reuse.spare if reuse.spare is not None else reuse.arrays
    arrays: dict[str, np.ndarray] = {}
    spare: dict[str, np.ndarray] = {}
    for key, view in views.items():
        buffer = old.get(key)
        fits = buffer is not None and buffer.dtype == view.dtype and buffer.shape[1:] == view.shape[1:]
        if buffer is None or not fits or len(buffer) < len(view):
            buffer = np.empty((len(view) + len(view) // 4, *view.shape[1:]), view.dtype)
        spare[key] = buffer
        arrays[key] = buffer[: len(view)]
        np.copyto(arrays[key], view)
    return WorldState(meta, arrays, spare)


def check(state: WorldState) -> dict[str, ComponentSpec]:
    """Validates every part of `state`; returns its schema. Raises StateError naming the field.

    Nothing is changed or allocated beyond one flag per entity index, so a state that
    fails here never half-loads: `restore` of a checked state cannot fail."""
    meta, arrays = state.meta, state.arrays
    _check_meta(meta)
    schema = schema_from_json(meta.get("schema"))
    generation = _vector(arrays, "entities.generation", np.uint32)
    free = _vector(arrays, "entities.free", np.uint32)
    n_index = len(generation)
    if not 1 <= n_index <= MAX_INDEX + 1:
        raise StateError(f"entities.generation: {n_index} indices, expected 1..{MAX_INDEX + 1}")
    if generation[0] != 0:
        raise StateError("entities.generation: index 0 (no entity) has a generation")
    if len(free) and (free.min() < 1 or free.max() >= n_index):
        raise StateError("entities.free: an index outside the index range")
    seen = np.zeros(n_index, dtype=bool)
    seen[free] = True
    if int(np.count_nonzero(seen)) != len(free):
        raise StateError("entities.free: an index appears twice")
    sets: set[frozenset[str]] = set()
    for i, names in enumerate(meta["tables"]):
        if not isinstance(names, list) or not all(isinstance(n, str) for n in names) or len(set(names)) != len(names):
            raise StateError(f"tables[{i}]: not a list of component names")
        if frozenset(names) in sets:
            raise StateError(f"tables[{i}]: a second table of {{{', '.join(sorted(names))}}}")
        sets.add(frozenset(names))
        for name in names:
            if name not in schema or schema[name].is_resource:
                raise StateError(f"tables[{i}]: {_shown(name)} is not a component of the file's schema")
        ids = _vector(arrays, f"t{i}.entities", np.uint64)
        index = (ids & INDEX_MASK).astype(np.int64)
        if len(ids) and (index.min() < 1 or index.max() >= n_index):
            raise StateError(f"t{i}.entities: an id outside the index range")
        if len(ids) and np.any(generation[index] != (ids >> np.uint64(32)).astype(np.uint32)):
            raise StateError(f"t{i}.entities: an id whose generation does not match the index")
        marked = int(np.count_nonzero(seen))
        if seen[index].any():
            raise StateError(f"t{i}.entities: {describe(int(ids[seen[index]][0]))} appears twice (or is also free)")
        seen[index] = True
        if int(np.count_nonzero(seen)) - marked != len(index):  # a count, not a sort: O(n)
            raise StateError(f"t{i}.entities: an id appears twice")
        for name in names:
            for f in schema[name].fields:
                col = _array(arrays, f"t{i}.{column_name(name, f.name)}", f.dtype.numpy)
                expected = (len(ids),) if f.width == 1 else (len(ids), f.width)
                if col.shape != expected:
                    raise StateError(f"t{i}.{name}.{f.name}: shape {list(col.shape)}, expected {list(expected)}")
    for name, spec in schema.items():
        if spec.is_resource:
            raw = _vector(arrays, f"res.{name}", np.uint8)
            if len(raw) != spec.payload_dtype().itemsize:
                raise StateError(f"res.{name}: {len(raw)} bytes, the schema says {spec.payload_dtype().itemsize}")
    return schema


def _check_meta(meta: Any) -> None:
    """step, seed, size, tables and rng: present, of the right type, within bounds."""
    if not isinstance(meta, dict):
        raise StateError("meta: not an object")
    for key, kind in (("step", int), ("seed", int), ("size", list), ("tables", list), ("rng", dict)):
        if not isinstance(meta.get(key), kind) or isinstance(meta.get(key), bool):
            raise StateError(f"{key}: missing or not a {kind.__name__}")
    if meta["step"] < 0:
        raise StateError("step: negative")
    if meta["step"] > MAX_STEP:
        raise StateError(f"step: {meta['step']} is past {MAX_STEP}")
    if not 0 <= meta["seed"] <= MAX_SEED:
        raise StateError(f"seed: {_shown(meta['seed'])} is not 0..{MAX_SEED}")
    size = meta["size"]
    if len(size) != 2 or not all(_is_int(v) and MIN_SIZE <= v <= MAX_SIZE for v in size):
        raise StateError(f"size: {_shown(size)} is not a world size ({MIN_SIZE}..{MAX_SIZE} each way)")
    _check_rng(meta["rng"])


def _check_rng(rng: dict[str, Any]) -> None:
    """A PCG64 state exactly as numpy writes it: its own checks let a float `inc` through
    (truncated) and raise OverflowError for a number too large."""
    inner = rng.get("state")
    numbers = (
        isinstance(inner, dict)
        and inner.keys() == {"state", "inc"}
        and all(_is_int(v) and 0 <= v < 2**128 for v in inner.values())
        and rng.get("has_uint32") in (0, 1)
        and _is_int(rng.get("uinteger"))
        and 0 <= rng["uinteger"] < 2**32
    )
    if rng.get("bit_generator") != "PCG64" or rng.keys() != {"bit_generator", "state", "has_uint32", "uinteger"}:
        raise StateError(f"rng: not a PCG64 state (bit_generator {_shown(rng.get('bit_generator'))})")
    if not numbers:
        raise StateError("rng: not a PCG64 state (state, inc, has_uint32 or uinteger out of range)")
    try:
        np.random.default_rng().bit_generator.state = rng
    except (TypeError, ValueError, KeyError, OverflowError) as exc:
        raise StateError(f"rng: not a PCG64 state ({exc})") from None


def _array(arrays: dict[str, np.ndarray], key: str, dtype: Any) -> np.ndarray:
    array = arrays.get(key)
    if array is None:
        raise StateError(f"{key}: missing")
    if array.dtype != np.dtype(dtype):
        raise StateError(f"{key}: holds {values_of(array.dtype)}, expected {values_of(np.dtype(dtype))}")
    return array


def values_of(dtype: np.dtype) -> str:
    """What an array of `dtype` holds, in words: '32-bit floats', 'unsigned 64-bit integers'."""
    bits = 8 * dtype.itemsize
    kinds = {"f": f"{bits}-bit floats", "i": f"{bits}-bit integers", "u": f"unsigned {bits}-bit integers"}
    kinds |= {"b": "true/false values", "U": "text", "S": "text", "c": "complex numbers", "O": "Python objects"}
    words = kinds.get(dtype.kind, "records of raw bytes")
    return words if dtype.isnative or dtype.itemsize == 1 else f"{words} in the other byte order"


def _vector(arrays: dict[str, np.ndarray], key: str, dtype: Any) -> np.ndarray:
    array = _array(arrays, key, dtype)
    if array.ndim != 1:
        raise StateError(f"{key}: shape {list(array.shape)}, expected one dimension")
    return array


def restore(state: WorldState, world: World, checked: bool = False) -> None:
    """Makes `world` (and esper) exactly the world in `state`, schema included.
    Raises StateError, changing nothing, when `state` is inconsistent (unless `checked`)."""
    schema = check(state) if not checked else schema_from_json(state.meta["schema"])
    meta, arrays = state.meta, state.arrays
    world.schema = schema
    world.step = int(meta["step"])
    world.rng.bit_generator.state = meta["rng"]
    world.entities = EntityIndex.restore(arrays["entities.generation"], arrays["entities.free"])
    world.tables = []
    world._by_key = {}
    world.counts = np.zeros(max(256, 2 * len(meta["tables"])), dtype=np.uint64)
    for i, names in enumerate(meta["tables"]):
        ids = arrays[f"t{i}.entities"]
        table = Table(i, tuple(schema[n] for n in names), capacity=max(len(ids), 64))
        table.append(ids, {name: arrays[f"t{i}.{name}"] for name in table.columns})
        world.tables.append(table)
        world._by_key[table.key] = table
        world.counts[i] = table.count
        world.entities.place(ids, i, np.arange(len(ids), dtype=np.int64))
    world.resources = {
        name: arrays[f"res.{name}"].copy().view(spec.payload_dtype())
        for name, spec in schema.items()
        if spec.is_resource
    }
    world.layout_version += 1
    registry.attach(world._esper_view)
    registry.rebuild()
