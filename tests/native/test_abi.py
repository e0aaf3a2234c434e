"""Pins the cffi mirror (game/native/abi.py) to the same sizes and offsets as sdk.zig's own
layout test, and to what a real library reports in its `Api.layout`."""

from __future__ import annotations

import re
from pathlib import Path

from game.cli import PROJECT_ROOT
from game.native.abi import ABI_VERSION, CDEF, COMMAND_DTYPE, LAYOUT, Access, Kind, Op, Status, ffi
from game.native.library import NativeLibrary
from game.world.schema import DType

SDK = (PROJECT_ROOT / "ecs_systems" / "sdk" / "sdk.zig").read_text()

# Every struct of the CDEF, its size and the offset of every field (C names).
PINNED: dict[str, tuple[int, dict[str, int]]] = {
    "FieldDecl": (32, {"name": 0, "dtype": 8, "width": 12, "offset": 16, "_reserved": 20, "default_value": 24}),
    "ComponentDecl": (
        32,
        {"name": 0, "fields": 8, "field_count": 16, "size": 20, "is_resource": 24, "_reserved": 28},
    ),
    "TermDecl": (8, {"component": 0, "access": 4}),
    "QueryDecl": (24, {"name": 0, "terms": 8, "term_count": 16, "_reserved": 20}),
    "TunableDecl": (24, {"name": 0, "default_value": 8, "min": 12, "max": 16, "step": 20}),
    "Layout": (
        48,
        {
            "frame": 0,
            "input": 4,
            "table_view": 8,
            "query_view": 12,
            "command": 16,
            "commands": 20,
            "component_decl": 24,
            "field_decl": 28,
            "query_decl": 32,
            "target": 36,
            "entity_index": 40,
            "tunable_decl": 44,
        },
    ),
    "EntityIndex": (24, {"generations": 0, "tables": 8, "len": 16}),
    "TableView": (24, {"count": 0, "entities": 8, "columns": 16}),
    "QueryView": (16, {"tables": 0, "table_count": 8, "column_count": 12}),
    "Input": (
        120,
        {
            "mouse_x": 0,
            "mouse_y": 4,
            "buttons": 8,
            "buttons_pressed": 12,
            "buttons_released": 16,
            "mouse_in_window": 20,
            "keys_held": 24,
            "keys_pressed": 56,
            "keys_released": 88,
        },
    ),
    "Command": (32, {"op": 0, "component": 4, "entity": 8, "mask": 16, "data_offset": 24}),
    "Commands": (
        56,
        {"records": 0, "cap": 8, "len": 16, "data": 24, "data_cap": 32, "data_len": 40, "dropped": 48},
    ),
    "Target": (24, {"pixels": 0, "width": 8, "height": 12, "pitch": 16, "_reserved": 20}),
    "Frame": (
        152,
        {
            "dt": 0,
            "_reserved": 4,
            "step": 8,
            "world_width": 16,
            "world_height": 20,
            "queries": 24,
            "query_count": 32,
            "resource_count": 36,
            "resources": 40,
            "input": 48,
            "commands": 56,
            "target": 64,
            "message": 88,
            "message_cap": 96,
            "message_len": 104,
            "entities": 112,
            "tunables": 136,
            "tunable_count": 144,
            "_reserved2": 148,
        },
    ),
    "Api": (
        168,
        {
            "abi_version": 0,
            "api_size": 4,
            "name": 8,
            "build_id": 16,
            "kind": 20,
            "order": 24,
            "schema_count": 28,
            "schema": 32,
            "query_count": 40,
            "resource_count": 44,
            "queries": 48,
            "resources": 56,
            "run": 64,
            "shutdown": 72,
            "state_version": 80,
            "_reserved": 84,
            "save_state": 88,
            "load_state": 96,
            "layout": 104,
            "tunable_count": 152,
            "_reserved2": 156,
            "tunables": 160,
        },
    ),
}

C_NAME = {"default": "default_value"}  # `default` is a C keyword


def zig_name(c_field: str) -> str:
    return {v: k for k, v in C_NAME.items()}.get(c_field, c_field)


def sdk_pins() -> tuple[dict[str, int], dict[tuple[str, str], int]]:
    """The sizes and offsets sdk.zig's test "ABI layout is pinned" expects, parsed from it."""
    block = re.search(r'test "ABI layout is pinned[^"]*" \{(.*?)\n\}', SDK, re.S)
    assert block, "sdk.zig has no layout test"
    body = block.group(1)
    sizes = {s: int(n) for n, s in re.findall(r"expect\((\d+), @sizeOf\((\w+)\)\)", body)}
    offsets = {(s, f): int(n) for n, s, f in re.findall(r'expect\((\d+), @offsetOf\((\w+), "(\w+)"\)\)', body)}
    assert len(sizes) >= 10 and len(offsets) >= 40, "the layout test was not parsed"
    return sizes, offsets


def cdef_structs() -> list[str]:
    return re.findall(r"\}\s*(\w+);", CDEF)


def zig_fields(struct: str) -> list[str]:
    """The field names of `pub const <struct> = extern struct { ... };` in sdk.zig, in order."""
    body = re.search(rf"pub const {struct} = extern struct \{{\n(.*?)\n\}};", SDK, re.S)
    assert body, struct
    return re.findall(r"^    (\w+): ", body.group(1), re.M)


def test_every_cdef_struct_is_pinned_field_by_field() -> None:
    assert sorted(cdef_structs()) == sorted(PINNED)
    for struct, (size, offsets) in PINNED.items():
        assert ffi.sizeof(struct) == size, struct
        fields = [name for name, _ in ffi.typeof(struct).fields]
        assert fields == list(offsets), f"{struct}: fields {fields}"
        for field, offset in offsets.items():
            assert ffi.offsetof(struct, field) == offset, f"{struct}.{field}"


def test_sdk_layout_test_pins_the_same_numbers() -> None:
    """Both sides pin the same numbers: a change on one side only fails here (or in `zig build test`)."""
    sizes, offsets = sdk_pins()
    assert sizes == {s: size for s, (size, _) in PINNED.items()}  # every struct's size, on both sides
    for (struct, field), offset in offsets.items():
        c_field = C_NAME.get(field, field)
        assert struct in PINNED and c_field in PINNED[struct][1], f"sdk pins {struct}.{field}, the host does not"
        assert PINNED[struct][1][c_field] == offset, f"{struct}.{field}"
        assert ffi.offsetof(struct, c_field) == offset, f"{struct}.{field}"


def test_cdef_fields_are_the_sdk_fields_in_the_same_order() -> None:
    for struct, (_, offsets) in PINNED.items():
        assert zig_fields(struct) == [zig_name(f) for f in offsets], struct


def test_layout_is_the_size_of_every_abi_struct() -> None:
    names = {
        "frame": "Frame",
        "input": "Input",
        "table_view": "TableView",
        "query_view": "QueryView",
        "command": "Command",
        "commands": "Commands",
        "component_decl": "ComponentDecl",
        "field_decl": "FieldDecl",
        "query_decl": "QueryDecl",
        "target": "Target",
        "entity_index": "EntityIndex",
        "tunable_decl": "TunableDecl",
    }
    assert list(LAYOUT) == list(PINNED["Layout"][1])
    assert {field: PINNED[struct][0] for field, struct in names.items()} == LAYOUT
    # and sdk.zig's Layout defaults are @sizeOf the same structs
    for field, struct in names.items():
        assert f"{field}: u32 = @sizeOf({struct})," in SDK, field


def test_command_dtype_matches_the_command_struct() -> None:
    assert COMMAND_DTYPE.itemsize == ffi.sizeof("Command")
    assert {name: COMMAND_DTYPE.fields[name][1] for name in COMMAND_DTYPE.names} == PINNED["Command"][1]


def _zig_enum(name: str) -> dict[str, int]:
    body = re.search(rf"pub const {name} = enum\(\w+\) \{{(.*?)\}};", SDK, re.S)
    assert body, name
    return {k: int(v) for k, v in re.findall(r"(\w+) = (\d+)", body.group(1))}


def test_constants_mirror_the_sdk() -> None:
    assert re.search(rf"pub const abi_version: u32 = {ABI_VERSION};", SDK)
    assert _zig_enum("DType") == {d.name.lower(): d.value for d in DType}
    assert _zig_enum("Access") == {a.name.lower(): a.value for a in Access}
    assert _zig_enum("Kind") == {k.name.lower(): k.value for k in Kind}
    assert _zig_enum("Status") == {s.name.lower(): s.value for s in Status}
    assert _zig_enum("Op") == {o.name.lower(): o.value for o in Op}


def test_every_built_library_reports_the_hosts_layout(libs: dict[str, Path], tmp_path: Path) -> None:
    assert {"components", "movement", "attractor", "lifetime", "render"} <= set(libs)
    for i, path in enumerate(libs.values()):
        lib = NativeLibrary.load(path, tmp_path, version=i)
        try:
            assert dict(lib.info.layout) == LAYOUT, path.name
            assert (lib.info.abi_version, lib.info.api_size) == (ABI_VERSION, ffi.sizeof("Api")), path.name
        finally:
            lib.close()
