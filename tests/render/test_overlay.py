"""The error overlay's pixels for a real compiler error: the caret is drawn in the cell of the
character the compiler names, at `cell * advance`, through tabs, UTF-8, wide characters and a
window cut out of a long line."""

from __future__ import annotations

import logging
import subprocess
import sys
import unicodedata
from pathlib import Path

import numpy as np
import pygame
import pytest

from game.hotreload.excerpt import ELLIPSIS
from game.hotreload.reloader import Reloader
from game.hotreload.zigbuild import CompileError, parse_errors
from game.native.input import InputState
from game.pipeline import Pipeline
from game.render.hud import DIM, OVERLAY, Hud, HudState
from game.render.textgrid import MONO, TextGrid, load_mono
from game.world.world import World

LONG = "p" * 150
BROKEN = (
    "export fn f() i32 {\n"
    '\tconst s = "héllo 日本"; const x: i32 = s;\n'  # a tab, a two-byte é, two wide ideographs
    "\treturn x;\n"
    "}\n"
    "export fn g() i32 {\n"
    f'    const pad = "{LONG}"; const y: i32 = pad; _ = "{LONG}";\n'  # 350 cells: cut to a window
    "    return y;\n"
    "}\n"
)
SIZE = (640, 240)


@pytest.fixture(scope="module")
def errors(tmp_path_factory: pytest.TempPathFactory) -> tuple[CompileError, ...]:
    """The errors of a real `zig build-lib` of BROKEN, parsed from the compiler's output."""
    folder = tmp_path_factory.mktemp("broken")
    (folder / "broken.zig").write_text(BROKEN, encoding="utf-8")
    out = subprocess.run(
        [sys.executable, "-m", "ziglang", "build-lib", "broken.zig", "-fno-emit-bin"],
        cwd=folder,
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=600,
    )
    assert out.returncode != 0
    found = parse_errors(out.stderr)
    assert [(e.line, e.message.startswith("expected type 'i32'")) for e in found] == [(2, True), (6, True)], out.stderr
    return found


def named(error: CompileError) -> str:
    """The character at the error's column, read from the source file's bytes (Zig counts bytes)."""
    line = BROKEN.splitlines()[error.line - 1].encode("utf-8")
    return line[error.column - 1 :].decode("utf-8")[0]


def drawn(font: pygame.font.Font | None, errors: tuple[CompileError, ...]) -> tuple[Hud, np.ndarray]:
    """The screen after Hud.draw with these errors, the panel's pixels (x, y, rgba)."""
    pygame.font.init()
    pipeline = Pipeline(World(*SIZE, seed=1), InputState())
    reloader = Reloader(Path("."), pipeline, canary=False)
    reloader.errors = errors
    hud = Hud()
    if font is not None:
        hud.grid = TextGrid(font)
    hud.visible = False  # no status panel: the screen holds the overlay alone
    screen = pygame.Surface(SIZE, pygame.SRCALPHA)
    screen.fill((0, 0, 0, 255))
    hud.draw(screen, HudState(60, False, 0, 0), pipeline, reloader, 0.0)
    panel = hud.overlay(hud.error_lines(pipeline, reloader, hud.grid.columns(SIZE[0] - 36)), SIZE[0] - 20)
    top = SIZE[1] - panel.get_height() - 10
    on_screen = pygame.surfarray.array3d(screen)[10 : SIZE[0] - 10, top : SIZE[1] - 10]
    backing = pygame.Surface(SIZE, pygame.SRCALPHA)
    backing.fill((0, 0, 0, 255))
    backing.blit(panel, (10, top))
    np.testing.assert_array_equal(on_screen, pygame.surfarray.array3d(backing)[10 : SIZE[0] - 10, top : SIZE[1] - 10])
    rgb = pygame.surfarray.array3d(panel).astype(int)
    alpha = pygame.surfarray.array_alpha(panel).astype(int)
    return hud, np.dstack([rgb, alpha])


def cell(hud: Hud, pixels: np.ndarray, row: int, index: int) -> np.ndarray:
    """The pixels of cell `index` of text row `row` (the panel's text starts at (8, 6))."""
    x, y = 8 + index * hud.grid.advance, 6 + row * (hud.grid.height + 2)
    return pixels[x : x + hud.grid.advance, y : y + hud.grid.height]


def glyph(hud: Hud, ch: str) -> np.ndarray:
    """`ch` alone, centred in one cell on the overlay's colour: what the cell must hold."""
    grid = hud.grid
    surface = pygame.Surface((grid.advance, grid.height), pygame.SRCALPHA)
    surface.fill(OVERLAY)
    image = grid.font.render(ch, True, DIM)
    surface.blit(image, ((grid.advance - image.get_width()) // 2, 0))
    return np.dstack([pygame.surfarray.array3d(surface), pygame.surfarray.array_alpha(surface)]).astype(int)


def caret_cell(hud: Hud, pixels: np.ndarray, row: int) -> int:
    """The cell of the only ink in text row `row`: the caret."""
    y = 6 + row * (hud.grid.height + 2)
    band = pixels[:, y : y + hud.grid.height]
    ink = np.nonzero((band != np.array(OVERLAY)).any(axis=(1, 2)))[0]
    assert ink.size and ink.max() - ink.min() < hud.grid.advance, "one glyph: the caret"
    return int((ink.min() - 8) // hud.grid.advance)


@pytest.mark.parametrize("font", ["mono", "fallback"])
def test_the_caret_is_drawn_in_the_cell_of_the_named_character(errors: tuple[CompileError, ...], font: str) -> None:
    pygame.font.init()
    chosen = None if font == "mono" else pygame.font.Font(None, 18)
    hud, pixels = drawn(chosen, errors)
    if font == "mono":
        assert all(hud.grid.font.size(ch)[0] == hud.grid.advance for ch in "s^pé")  # x = cell * advance
    first, second = errors
    assert named(first) == "s" and named(second) == "p"
    # Rows: 0 the header, 1 error, 2 its line, 3 its caret, 4 error, 5 its line, 6 its caret.
    line = BROKEN.splitlines()[first.line - 1]
    before = line.encode("utf-8")[: first.column - 1].decode("utf-8")  # Zig prints the tab as one space
    expected = sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in before)
    assert caret_cell(hud, pixels, 3) == expected
    for source_row, caret_row, ch in ((2, 3, "s"), (5, 6, "p")):
        at = caret_cell(hud, pixels, caret_row)
        np.testing.assert_array_equal(cell(hud, pixels, caret_row, at), glyph(hud, "^"))
        np.testing.assert_array_equal(cell(hud, pixels, source_row, at), glyph(hud, ch))
    columns = hud.grid.columns(SIZE[0] - 36)
    shown = second.excerpt(columns)[0]
    assert shown.startswith(ELLIPSIS) and shown.endswith(ELLIPSIS) and len(shown) == columns  # a window
    np.testing.assert_array_equal(cell(hud, pixels, 5, 0), glyph(hud, ELLIPSIS))


def test_without_the_bundled_font_the_default_font_is_used_and_logged(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    pygame.font.init()
    assert MONO.is_file() and (MONO.parent / "LICENSE-DejaVu.txt").is_file()
    with caplog.at_level(logging.WARNING, logger="sandbox"):
        font = load_mono(path=tmp_path / "missing.ttf")
    assert "missing.ttf" in caplog.text and "default font" in caplog.text
    assert font.size("i")[0] < font.size("M")[0]  # pygame's proportional default
