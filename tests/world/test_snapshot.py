from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from game.world import registry, snapshot, spawn
from game.world.snapshot import WorldFileError
from game.world.world import World


def make_world(n: int = 100) -> World:
    world = World(200, 100, seed=5)
    world.spawn(n, spawn.scatter(world.rng, n, 200, 100))
    world.despawn(world.store.ids[::7])
    world.step = 42
    return world


def test_round_trip_keeps_ids_columns_step_and_rng(tmp_path: Path) -> None:
    world = make_world()
    path = tmp_path / "w.npz"
    snapshot.save(world, path)
    expected = {n: world.store.column(n).copy() for n in world.store.specs}
    expected_ids = world.store.ids.copy()
    next_draw = world.rng.random()

    registry.use_fresh_world()
    other = World(200, 100, seed=99)
    snapshot.load(path, other)
    assert other.store.ids.tolist() == expected_ids.tolist()
    for name, column in expected.items():
        assert np.array_equal(other.store.column(name), column), name
    assert other.step == 42
    assert other.rng.random() == next_draw
    new = other.spawn(1)
    assert int(new[0]) > int(expected_ids.max())  # ids never repeat


@pytest.mark.parametrize(
    "content, message",
    [
        (b"", "not a world file"),
        (b"PK\x03\x04garbage", "not a world file"),
        (b"\x93NUMPY\x01\x00", "not a world file"),
    ],
)
def test_corrupt_files_are_refused_and_world_unchanged(tmp_path: Path, content: bytes, message: str) -> None:
    world = make_world()
    before = world.store.ids.copy()
    path = tmp_path / "bad.npz"
    path.write_bytes(content)
    with pytest.raises(WorldFileError, match=message):
        snapshot.load(path, world)
    assert world.store.ids.tolist() == before.tolist()


def test_foreign_npz_and_wrong_dtype_are_refused(tmp_path: Path) -> None:
    world = make_world()
    foreign = tmp_path / "foreign.npz"
    np.savez(foreign, a=np.zeros(3))
    with pytest.raises(WorldFileError, match="not a world file"):
        snapshot.load(foreign, world)
    good = tmp_path / "good.npz"
    snapshot.save(world, good)
    with np.load(good) as npz:
        data = dict(npz)
    data["col_pos_x"] = data["col_pos_x"].astype(np.float64)
    bad = tmp_path / "bad_dtype.npz"
    np.savez(bad, **data)
    with pytest.raises(WorldFileError, match="column pos_x is float64"):
        snapshot.load(bad, world)


def test_a_bare_npy_array_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "array.npz"
    with path.open("wb") as f:
        np.save(f, np.arange(3))
    with pytest.raises(WorldFileError, match="a bare array"):
        snapshot.load(path, make_world())


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(WorldFileError, match="no such file"):
        snapshot.load(tmp_path / "nope.npz", make_world())
