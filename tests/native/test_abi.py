"""Pins the cffi mirror to the same sizes and offsets as sdk.zig's own layout test."""

from __future__ import annotations

import re

import pytest

from game.cli import PROJECT_ROOT
from game.native.abi import ABI_VERSION, Access, Kind, Status, ffi
from game.world.schema import DType

SDK = (PROJECT_ROOT / "ecs_systems" / "sdk" / "sdk.zig").read_text()

LAYOUT = {
    "ColumnDecl": (32, {"name": 0, "dtype": 8, "width": 12, "access": 16, "default_value": 24}),
    "Column": (32, {"ptr": 0, "len": 8, "stride": 16, "dtype": 24, "width": 28}),
    "Input": (16, {"mouse_x": 0, "mouse_y": 4, "buttons": 8, "mouse_in_window": 12}),
    "Target": (24, {"pixels": 0, "width": 8, "height": 12, "pitch": 16}),
    "Frame": (
        112,
        {
            "dt": 0,
            "step": 8,
            "count": 16,
            "columns": 24,
            "column_count": 32,
            "world_width": 36,
            "world_height": 40,
            "input": 44,
            "target": 64,
            "message": 88,
            "message_cap": 96,
            "message_len": 104,
        },
    ),
    "Api": (
        80,
        {
            "abi_version": 0,
            "api_size": 4,
            "name": 8,
            "build_id": 16,
            "kind": 20,
            "order": 24,
            "column_count": 28,
            "columns": 32,
            "run": 40,
            "shutdown": 48,
            "state_version": 56,
            "save_state": 64,
            "load_state": 72,
        },
    ),
}


@pytest.mark.parametrize("struct", sorted(LAYOUT))
def test_struct_layout_is_pinned(struct: str) -> None:
    size, offsets = LAYOUT[struct]
    assert ffi.sizeof(struct) == size
    for field, offset in offsets.items():
        assert ffi.offsetof(struct, field) == offset, f"{struct}.{field}"


def test_sdk_pins_the_same_numbers() -> None:
    """The Zig test pins the same sizes: a change on one side only fails here."""
    for struct, (size, offsets) in LAYOUT.items():
        assert f"expectEqual({size}, @sizeOf({struct}))" in SDK, struct
        for field, offset in offsets.items():
            if offset:
                zig_field = "default" if field == "default_value" else field  # `default` is reserved in C
                assert f'expectEqual({offset}, @offsetOf({struct}, "{zig_field}"))' in SDK, f"{struct}.{field}"


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
