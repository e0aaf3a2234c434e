"""Loading real libraries built by the real compiler."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from game.native import handshake
from game.native.abi import Kind
from game.native.errors import HandshakeError, LoadError
from game.native.library import NativeLibrary, remove_stale_copies
from game.world.schema import COMPONENTS, ComponentSpec, DType

SPECS = {s.name: s for s in COMPONENTS}


def test_movement_describes_itself(libs: dict[str, Path], tmp_path: Path) -> None:
    lib = NativeLibrary.load(libs["movement"], tmp_path, version=3)
    try:
        info = lib.info
        assert (info.name, info.build_id, info.kind, info.order) == ("movement", 1, Kind.SIMULATION, 20)
        assert [c.name for c in info.columns] == ["pos_x", "pos_y", "vel_x", "vel_y"]
        assert lib.copy.name == f"movement.v3.{os.getpid()}{libs['movement'].suffix}"
        assert lib.copy.exists()
        handshake.check(info, "movement.zig", SPECS)
    finally:
        lib.close()
    assert not lib.copy.exists()
    lib.close()  # twice is harmless


def test_two_versions_load_side_by_side(libs: dict[str, Path], tmp_path: Path) -> None:
    a = NativeLibrary.load(libs["bounds"], tmp_path, version=1)
    b = NativeLibrary.load(libs["bounds"], tmp_path, version=2)
    try:
        assert a.copy != b.copy and a.api != b.api  # two images, not the same one handed back
    finally:
        a.close()
        b.close()


def test_not_a_library_is_a_load_error(tmp_path: Path) -> None:
    fake = tmp_path / "libfake.so"
    fake.write_bytes(b"this is not an ELF file")
    with pytest.raises(LoadError, match=r"libfake\.so: not a loadable shared library"):
        NativeLibrary.load(fake, tmp_path / "copies", version=1)
    assert list((tmp_path / "copies").iterdir()) == []


def test_handshake_names_the_column_and_both_sides(libs: dict[str, Path], tmp_path: Path) -> None:
    lib = NativeLibrary.load(libs["movement"], tmp_path, version=1)
    try:
        wrong = dict(SPECS, vel_x=ComponentSpec("vel_x", DType.F64))
        with pytest.raises(HandshakeError, match=r"movement\.zig: column vel_x declared f32x1, the world has f64x1"):
            handshake.check(lib.info, "movement.zig", wrong)
        narrower = dict(SPECS, pos_x=ComponentSpec("pos_x", DType.F64))
        with pytest.raises(HandshakeError, match="only widening"):
            handshake.check(lib.info, "movement.zig", narrower)
        missing = {k: v for k, v in SPECS.items() if k != "pos_y"}
        (change,) = handshake.check(lib.info, "movement.zig", missing)
        assert change.old is None and change.spec.name == "pos_y"
        assert handshake.check(lib.info, "movement.zig", SPECS) == []
    finally:
        lib.close()


def test_stale_copies_of_dead_processes_are_removed(tmp_path: Path) -> None:
    dead = tmp_path / "movement.v1.999999999.so"
    mine = tmp_path / f"movement.v1.{os.getpid()}.so"
    dead.write_bytes(b"x")
    mine.write_bytes(b"x")
    assert remove_stale_copies(tmp_path) == 1
    assert not dead.exists() and mine.exists()


def test_closing_releases_cffis_reference_to_the_library(libs: dict[str, Path], tmp_path: Path) -> None:
    """cffi keeps every dlopen'ed library in ffi._libraries; without our cleanup each reload leaked."""
    from game.native.abi import ffi

    before = len(ffi._libraries)
    for version in range(20):
        NativeLibrary.load(libs["bounds"], tmp_path, version=version).close()
    assert len(ffi._libraries) == before
