"""Real systems over real numpy columns, checked against the same formula in numpy."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from game.native.errors import SystemRunError
from game.native.library import NativeLibrary
from game.native.system import InputState, NativeSystem
from game.world import spawn
from game.world.world import World

DT = np.float32(1 / 60)


@pytest.fixture
def world() -> World:
    w = World(320, 240, seed=11)
    w.spawn(1003, spawn.scatter(w.rng, 1003, 320, 240))  # not a multiple of the 8 SIMD lanes
    return w


@pytest.fixture
def load(libs: dict[str, Path], tmp_path: Path) -> Iterator[object]:
    loaded: list[NativeLibrary] = []

    def _load(name: str) -> NativeLibrary:
        lib = NativeLibrary.load(libs[name], tmp_path, version=len(loaded) + 1)
        loaded.append(lib)
        return lib

    yield _load
    for lib in loaded:
        lib.close()


def cols(world: World, *names: str) -> list[np.ndarray]:
    return [world.store.column(n).copy() for n in names]


def test_movement_integrates_every_entity(world: World, load) -> None:  # type: ignore[no-untyped-def]
    px, py, vx, vy = cols(world, "pos_x", "pos_y", "vel_x", "vel_y")
    system = NativeSystem(load("movement"), world, InputState())
    system.run(float(DT))
    np.testing.assert_array_equal(world.store.column("pos_x"), px + vx * DT)
    np.testing.assert_array_equal(world.store.column("pos_y"), py + vy * DT)
    np.testing.assert_array_equal(world.store.column("vel_x"), vx)


def test_columns_are_rebound_after_the_store_grows(world: World, load) -> None:  # type: ignore[no-untyped-def]
    system = NativeSystem(load("movement"), world, InputState())
    system.run(float(DT))
    world.spawn(5000, spawn.scatter(world.rng, 5000, 320, 240))  # reallocates every column
    px, vx = cols(world, "pos_x", "vel_x")
    system.run(float(DT))
    np.testing.assert_array_equal(world.store.column("pos_x"), px + vx * DT)


def test_bounds_reflects_entities_outside(world: World, load) -> None:  # type: ignore[no-untyped-def]
    world.store.column("pos_x")[:3] = [-5, 330, 100]
    world.store.column("vel_x")[:3] = [-1, 2, 3]
    NativeSystem(load("bounds"), world, InputState()).run(float(DT))
    assert world.store.column("pos_x")[:3].tolist() == [5, 310, 100]
    assert world.store.column("vel_x")[:3].tolist() == [1, -2, 3]
    assert world.store.column("pos_x").min() >= 0 and world.store.column("pos_x").max() <= 320


def test_attractor_pulls_towards_the_mouse_and_right_button_repels(world: World, load) -> None:  # type: ignore[no-untyped-def]
    inputs = InputState(mouse_x=160, mouse_y=120, buttons=0, in_window=True)
    system = NativeSystem(load("attractor"), world, inputs)
    px, vx = cols(world, "pos_x", "vel_x")
    system.run(float(DT))
    dv = world.store.column("vel_x") - vx
    assert np.all(np.sign(dv[np.abs(px - 160) > 1]) == np.sign(160 - px[np.abs(px - 160) > 1]))
    inputs.update(buttons=4)
    vx2 = world.store.column("vel_x").copy()
    system.run(float(DT))
    dv2 = world.store.column("vel_x") - vx2
    assert np.all(np.sign(dv2[np.abs(px - 160) > 1]) == -np.sign(160 - px[np.abs(px - 160) > 1]))


def test_colorize_writes_a_colour_per_entity_from_speed(world: World, load) -> None:  # type: ignore[no-untyped-def]
    world.store.column("vel_x")[:2] = [0, 5000]
    world.store.column("vel_y")[:2] = [0, 0]
    NativeSystem(load("colorize"), world, InputState()).run(float(DT))
    color = world.store.column("color")
    assert color[0] == 0x0000FF and (color[1] >> 16) == 0xFF
    assert len(np.unique(color)) > 10  # a ramp, not one colour


def test_render_plots_into_a_pixel_buffer(world: World, load) -> None:  # type: ignore[no-untyped-def]
    pixels = np.zeros((240, 320), dtype=np.uint32)
    world.store.column("pos_x")[:] = 10.5
    world.store.column("pos_y")[:] = 20.5
    world.store.column("color")[:] = 0x123456
    NativeSystem(load("render"), world, InputState()).run(0.0, (pixels.ctypes.data, 320, 240, 320 * 4))
    assert pixels[20, 10] == 0x123456 and pixels[21, 11] == 0x123456
    assert np.count_nonzero(pixels) == 4


def test_bad_target_is_a_clear_error_not_a_crash(world: World, load) -> None:  # type: ignore[no-untyped-def]
    system = NativeSystem(load("render"), world, InputState())
    with pytest.raises(SystemRunError, match="render: run returned 3 \\(bad_target\\): no pixel buffer"):
        system.run(0.0, (0, 320, 240, 1280))
