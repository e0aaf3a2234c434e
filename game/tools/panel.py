"""The tools' panel: lines of text on a translucent backing at the screen's right edge."""

from __future__ import annotations

import pygame


def draw_panel(
    screen: pygame.Surface, font: pygame.font.Font, lines: list[tuple[str, bool]], top: int
) -> tuple[int, int, int, int]:
    """A translucent panel of text lines (the chosen one highlighted) at the screen's right
    edge from `top` (the HUD has the left); returns its x, y, line height and bottom."""
    surfaces = [font.render(text, True, (20, 20, 20) if chosen else (230, 230, 230)) for text, chosen in lines]
    width = max((s.get_width() for s in surfaces), default=0) + 16
    line = font.get_linesize()
    height = len(surfaces) * line + 12
    x = max(screen.get_width() - width - 10, 0)
    y = top
    backing = pygame.Surface((width, height), pygame.SRCALPHA)
    backing.fill((10, 20, 40, 215))
    screen.blit(backing, (x, y))
    for i, (surface, (_, chosen)) in enumerate(zip(surfaces, lines, strict=True)):
        if chosen:
            pygame.draw.rect(screen, (255, 220, 120), (x + 4, y + 6 + i * line, width - 8, line))
        screen.blit(surface, (x + 8, y + 6 + i * line))
    return x, y, line, y + height
