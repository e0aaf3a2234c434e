"""TextGrid: text drawn on a grid of cells, in the bundled monospace font.

Code and a caret under it must share columns: `game/hotreload/excerpt.py` lays a line out in
cells (tabs, wide characters), and TextGrid draws each character at `cell * advance`, a wide
one centred in its two cells. The grid holds even where the font does not: a glyph the font
lacks (a box) or pygame's proportional fallback font still lands in its own cell.
"""

from __future__ import annotations

import logging
from pathlib import Path

import pygame

from game.hotreload.excerpt import clusters

log = logging.getLogger("sandbox")

MONO = Path(__file__).resolve().parent.parent.parent / "assets" / "fonts" / "DejaVuSansMono.ttf"
MONO_SIZE = 13
"""DejaVu Sans Mono at 13 px: 8 px a cell, about as tall as pygame's default font at 18."""
FALLBACK_SIZE = 18

Colour = tuple[int, int, int]


def load_mono(size: int = MONO_SIZE, path: Path = MONO) -> pygame.font.Font:
    """The bundled monospace font; pygame's default font (and a warning in the log) when the
    file is missing or unreadable. Needs `pygame.font.init()`."""
    try:
        return pygame.font.Font(str(path), size)
    except (OSError, pygame.error) as exc:
        log.warning("monospace font %s not loaded (%s): code is drawn in pygame's default font", path, exc)
        return pygame.font.Font(None, FALLBACK_SIZE)


class TextGrid:
    """Draws text cell by cell; glyphs are cached."""

    def __init__(self, font: pygame.font.Font) -> None:
        self.font = font
        self.advance = max(font.size(ch)[0] for ch in "M0_^")
        self.height = font.get_height()
        self._glyphs: dict[tuple[str, Colour], pygame.Surface] = {}

    def columns(self, pixels: int) -> int:
        """How many cells fit in `pixels`."""
        return max(pixels // self.advance, 0)

    def draw(self, target: pygame.Surface, text: str, colour: Colour, at: tuple[int, int]) -> None:
        """Draws `text` onto `target` from `at`, its cell n at `at[0] + n * advance` (tabs
        expanded). Straight onto the target: antialiased edges blend with what is there once."""
        x, y = at
        cell = 0
        for chars, width in clusters(text):
            if chars.strip():
                glyph = self._glyph(chars, colour)
                target.blit(glyph, (x + cell * self.advance + (width * self.advance - glyph.get_width()) // 2, y))
            cell += width

    def _glyph(self, chars: str, colour: Colour) -> pygame.Surface:
        glyph = self._glyphs.get((chars, colour))
        if glyph is None:
            if len(self._glyphs) > 4096:  # a stream of new errors must not grow the cache forever
                self._glyphs.clear()
            glyph = self._glyphs[(chars, colour)] = self.font.render(chars, True, colour)
        return glyph
