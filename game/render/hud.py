"""HUD and overlays: FPS, entities, per-system ms, build ids and status, a build spinner,
toasts, the compiler-error overlay (dismissable), the F1 key list, the selected system's stats."""

from __future__ import annotations

import textwrap
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import pygame

from game.controls import GAME_KEYS, KEYS, MOUSE
from game.hotreload.excerpt import fit
from game.hotreload.reloader import Reloader
from game.hotreload.zigbuild import CompileError
from game.pipeline import Pipeline
from game.render.textgrid import TextGrid, load_mono

WHITE = (235, 235, 235)
DIM = (150, 150, 160)
GOOD = (120, 220, 140)
BAD = (255, 110, 100)
BUSY = (255, 210, 90)
OVERLAY = (50, 0, 0, 215)
SPINNER = "|/-\\"
TOAST_SECONDS = 4.0
WARNING_STEPS = 300  # a refused command stays on screen for 5 s of simulation

Line = tuple[str, tuple[int, int, int]]


@dataclass
class HudState:
    fps: float
    paused: bool
    step: int
    count: int
    speed: str = "1x"
    watching: bool = False
    scene: str = ""
    selected: str | None = None
    numbers: dict[str, int] = field(default_factory=dict)
    """Each system's number for the session (game/selection.py); unnumbered ones show none."""


class Hud:
    """Draws text over the game; re-renders the status text only a few times a second.
    The status panel and the error overlay are in the bundled monospace font: the system
    list's columns line up, and a caret sits under the column the compiler names."""

    def __init__(self, font_size: int = 18) -> None:
        self.font = pygame.font.Font(None, font_size)
        self.grid = TextGrid(load_mono())
        self.show_help = False
        self.visible = True
        """H: the status panel and the system list (errors and help show regardless)."""
        self._dismissed: tuple[CompileError, ...] | None = None
        self.problems: list[Callable[[], list[str]]] = []
        """Other parts of the game that can fail (the asset files): each says what failed and
        why, one line each, for the error overlay."""
        self._dismissed_problems: tuple[str, ...] = ()
        self._toast = ("", 0.0)
        self._cache: list[pygame.Surface] = []
        self._next_refresh = 0.0
        self._refreshed_step = -1
        self._overlay: tuple[tuple[tuple[Line, ...], int], pygame.Surface] | None = None

    def toggle_help(self) -> None:
        self.show_help = not self.show_help

    def toggle(self) -> None:
        self.visible = not self.visible

    def dismiss(self, errors: tuple[CompileError, ...]) -> None:
        """Hides the error overlay for these errors; a new failure shows it again."""
        self._dismissed = errors
        self._dismissed_problems = tuple(p for source in self.problems for p in source())

    def toast(self, text: str) -> None:
        self._toast = (text, time.perf_counter())

    def lines(self, state: HudState, pipeline: Pipeline, reloader: Reloader, now: float | None = None) -> list[Line]:
        """The status text, line by line with a colour (pure: tests read it)."""
        now = time.perf_counter() if now is None else now
        head = f"FPS {state.fps:5.1f}   entities {state.count:,}   step {state.step}   speed {state.speed}"
        flags = ("   PAUSED" if state.paused else "") + ("   WATCH" if state.watching else "")
        out: list[Line] = [(head + flags + (f"   scene {state.scene}" if state.scene else ""), WHITE)]
        for name, ms in pipeline.python_ms.items():
            out.append((f"    {name:<12} {ms:6.2f} ms  python", DIM))
        for name, slot in pipeline.slots.items():
            info = slot.system.info
            number = state.numbers.get(name, "")
            status = "ERROR" if slot.error else ("off" if not slot.enabled else "ok")
            mark = ">" if name == state.selected else " "
            colour = BAD if slot.error else (DIM if slot.enabled else BUSY)
            out.append(
                (
                    f"{mark}{number:>2} {name:<12} {slot.system.last_ms:6.2f} ms  build {info.build_id} "
                    f"v{slot.system.library.version} T{slot.system.library.tier or '-'}  {status}",
                    colour,
                )
            )
        if reloader.building:
            spin = SPINNER[int(now * 8) % len(SPINNER)]
            out.append((f"{spin} building... {reloader.elapsed:4.1f} s", BUSY))
        elif reloader.message and now - reloader.message_at < TOAST_SECONDS:
            failed = reloader.errors or reloader.message.startswith(("refused", "rolled back", "build failed", "FAULT"))
            out.append((reloader.message, BAD if failed else GOOD))
        text, at = self._toast
        if text and now - at < TOAST_SECONDS:
            out.append((text, GOOD))
        out.append(("F1 keys   F5 rebuild   Space pause   Esc quit", DIM))
        return out

    def selected_lines(self, state: HudState, pipeline: Pipeline) -> list[Line]:
        slot = pipeline.slots.get(state.selected or "")
        if slot is None:
            return []
        info = slot.system.info
        out: list[Line] = [
            (
                f"{info.name}: {'on' if slot.enabled else 'off'}, avg {slot.avg_ms:.3f} ms, order "
                f"{info.order}, build {info.build_id}, library v{slot.system.library.version}"
                f"{', previous kept' if slot.previous else ''}",
                WHITE,
            )
        ]
        access = {1: "r", 2: "w", 3: "rw", 4: "with", 5: "without"}  # sdk.Access
        out += [
            (f"  query {q.name}: " + ", ".join(f"{t.component} {access.get(t.access, '?')}" for t in q.terms), DIM)
            for q in info.queries
        ]
        out += [(f"  resource {t.component} {access.get(t.access, '?')}", DIM) for t in info.resources]
        return out

    def error_lines(self, pipeline: Pipeline, reloader: Reloader, width: int | None = None) -> list[Line]:
        """The overlay's text; empty when there is nothing to show or it was dismissed. With
        `width`, every line fits in that many cells: a source line as a window around its caret."""
        out: list[Line] = []
        if reloader.errors and reloader.errors is not self._dismissed:
            for err in reloader.errors[:5]:
                out.append((str(err), BAD))
                out += [(line, DIM) for line in err.excerpt(width)]
        out += [(s.error, BAD) for s in pipeline.slots.values() if s.error]
        recent = pipeline.world.step - WARNING_STEPS
        if pipeline.warning and pipeline.warning_step >= recent:
            out.append((f"command refused: {pipeline.warning}", BUSY))
        if pipeline.fault_note and pipeline.fault_step >= recent:
            out.append((f"FAULT {pipeline.fault_note}", BAD))
            if pipeline.fault_where:  # found a moment later, on the panic locator's thread
                out.append((f"  at {pipeline.fault_where}", DIM))
        if out:
            out.insert(0, ("The old code is still running. Fix it and press F5 (Backspace hides this).", WHITE))
        problems = [p for source in self.problems for p in source()]
        if problems and tuple(problems) != self._dismissed_problems:
            if not out:
                out.append(("An asset file did not load. Fix it and save (Backspace hides this).", WHITE))
            for problem in problems:  # wrapped, not cut: the end says what stays in use
                lines = textwrap.wrap(problem, width, subsequent_indent="  ") if width else [problem]
                out += [(line, BAD) for line in lines]
        return out if width is None else [(fit(text, width), colour) for text, colour in out]

    def help_lines(self) -> list[tuple[str, str]]:
        """(key, what it does) for every key and mouse button."""
        return [(label, what) for _, label, what in KEYS] + list(MOUSE) + list(GAME_KEYS)

    def draw(self, screen: pygame.Surface, state: HudState, pipeline: Pipeline, reloader: Reloader, now: float) -> None:
        # Four times a second (eight while the spinner turns), or every 15 steps when frames
        # run faster than real time; rendering the text costs 1-2 ms, too much for every frame.
        if now >= self._next_refresh or abs(state.step - self._refreshed_step) >= 15:
            self._next_refresh = now + (0.125 if reloader.building else 0.25)
            self._refreshed_step = state.step
            mono = self.grid.font
            self._cache = [mono.render(t, True, c) for t, c in self.lines(state, pipeline, reloader, now)]
            self._cache += [mono.render(t, True, c) for t, c in self.selected_lines(state, pipeline)]
        if self.visible:
            _panel(screen, self._cache, (0, 0), (0, 0, 0, 170))
        width = screen.get_width() - 20
        errors = self.error_lines(pipeline, reloader, max(self.grid.columns(width - 16), 8))
        if errors:
            panel = self.overlay(errors, width)
            screen.blit(panel, (10, screen.get_height() - panel.get_height() - 10))
        if self.show_help:
            self._draw_help(screen)

    def overlay(self, lines: list[Line], width: int) -> pygame.Surface:
        """The error panel, `width` pixels wide: every line on the text grid from (8, 6), one
        every `grid.height + 2` pixels. Drawn again only when its text changes."""
        key = (tuple(lines), width)
        if self._overlay is None or self._overlay[0] != key:
            step = self.grid.height + 2
            panel = pygame.Surface((width, len(lines) * step + 12), pygame.SRCALPHA)
            panel.fill(OVERLAY)
            for i, (text, colour) in enumerate(lines):
                self.grid.draw(panel, text, colour, (8, 6 + i * step))
            self._overlay = (key, panel)
        return self._overlay[1]

    def _draw_help(self, screen: pygame.Surface) -> None:
        rows = [(self.font.render(k, True, WHITE), self.font.render(w, True, DIM)) for k, w in self.help_lines()]
        key_w = max(k.get_width() for k, _ in rows) + 14
        width = key_w + max(w.get_width() for _, w in rows) + 24
        height = sum(k.get_height() + 3 for k, _ in rows) + 14
        x, y = max((screen.get_width() - width) // 2, 0), max((screen.get_height() - height) // 2, 0)
        backing = pygame.Surface((width, height), pygame.SRCALPHA)
        backing.fill((0, 0, 30, 230))
        screen.blit(backing, (x, y))
        y += 7
        for key, what in rows:
            screen.blit(key, (x + 10, y))
            screen.blit(what, (x + 10 + key_w, y))
            y += key.get_height() + 3


def _panel(
    screen: pygame.Surface,
    lines: list[pygame.Surface],
    at: tuple[int, int],
    colour: tuple[int, int, int, int],
) -> None:
    if not lines:
        return
    w = max(s.get_width() for s in lines) + 16
    h = sum(s.get_height() + 2 for s in lines) + 12
    backing = pygame.Surface((w, h), pygame.SRCALPHA)
    backing.fill(colour)
    screen.blit(backing, at)
    y = at[1] + 6
    for surf in lines:
        screen.blit(surf, (at[0] + 8, y))
        y += surf.get_height() + 2
