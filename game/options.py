"""Options: what one run of the game is asked to do (the flags, parsed by `game.cli`).

Its own module so that the app and the command line do not import each other.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent


@dataclass
class Options:
    headless: bool = False
    frames: int | None = None
    fast: bool = False
    entities: int = 20_000
    seed: int = 1
    keys: list[tuple[int, str]] = field(default_factory=list)
    save_world: Path | None = None
    load_world: Path | None = None
    size: tuple[int, int] = (1280, 720)
    project: Path = PROJECT_ROOT
    optimize: str = "safe"
    canary: bool = True
    watch: bool | None = None  # None: on with a window, off headless (see `watching`)
    scene: str = "drift"
    step_timeout: float = 1.0  # seconds one system's call may take before the watchdog stops it
    autosave: Path | None = None  # None: PROJECT/saves/autosave.npz
    tier: int | None = None  # None: tier 1 (debug) first, then tier 2 (--optimize); 1 or 2 pins it

    @property
    def watching(self) -> bool:
        """Whether the game starts in watch mode: as `watch` says, else only in a window. A
        headless run is a script, a test or a benchmark: a save in the editor meanwhile must
        not change what it runs (the same flags end in the same world)."""
        return self.watch if self.watch is not None else not self.headless
