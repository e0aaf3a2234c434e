"""Loading real libraries built by the real compiler, and what `read_info` makes of their Api."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from game.native import handshake
from game.native.abi import LAYOUT, Access, Kind, ffi
from game.native.errors import LoadError
from game.native.library import NativeLibrary, QueryInfo, Term, file_digest, remove_stale_copies
from game.world.schema import DType

ZIG_RNG_DEFAULT = 0x2545F4914F6CD800


def test_movement_describes_itself(libs: dict[str, Path], tmp_path: Path) -> None:
    lib = NativeLibrary.load(libs["movement"], tmp_path, version=3)
    try:
        info = lib.info
        assert (info.name, info.build_id, info.kind, info.order) == ("movement", 1, Kind.SIMULATION, 20)
        assert info.is_game_system and info.has_run and info.has_shutdown and not info.has_state_hooks
        (query,) = info.queries
        assert query == QueryInfo(
            "movers",
            (Term("Position", Access.READ_WRITE), Term("Velocity", Access.READ), Term("Frozen", Access.WITHOUT)),
        )
        assert [t.component for t in query.data_terms] == ["Position", "Velocity"]
        assert query.data_terms[0].writes and not query.data_terms[1].writes
        assert query.include() == {"Position", "Velocity"} and query.exclude() == {"Frozen"}
        assert info.resources == ()
        assert dict(info.layout) == LAYOUT
        assert lib.copy.name == f"movement.v3.{os.getpid()}{libs['movement'].suffix}"
        assert lib.copy.exists()
        assert lib.digest == file_digest(libs["movement"])
        handshake.check_abi(info, "movement.zig")
        handshake.check_schema(info, "movement.zig", info.components)
    finally:
        lib.close()
    assert lib.closed and not lib.copy.exists()
    lib.close()  # twice is harmless


def test_attractor_declares_its_resource(libs: dict[str, Path], tmp_path: Path) -> None:
    lib = NativeLibrary.load(libs["attractor"], tmp_path, version=1)
    try:
        assert lib.info.order == 10
        assert lib.info.resources == (Term("Tunables", Access.READ),)
        (query,) = lib.info.queries
        assert query.include() == {"Position", "Velocity", "Color"} and query.exclude() == {"Frozen"}
        assert [(t.component, t.writes) for t in query.data_terms] == [("Position", False), ("Velocity", True)]
    finally:
        lib.close()


def test_the_components_library_is_the_schema(libs: dict[str, Path], tmp_path: Path) -> None:
    lib = NativeLibrary.load(libs["components"], tmp_path, version=1)
    try:
        info = lib.info
        assert (info.name, info.kind) == ("components", Kind.SCHEMA)
        assert not info.is_game_system and not info.has_run
        assert info.queries == () and info.resources == ()
        handshake.check_abi(info, "components.zig")  # a schema library needs no run
        schema = info.components
        assert list(schema)[:12] == [
            "Position",
            "Velocity",
            "Color",
            "Health",
            "Lifetime",
            "Team",
            "Target",
            "Player",
            "Frozen",
            "Score",
            "Tunables",
            "Rng",
        ]
        described = {
            name: (
                spec.size,
                spec.is_resource,
                [(f.name, f.dtype, f.width, f.offset, f.default) for f in spec.fields],
            )
            for name, spec in list(schema.items())[:12]
            if name != "Rng"
        }
        assert described == {
            "Position": (8, False, [("x", DType.F32, 1, 0, 0.0), ("y", DType.F32, 1, 4, 0.0)]),
            "Velocity": (8, False, [("x", DType.F32, 1, 0, 0.0), ("y", DType.F32, 1, 4, 0.0)]),
            "Color": (4, False, [("rgb", DType.U32, 1, 0, float(0x3050FF))]),
            "Health": (4, False, [("hp", DType.I32, 1, 0, 100.0)]),
            "Lifetime": (4, False, [("seconds", DType.F32, 1, 0, 5.0)]),
            "Team": (4, False, [("id", DType.U32, 1, 0, 0.0)]),
            "Target": (8, False, [("entity", DType.ENTITY, 1, 0, 0.0)]),
            "Player": (0, False, []),
            "Frozen": (0, False, []),
            "Score": (8, True, [("value", DType.I64, 1, 0, 0.0)]),
            "Tunables": (
                12,
                True,
                [
                    ("attract", DType.F32, 1, 0, 90_000.0),
                    ("idle_attract", DType.F32, 1, 4, 12_000.0),
                    ("max_speed", DType.F32, 1, 8, 600.0),
                ],
            ),
        }
        (state,) = schema["Rng"].fields
        assert (schema["Rng"].size, schema["Rng"].is_resource) == (8, True)
        assert (state.name, state.dtype, state.width, state.offset) == ("state", DType.U64, 1, 0)
        assert int(state.default) == ZIG_RNG_DEFAULT  # the ABI carries defaults as f64; this one is exact
        assert schema["Player"].is_tag and not schema["Position"].is_tag
        assert schema["Tunables"].payload_dtype().itemsize == 12
        # The games' (see the README): the spatial grid is a resource of big arrays; the last
        # three are filled from asset files.
        assert list(schema)[12:] == [
            "Body", "Heading", "Control", "Ship", "Asteroid", "Hunter", "Bullet", "Pickup", "Hit", "Spark", "Boid",
            "Arena", "Predator", "Grid", "Waves", "Palette", "ShipSprite",
        ]  # fmt: skip
        grid = {f.name: (f.dtype, f.width) for f in schema["Grid"].fields}
        assert grid["start"] == (DType.U32, 65_537) and grid["entity"] == (DType.ENTITY, 262_144)
        assert schema["Grid"].is_resource and schema["Grid"].size == 5 * 4 + 65_537 * 4 + 262_144 * (8 + 6 * 4)
    finally:
        lib.close()


def test_every_library_carries_the_same_schema(libs: dict[str, Path], tmp_path: Path) -> None:
    reference = NativeLibrary.load(libs["components"], tmp_path, version=0)
    try:
        for i, name in enumerate(("movement", "attractor", "lifetime", "render", "bounds", "colorize")):
            lib = NativeLibrary.load(libs[name], tmp_path, version=i + 1)
            try:
                assert lib.info.schema == reference.info.schema, name
            finally:
                lib.close()
    finally:
        reference.close()


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


def test_a_missing_file_is_a_load_error(tmp_path: Path) -> None:
    with pytest.raises(LoadError, match=r"libgone\.so: no such file"):
        NativeLibrary.load(tmp_path / "libgone.so", tmp_path / "copies", version=1)


def test_stale_copies_of_dead_processes_are_removed(tmp_path: Path) -> None:
    dead = tmp_path / "movement.v1.999999999.so"
    mine = tmp_path / f"movement.v1.{os.getpid()}.so"
    other = tmp_path / "notes.txt"
    for path in (dead, mine, other):
        path.write_bytes(b"x")
    assert remove_stale_copies(tmp_path) == 1
    assert not dead.exists() and mine.exists() and other.exists()
    assert remove_stale_copies(tmp_path / "absent") == 0


def test_closing_releases_cffis_reference_to_the_library(libs: dict[str, Path], tmp_path: Path) -> None:
    """cffi keeps every dlopen'ed library in ffi._libraries; without our cleanup each reload leaked."""
    before = len(ffi._libraries)
    for version in range(20):
        NativeLibrary.load(libs["bounds"], tmp_path, version=version).close()
    assert len(ffi._libraries) == before
