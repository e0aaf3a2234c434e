"""Renderer: hands the render system a 32-bit canvas's pixels, then shows the canvas.

No entity is drawn from Python: the Zig render system writes the pixels directly.
"""

from __future__ import annotations

import pygame

from game.pipeline import Pipeline


class Renderer:
    def __init__(self, size: tuple[int, int]) -> None:
        # 0x00RRGGBB, as sdk.Target documents.
        self.canvas = pygame.Surface(size, 0, 32, masks=(0xFF0000, 0x00FF00, 0x0000FF, 0))
        self.canvas.fill((0, 0, 0))

    def draw(self, pipeline: Pipeline, screen: pygame.Surface) -> bool:
        """Lets the render system draw on the canvas and blits it; False if nothing drew."""
        canvas = self.canvas
        canvas.lock()
        try:
            target = (canvas._pixels_address, canvas.get_width(), canvas.get_height(), canvas.get_pitch())
            drew = pipeline.draw(target)
        finally:
            canvas.unlock()
        screen.blit(canvas, (0, 0))
        return drew
