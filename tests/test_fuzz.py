"""Random and mutated files against the loader and the world-file reader: the host never crashes.

Libraries go where the game sends them, through the canary: a mutated ELF may crash the
canary's process (it is meant to), but the host only ever gets a one-line verdict. A world
file is refused in one line, the running world untouched, or it loads a sound world: the
file's own, consistent, saving and loading back exactly, and running a step of every
system (`assert_sound`).
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, event, given, note, settings
from hypothesis import strategies as st

from game.native.abi import Kind
from game.native.canary import CanaryWorker
from game.native.input import InputState
from game.native.library import NativeLibrary
from game.native.platform import built_libraries
from game.pipeline import Pipeline
from game.world import registry, snapshot, spawn, state
from game.world.schema import ComponentSpec, DType
from game.world.snapshot import WorldFileError
from game.world.state import WorldState
from game.world.table import column_name
from game.world.world import World
from tests.conftest import assert_consistent, assert_same, world_state

mutation = st.lists(
    st.tuples(st.integers(min_value=0), st.integers(min_value=0, max_value=255)), min_size=1, max_size=16
)


def mutate(data: bytes, edits: list[tuple[int, int]], cut: int | None) -> bytes:
    buf = bytearray(data)
    for offset, value in edits:
        buf[offset % len(buf)] = value
    return bytes(buf[:cut] if cut else buf)


@pytest.fixture(scope="module")
def schema(built_project: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, ComponentSpec]:
    """The schema of components.zig, as the built components library describes it."""
    lib = NativeLibrary.load(built_libraries(built_project / "zig-out")["components"], tmp_path_factory.mktemp("s"), 0)
    try:
        return lib.info.components
    finally:
        lib.close()


def small_world(schema: dict[str, ComponentSpec], seed: int, n: int) -> World:
    """A world of every kind of table the game makes: moving, frozen, mortal, with a Health."""
    registry.use_fresh_world()
    world = World(64, 64, seed=seed, schema=schema.values())
    world.spawn(n, spawn.scatter(world.rng, n, 64, 64))
    world.spawn(3, dict(spawn.scatter(world.rng, 3, 64, 64), Frozen=None))
    world.spawn(4, spawn.burst(world.rng, 4, 32, 32))
    world.spawn(2, {"Position": None, "Health": {"hp": [7, 9]}, "Target": None})
    world.despawn(world.tables[0].ids()[:3])
    world.spawn(1, spawn.scatter(world.rng, 1, 64, 64))  # a free list, and an index reused (generation 2)
    world.resource("Score")["value"] = 42
    world.step = 17
    return world


@pytest.fixture(scope="module")
def canary(schema: dict[str, ComponentSpec], tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    tmp = tmp_path_factory.mktemp("fuzz")
    worker = CanaryWorker(tmp / "copies", timeout=5.0)
    world = small_world(schema, seed=1, n=50)
    yield worker, worker.world_file(state.capture(world)), tmp
    worker.close()
    registry.use_fresh_world()


@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
@given(edits=mutation, cut=st.none() | st.integers(min_value=1, max_value=20000))
def test_mutated_libraries_get_a_verdict_never_a_crash(canary, libs: dict[str, Path], edits, cut) -> None:  # type: ignore[no-untyped-def]
    worker, world_file, tmp = canary
    path = tmp / "libmutant.so"
    path.write_bytes(mutate(libs["movement"].read_bytes(), edits, cut))
    verdict = worker.check(path, world_file, "mutant")
    assert verdict is None or (isinstance(verdict, str) and "\n" not in verdict)


@settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.binary(min_size=0, max_size=4096))
def test_random_bytes_as_a_library_are_refused(canary, data: bytes) -> None:  # type: ignore[no-untyped-def]
    worker, world_file, tmp = canary
    path = tmp / "librandom.so"
    path.write_bytes(data)
    verdict = worker.check(path, world_file, "random")
    assert verdict is not None and verdict.startswith("random")


def test_the_unmutated_library_passes(canary, libs: dict[str, Path]) -> None:  # type: ignore[no-untyped-def]
    """The fuzz targets are real: the library they mutate passes the canary as it is."""
    worker, world_file, _tmp = canary
    assert worker.check(libs["movement"], world_file, "movement") is None


# --- world files ------------------------------------------------------------------------------
#
# A world file that loads must give a world the game can keep running: `assert_sound` is
# what that means (and what each fuzz test checks whenever a file is accepted). Mutated
# bytes almost never get past the archive's CRCs, so a second test fuzzes what is inside:
# it edits the arrays and the metadata of a saved world and writes a well-formed file.


@pytest.fixture(scope="module")
def saved_world(schema: dict[str, ComponentSpec], tmp_path_factory: pytest.TempPathFactory) -> bytes:
    path = tmp_path_factory.mktemp("world") / "w.npz"
    snapshot.save(small_world(schema, seed=2, n=20), path)
    registry.use_fresh_world()
    return path.read_bytes()


@pytest.fixture(scope="module")
def systems(built_project: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[list[NativeLibrary]]:
    """Every system of the game, loaded once (each example binds them to its own world)."""
    copies = tmp_path_factory.mktemp("systems")
    found = built_libraries(built_project / "zig-out")
    loaded = [NativeLibrary.load(path, copies, 0) for name, path in sorted(found.items()) if name != "components"]
    kept = [lib for lib in loaded if lib.info.kind in (Kind.SIMULATION, Kind.RENDER)]
    for lib in loaded:
        if lib not in kept:
            lib.close()
    assert len(kept) >= 10, [lib.info.name for lib in kept]
    yield kept
    for lib in kept:
        lib.close()


def assert_is_the_files_world(world: World, schema: dict[str, ComponentSpec], file: WorldState) -> None:
    """`world` holds what `file` holds: every entity in its table and row with its values
    (fields migrated to the game's schema compared at the game's type), the entity index,
    the step, the RNG, and each resource whose layout did not change."""
    file_schema = state.schema_from_json(file.meta["schema"])
    assert world.step == file.meta["step"]
    assert world.rng.bit_generator.state == file.meta["rng"]
    exported = world.entities.export()
    np.testing.assert_array_equal(exported["generation"], file.arrays["entities.generation"])
    np.testing.assert_array_equal(exported["free"], file.arrays["entities.free"])
    by_key = {t.key: t for t in world.tables}
    total = 0
    for i, names in enumerate(file.meta["tables"]):
        ids = file.arrays[f"t{i}.entities"]
        if not len(ids):
            continue
        total += len(ids)
        table = by_key[frozenset(names)]
        np.testing.assert_array_equal(table.ids(), ids)
        for component in names:
            for f in file_schema[component].fields:
                name = column_name(component, f.name)
                mine = table.fields.get(name)
                if mine is not None and mine.width == f.width:
                    column = table.column(name)
                    np.testing.assert_array_equal(column, file.arrays[f"t{i}.{name}"].astype(column.dtype), name)
    assert world.count == total
    for name, value in world.resources.items():
        if file_schema.get(name) == schema[name]:
            np.testing.assert_array_equal(value.view(np.uint8), file.arrays[f"res.{name}"], name)


def assert_well_formed(world: World, schema: dict[str, ComponentSpec]) -> None:
    """The invariants every running world keeps: ids unique, live and where the index says
    (esper agreeing), one table per component set, every column `count` long of its
    field's type and width, the game's schema with defaults that fit their types, every
    resource one value of its layout, a step in range, and a state that saves."""
    assert_consistent(world)
    assert state.schema_to_json(world.schema) == state.schema_to_json(schema)
    assert all(state.default_problem(f) is None for spec in world.schema.values() for f in spec.fields)
    components = {n for n, s in schema.items() if not s.is_resource}
    assert len({t.key for t in world.tables}) == len(world.tables)
    for i, table in enumerate(world.tables):
        assert table.id == i and int(world.counts[i]) == table.count <= table.capacity
        assert table.key <= components and len(table.ids()) == table.count
        assert set(table.columns) == {column_name(c, f.name) for c in table.key for f in schema[c].fields}
        for name, f in table.fields.items():
            column = table.column(name)
            assert column.dtype == f.dtype.numpy, name
            assert column.shape == ((table.count,) if f.width == 1 else (table.count, f.width)), name
    assert sorted(world.resources) == sorted(n for n, s in schema.items() if s.is_resource)
    for name, value in world.resources.items():
        assert value.dtype == schema[name].payload_dtype() and value.shape == (1,), name
    assert isinstance(world.step, int) and 0 <= world.step <= state.MAX_STEP
    state.check(state.capture(world))


def run_a_step(world: World, systems: list[NativeLibrary]) -> None:
    """One step of every game system on `world`, then every render system draws it: none
    may fail or fault, and the world stays consistent."""
    pipeline = Pipeline(world, InputState())
    for lib in systems:
        pipeline.install(lib)  # never closed here: the module's fixture owns the libraries
    step = world.step
    pipeline.step(1 / 60)
    pixels = np.zeros((world.height, world.width), dtype=np.uint32)
    pipeline.draw((pixels.ctypes.data, world.width, world.height, world.width * 4))
    assert {n: s.error for n, s in pipeline.slots.items() if s.error} == {}
    assert list(pipeline.faults) == []
    assert world.step == step + 1
    assert_consistent(world)


def assert_sound(
    world: World, schema: dict[str, ComponentSpec], file: WorldState, systems: list[NativeLibrary], tmp: Path
) -> None:
    """A loaded world is the file's world, well formed; it saves and loads back bit for bit;
    it spawns ids no live entity has and despawns them; and the game's systems run a step."""
    assert_well_formed(world, schema)
    assert_is_the_files_world(world, schema, file)
    again = tmp / "again.npz"
    snapshot.save(world, again)
    before, rng = world_state(world), world.rng.bit_generator.state
    registry.use_fresh_world()  # esper follows the copy from here on
    copy = World(64, 64, seed=5, schema=schema.values())
    snapshot.load(again, copy)
    assert_same(before, world_state(copy))
    assert copy.rng.bit_generator.state == rng
    live = np.concatenate([t.ids() for t in copy.tables] or [np.zeros(0, np.uint64)])
    new = copy.spawn(5, spawn.scatter(copy.rng, 5, 64, 64))
    assert len(np.unique(new)) == 5 and not np.isin(new, live).any() and copy.alive(new).all()
    copy.despawn(np.concatenate([new[:2], live[:1]]))
    assert_well_formed(copy, schema)
    run_a_step(copy, systems)


def load_or_refuse(path: Path, schema: dict[str, ComponentSpec]) -> tuple[World, WorldState | None]:
    """`read_state` and `load` of `path` into a world of 5 entities: both accept the file or
    both refuse it with a one-line WorldFileError, and a refused file leaves the world as it
    was. Returns the world and the file's state (None: refused)."""
    try:
        file: WorldState | None = snapshot.read_state(path)
    except WorldFileError as exc:
        assert "\n" not in str(exc)
        file = None
    registry.use_fresh_world()
    world = World(64, 64, seed=3, schema=schema.values())
    world.spawn(5, spawn.scatter(world.rng, 5, 64, 64))
    before = world_state(world)
    try:
        snapshot.load(path, world)
    except WorldFileError as exc:
        assert "\n" not in str(exc)
        assert_same(before, world_state(world))  # refused: untouched
        assert_consistent(world)
        note(f"refused: {exc}")
        return world, None
    assert file is not None, "read_state refused a file that load accepted"
    return world, file


def test_the_unmutated_world_file_loads_exactly(
    schema: dict[str, ComponentSpec], saved_world: bytes, systems: list[NativeLibrary], tmp_path: Path
) -> None:
    """The fuzz target is real, and `assert_sound` holds of it."""
    path = tmp_path / "w.npz"
    path.write_bytes(saved_world)
    original = world_state(small_world(schema, seed=2, n=20))
    world, file = load_or_refuse(path, schema)
    assert file is not None
    assert_same(original, world_state(world))
    assert_sound(world, schema, file, systems, tmp_path)


@settings(max_examples=100, deadline=None, suppress_health_check=list(HealthCheck))
@given(edits=mutation, cut=st.none() | st.integers(min_value=0, max_value=6000))
def test_mutated_world_files_load_or_are_refused_cleanly(
    schema: dict[str, ComponentSpec],
    saved_world: bytes,
    systems: list[NativeLibrary],
    tmp_path: Path,
    edits: list[tuple[int, int]],
    cut: int | None,
) -> None:
    """Mutated bytes, through `snapshot.read_state` and `snapshot.load` (what --load-world
    and F10 use): refused in one line with the world untouched, or sound."""
    path = tmp_path / "w.npz"
    path.write_bytes(mutate(saved_world, edits, cut))
    world, file = load_or_refuse(path, schema)
    event("loaded" if file is not None else "refused")
    if file is not None:
        assert_sound(world, schema, file, systems, tmp_path)


# What the second fuzz test writes into a world file: odd numbers of every type, ids of
# other entities (and of other generations), and arrays and metadata of every wrong shape.
FLOATS = [math.nan, math.inf, -math.inf, 0.0, -0.0, 1e-45, 63.999, 64.0, 1e6, -1e30, 3.4e38]
INTEGERS = [0, 1, -1, 2, 7, 2**31 - 1, -(2**31), 2**32 - 1, 2**32, 2**63 - 1, 2**64 - 1]
ODD_META: list[Any] = [-1, 0, 1, 2**63 - 1, 2**63, 2**64, 1.5, math.nan, math.inf, "7", None, True, [], {}]
ODD_DEFAULTS: list[Any] = [1e300, -1e39, 2**70, 0.5, -1, 2**32, 255, "x", None, True]
IDS = re.compile(r"^(t\d+\.entities|entities\.generation|entities\.free|t\d+\.Target\.entity)$")
"""The arrays that hold entity ids, indices or generations."""


@dataclass
class Edit:
    """The world file being made: its arrays (replaced, never written into) and metadata."""

    data: st.DataObject
    arrays: dict[str, np.ndarray]
    meta: dict[str, Any]
    ids: list[int]

    def pick(self, choices: Sequence[Any]) -> Any:
        return self.data.draw(st.sampled_from(choices))

    def set_element(self, key: str, value: Any) -> None:
        """One element of `key`, anywhere in it, becomes `value` (an integer wraps to the
        array's type, as a wild write would leave it)."""
        array = self.arrays[key]
        if array.dtype.kind in "iu":
            bits = 8 * array.dtype.itemsize
            value = np.array(int(value) % 2**bits, dtype=f"u{array.dtype.itemsize}").view(array.dtype)
        flat = array.reshape(-1).copy()
        flat[self.data.draw(st.integers(0, array.size - 1))] = value
        self.arrays[key] = flat.reshape(array.shape)


def edit_ids(e: Edit) -> str:
    """An element of an id array becomes another entity's id, its neighbour, another
    generation of it or its bare index (in the index's arrays: an index or a generation)."""
    key = e.pick([k for k in sorted(e.arrays) if IDS.match(k) and e.arrays[k].size])
    if e.arrays[key].dtype.itemsize == 8:
        value = e.pick(
            e.ids + [i + 1 for i in e.ids] + [i ^ (3 << 32) for i in e.ids] + [i & 0xFFFFFFFF for i in e.ids]
        )
    else:
        value = e.pick([i & 0xFFFFFFFF for i in e.ids] + [(i >> 32) + d for i in e.ids for d in (-1, 0, 1)])
    e.set_element(key, value)
    return f"id in {key}"


def edit_values(e: Edit) -> str:
    """An element of any array (a column, a resource's bytes, ids) becomes an odd number of
    its type or another of its elements."""
    key = e.pick([k for k in sorted(e.arrays) if e.arrays[k].size])
    array = e.arrays[key]
    e.set_element(key, e.pick(list(array.reshape(-1)[:8]) + (FLOATS if array.dtype.kind == "f" else INTEGERS)))
    return f"value in {key}"


def edit_arrays(e: Edit) -> str:
    """An array made shorter, longer, reversed, two-dimensional, of another type, or gone."""
    key = e.pick(sorted(e.arrays))
    array = e.arrays[key]
    how = e.pick(["short", "long", "reversed", "2d", "dtype", "gone"])
    if how == "short":
        e.arrays[key] = array[:-1]
    elif how == "long":
        e.arrays[key] = np.concatenate([array, array[:1]])
    elif how == "reversed":
        e.arrays[key] = array[::-1].copy()
    elif how == "2d":
        e.arrays[key] = array.reshape(len(array), -1)[:, :1].repeat(2, axis=1)
    elif how == "dtype":
        e.arrays[key] = array.astype(e.pick(["f4", "f8", "i4", "u4", "i8", "u8", "u1"]))
    else:
        del e.arrays[key]
    return f"{how} {key}"


def edit_scalars(e: Edit) -> str:
    """The step, the seed, the size or a part of the RNG's state."""
    where = e.pick(["step", "seed", "size", "rng"])
    if where in ("step", "seed"):
        e.meta[where] = e.pick(ODD_META)
    elif where == "size":
        e.meta["size"] = e.pick([[64, 64], [63, 64], [16384, 64], [16385, 64], [64], [64.0, 64]])
    else:
        rng = e.meta["rng"]
        where = e.pick(["state", "inc", "has_uint32", "uinteger", "bit_generator"])
        (rng["state"] if where in ("state", "inc") else rng)[where] = e.pick([*ODD_META, 2**128, "MT19937"])
    return f"meta {where}"


def edit_tables(e: Edit) -> str:
    """A table's component list with a name less, one more or one twice; two tables
    swapped; an empty table, or a second table of the same set."""
    tables = e.meta["tables"]
    i = e.data.draw(st.integers(0, len(tables) - 1))
    how = e.pick(["drop name", "add name", "twice", "swap", "empty table", "same set"])
    if how == "drop name":
        tables[i] = tables[i][1:]
    elif how == "add name":
        tables[i] = [*tables[i], e.pick([c[0] for c in e.meta["schema"]])]
    elif how == "twice":
        tables[i] = [*tables[i], *tables[i][:1]]
    elif how == "swap":
        j = e.data.draw(st.integers(0, len(tables) - 1))
        tables[i], tables[j] = tables[j], tables[i]
    elif how == "empty table":
        tables.append([])
    else:
        tables.append(list(reversed(tables[i])))
    return f"tables: {how}"


def edit_defaults(e: Edit) -> str:
    """A field's default: NaN, an infinity, or a number out of range, a fraction, or no
    number at all (a third of the time each)."""
    entry = e.pick([c for c in e.meta["schema"] if c[3]])
    field = e.pick(entry[3])
    field[3] = e.pick(e.pick([[math.nan], [math.inf, -math.inf], ODD_DEFAULTS]))
    return f"default of {entry[0]}.{field[0]}"


def edit_schema(e: Edit) -> str:
    """A component's size, kind (resource or not) or presence; a field's type, width or offset."""
    entry = e.pick(e.meta["schema"])
    part = e.pick(["dtype", "width", "offset", "size", "kind", "gone"])
    if part == "size":
        entry[2] = e.pick([0, entry[2] - 1, entry[2] + 8, 2**40])
    elif part == "kind":
        entry[1] = not entry[1]
    elif part == "gone":
        e.meta["schema"].remove(entry)
    elif entry[3]:
        odd: dict[str, tuple[int, list[Any]]] = {
            "dtype": (1, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, -1, "f32"]),
            "width": (2, [0, 1, 2, 65, 1 << 24, 1.0]),
            "offset": (4, [-1, 0, 1, 4, 2**40]),
        }
        slot, values = odd[part]
        e.pick(entry[3])[slot] = e.pick(values)
    return f"schema {entry[0]}: {part}"


EDITS = [
    edit_ids,
    edit_ids,
    edit_values,
    edit_arrays,
    edit_scalars,
    edit_tables,
    edit_defaults,
    edit_defaults,
    edit_schema,
]
"""Ids and defaults twice: the edits a loader most easily lets through."""


def default_must_be_refused(meta: dict[str, Any]) -> bool:
    """True when the file's schema gives a field a default its type cannot hold: NaN for
    any type; infinite, fractional or out of range for an integer type; beyond a float
    type's range. Such a file must be refused (whatever else it holds)."""
    schema = meta.get("schema")
    for entry in schema if isinstance(schema, list) else []:
        for f in entry[3] if isinstance(entry, list) and len(entry) == 4 and isinstance(entry[3], list) else []:
            if not (isinstance(f, list) and len(f) == 5 and isinstance(f[1], int) and 1 <= f[1] <= 8):
                continue
            default = f[3]
            if not isinstance(default, (int, float)) or isinstance(default, bool):
                continue
            if isinstance(default, float) and math.isnan(default):
                return True
            numpy_type: Any = DType(f[1]).numpy  # numpy's stubs want a concrete type for finfo
            if numpy_type.kind == "f":
                if math.isfinite(default) and abs(default) > float(np.finfo(numpy_type).max):
                    return True
            elif (
                not math.isfinite(default)
                or default != int(default)
                or not (int(np.iinfo(numpy_type).min) <= int(default) <= int(np.iinfo(numpy_type).max))
            ):
                return True
    return False


@pytest.fixture(scope="module")
def saved_state(schema: dict[str, ComponentSpec]) -> WorldState:
    """The small world, its Targets naming live entities (ids for the fuzzer to bend)."""
    world = small_world(schema, seed=2, n=20)
    (chasers,) = world.query("Target")
    chasers.column("Target.entity")[:] = world.tables[0].ids()[: chasers.count]
    captured = state.capture(world)
    registry.use_fresh_world()
    return captured


@settings(max_examples=120, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_world_files_with_odd_contents_load_sound_or_are_refused(
    schema: dict[str, ComponentSpec],
    saved_state: WorldState,
    systems: list[NativeLibrary],
    tmp_path: Path,
    data: st.DataObject,
) -> None:
    """Well-formed files of a world whose arrays and metadata were edited: odd numbers,
    ids of other entities, short, long, reshaped, retyped or missing arrays, tables and
    schema entries of every wrong kind. Refused in one line with the world untouched, or
    sound; a default its type cannot hold is always refused."""
    meta = json.loads(json.dumps(saved_state.meta))  # a deep copy
    ids = [int(i) for k, a in saved_state.arrays.items() if k.endswith(".entities") for i in a]
    e = Edit(data, dict(saved_state.arrays), meta, ids)
    edits = [data.draw(st.sampled_from(EDITS), label="edit")(e) for _ in range(data.draw(st.integers(1, 2)))]
    note(f"edits: {edits}")
    path = tmp_path / "w.npz"
    snapshot.write_state(WorldState(meta, e.arrays), path, durable=False)
    world, file = load_or_refuse(path, schema)
    event("loaded" if file is not None else "refused")
    if file is not None and default_must_be_refused(meta):
        pytest.fail("a file giving a field a default its type cannot hold was accepted")
    if file is not None:
        assert_sound(world, schema, file, systems, tmp_path)
