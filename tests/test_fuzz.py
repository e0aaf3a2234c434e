"""Random and mutated files against the loader and the world-file reader: the host never crashes.

Libraries go where the game sends them, through the canary: a mutated ELF may crash the
canary's process (it is meant to), but the host only ever gets a one-line verdict.
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from game.native.canary import CanaryWorker, WorldImage
from game.world import registry, snapshot, spawn
from game.world.snapshot import WorldFileError
from game.world.world import World

mutation = st.lists(
    st.tuples(st.integers(min_value=0), st.integers(min_value=0, max_value=255)), min_size=1, max_size=16
)


def mutate(data: bytes, edits: list[tuple[int, int]], cut: int | None) -> bytes:
    buf = bytearray(data)
    for offset, value in edits:
        buf[offset % len(buf)] = value
    return bytes(buf[:cut] if cut else buf)


@pytest.fixture(scope="module")
def canary(built_project: Path, tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    tmp = tmp_path_factory.mktemp("fuzz")
    worker = CanaryWorker(tmp / "copies", timeout=5.0)
    registry.use_fresh_world()
    world = World(64, 64, seed=1)
    world.spawn(50, spawn.scatter(world.rng, 50, 64, 64))
    yield worker, worker.world_file(WorldImage.capture(world)), tmp
    worker.close()


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


@pytest.fixture(scope="module")
def saved_world() -> bytes:
    registry.use_fresh_world()
    world = World(64, 64, seed=2)
    world.spawn(20, spawn.scatter(world.rng, 20, 64, 64))
    out = io.BytesIO()
    path = Path(__import__("tempfile").mkdtemp()) / "w.npz"
    snapshot.save(world, path)
    out.write(path.read_bytes())
    return out.getvalue()


@settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))
@given(edits=mutation, cut=st.none() | st.integers(min_value=0, max_value=5000))
def test_mutated_world_files_load_or_are_refused_cleanly(saved_world: bytes, tmp_path: Path, edits, cut) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "w.npz"
    path.write_bytes(mutate(saved_world, edits, cut))
    world = World(64, 64, seed=3)
    world.spawn(5)
    before = world.store.ids.copy()
    try:
        snapshot.load(path, world)
    except WorldFileError as exc:
        assert "\n" not in str(exc)
        np.testing.assert_array_equal(world.store.ids, before)  # refused: untouched
    else:
        assert world.count == len(world.store.ids)
