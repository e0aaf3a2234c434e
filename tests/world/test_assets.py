"""Asset files into resources (game/world/assets.py): tables from JSON, palettes and sprites
from real PNGs (pygame writes and decodes them), every refusal with a message that names the
file and says what is wrong, and the store: a bad file keeps the last good values, a saved
file is read again when asked, and the files' values come back after the world is reset."""

from __future__ import annotations

import io
import json
import os
from pathlib import Path
from typing import Any

import pygame
import pytest

from game.render.images import load_image
from game.world.asset_formats import AssetError, decode
from game.world.assets import AssetStore
from game.world.schema import ComponentSpec, DType, component
from game.world.world import World

WAVES = component(
    "Waves",
    resource=True,
    count=DType.U32,
    breather=(DType.F32, 1, 1.5),
    rocks=(DType.U32, 4),
    max_speed=(DType.F32, 4),
)
PALETTE = component("Palette", resource=True, count=DType.U32, rgb=(DType.U32, 8))
SPRITE = component("ShipSprite", resource=True, width=DType.U32, height=DType.U32, pixels=(DType.U32, 16))
SPECS = (WAVES, PALETTE, SPRITE)
GOOD = {"breather": 2.5, "waves": [{"rocks": 3, "max_speed": 76}, {"rocks": 5, "max_speed": 82.5}]}


def write(path: Path, content: Any) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content if isinstance(content, bytes) else json.dumps(content).encode())
    return path


def png(pixels: list[list[int]]) -> bytes:
    """A PNG of `pixels` (rows of 0xAARRGGBB), written by pygame."""
    h, w = len(pixels), len(pixels[0])
    surface = pygame.Surface((w, h), pygame.SRCALPHA)
    for y, row in enumerate(pixels):
        for x, p in enumerate(row):
            surface.set_at((x, y), (p >> 16 & 255, p >> 8 & 255, p & 255, p >> 24 & 255))
    out = io.BytesIO()
    pygame.image.save(surface, out, "x.png")
    return out.getvalue()


def refusal(tmp_path: Path, content: Any, spec: ComponentSpec = WAVES, name: str = "waves.json") -> str:
    with pytest.raises(AssetError) as caught:
        decode(write(tmp_path / name, content), spec, load_image)
    return str(caught.value)


def test_a_table_fills_the_scalars_the_rows_and_the_count(tmp_path: Path) -> None:
    value = decode(write(tmp_path / "waves.json", GOOD), WAVES, load_image)
    assert value["count"][0] == 2
    assert value["breather"][0] == pytest.approx(2.5)
    assert value["rocks"][0].tolist() == [3, 5, 0, 0]
    assert value["max_speed"][0].tolist() == [76, 82.5, 0, 0]
    # A whole number written as 3.0 is a whole number.
    again = {"breather": 1, "waves": [{"rocks": 3.0, "max_speed": 1}]}
    assert decode(write(tmp_path / "waves.json", again), WAVES, load_image)["rocks"][0, 0] == 3


@pytest.mark.parametrize(
    ("content", "says"),
    [
        (b'{"breather": 1.5,\n "waves": [}', "not valid JSON: line 2 column"),
        (b"\xff\xfe{}", "not UTF-8 text"),
        ([1, 2], 'it must be an object: {"waves"'),
        ({"breather": 1, "wavs": []}, 'unknown key "wavs"; the keys are breather, waves'),
        ({"waves": [{"rocks": 1, "max_speed": 1}]}, 'no "breather"'),
        ({"breather": 1, "waves": []}, '"waves" must be a list of at least one row'),
        ({"breather": 1, "waves": [{"rocks": 1, "max_speed": 1}] * 5}, '5 rows in "waves", Waves holds at most 4'),
        ({"breather": 1, "waves": [{"rocks": 1, "max_speed": 1}, 7]}, 'row 2 of "waves" is 7; it must be an object'),
        ({"breather": 1, "waves": [{"rocks": 1}]}, 'row 1 of "waves": no "max_speed"'),
        (
            {"breather": 1, "waves": [{"rocks": -1, "max_speed": 1}]},
            '"rocks" must be a whole number from 0 to 4294967295, not -1',
        ),
        ({"breather": 1, "waves": [{"rocks": 2.5, "max_speed": 1}]}, "not 2.5"),
        ({"breather": 1, "waves": [{"rocks": True, "max_speed": 1}]}, "not true"),
        (
            {"breather": "soon", "waves": [{"rocks": 1, "max_speed": 1}]},
            'the file: "breather" must be a number, not "soon"',
        ),
        (b'{"breather": NaN, "waves": [{"rocks": 1, "max_speed": 1}]}', '"breather" must be a number, not NaN'),
        ({"breather": 1e39, "waves": [{"rocks": 1, "max_speed": 1}]}, '"breather" must be a number'),
    ],
)
def test_a_bad_table_is_refused_saying_what_and_where(tmp_path: Path, content: Any, says: str) -> None:
    assert says in refusal(tmp_path, content)


def test_files_that_cannot_be_used_at_all(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(AssetError, match="cannot read the file: No such file or directory"):
        decode(tmp_path / "missing.json", WAVES, load_image)
    assert "not an asset format" in refusal(tmp_path, b"x", name="waves.txt")
    monkeypatch.setattr("game.world.asset_formats.MAX_BYTES", 10)
    assert "the file is 11 bytes, more than 10" in refusal(tmp_path, b"[" + b" " * 9 + b"]")


def test_a_palette_is_the_top_row_and_a_sprite_every_pixel(tmp_path: Path) -> None:
    strip = write(tmp_path / "palette.png", png([[0xFF102030, 0x80405060, 0xFFFFFFFF], [0xFF000000] * 3]))
    value = decode(strip, PALETTE, load_image)
    assert value["count"][0] == 3
    assert value["rgb"][0].tolist() == [0x102030, 0x405060, 0xFFFFFF, 0, 0, 0, 0, 0]  # alpha dropped

    picture = [[0xFF0000FF, 0x00000000, 0x7F00FF00], [0xFFFFFFFF, 0xFF123456, 0x01020304]]
    value = decode(write(tmp_path / "ship.png", png(picture)), SPRITE, load_image)
    assert (value["width"][0], value["height"][0]) == (3, 2)
    assert value["pixels"][0, :6].tolist() == [p if p >> 24 else 0 for row in picture for p in row]


def test_bad_images_are_refused_saying_why(tmp_path: Path) -> None:
    assert "cannot decode the image" in refusal(tmp_path, b"not a png", SPRITE, "ship.png")
    big = png([[0xFFFFFFFF] * 5] * 4)
    assert "the image is 5x4, 20 pixels; ShipSprite holds at most 16" in refusal(tmp_path, big, SPRITE, "ship.png")
    wide = png([[0xFFFFFFFF] * 9])
    assert "9 colours (pixels across), Palette holds at most 8" in refusal(tmp_path, wide, PALETTE, "palette.png")
    assert "Waves takes no image" in refusal(tmp_path, png([[0]]), WAVES, "waves.png")
    assert "ShipSprite is not a table" in refusal(tmp_path, GOOD, SPRITE)


# --- the store ---------------------------------------------------------------------------------


def world() -> World:
    return World(64, 64, seed=1, schema=SPECS)


def store(root: Path) -> AssetStore:
    assets = AssetStore(root, load_image)
    assets.use({"Waves": "arena/waves.json", "Palette": "flock/palette.png"})
    return assets


def save(path: Path, content: Any) -> None:
    """Writes `content` and moves the file's mtime on (two saves within a clock tick look alike)."""
    write(path, content)
    st = path.stat()
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000_000))


def test_the_store_writes_files_into_resources_and_reads_them_again_when_asked(tmp_path: Path) -> None:
    table = write(tmp_path / "arena" / "waves.json", GOOD)
    write(tmp_path / "flock" / "palette.png", png([[0xFF010203, 0xFF040506]]))
    w, assets = world(), store(tmp_path)
    done = assets.apply(w)
    assert done.loaded == ["assets/arena/waves.json", "assets/flock/palette.png"] and not done.failed
    assert sorted(done.written) == ["Palette", "Waves"]
    assert w.resource("Waves")["rocks"][0, :2].tolist() == [3, 5]
    assert w.resource("Palette")["rgb"][0, :2].tolist() == [0x010203, 0x040506]

    nothing = assets.apply(w)
    assert not (nothing.loaded or nothing.failed or nothing.written)

    save(table, {**GOOD, "waves": [{"rocks": 9, "max_speed": 1}]})
    assert not assets.apply(w).loaded  # not asked: not read (the watcher asks)
    assets.request("saved arena/waves.json", 0.0)
    done = assets.apply(w)
    assert done.loaded == ["assets/arena/waves.json"] and done.written == ["Waves"]
    assert w.resource("Waves")["count"][0] == 1
    assert w.resource("Waves")["rocks"][0, :2].tolist() == [9, 0]


def test_a_bad_file_keeps_the_last_good_values_and_says_why_until_it_is_fixed(tmp_path: Path) -> None:
    table = write(tmp_path / "arena" / "waves.json", GOOD)
    w, assets = world(), store(tmp_path)
    assets.apply(w)
    before = w.resource("Waves").copy()

    save(table, b'{"breather": 1, "waves": [{"rocks": 4, "max_speed": 1},]}')
    assets.request()
    done = assets.apply(w)
    assert len(done.failed) == 1 and not done.written
    assert done.failed[0].startswith("assets/arena/waves.json: not valid JSON: line 1 column")
    assert done.failed[0].endswith("; the last good values stay in use")
    assert w.resource("Waves").tobytes() == before.tobytes()
    assert any("waves.json: not valid JSON" in p for p in assets.problems())
    # The palette never loaded (no file): its resource keeps its defaults, and it says so.
    assert any(
        "flock/palette.png: cannot read the file" in p and "Palette keeps the values it has" in p
        for p in assets.problems()
    )

    assets.request()
    assert not assets.apply(w).failed  # the same error is not reported twice

    save(table, {**GOOD, "breather": 4})
    assets.request()
    done = assets.apply(w)
    assert done.loaded == ["assets/arena/waves.json"] and done.written == ["Waves"]
    assert w.resource("Waves")["breather"][0] == 4
    assert not any("waves.json" in p for p in assets.problems())


def test_assets_are_not_world_data_the_files_values_come_back_after_a_reset(tmp_path: Path) -> None:
    write(tmp_path / "arena" / "waves.json", GOOD)
    w, assets = world(), store(tmp_path)
    assets.apply(w)
    w.reset()  # what a scene change does; a rewind or a load puts older values back the same way
    assert w.resource("Waves")["count"][0] == 0
    done = assets.apply(w)
    assert done.written == ["Waves"] and not done.loaded  # written back, not read again
    assert w.resource("Waves")["rocks"][0, :2].tolist() == [3, 5]


def test_a_changed_resource_layout_reads_the_file_again(tmp_path: Path) -> None:
    table = write(tmp_path / "arena" / "waves.json", GOOD)
    w, assets = world(), store(tmp_path)
    assets.apply(w)
    fields = {f.name: (f.dtype, f.width, f.default) for f in WAVES.fields}
    more = component("Waves", resource=True, **fields, hunters=(DType.U32, 4))  # type: ignore[arg-type]
    w.migrate({**w.schema, "Waves": more})  # keeps the values, the new field at its default
    assert not assets.apply(w).written
    assert any(
        'row 1 of "waves": no "hunters"' in p and "Waves keeps the values it has" in p for p in assets.problems()
    )

    save(table, {**GOOD, "waves": [{"rocks": 3, "max_speed": 76, "hunters": 2}]})
    assets.request()
    assert assets.apply(w).written == ["Waves"]
    assert w.resource("Waves")["hunters"][0].tolist() == [2, 0, 0, 0]

    assets.use({"Wave": "arena/waves.json"})  # a typo in a scene's assets
    assets.apply(w)
    assert assets.problems() == [
        "assets/arena/waves.json: components.zig declares no resource Wave; declare it, or drop the file "
        "from the scene's assets"
    ]


def test_a_system_writing_to_an_asset_resource_is_undone_and_said_once(tmp_path: Path) -> None:
    write(tmp_path / "arena" / "waves.json", GOOD)
    w, assets = world(), store(tmp_path)
    assets.apply(w)
    for _ in range(2):
        w.resource("Waves")["rocks"][0, 0] = 99  # what a system declaring `.write` could do in a step
        w.step += 1
        done = assets.apply(w)
        assert w.resource("Waves")["rocks"][0, 0] == 3
        assert not done.written  # not a change of data: the pipeline's epoch stays
    assert assets.apply(w).overwritten == []
    w.resource("Waves")["rocks"][0, 0] = 99
    w.step += 1
    assert assets.apply(w).overwritten == []  # said once

    fresh = store(tmp_path)
    fresh.apply(w)
    w.resource("Waves")["rocks"][0, 0] = 99
    w.step += 1
    assert fresh.apply(w).overwritten == [
        "Waves holds assets/arena/waves.json, which systems only read: a system's write to it is undone at "
        "every frame boundary (declare it `.read`, or edit the file)"
    ]
    w.resource("Waves")["rocks"][0, 0] = 99
    w.step -= 30  # a rewind: the world went back, nobody wrote
    done = fresh.apply(w)
    assert done.written == ["Waves"] and not done.overwritten
