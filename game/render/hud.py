"""HUD and error overlay: FPS, entities, per-system ms, build ids and status, compiler errors."""

from __future__ import annotations

from dataclasses import dataclass

import pygame

from game.hotreload.reloader import Reloader
from game.pipeline import Pipeline

WHITE = (235, 235, 235)
DIM = (150, 150, 160)
GOOD = (120, 220, 140)
BAD = (255, 110, 100)
BUSY = (255, 210, 90)


@dataclass
class HudState:
    fps: float
    paused: bool
    step: int
    count: int


class Hud:
    """Draws text over the game; re-renders the text only a few times a second."""

    def __init__(self, font_size: int = 18) -> None:
        self.font = pygame.font.Font(None, font_size)
        self._lines: list[tuple[str, tuple[int, int, int]]] = []
        self._cache: list[pygame.Surface] = []
        self._next_refresh = 0.0

    def lines(self, state: HudState, pipeline: Pipeline, reloader: Reloader) -> list[tuple[str, tuple[int, int, int]]]:
        """The HUD's text, line by line with a colour (pure: tests read it)."""
        head = f"FPS {state.fps:5.1f}   entities {state.count:,}   step {state.step}"
        out = [(head + ("   PAUSED" if state.paused else ""), WHITE)]
        for name, ms in pipeline.python_ms.items():
            out.append((f"  {name:<10} {ms:6.2f} ms  python", DIM))
        for name, slot in pipeline.slots.items():
            info = slot.system.info
            status = "ERROR" if slot.error else "ok"
            colour = BAD if slot.error else DIM
            out.append((f"  {name:<10} {slot.system.last_ms:6.2f} ms  build {info.build_id} v{slot.system.library.version}  {status}", colour))
        if reloader.building:
            out.append((f"building... {reloader.elapsed:4.1f} s", BUSY))
        elif reloader.message:
            failed = reloader.errors or reloader.message.startswith(("refused", "rolled back"))
            out.append((reloader.message, BAD if failed else GOOD))
        out.append(("F5 rebuild  F6 previous build  Space pause  mouse: left spawns, right repels  Esc quit", DIM))
        return out

    def draw(self, screen: pygame.Surface, state: HudState, pipeline: Pipeline, reloader: Reloader, now: float) -> None:
        if now >= self._next_refresh:
            self._next_refresh = now + 0.25
            self._cache = [self.font.render(text, True, colour) for text, colour in self.lines(state, pipeline, reloader)]
        if self._cache:
            width = max(s.get_width() for s in self._cache) + 16
            height = sum(s.get_height() + 2 for s in self._cache) + 10
            backing = pygame.Surface((width, height), pygame.SRCALPHA)
            backing.fill((0, 0, 0, 170))
            screen.blit(backing, (0, 0))
        y = 6
        for surf in self._cache:
            screen.blit(surf, (8, y))
            y += surf.get_height() + 2
        errors = [f"{e}" for e in reloader.errors] + [s.error for s in pipeline.slots.values() if s.error]
        if errors:
            self._draw_errors(screen, reloader, [e for e in errors if e])

    def _draw_errors(self, screen: pygame.Surface, reloader: Reloader, errors: list[str]) -> None:
        width, height = screen.get_size()
        lines: list[tuple[str, tuple[int, int, int]]] = [("The old code is still running. Fix and press F5.", WHITE)]
        for err in reloader.errors[:6]:
            lines += [(str(err), BAD), (err.source_line.rstrip(), DIM)]
        for err in errors[len(reloader.errors):][:6]:
            lines.append((err, BAD))
        panel_h = 12 + 20 * len(lines)
        panel = pygame.Surface((width - 20, panel_h), pygame.SRCALPHA)
        panel.fill((40, 0, 0, 210))
        screen.blit(panel, (10, height - panel_h - 10))
        y = height - panel_h - 4
        for text, colour in lines:
            screen.blit(self.font.render(text[:160], True, colour), (18, y))
            y += 20
