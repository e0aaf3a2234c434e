"""Keys and speed: the one table of every key (F1 shows it), and how many steps a frame runs."""

from __future__ import annotations

KEYS: tuple[tuple[str, str, str], ...] = (
    # (pygame key name, label, what it does)
    ("f1", "F1", "show / hide this help"),
    ("f2", "F2", "entity inspector: click an entity; PgUp/PgDn next; Up/Down, Left/Right, Enter edit; P pin"),
    ("f3", "F3", "tunables panel: Up/Down choose, Left/Right change (Shift: x10), Home default, click a bar"),
    ("h", "H", "hide / show the status panel and the system list"),
    ("f5", "F5", "rebuild and hot-reload the systems; read the asset files that changed"),
    ("f6", "F6", "last reloaded systems: back to the previous build (again: forth)"),
    ("w", "W", "watch mode on / off (on at start in a window): a saved .zig file reloads, a saved asset is read"),
    ("t", "T", "build tier: auto (tier 1, then 2) / pin tier 1 (debug) / pin tier 2"),
    ("space", "Space", "pause / resume"),
    (".", ".", "one step (while paused)"),
    ("-", "-", "slower"),
    ("=", "=", "faster"),
    ("1", "1-9", "select system n (numbers stay for the session); the same number again: off / on"),
    ("page up", "PgUp / PgDn, [ / ]", "move the selection up / down the system list (reaches every system)"),
    ("0", "0", "switch the selected system off / on"),
    ("r", "R", "rewind one second and replay its input (the last 5 s are kept)"),
    ("f9", "F9", "quick-save the world (saves/quick.npz)"),
    ("f10", "F10", "quick-load it"),
    ("tab", "Tab", "next scene (restarts the world)"),
    ("backspace", "Backspace", "dismiss the error overlay"),
    ("f12", "F12", "screenshot (screenshots/)"),
    ("escape", "Esc", "quit"),
)
MOUSE = (
    ("left button", "spawn entities at the pointer"),
    ("right button", "the attractor pushes away"),
)
GAME_KEYS = (
    # Read by the games' own systems (through sdk.Input), not by the host.
    ("Left / Right", "arena: turn"),
    ("Up / Down", "arena: thrust / brake"),
    ("X or Ctrl", "arena: fire"),
    ("Enter", "arena: a new game after game over"),
    ("mouse", "flock: the predator the boids flee"),
)

SPEEDS = (0.125, 0.25, 0.5, 1.0, 2.0, 4.0, 8.0)


class Speed:
    """Simulation speed as whole fixed steps: 2x runs two steps a frame, 1/4x one step every
    fourth frame. The step itself never changes, so runs stay reproducible at any speed."""

    def __init__(self) -> None:
        self.index = SPEEDS.index(1.0)

    @property
    def factor(self) -> float:
        return SPEEDS[self.index]

    def faster(self) -> None:
        self.index = min(self.index + 1, len(SPEEDS) - 1)

    def slower(self) -> None:
        self.index = max(self.index - 1, 0)

    def steps(self, frame_index: int) -> int:
        factor = self.factor
        if factor >= 1:
            return int(factor)
        return 1 if frame_index % round(1 / factor) == 0 else 0

    def label(self) -> str:
        factor = self.factor
        return f"{factor:g}x" if factor >= 1 else f"1/{round(1 / factor)}x"
