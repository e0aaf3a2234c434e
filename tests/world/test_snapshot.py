"""World files: round trip, atomic writes, format 1, every corrupted field refused, schema migration."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from game.world import registry, snapshot, state
from game.world.entities import describe
from game.world.schema import ComponentSpec, DType, component
from game.world.snapshot import FORMAT, FORMAT_V1, WorldFileError
from game.world.world import World
from tests.conftest import assert_consistent, assert_same, small_schema, world_state


def schema(**changes: ComponentSpec | None) -> list[ComponentSpec]:
    return small_schema(**changes)


def make_world(specs: list[ComponentSpec] | None = None, seed: int = 5) -> World:
    world = World(320, 240, seed=seed, schema=small_schema() if specs is None else specs)
    n = 40
    world.spawn(n, {"Position": {"x": world.rng.uniform(0, 320, n), "y": np.arange(n)}, "Velocity": None})
    players = world.spawn(3, {"Position": None, "Health": {"hp": [1, 2, 3]}, "Player": None})
    world.spawn(2, {"Target": {"entity": players[:2]}, "Frozen": None})
    world.despawn(world.tables[0].ids()[::7].copy())
    world.add(world.tables[0].ids()[:3].copy(), "Frozen")
    world.resource("Score")["value"] = 77
    world.step = 42
    assert_consistent(world)
    return world


def read_npz(path: Path) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    with np.load(path) as npz:
        arrays = {k: npz[k] for k in npz.files}
    return json.loads(str(arrays.pop("meta"))), arrays


def write_npz(path: Path, meta: dict[str, Any], arrays: dict[str, np.ndarray]) -> None:
    np.savez(path, **arrays, meta=np.array(json.dumps(meta)))


def test_round_trip_is_the_same_world(tmp_path: Path) -> None:
    world = make_world()
    path = tmp_path / "w.npz"
    snapshot.save(world, path)
    expected = world_state(world)
    next_draw = world.rng.random()
    next_ids = world.entities.allocate(3).tolist()

    registry.use_fresh_world()
    other = World(320, 240, seed=99, schema=small_schema())
    other.spawn(5, {"Color": None})
    snapshot.load(path, other)
    assert_same(world_state(other), expected)
    assert_consistent(other)
    assert other.step == 42 and int(other.resource("Score")["value"][0]) == 77
    assert other.rng.random() == next_draw
    assert other.spawn(3, {"Position": None}).tolist() == next_ids  # ids go on as they would have


def test_write_is_atomic_when_saving_fails(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    world = make_world()
    path = tmp_path / "w.npz"
    snapshot.save(world, path)
    old = path.read_bytes()

    def full_disk(f: Any, **arrays: Any) -> None:
        f.write(b"PK\x03\x04 half a file")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(snapshot.np, "savez", full_disk)
    world.spawn(10, {"Color": None})
    with pytest.raises(OSError, match="No space left"):
        snapshot.save(world, path)
    assert path.read_bytes() == old
    assert sorted(p.name for p in tmp_path.iterdir()) == ["w.npz"]  # no temporary file left


def test_write_is_atomic_when_the_rename_fails(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    world = make_world()
    path = tmp_path / "w.npz"
    snapshot.save(world, path)
    old = path.read_bytes()

    def refuse(src: Any, dst: Any) -> None:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(snapshot.os, "replace", refuse)
    with pytest.raises(PermissionError):
        snapshot.save(make_world(seed=6), path)
    assert path.read_bytes() == old
    assert sorted(p.name for p in tmp_path.iterdir()) == ["w.npz"]


def test_a_failed_save_is_one_clear_line_and_the_old_file_stays_whole(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "w.npz"
    snapshot.save(make_world(), path)
    old = path.read_bytes()

    def full_disk(f: Any, **arrays: Any) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(snapshot.np, "savez", full_disk)
    with pytest.raises(OSError) as err:
        snapshot.save(make_world(seed=6), path)
    assert str(err.value) == f"[Errno 28] cannot save the world to {path}: No space left on device"
    assert path.read_bytes() == old
    assert sorted(p.name for p in tmp_path.iterdir()) == ["w.npz"]


def test_saving_onto_a_directory_fails_clearly_and_leaves_it_whole(tmp_path: Path) -> None:
    target = tmp_path / "w.npz"
    target.mkdir()
    (target / "inside.txt").write_text("kept")
    with pytest.raises(IsADirectoryError) as err:  # an OSError, its errno kept
        snapshot.save(make_world(), target)
    assert str(err.value) == f"[Errno 21] cannot save the world to {target}: Is a directory"
    assert (target / "inside.txt").read_text() == "kept"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["w.npz"]  # no temporary file left


def test_saving_under_a_file_fails_clearly(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    with pytest.raises(OSError, match=rf"cannot save the world to {blocker / 'w.npz'}: File exists$"):
        snapshot.save(make_world(), blocker / "w.npz")
    assert blocker.read_text() == "not a folder"


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root writes into read-only folders")
def test_saving_into_a_read_only_folder_leaves_the_old_file_whole(tmp_path: Path) -> None:
    folder = tmp_path / "saves"
    path = folder / "w.npz"
    snapshot.save(make_world(), path)
    old = path.read_bytes()
    folder.chmod(0o555)
    try:
        with pytest.raises(PermissionError, match=rf"cannot save the world to {path}: Permission denied$"):
            snapshot.save(make_world(seed=6), path)
        assert path.read_bytes() == old and [p.name for p in folder.iterdir()] == ["w.npz"]
    finally:
        folder.chmod(0o755)


def test_save_creates_the_folder_and_replaces_an_old_file(tmp_path: Path) -> None:
    path = tmp_path / "saves" / "deep" / "w.npz"
    snapshot.save(make_world(), path)
    second = make_world(seed=8)
    snapshot.save(second, path)
    other = World(320, 240, seed=1, schema=small_schema())
    snapshot.load(path, other)
    assert_same(world_state(other), world_state(second))


def v1_file(path: Path, n: int = 6) -> dict[str, Any]:
    """A world file as the flat-table game wrote it (format 1)."""
    rng = np.random.default_rng(3)
    rng.random(5)
    columns = {
        "col_pos_x": np.arange(n, dtype=np.float32) * 10,
        "col_pos_y": np.arange(n, dtype=np.float32) + 0.5,
        "col_vel_x": np.full(n, -1.5, dtype=np.float32),
        "col_vel_y": np.full(n, 2.5, dtype=np.float32),
        "col_color": np.arange(n, dtype=np.uint32) + 0x100,
    }
    meta = {
        "format": FORMAT_V1,
        "step": 17,
        "next_id": 500,
        "size": [320, 240],
        "seed": 3,
        "rng": rng.bit_generator.state,
        "columns": {
            "pos_x": ["f32", 1],
            "pos_y": ["f32", 1],
            "vel_x": ["f32", 1],
            "vel_y": ["f32", 1],
            "color": ["u32", 1],
        },
    }
    ids = np.arange(100, 100 + 3 * n, 3, dtype=np.int64)  # esper's ids: not 1..n
    np.savez(path, ids=ids, **columns, meta=np.array(json.dumps(meta)))
    return {"columns": columns, "rng": rng}


def test_a_format_1_file_is_converted(tmp_path: Path) -> None:
    path = tmp_path / "old.npz"
    made = v1_file(path)
    world = World(320, 240, seed=1, schema=small_schema())
    snapshot.load(path, world)
    assert_consistent(world)
    assert world.step == 17
    assert world.rng.random() == made["rng"].random()
    (table,) = world.tables
    assert table.label == "{Color, Position, Velocity}"
    assert [describe(int(e)) for e in table.ids()] == [f"{i}v1" for i in range(1, 7)]
    columns = made["columns"]
    assert table.column("Position.x").tolist() == columns["col_pos_x"].tolist()
    assert table.column("Position.y").tolist() == columns["col_pos_y"].tolist()
    assert table.column("Velocity.x").tolist() == columns["col_vel_x"].tolist()
    assert table.column("Velocity.y").tolist() == columns["col_vel_y"].tolist()
    assert table.column("Color.rgb").tolist() == columns["col_color"].tolist()
    assert world.schema == {s.name: s for s in small_schema()}  # the game's schema, not the file's
    assert int(world.resource("Score")["value"][0]) == 0  # a resource format 1 did not have: its default
    (new,) = world.spawn(1, {"Position": None}).tolist()
    assert describe(new) == "7v1"


def test_a_format_1_file_with_a_missing_column_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "old.npz"
    v1_file(path)
    meta, arrays = read_npz(path)
    del arrays["col_vel_y"]
    write_npz(path, meta, arrays)
    world = make_world()
    before = world_state(world)
    with pytest.raises(WorldFileError, match=r"a ecs-sandbox-world/1 file, but not a whole one \('col_vel_y'\)"):
        snapshot.load(path, world)
    assert_same(world_state(world), before)


@pytest.mark.parametrize("fmt", ["ecs-sandbox-world/9", "something else", None])
def test_an_unknown_format_is_refused(tmp_path: Path, fmt: str | None) -> None:
    world = make_world()
    path = tmp_path / "w.npz"
    snapshot.save(world, path)
    meta, arrays = read_npz(path)
    meta["format"] = fmt
    write_npz(path, meta, arrays)
    with pytest.raises(WorldFileError) as err:
        snapshot.load(path, world)
    assert str(err.value) == f"{path}: format {fmt!r}; this game reads {FORMAT} (and converts {FORMAT_V1})"


Corruption = Callable[[dict[str, Any], dict[str, np.ndarray]], None]


def _set(target: Any, key: Any, value: Any) -> None:
    target[key] = value


def _dup_id(meta: dict[str, Any], arrays: dict[str, np.ndarray]) -> None:
    arrays["t0.entities"][1] = arrays["t0.entities"][0]


def _bad_generation(meta: dict[str, Any], arrays: dict[str, np.ndarray]) -> None:
    arrays["t0.entities"][2] += np.uint64(1 << 32)


def _free_and_live(meta: dict[str, Any], arrays: dict[str, np.ndarray]) -> None:
    arrays["entities.free"] = np.append(arrays["entities.free"], np.uint32(arrays["t1.entities"][0] & 0xFFFFFFFF))


CORRUPTIONS: list[tuple[str, Corruption, str]] = [
    ("negative step", lambda m, a: _set(m, "step", -1), r"step: negative"),
    ("step not an int", lambda m, a: _set(m, "step", "42"), r"step: missing or not a int"),
    ("step missing", lambda m, a: m.pop("step"), r"step: missing or not a int"),
    ("size", lambda m, a: _set(m, "size", [320]), r"size: \[320\] is not a world size"),
    ("rng", lambda m, a: _set(m, "rng", {"bit_generator": "MT19937"}), r"rng: not a PCG64 state"),
    ("schema", lambda m, a: _set(m, "schema", [["Position", False]]), r"schema: "),
    (
        "generation dtype",
        lambda m, a: _set(a, "entities.generation", a["entities.generation"].astype(np.int64)),
        r"entities\.generation: holds 64-bit integers, expected unsigned 32-bit integers",
    ),
    (
        "generation missing",
        lambda m, a: a.pop("entities.generation"),
        r"entities\.generation: missing",
    ),
    (
        "free index out of range",
        lambda m, a: _set(a, "entities.free", np.array([10_000], dtype=np.uint32)),
        r"entities\.free: an index outside the index range",
    ),
    ("bad generation", _bad_generation, r"t0\.entities: an id whose generation does not match the index"),
    ("duplicated id", _dup_id, r"t0\.entities: .* appears twice"),
    ("a live id also free", _free_and_live, r"t1\.entities: 41v1 appears twice \(or is also free\)"),
    (
        "id outside the index",
        lambda m, a: _set(a, "t0.entities", np.append(a["t0.entities"][:-1], np.uint64(1 << 32 | 9999))),
        r"t0\.entities: an id outside the index range",
    ),
    (
        "column wrong shape",
        lambda m, a: _set(a, "t0.Position.x", a["t0.Position.x"][:-1]),
        r"t0\.Position\.x: shape \[30\], expected \[31\]",
    ),
    (
        "column 2-d",
        lambda m, a: _set(a, "t1.Health.hp", a["t1.Health.hp"].reshape(-1, 1)),
        r"t1\.Health\.hp: shape \[3, 1\], expected \[3\]",
    ),
    (
        "column wrong dtype",
        lambda m, a: _set(a, "t0.Velocity.y", a["t0.Velocity.y"].astype(np.float64)),
        r"t0\.Velocity\.y: holds 64-bit floats, expected 32-bit floats",
    ),
    ("missing column", lambda m, a: a.pop("t1.Health.hp"), r"t1\.Health\.hp: missing"),
    ("missing table ids", lambda m, a: a.pop("t2.entities"), r"t2\.entities: missing"),
    (
        "table naming an unknown component",
        lambda m, a: m["tables"][1].append("Mass"),
        r"tables\[1\]: 'Mass' is not a component of the file's schema",
    ),
    (
        "table naming a resource",
        lambda m, a: m["tables"][1].append("Score"),
        r"tables\[1\]: 'Score' is not a component of the file's schema",
    ),
    (
        "table names not strings",
        lambda m, a: _set(m["tables"], 1, [["Health"], "Player"]),
        r"tables\[1\]: not a list of component names",
    ),
    (
        "a component set twice",
        lambda m, a: _set(m["tables"], 2, ["Player", "Position", "Health"]),
        r"tables\[2\]: a second table of \{Health, Player, Position\}",
    ),
    (
        "resource wrong size",
        lambda m, a: _set(a, "res.Score", np.zeros(3, dtype=np.uint8)),
        r"res\.Score: 3 bytes, the schema says 8",
    ),
]


@pytest.mark.parametrize("corrupt, message", [(c, m) for _, c, m in CORRUPTIONS], ids=[n for n, _, _ in CORRUPTIONS])
def test_each_corrupted_field_is_refused_by_name_and_the_world_is_untouched(
    tmp_path: Path, corrupt: Corruption, message: str
) -> None:
    world = make_world()
    path = tmp_path / "w.npz"
    snapshot.save(world, path)
    meta, arrays = read_npz(path)
    assert meta["tables"][:2] == [["Position", "Velocity"], ["Health", "Player", "Position"]]
    assert len(arrays["t0.entities"]) == 31 and arrays["t1.entities"][0] == 1 << 32 | 41
    corrupt(meta, arrays)
    write_npz(path, meta, arrays)
    world.spawn(4, {"Color": None})  # the world differs from the file's
    before = world_state(world)
    with pytest.raises(WorldFileError, match=rf"^{path}: {message}"):
        snapshot.load(path, world)
    assert_same(world_state(world), before)
    assert_consistent(world)


@pytest.mark.parametrize(
    "content, message",
    [
        (b"", "not a world file"),
        (b"PK\x03\x04garbage", "not a world file"),
        (b"\x93NUMPY\x01\x00", "not a world file"),
    ],
)
def test_files_that_are_not_npz_are_refused(tmp_path: Path, content: bytes, message: str) -> None:
    world = make_world()
    before = world_state(world)
    path = tmp_path / "bad.npz"
    path.write_bytes(content)
    with pytest.raises(WorldFileError, match=message):
        snapshot.load(path, world)
    assert_same(world_state(world), before)


def test_a_foreign_npz_a_bare_array_and_a_missing_file(tmp_path: Path) -> None:
    world = make_world()
    foreign = tmp_path / "foreign.npz"
    np.savez(foreign, a=np.zeros(3))
    with pytest.raises(WorldFileError, match="not a world file"):
        snapshot.load(foreign, world)
    bare = tmp_path / "array.npz"
    with bare.open("wb") as f:
        np.save(f, np.arange(3))
    with pytest.raises(WorldFileError, match="a bare array"):
        snapshot.load(bare, world)
    with pytest.raises(WorldFileError, match="no such file"):
        snapshot.load(tmp_path / "nope.npz", world)
    not_object = tmp_path / "list.npz"
    np.savez(not_object, meta=np.array("[1, 2]"))
    with pytest.raises(WorldFileError, match="meta is not an object"):
        snapshot.load(not_object, world)


# --- what a refused file's message says ----------------------------------------------------------

JARGON = ("allow_pickle", "pickle.load", "dtype", "BadZipFile", "EOFError", "ValueError", "KeyError", "Error:", "<U")


def _arrays_with(change: Callable[[dict[str, np.ndarray]], None]) -> Callable[[Path, Path], None]:
    """Writes the saved world at `good` to `path` with `change` made to its arrays."""

    def write(good: Path, path: Path) -> None:
        meta, arrays = read_npz(good)
        change(arrays)
        write_npz(path, meta, arrays)

    return write


def _bytes(make: Callable[[bytes], bytes]) -> Callable[[Path, Path], None]:
    return lambda good, path: path.write_bytes(make(good.read_bytes()))


def _flip(raw: bytes) -> bytes:
    """The last byte of member t3.entities changed (np.savez stores members uncompressed):
    its checksum no longer matches."""
    header = raw.index(b"\x93NUMPY", raw.index(b"t3.entities.npy"))
    at = raw.index(b"PK\x03\x04", header) - 1
    return raw[:at] + bytes([raw[at] ^ 0xFF]) + raw[at + 1 :]


def _object_meta(good: Path, path: Path) -> None:
    np.savez(path, meta=np.array([{"format": FORMAT}], dtype=object))


def _bare_array(good: Path, path: Path) -> None:
    with path.open("wb") as f:
        np.save(f, np.arange(3))


MESSAGES: list[tuple[str, Callable[[Path, Path], None], str]] = [
    ("empty", _bytes(lambda raw: b""), "not a world file: it is empty"),
    ("cut to 10 bytes", _bytes(lambda raw: raw[:10]), "not a world file, or one cut short"),
    ("cut in half", _bytes(lambda raw: raw[: len(raw) // 2]), "not a world file, or one cut short"),
    ("cut by one byte", _bytes(lambda raw: raw[:-1]), "not a world file, or one cut short"),
    ("a text file", _bytes(lambda raw: b"hello, world\n"), "not a world file: not an .npz archive at all"),
    ("a pickle", _bytes(lambda raw: b"\x80\x04\x95" + raw[:40]), "not a world file: a Python pickle"),
    ("a bare array", _bare_array, "not a world file: a bare array (.npy)"),
    ("an .npz of Python objects", _object_meta, "not a world file: meta holds Python objects"),
    (
        "a column of Python objects",
        _arrays_with(lambda a: _set(a, "t0.Position.x", np.array([1, "x"], dtype=object))),
        "not a world file: t0.Position.x holds Python objects",
    ),
    ("a foreign .npz", lambda good, path: np.savez(path, a=np.zeros(3)), "an .npz archive without 'meta'"),
    ("a changed byte", _bytes(_flip), "a damaged world file: t3.entities does not match its checksum"),
    ("a missing column", _arrays_with(lambda a: a.pop("t1.Health.hp")), "t1.Health.hp: missing (the file was"),
    (
        "a column of doubles",
        _arrays_with(lambda a: _set(a, "t0.Velocity.y", a["t0.Velocity.y"].astype(np.float64))),
        "t0.Velocity.y: holds 64-bit floats, expected 32-bit floats (the file was damaged or edited",
    ),
    (
        "a column of text",
        _arrays_with(lambda a: _set(a, "entities.generation", a["entities.generation"].astype("<U3"))),
        "entities.generation: holds text, expected unsigned 32-bit integers",
    ),
    (
        "a column in the other byte order",
        _arrays_with(lambda a: _set(a, "t0.Position.x", a["t0.Position.x"].astype(">f4"))),
        "t0.Position.x: holds 32-bit floats in the other byte order, expected 32-bit floats",
    ),
]


@pytest.mark.parametrize("make, said", [(m, s) for _, m, s in MESSAGES], ids=[n for n, _, _ in MESSAGES])
def test_a_refused_file_is_named_with_what_is_wrong_in_words(
    tmp_path: Path, make: Callable[[Path, Path], None], said: str
) -> None:
    """Every message names the file, says what is wrong without numpy's or zipfile's terms,
    and what to do: load a file the game wrote, or another save."""
    world = make_world()
    good = tmp_path / "good.npz"
    snapshot.save(world, good)
    path = tmp_path / "bad.npz"
    make(good, path)
    before = world_state(world)
    with pytest.raises(WorldFileError) as err:
        snapshot.load(path, world)
    text = str(err.value)
    assert text.startswith(f"{path}: ") and said in text, text
    assert not [word for word in JARGON if word in text], text
    assert "load another save" in text or "--save-world, F9 or the autosave" in text, text
    assert "\n" not in text
    assert_same(world_state(world), before)


def test_a_missing_file_and_a_folder_are_named(tmp_path: Path) -> None:
    world = make_world()
    with pytest.raises(WorldFileError, match=f"^{tmp_path / 'nope.npz'}: no such file$"):
        snapshot.load(tmp_path / "nope.npz", world)
    with pytest.raises(WorldFileError, match=f"^{tmp_path}: a folder, not a world file$"):
        snapshot.load(tmp_path, world)


# --- a file saved under another schema -----------------------------------------------------


def test_a_file_lacking_a_field_gets_the_default(tmp_path: Path) -> None:
    saved = make_world()
    path = tmp_path / "w.npz"
    snapshot.save(saved, path)
    xs = sorted(saved.tables[0].column("Position.x").tolist())

    game = World(
        320, 240, seed=1, schema=schema(Position=component("Position", x=DType.F32, y=DType.F32, z=(DType.F32, 1, 7.0)))
    )
    snapshot.load(path, game)
    assert_consistent(game)
    for table in game.query("Position"):
        assert table.column("Position.z").tolist() == [7.0] * table.count
    assert sorted(game.tables[0].column("Position.x").tolist()) == xs
    assert game.schema["Position"].field("z").default == 7.0


def test_a_file_with_a_narrower_field_is_widened(tmp_path: Path) -> None:
    saved = make_world()
    path = tmp_path / "w.npz"
    snapshot.save(saved, path)
    hp = saved.tables[1].column("Health.hp").tolist()
    game = World(320, 240, seed=1, schema=schema(Health=component("Health", hp=(DType.I64, 2, 100.0))))
    snapshot.load(path, game)
    assert game.tables[1].column("Health.hp").tolist() == [[v, 100] for v in hp]
    assert_consistent(game)


def test_a_file_with_a_new_resource_and_a_missing_one(tmp_path: Path) -> None:
    saved = make_world()
    path = tmp_path / "w.npz"
    snapshot.save(saved, path)
    gravity = component("Gravity", resource=True, g=(DType.F32, 1, 9.5))
    game = World(320, 240, seed=1, schema=[*small_schema(), gravity])
    snapshot.load(path, game)
    assert game.resource("Gravity")["g"].tolist() == [9.5]
    assert int(game.resource("Score")["value"][0]) == 77


def test_a_file_with_a_component_the_game_dropped_that_nobody_holds(tmp_path: Path) -> None:
    saved = World(320, 240, seed=1, schema=[*small_schema(), component("Mass", m=DType.F32)])
    gone = saved.spawn(2, {"Mass": None, "Position": None})
    saved.spawn(3, {"Position": None})
    saved.despawn(gone)  # the {Mass, Position} table is empty in the file
    path = tmp_path / "w.npz"
    snapshot.save(saved, path)
    game = World(320, 240, seed=1, schema=small_schema())
    snapshot.load(path, game)
    assert "Mass" not in game.schema
    assert [t.label for t in game.tables] == ["{Position}"]
    assert_consistent(game)
    state.check(state.capture(game))  # and the loaded world saves again


@pytest.mark.parametrize(
    "game_schema, message",
    [
        (schema(Health=None), r"removes Health, which entities still have"),
        (schema(Health=component("Health", hp=DType.I64, armor=DType.F32)), None),  # a new field: fine
        (schema(Position=component("Position", x=DType.F32)), r"removes field Position\.y, which entities still hold"),
        (schema(Health=component("Health", hp=DType.U8)), r"Health\.hp declared u8, the world has i32"),
        (schema(Score=None), r"removes Score"),
        (schema(Player=component("Player", resource=True)), r"makes Player a resource"),
    ],
)
def test_a_file_that_would_lose_data_is_refused(
    tmp_path: Path, game_schema: list[ComponentSpec], message: str | None
) -> None:
    path = tmp_path / "w.npz"
    snapshot.save(make_world(), path)
    game = World(320, 240, seed=1, schema=game_schema)
    game.spawn(2, {"Position": None})
    before = world_state(game)
    if message is None:
        snapshot.load(path, game)
        assert_consistent(game)
        return
    with pytest.raises(
        WorldFileError, match=rf"^{path}: .*{message}.*\(the file's schema does not fit components\.zig\)"
    ):
        snapshot.load(path, game)
    assert_same(world_state(game), before)
    assert_consistent(game)
