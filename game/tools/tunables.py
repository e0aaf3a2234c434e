"""The tunables panel (F3): every tunable of every live system, changed while the game runs.

Up / Down choose a tunable; Left / Right change it by its step (Shift: ten steps); Home
sets it back to the source's default; a click on a bar sets the value under the pointer.
A change reaches the system at its next step, with no rebuild (game/world/tunables.py
keeps the values: across reloads, in saved worlds). To keep a value for good, write it
into the system's source as the tunable's `.default`: the panel shows `*` beside a value
that differs from the source.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from game.world.tunables import TunableSpec

if TYPE_CHECKING:
    import pygame

    from game.pipeline import Pipeline

BAR_CELLS = 20
"""Characters of a value's bar."""


@dataclass(frozen=True)
class Entry:
    system: str
    spec: TunableSpec
    value: float

    @property
    def changed(self) -> bool:
        return self.value != self.spec.clamp(self.spec.default)

    def bar(self) -> str:
        span = self.spec.max - self.spec.min
        filled = round(BAR_CELLS * (self.value - self.spec.min) / span) if span > 0 else BAR_CELLS
        return "#" * filled + "-" * (BAR_CELLS - filled)


class TunablesPanel:
    def __init__(self, pipeline: Pipeline) -> None:
        self.pipeline = pipeline
        self.open = False
        self.row = 0
        self.said = ""
        self._bars: list[tuple[int, int, int, int]] = []
        """Where each entry's bar was last drawn (x, y, width, height), for clicks."""

    def toggle(self) -> None:
        self.open = not self.open

    def entries(self) -> list[Entry]:
        """Every tunable of every live system with tunables, system by system."""
        store = self.pipeline.world.tunables
        return [
            Entry(system, spec, store.get(system, spec.name))
            for system in store.systems()
            if system in self.pipeline.slots
            for spec in store.specs(system)
        ]

    def chosen(self) -> Entry | None:
        entries = self.entries()
        return entries[self.row % len(entries)] if entries else None

    def set(self, entry: Entry, value: float) -> float:
        """Sets `entry`'s tunable (clamped); returns the value now in effect."""
        value = self.pipeline.tune(entry.system, entry.spec.name, value)
        self.said = f"{entry.system}.{entry.spec.name} = {value:g} (source default {entry.spec.default:g})"
        return value

    def lines(self) -> list[tuple[str, bool]]:
        entries = self.entries()
        if not entries:
            return [("Tunables: no live system declares any (see README: Tunables)", False)]
        out: list[tuple[str, bool]] = [("Tunables  (Up/Down, Left/Right, Home: default)", False)]
        system = ""
        chosen = self.row % len(entries)
        for i, entry in enumerate(entries):
            if entry.system != system:
                system = entry.system
                out.append((system, False))
            mark = "*" if entry.changed else " "
            out.append((f" {mark}{entry.spec.name:<13} {entry.value:>9.4g} {entry.bar()}", i == chosen))
        return out + ([(self.said, False)] if self.said else [])

    def key(self, name: str, shift: bool = False, text: str = "") -> bool:
        """Handles a key press while open; True if the panel used it."""
        entries = self.entries()
        entry = self.chosen()
        match name:
            case "down":
                self.row = (self.row + 1) % max(len(entries), 1)
            case "up":
                self.row = (self.row - 1) % max(len(entries), 1)
            case "left" | "right" if entry is not None:
                steps = (10 if shift else 1) * (1 if name == "right" else -1)
                self.set(entry, entry.value + steps * entry.spec.step)
            case "home" if entry is not None:
                self.set(entry, entry.spec.default)
            case "left" | "right" | "home":
                pass
            case _:
                return False
        return True

    def click(self, x: int, y: int) -> bool:
        """A click on a bar sets that tunable to the value under the pointer."""
        entries = self.entries()
        for i, (bx, by, bw, bh) in enumerate(self._bars):
            if i < len(entries) and bx <= x < bx + bw and by <= y < by + bh:
                entry = entries[i]
                self.row = i
                fraction = (x - bx) / max(bw - 1, 1)
                self.set(entry, entry.spec.min + fraction * (entry.spec.max - entry.spec.min))
                return True
        return False

    def draw(self, screen: pygame.Surface, font: pygame.font.Font, top: int = 10) -> None:
        from game.tools.panel import draw_panel

        if not self.open:
            return
        lines = self.lines()
        x, y, line, _ = draw_panel(screen, font, lines, top)
        # The bars, for clicks: the last BAR_CELLS characters of each entry's line.
        cell = font.size("#")[0]
        self._bars = [
            (x + 8 + (len(text) - BAR_CELLS) * cell, y + 6 + i * line, BAR_CELLS * cell, line)
            for i, (text, _) in enumerate(lines)
            if text.endswith(("#", "-")) and text.startswith(" ")
        ]
