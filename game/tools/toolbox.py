"""The window tools together: which is open, who gets a key or a click first, drawing."""

from __future__ import annotations

from typing import TYPE_CHECKING

from game.tools.inspector import Inspector
from game.tools.tunables import TunablesPanel

if TYPE_CHECKING:
    import pygame

    from game.pipeline import Pipeline
    from game.world.world import World


class Tools:
    """The inspector (F2) and the tunables panel (F3). An open tool gets keys and clicks
    before the host's hotkeys and the systems' input; what it uses goes no further."""

    def __init__(self, world: World, pipeline: Pipeline) -> None:
        self.inspector = Inspector(world, pipeline)
        self.tunables = TunablesPanel(pipeline)
        self._font: pygame.font.Font | None = None

    def key(self, name: str, shift: bool = False, text: str = "") -> bool:
        """A key press by its pygame name; True if an open tool used it (typing in the
        inspector first, then the inspector, then the tunables panel)."""
        if self.inspector.open and self.inspector.key(name, shift, text):
            return True
        return self.tunables.open and self.tunables.key(name, shift, text)

    def click(self, button: int, x: int, y: int) -> bool:
        """A mouse button press; True if an open tool used it (the spawner and the systems
        then do not see it)."""
        if button != 1:
            return False
        if self.tunables.open and self.tunables.click(x, y):
            return True
        if self.inspector.open:
            self.inspector.pick(x, y)
            return True
        return False

    @property
    def any_open(self) -> bool:
        return self.inspector.open or self.tunables.open

    def draw(self, screen: pygame.Surface) -> None:
        if self._font is None:
            from game.render.textgrid import load_mono

            self._font = load_mono()
        below = self.inspector.draw(screen, self._font)
        self.tunables.draw(screen, self._font, below + 8 if below > 10 else 10)
