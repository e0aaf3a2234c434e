"""Random and mutated files against the loader and the world-file reader: the host never crashes.

Libraries go where the game sends them, through the canary: a mutated ELF may crash the
canary's process (it is meant to), but the host only ever gets a one-line verdict.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from game.native.canary import CanaryWorker
from game.native.library import NativeLibrary
from game.native.platform import built_libraries
from game.world import registry, snapshot, spawn, state
from game.world.schema import ComponentSpec
from game.world.snapshot import WorldFileError
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


@pytest.fixture(scope="module")
def saved_world(schema: dict[str, ComponentSpec], tmp_path_factory: pytest.TempPathFactory) -> bytes:
    path = tmp_path_factory.mktemp("world") / "w.npz"
    snapshot.save(small_world(schema, seed=2, n=20), path)
    registry.use_fresh_world()
    return path.read_bytes()


def test_the_unmutated_world_file_loads_exactly(
    schema: dict[str, ComponentSpec], saved_world: bytes, tmp_path: Path
) -> None:
    path = tmp_path / "w.npz"
    path.write_bytes(saved_world)
    original = world_state(small_world(schema, seed=2, n=20))
    world = World(64, 64, seed=3, schema=schema.values())
    snapshot.load(path, world)
    assert_same(original, world_state(world))
    assert_consistent(world)


@settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))
@given(edits=mutation, cut=st.none() | st.integers(min_value=0, max_value=6000))
def test_mutated_world_files_load_or_are_refused_cleanly(
    schema: dict[str, ComponentSpec], saved_world: bytes, tmp_path: Path, edits, cut
) -> None:  # type: ignore[no-untyped-def]
    """Through `snapshot.read_state` and `snapshot.load` (what --load-world and F10 use):
    any failure is a one-line WorldFileError and leaves the world as it was; a file that
    loads gives a consistent world."""
    path = tmp_path / "w.npz"
    path.write_bytes(mutate(saved_world, edits, cut))
    try:
        snapshot.read_state(path)
    except WorldFileError as exc:
        assert "\n" not in str(exc)
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
