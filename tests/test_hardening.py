"""Untrusted input around the game: flags, world files, system names and what a library's
Api says. Each bad value is a one-line error naming it, and nothing changes."""

from __future__ import annotations

import dataclasses
import json
import math
import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from game import cli
from game.hotreload.zigbuild import ZigBuild
from game.native import library
from game.native.abi import ABI_VERSION, LAYOUT, Access, Kind, ffi
from game.native.errors import HandshakeError
from game.native.handshake import check_abi, check_name, check_unique
from game.native.library import NativeLibrary, SystemInfo, read_info
from game.options import Options
from game.world import snapshot, state
from game.world.schema import DType
from game.world.snapshot import FORMAT_V1, WorldFileError
from game.world.world import World
from tests.conftest import assert_consistent, assert_same, small_schema, world_state
from tests.test_safe_reload import system
from tests.world.test_snapshot import make_world, read_npz, v1_file, write_npz

# --- flags ------------------------------------------------------------------------------------


def refused(argv: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    """The one-line argparse error for `argv` (exit status 2), without its prefix."""
    with pytest.raises(SystemExit) as exit_:
        cli.parse(argv)
    assert exit_.value.code == 2
    last = capsys.readouterr().err.strip().splitlines()[-1]
    assert last.startswith("run_game.py: error: "), last
    return last.removeprefix("run_game.py: error: ")


BAD_FLAGS: list[tuple[list[str], str]] = [
    (["--entities", "-1"], r"--entities -1: expected 0\.\.20,000,000 \(the world's bound, DEFAULT_MAX_ENTITIES\)"),
    (["--entities", str(10**12)], r"--entities 1000000000000: expected 0\.\.20,000,000 \(the world's bound"),
    (["--size", "63x64"], r"'63x64': expected WIDTHxHEIGHT, at least 64x64 and at most 16384x16384"),
    (["--size", "64x16385"], r"'64x16385': expected WIDTHxHEIGHT"),
    (["--size", "1e3x64"], r"'1e3x64': expected WIDTHxHEIGHT"),
    (
        ["--size", "\u0663\u0663\u0663x333"],
        r"'\u0663\u0663\u0663x333': expected WIDTHxHEIGHT",
    ),  # Arabic-Indic digits: int() takes them
    (
        ["--size", "9" * 5000 + "x64"],
        r"'9{20}\.\.\.': expected WIDTHxHEIGHT",
    ),  # int() of it would raise its own ValueError
    (["--seed", "-1"], r"--seed -1: expected 0\.\.9,223,372,036,854,775,807 \(what world files store\)"),
    (["--seed", str(2**63)], r"--seed 9223372036854775808: expected 0\.\."),
    (["--frames", "-1"], r"--frames -1: expected 0\.\.1,000,000,000"),
    (["--frames", str(10**9 + 1)], r"--frames 1000000001: expected 0\.\.1,000,000,000"),
    (["--keys", "F5@10000000000"], r"'F5@10000000000': expected KEY@FRAME with FRAME 0\.\.1,000,000,000"),
    (["--keys", "F5@\u00b2"], r"'F5@\u00b2': expected KEY@FRAME"),  # "²".isdigit(), but int("²") fails
    (["--step-timeout", "0.01"], r"--step-timeout 0\.01: expected 0\.05\.\.600 seconds"),
    (["--step-timeout", "601"], r"--step-timeout 601\.0: expected 0\.05\.\.600 seconds"),
    (["--step-timeout", "nan"], r"--step-timeout nan: expected"),
    (["--step-timeout", "inf"], r"--step-timeout inf: expected"),
    (["--step-timeout", "soon"], r"argument --step-timeout: invalid float value: 'soon'"),
]


@pytest.mark.parametrize("argv, message", BAD_FLAGS, ids=[" ".join(a)[:40] for a, _ in BAD_FLAGS])
def test_a_flag_out_of_bounds_is_a_one_line_usage_error(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    text = refused(argv, capsys)
    assert re.match(message, text), f"{text!r} does not match {message!r}"


def test_the_entity_bound_follows_the_memory_of_a_small_machine(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(cli, "memory_bound", lambda: 1 << 30)  # half of a 2 GiB machine
    most, why = cli.entity_bound()
    assert most == (1 << 30) // cli.BYTES_PER_ENTITY and "half of this machine's memory" in why
    message = refused(["--entities", str(most + 1)], capsys)
    assert message == f"--entities {most + 1}: expected 0..{most:,} ({why})"
    assert cli.parse(["--entities", str(most)]).entities == most


def test_world_file_flags_are_checked_at_start(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    a_file = tmp_path / "a-file"
    a_file.write_text("x")
    assert refused(["--load-world", str(tmp_path / "nope.npz")], capsys) == (
        f"--load-world {tmp_path / 'nope.npz'}: no such file"
    )
    assert (
        refused(["--load-world", str(tmp_path)], capsys) == f"--load-world {tmp_path}: is a directory, not a world file"
    )
    assert refused(["--save-world", str(tmp_path)], capsys) == (
        f"--save-world {tmp_path}: is a directory; give a file name, e.g. {tmp_path / 'world.npz'}"
    )
    assert refused(["--save-world", str(a_file / "deeper" / "w.npz")], capsys) == (
        f"--save-world {a_file / 'deeper' / 'w.npz'}: {a_file} is not a directory"
    )
    assert refused(["--autosave", str(tmp_path)], capsys).startswith(f"--autosave {tmp_path}: is a directory")
    assert refused(["--project", str(tmp_path)], capsys) == f"--project {tmp_path}: no ecs_systems/ folder there"


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root writes into read-only folders")
def test_a_read_only_folder_for_the_save_is_refused_at_start(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o555)
    try:
        assert refused(["--save-world", str(locked / "w.npz")], capsys) == (
            f"--save-world {locked / 'w.npz'}: cannot write in {locked}"
        )
    finally:
        locked.chmod(0o755)


def test_good_flags_are_kept_and_nothing_is_created(tmp_path: Path) -> None:
    saved = tmp_path / "w.npz"
    snapshot.save(make_world(), saved)
    options = cli.parse(
        [
            "--step-timeout",
            "2.5",
            "--autosave",
            str(tmp_path / "auto" / "a.npz"),
            "--save-world",
            str(tmp_path / "new" / "deep" / "w.npz"),
            "--load-world",
            str(saved),
            "--seed",
            str(2**63 - 1),
            "--size",
            "16384x64",
            "--entities",
            "0",
            "--frames",
            "0",
            "--keys",
            "F5@1000000000",
        ]
    )
    assert options.step_timeout == 2.5 and options.autosave == tmp_path / "auto" / "a.npz"
    assert options.save_world == tmp_path / "new" / "deep" / "w.npz" and options.load_world == saved
    assert (options.seed, options.size, options.entities, options.frames) == (2**63 - 1, (16384, 64), 0, 0)
    assert not (tmp_path / "new").exists() and not (tmp_path / "auto").exists()  # made when saving
    default = cli.parse([])
    assert (default.step_timeout, default.autosave) == (1.0, None) == (Options.step_timeout, Options.autosave)


@pytest.mark.parametrize("cycles", ["0", "1001"])
def test_demo_cycles_are_bounded(cycles: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        cli.main(["--demo", "--cycles", cycles])
    assert exit_.value.code == 2
    assert capsys.readouterr().err.strip().endswith(f"error: --cycles {cycles}: expected 1..1,000")


# --- world files: every field -------------------------------------------------------------------

Corruption = Callable[[dict[str, Any], dict[str, np.ndarray]], None]


def _set(target: Any, key: Any, value: Any) -> None:
    target[key] = value


def _rng(key: str, value: Any) -> Corruption:
    return lambda m, a: _set(m["rng"]["state"] if key in ("state", "inc") else m["rng"], key, value)


def _position(index: int, value: Any) -> Corruption:
    """Sets item `index` of the schema entry of Position (name, is_resource, size, fields)."""
    return lambda m, a: _set(m["schema"][0], index, value)


def _field(component: int, field: int, index: int, value: Any) -> Corruption:
    """Sets item `index` of a field entry (name, dtype, width, default, offset)."""
    return lambda m, a: _set(m["schema"][component][3][field], index, value)


def _more_components(m: dict[str, Any], a: dict[str, np.ndarray]) -> None:
    m["schema"] += [[f"Extra{i}", False, 0, []] for i in range(60)]


def _dup_free(m: dict[str, Any], a: dict[str, np.ndarray]) -> None:
    free = a["entities.free"]
    assert len(free)
    a["entities.free"] = np.append(free, free[:1])


HEALTH = 3  # small_schema: Position, Velocity, Color, Health, Target, Player, Frozen, Score
FIELD_CORRUPTIONS: list[tuple[str, Corruption, str]] = [
    # metadata
    (
        "step past the bound",
        lambda m, a: _set(m, "step", 2**63),
        r"step: 9223372036854775808 is past 9223372036854775807",
    ),
    ("step a float", lambda m, a: _set(m, "step", 4.5), r"step: missing or not a int"),
    ("step a bool", lambda m, a: _set(m, "step", True), r"step: missing or not a int"),
    ("seed negative", lambda m, a: _set(m, "seed", -1), r"seed: -1 is not 0\.\.9223372036854775807"),
    ("seed past the bound", lambda m, a: _set(m, "seed", 2**64), r"seed: 18446744073709551616 is not 0\.\."),
    ("seed missing", lambda m, a: m.pop("seed"), r"seed: missing or not a int"),
    ("size absurd", lambda m, a: _set(m, "size", [64, 10**9]), r"size: \[64, 1000000000\] is not a world size"),
    ("size of floats", lambda m, a: _set(m, "size", [320.0, 240]), r"size: \[320\.0, 240\] is not a world size"),
    ("size a bool", lambda m, a: _set(m, "size", [True, 240]), r"size: \[True, 240\] is not a world size"),
    ("size a string", lambda m, a: _set(m, "size", "320x240"), r"size: missing or not a list"),
    ("rng not an object", lambda m, a: _set(m, "rng", [1]), r"rng: missing or not a dict"),
    ("rng state too large", _rng("state", 2**200), r"rng: not a PCG64 state \(state, inc"),
    ("rng inc a float", _rng("inc", 1.5), r"rng: not a PCG64 state \(state, inc"),
    ("rng inc negative", _rng("inc", -1), r"rng: not a PCG64 state \(state, inc"),
    ("rng has_uint32", _rng("has_uint32", 7), r"rng: not a PCG64 state \(state, inc"),
    ("rng uinteger", _rng("uinteger", 2**40), r"rng: not a PCG64 state \(state, inc"),
    ("rng extra key", _rng("more", 1), r"rng: not a PCG64 state \(bit_generator 'PCG64'\)"),
    ("tables not a list", lambda m, a: _set(m, "tables", "t0"), r"tables: missing or not a list"),
    (
        "table naming a huge name",
        lambda m, a: m["tables"][1].append("X" * 100_000),
        r"tables\[1\]: 'X+\.\.\.X+' is not a component of the file's schema",
    ),
    # schema
    ("schema not a list", lambda m, a: _set(m, "schema", {"a": 1}), r"schema: \{'a': 1\} is not a list of components"),
    ("schema too many components", _more_components, r"schema: 68 components, at most 64"),
    (
        "component not a list",
        lambda m, a: _set(m["schema"], 0, "Position"),
        r"schema: entry 0 \('Position'\) is not \[name, is_resource, size, fields\]",
    ),
    ("component short", lambda m, a: m["schema"][0].pop(), r"schema: entry 0 \(.*\) is not \[name, is_resource"),
    ("component name not a string", _position(0, 5), r"schema: entry 0: component name 5 is not a string"),
    ("component name with NUL", _position(0, "Pos\x00"), r"schema: entry 0: component name 'Pos\\x00' is not an"),
    ("component name with newline", _position(0, "Pos\nx"), r"schema: entry 0: component name 'Pos\\nx' is not an"),
    ("component name not ASCII", _position(0, "Posici\u00f3n"), r"schema: entry 0: component name .* is not an"),
    (
        "component name huge",
        _position(0, "P" * 100_000),
        r"schema: entry 0: component name 'P+\.\.\.P+' is not an identifier of at most 255 characters",
    ),
    ("component declared twice", lambda m, a: _set(m["schema"][1], 0, "Position"), r"schema: component Position is"),
    ("is_resource not a bool", _position(1, "yes"), r"schema: Position: is_resource 'yes' is not true or false"),
    ("size negative", _position(2, -8), r"schema: Position: size -8 is not 0\.\.32768 bytes"),
    ("size absurd", _position(2, 2**40), r"schema: Position: size 1099511627776 is not 0\.\.32768 bytes"),
    ("size a float", _position(2, 8.0), r"schema: Position: size 8\.0 is not 0\.\.32768 bytes"),
    ("fields not a list", _position(3, "xy"), r"schema: Position: fields are not a list of at most 64"),
    (
        "too many fields",
        _position(3, [[f"f{i}", 5, 1, 0.0, i] for i in range(65)]),
        r"schema: Position: fields are not a list of at most 64",
    ),
    (
        "field short",
        lambda m, a: _set(m["schema"][0][3], 0, ["x", 1]),
        r"schema: Position field 0 \(\['x', 1\]\) is not \[name, dtype, width, default, offset\]",
    ),
    ("field name not a string", _field(0, 0, 0, None), r"schema: Position field 0: name None is not a string"),
    ("field name not an identifier", _field(0, 0, 0, "x y"), r"schema: Position field 0: name 'x y' is not an"),
    ("field declared twice", _field(0, 1, 0, "x"), r"schema: Position\.x: declared twice"),
    ("dtype unknown", _field(0, 0, 1, 99), r"schema: Position\.x: dtype 99 is not one of \[1, 2, 3, 4, 5, 6, 7, 8\]"),
    ("dtype a float", _field(0, 0, 1, 1.0), r"schema: Position\.x: dtype 1\.0 is not one of"),
    ("dtype a bool", _field(0, 0, 1, True), r"schema: Position\.x: dtype True is not one of"),
    ("width zero", _field(0, 0, 2, 0), r"schema: Position\.x: width 0 is not 1\.\.64"),
    ("width absurd", _field(0, 0, 2, 10**9), r"schema: Position\.x: width 1000000000 is not 1\.\.64"),
    ("offset negative", _field(0, 0, 4, -4), r"schema: Position\.x: offset -4 is not 0\.\.32768"),
    ("offset overlapping", _field(0, 1, 4, 2), r"schema: Position\.y: offset 2 overlaps the field before it"),
    ("offset outside the payload", _field(0, 1, 4, 8), r"schema: Position\.y: lies outside its 8-byte payload"),
    ("default NaN", _field(0, 0, 3, math.nan), r"schema: Position\.x: default is NaN"),
    ("default a string", _field(0, 0, 3, "0"), r"schema: Position\.x: default '0' is not a number"),
    (
        "default too large for f32",
        _field(0, 0, 3, 1e39),
        r"schema: Position\.x: default 1e\+39 is out of range for f32",
    ),
    ("default too large for i32", _field(HEALTH, 0, 3, 1e30), r"schema: Health\.hp: default 1e\+30 is not a i32 value"),
    ("default a fraction for i32", _field(HEALTH, 0, 3, 2.5), r"schema: Health\.hp: default 2\.5 is not a i32 value"),
    ("default infinite for i32", _field(HEALTH, 0, 3, math.inf), r"schema: Health\.hp: default inf is not a i32"),
    ("default a huge int", _field(HEALTH, 0, 3, 2**70), r"schema: Health\.hp: default 1180591620717411303424 is not"),
    # arrays
    (
        "generation 2-d",
        lambda m, a: _set(a, "entities.generation", a["entities.generation"].reshape(-1, 1)),
        r"entities\.generation: shape \[\d+, 1\], expected one dimension",
    ),
    (
        "generation a scalar",
        lambda m, a: _set(a, "entities.generation", np.array(5, dtype=np.uint32)),
        r"entities\.generation: shape \[\], expected one dimension",
    ),
    (
        "generation empty",
        lambda m, a: _set(a, "entities.generation", np.zeros(0, dtype=np.uint32)),
        r"entities\.generation: 0 indices, expected 1\.\.4294967296",
    ),
    (
        "generation of index 0",
        lambda m, a: _set(a["entities.generation"], 0, 3),
        r"entities\.generation: index 0 \(no entity\) has a generation",
    ),
    ("free index twice", _dup_free, r"entities\.free: an index appears twice"),
    (
        "free 2-d",
        lambda m, a: _set(a, "entities.free", a["entities.free"].reshape(-1, 1)),
        r"entities\.free: shape \[\d+, 1\], expected one dimension",
    ),
    (
        "table ids a scalar",
        lambda m, a: _set(a, "t0.entities", np.array(1, dtype=np.uint64)),
        r"t0\.entities: shape \[\], expected one dimension",
    ),
    (
        "table ids 2-d",
        lambda m, a: _set(a, "t0.entities", a["t0.entities"].reshape(-1, 1)),
        r"t0\.entities: shape \[31, 1\], expected one dimension",
    ),
    (
        "resource 2-d",
        lambda m, a: _set(a, "res.Score", a["res.Score"].reshape(-1, 1)),
        r"res\.Score: shape \[8, 1\], expected one dimension",
    ),
]


def corrupted_file(tmp_path: Path, corrupt: Corruption) -> Path:
    """A real saved world file with one field changed."""
    path = tmp_path / "w.npz"
    snapshot.save(make_world(), path)
    meta, arrays = read_npz(path)
    assert [s[0] for s in meta["schema"]][: HEALTH + 1] == ["Position", "Velocity", "Color", "Health"]
    corrupt(meta, arrays)
    write_npz(path, meta, arrays)
    return path


def assert_refused_untouched(path: Path, message: str, world: World | None = None) -> str:
    """Loading `path` is a one-line WorldFileError matching `message`; `world` is as it was."""
    world = world if world is not None else World(320, 240, seed=9, schema=small_schema())
    world.spawn(4, {"Color": None, "Player": None})
    world.resource("Score")["value"] = 5
    before = world_state(world)
    with pytest.raises(WorldFileError) as err:
        snapshot.load(path, world)
    text = str(err.value)
    assert re.match(rf"{re.escape(str(path))}: {message}", text), text
    assert "\n" not in text and len(text) < 400, text
    assert_same(world_state(world), before)
    assert_consistent(world)
    return text


@pytest.mark.parametrize(
    "corrupt, message", [(c, m) for _, c, m in FIELD_CORRUPTIONS], ids=[n for n, _, _ in FIELD_CORRUPTIONS]
)
def test_each_field_of_a_world_file_is_checked_before_the_world_changes(
    tmp_path: Path, corrupt: Corruption, message: str
) -> None:
    assert_refused_untouched(corrupted_file(tmp_path, corrupt), message)


def test_the_unchanged_file_loads(tmp_path: Path) -> None:
    """The corruptions above start from a file that loads."""
    path = corrupted_file(tmp_path, lambda m, a: None)
    world = World(320, 240, seed=9, schema=small_schema())
    snapshot.load(path, world)
    assert_consistent(world)
    assert world.step == 42


def test_more_entities_than_the_world_holds_is_refused(tmp_path: Path) -> None:
    path = corrupted_file(tmp_path, lambda m, a: None)
    small = World(320, 240, seed=9, schema=small_schema(), max_entities=20)
    assert_refused_untouched(path, r"entities: 39, more than this world's bound of 20$", small)


def test_oversized_metadata_and_members_are_refused_before_they_are_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = corrupted_file(tmp_path, lambda m, a: _set(m, "notes", "n" * 5000))
    monkeypatch.setattr(snapshot, "MAX_META", 4096)
    assert_refused_untouched(path, r"meta: [\d,]+ bytes, at most 4,096$")
    monkeypatch.undo()
    monkeypatch.setattr(snapshot, "memory_bound", lambda: 1000)  # as if a member would unpack past memory
    assert_refused_untouched(path, r"not a world file this machine can hold \([\d,]+ bytes unpacked, more than")


def test_a_format_1_file_with_an_infinite_step_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "old.npz"
    v1_file(path)
    meta, arrays = read_npz(path)
    meta["step"] = math.inf  # json writes Infinity; int() of it raised OverflowError
    write_npz(path, meta, arrays)
    assert_refused_untouched(path, rf"a {FORMAT_V1} file, but not a whole one \(cannot convert float infinity")


def test_the_world_bounds_match_what_a_library_may_describe() -> None:
    assert state.MAX_COMPONENTS == library.MAX_SCHEMA
    assert state.MAX_FIELDS == library.MAX_FIELDS
    assert state.MAX_NAME == library.MAX_NAME
    assert (state.MIN_SIZE, state.MAX_SIZE, state.MAX_SEED) == (64, 16384, 2**63 - 1)


def test_json_writes_nan_so_the_check_must_refuse_it() -> None:
    """The reason for the NaN case: a NaN default survives json (as `NaN`)."""
    assert math.isnan(json.loads(json.dumps([math.nan]))[0])


# --- system names ------------------------------------------------------------------------------


def test_a_system_must_be_named_after_its_file() -> None:
    check_name("foo", Path("ecs_systems/foo.zig"))
    with pytest.raises(HandshakeError) as err:
        check_name("bar", Path("ecs_systems/foo.zig"))
    assert str(err.value) == (
        "ecs_systems/foo.zig declares system 'bar': a system's name must be its file name (.name = \"foo\")"
    )
    with pytest.raises(HandshakeError) as err:
        check_name("foo\\x00\n\u202e", Path("ecs_systems/foo.zig"))  # shown escaped, on one line
    assert "\n" not in str(err.value) and "\u202e" not in str(err.value)


def test_two_files_declaring_one_name_are_both_named() -> None:
    check_unique({})
    check_unique({Path("ecs_systems/a.zig"): "a", Path("ecs_systems/b.zig"): "b"})
    with pytest.raises(HandshakeError) as err:
        check_unique(
            {Path("ecs_systems/c.zig"): "c", Path("ecs_systems/b.zig"): "twin", Path("ecs_systems/a.zig"): "twin"}
        )
    assert str(err.value) == (
        "ecs_systems/a.zig and ecs_systems/b.zig both declare system 'twin'; "
        "each system needs a name of its own (its file name)"
    )


def test_every_real_library_is_named_after_its_file(built_project: Path, libs: dict[str, Path], tmp_path: Path) -> None:
    """components.zig (the schema library, kind SCHEMA) and plugin_a / plugin_b (DEMO) included."""
    stems = {p.stem for p in (built_project / "ecs_systems").glob("*.zig")}
    assert set(libs) == stems and {"components", "plugin_a", "plugin_b"} <= stems
    declared: dict[Path, str] = {}
    for i, (name, path) in enumerate(libs.items()):
        lib = NativeLibrary.load(path, tmp_path, version=i)
        try:
            source = Path(f"ecs_systems/{name}.zig")
            check_name(lib.info.name, source)
            declared[source] = lib.info.name
            kinds = {"components": Kind.SCHEMA, "plugin_a": Kind.DEMO, "plugin_b": Kind.DEMO}
            assert lib.info.kind == kinds.get(name, lib.info.kind)
        finally:
            lib.close()
    check_unique(declared)


# --- what a library's Api says ------------------------------------------------------------------


class FakeApi:
    """An `Api` in cffi memory, as a well-formed library would return it: a system `fake`
    with one component Position {x, y: f32}, one query over it and one resource."""

    def __init__(self) -> None:
        self.keep: list[Any] = []
        api = self.api = self.new("Api *")
        api.abi_version = ABI_VERSION
        api.api_size = ffi.sizeof("Api")
        api.name = self.text(b"fake")
        api.kind = Kind.SIMULATION
        fields = self.new("FieldDecl[2]")
        for i, name in enumerate((b"x", b"y")):
            fields[i].name = self.text(name)
            fields[i].dtype = DType.F32
            fields[i].width = 1
            fields[i].offset = 4 * i
        components = self.new("ComponentDecl[2]")
        components[0].name, components[0].fields, components[0].field_count = self.text(b"Position"), fields, 2
        components[0].size = 8
        components[1].name, components[1].size, components[1].is_resource = self.text(b"Score"), 0, 1
        api.schema, api.schema_count = components, 2
        terms = self.new("TermDecl[1]")
        terms[0].component, terms[0].access = 0, Access.READ
        queries = self.new("QueryDecl[1]")
        queries[0].name, queries[0].terms, queries[0].term_count = self.text(b"movers"), terms, 1
        api.queries, api.query_count = queries, 1
        resources = self.new("TermDecl[1]")
        resources[0].component, resources[0].access = 1, Access.READ
        api.resources, api.resource_count = resources, 1
        api.run = ffi.cast("int32_t (*)(Frame *)", 1)  # never called: read_info only compares with NULL
        api.shutdown = ffi.cast("void (*)(void)", 1)
        for name, size in LAYOUT.items():
            setattr(api.layout, name, size)

    def new(self, kind: str) -> Any:
        value = ffi.new(kind)
        self.keep.append(value)
        return value

    def text(self, raw: bytes) -> Any:
        value = ffi.new("char[]", raw)
        self.keep.append(value)
        return value

    def info(self) -> SystemInfo:
        return read_info(self.api)


def test_the_fake_api_reads_back_and_passes() -> None:
    info = FakeApi().info()
    assert (info.name, [c.name for c in info.schema], info.problems) == ("fake", ["Position", "Score"], ())
    assert info.queries[0].terms[0].component == "Position" and info.resources[0].component == "Score"
    check_abi(info, "fake.zig")


@pytest.mark.parametrize(
    "raw, shown",
    [
        (b"bad\xff\x01\x1b[31mname", "bad\\xff\\x01\\x1b[31mname"),  # invalid UTF-8, control characters
        (b"mov\x00ement", "mov"),  # a C string ends at its first NUL
        (b"\xe2\x80\xaeevil", "\\u202eevil"),  # a right-to-left override
        (b"a" * 1000, "a" * library.MAX_NAME + "..."),  # read at most MAX_NAME bytes (+1 to know it is longer)
    ],
)
def test_names_are_clamped_and_escaped(raw: bytes, shown: str) -> None:
    fake = FakeApi()
    fake.api.name = fake.text(raw)
    fake.api.queries[0].name = fake.text(raw)
    info = fake.info()
    assert info.name == shown and info.queries[0].name == shown
    assert info.name.isprintable()
    if shown != "mov":
        with pytest.raises(HandshakeError) as err:
            check_name(info.name, Path("ecs_systems/fake.zig"))
        assert "\n" not in str(err.value) and str(err.value).isprintable()


def test_a_component_name_with_control_characters_is_refused_escaped() -> None:
    fake = FakeApi()
    fake.api.schema[0].name = fake.text(b"Posi\ntion")
    with pytest.raises(HandshakeError) as err:
        check_abi(fake.info(), "fake.zig")
    assert str(err.value) == "fake.zig: component name 'Posi\\\\ntion' is not an identifier"


def _null(owner: str, array: str) -> Callable[[FakeApi], None]:
    def change(fake: FakeApi) -> None:
        setattr(fake.api if owner == "api" else fake.api.queries[0], array, ffi.NULL)

    return change


ABSURD: list[tuple[str, Callable[[FakeApi], None], str]] = [
    (
        "schema_count",
        lambda f: setattr(f.api, "schema_count", 2**32 - 1),
        "Api.schema_count is 4294967295; the host reads at most 64",
    ),
    ("schema NULL", _null("api", "schema"), "Api.schema is NULL but Api.schema_count is 2"),
    (
        "field_count",
        lambda f: setattr(f.api.schema[0], "field_count", 1_000_000),
        "Api.schema[0].field_count is 1000000; the host reads at most 64",
    ),
    ("fields NULL", lambda f: setattr(f.api.schema[0], "fields", ffi.NULL), "Api.schema[0].fields is NULL but"),
    ("query_count", lambda f: setattr(f.api, "query_count", 33), "Api.query_count is 33; the host reads at most 32"),
    ("queries NULL", _null("api", "queries"), "Api.queries is NULL but Api.query_count is 1"),
    (
        "term_count",
        lambda f: setattr(f.api.queries[0], "term_count", 2**31),
        "Api.queries[0].term_count is 2147483648; the host reads at most 32",
    ),
    ("terms NULL", _null("query", "terms"), "Api.queries[0].terms is NULL but Api.queries[0].term_count is 1"),
    (
        "resource_count",
        lambda f: setattr(f.api, "resource_count", 4000),
        "Api.resource_count is 4000; the host reads at most 32",
    ),
    ("resources NULL", _null("api", "resources"), "Api.resources is NULL but Api.resource_count is 1"),
]


@pytest.mark.parametrize("change, problem", [(c, p) for _, c, p in ABSURD], ids=[n for n, _, _ in ABSURD])
def test_absurd_counts_are_refused_before_they_index_memory(change: Callable[[FakeApi], None], problem: str) -> None:
    fake = FakeApi()
    change(fake)
    info = fake.info()  # reading 2**32 entries of a 2-entry array would crash or read garbage
    assert info.problems and info.problems[0].startswith(problem), info.problems
    with pytest.raises(HandshakeError) as err:
        check_abi(info, "fake.zig")
    assert str(err.value).startswith(f"fake.zig: {problem}")
    assert str(err.value).endswith("; the library's Api is malformed")


def test_under_another_abi_only_the_header_is_read() -> None:
    fake = FakeApi()
    fake.api.abi_version = 99
    fake.api.schema_count, fake.api.schema = 2**32 - 1, ffi.cast("ComponentDecl *", 8)  # would crash if read
    info = fake.info()
    assert (info.name, info.schema, info.queries, info.problems, info.layout) == ("fake", (), (), (), ())
    with pytest.raises(HandshakeError, match=rf"^fake\.zig: ABI version 99, host expects {ABI_VERSION}"):
        check_abi(info, "fake.zig")
    fake.api.abi_version, fake.api.api_size = ABI_VERSION, 16
    with pytest.raises(HandshakeError, match=r"^fake\.zig: Api struct is 16 bytes"):
        check_abi(fake.info(), "fake.zig")


LAYOUT_LIES: list[tuple[str, Callable[[FakeApi], None], str]] = [
    (
        "NaN default",
        lambda f: setattr(f.api.schema[0].fields[0], "default_value", math.nan),
        "Position.x: default is NaN",
    ),
    (
        "default out of range",
        lambda f: (
            setattr(f.api.schema[0].fields[0], "dtype", DType.U8),
            setattr(f.api.schema[0].fields[0], "default_value", 300),
        ),
        "Position.x: default 300.0 is not a u8 value",
    ),
    ("field twice", lambda f: setattr(f.api.schema[0].fields[1], "name", f.text(b"x")), "Position.x: declared twice"),
    (
        "overlapping fields",
        lambda f: setattr(f.api.schema[0].fields[1], "offset", 2),
        "Position.y: offset 2 overlaps the field before it",
    ),
    (
        "absurd payload",
        lambda f: setattr(f.api.schema[1], "size", 2**31),
        "Score: size 2147483648 is not 0..268435456 bytes",
    ),
    (
        "component twice",
        lambda f: setattr(f.api.schema[1], "name", f.text(b"Position")),
        "component Position is described twice",
    ),
]


@pytest.mark.parametrize("change, message", [(c, m) for _, c, m in LAYOUT_LIES], ids=[n for n, _, _ in LAYOUT_LIES])
def test_layouts_a_world_file_could_not_hold_are_refused(change: Callable[[FakeApi], None], message: str) -> None:
    fake = FakeApi()
    change(fake)
    with pytest.raises(HandshakeError) as err:
        check_abi(fake.info(), "fake.zig")
    assert str(err.value) == f"fake.zig: {message}"


def test_real_libraries_with_lying_apis_are_refused(project: Path, tmp_path: Path) -> None:
    """Built by the real compiler: one claims four billion components and a thousand
    queries, one has a 305-byte name of invalid UTF-8 and a control character."""
    systems = project / "ecs_systems"
    (systems / "liar_counts.zig").write_text(
        system("liar_counts", "    _ = w;", lie="    a.schema_count = 4000000000;\n    a.query_count = 1000;")
    )
    (systems / "liar_name.zig").write_text(system("bad\\xff\\x01" + "n" * 300, "    _ = w;"))
    result = ZigBuild(project).run(timeout=600)
    assert result.ok, result.output
    lib_dir = project / "zig-out" / "lib"
    counts = NativeLibrary.load(lib_dir / "libliar_counts.so", tmp_path, version=1)
    try:
        assert counts.info.problems == (
            "Api.schema_count is 4000000000; the host reads at most 64",
            "Api.query_count is 1000; the host reads at most 32",
        )
        with pytest.raises(HandshakeError) as err:
            check_abi(counts.info, "ecs_systems/liar_counts.zig")
        assert str(err.value) == (
            "ecs_systems/liar_counts.zig: Api.schema_count is 4000000000; the host reads at most 64; "
            "the library's Api is malformed"
        )
    finally:
        counts.close()
    named = NativeLibrary.load(lib_dir / "libliar_name.so", tmp_path, version=2)
    try:
        assert named.info.name == "bad\\xff\\x01" + "n" * 250 + "..."
        check_abi(named.info, "ecs_systems/liar_name.zig")  # a name is only text to the ABI check
        with pytest.raises(HandshakeError) as err:
            check_name(named.info.name, Path("ecs_systems/liar_name.zig"))
        message = str(err.value)
        assert message.startswith("ecs_systems/liar_name.zig declares system 'bad\\\\xff\\\\x01nnn")
        assert message.isprintable()
    finally:
        named.close()


def test_system_info_problems_default_to_none() -> None:
    info = SystemInfo(ABI_VERSION, ffi.sizeof("Api"), "x", 1, Kind.SIMULATION, 0)
    assert info.problems == () and dataclasses.replace(info, problems=("p",)).problems == ("p",)
