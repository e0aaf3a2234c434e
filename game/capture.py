"""`python -m game.capture [OUT_DIR]`: the README's screenshot and animation, made headless.

A scripted session (galaxy scene, the mouse circling and spawning, F1 help shown at the
end) is played through the real event loop with SDL's dummy driver; frames are taken from
the real screen surface. The animation needs Pillow (`pip install -e ".[capture]"`).
"""

from __future__ import annotations

import math
import os
import sys
from pathlib import Path
from typing import Any

os.environ["SDL_VIDEODRIVER"] = "dummy"

import pygame

from game.app import Game
from game.options import PROJECT_ROOT, Options


def post(event_type: int, **fields: Any) -> None:
    pygame.event.post(pygame.event.Event(event_type, **fields))


def capture(out: Path, frames: int = 180, every: int = 3) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    game = Game(
        Options(headless=True, fast=True, entities=30_000, size=(640, 360), scene="galaxy", project=PROJECT_ROOT)
    )
    stills = []
    images = []
    try:
        if not game.start():
            raise SystemExit("no systems: build failed")
        calm = frames // 2  # the galaxy turns on its own first; then the mouse comes in
        for i in range(frames):
            if i >= calm:
                angle = (i - calm) / 12
                x, y = 320 + 90 * math.cos(angle), 180 + 60 * math.sin(angle)
                post(pygame.MOUSEMOTION, pos=(int(x), int(y)), rel=(0, 0), buttons=(0, 0, 0))
                if i % 25 == 5:
                    post(pygame.MOUSEBUTTONDOWN, pos=(int(x), int(y)), button=1)
                if i % 25 == 8:
                    post(pygame.MOUSEBUTTONUP, pos=(int(x), int(y)), button=1)
            game.frame()
            if i % every == 0:
                images.append(pygame.image.tobytes(game.screen, "RGB"))
        path = out / "sandbox.png"
        pygame.image.save(game.screen, str(path))
        stills.append(path)
        game.hud.toggle_help()
        game.frame()
        help_path = out / "sandbox-help.png"
        pygame.image.save(game.screen, str(help_path))
        stills.append(help_path)
        size = game.screen.get_size()
    finally:
        game.close()
    try:
        from PIL import Image
    except ImportError:
        print("Pillow is not installed: no animation (pip install -e '.[capture]')", file=sys.stderr)
        return stills
    gif = out / "sandbox.gif"
    pics = [Image.frombytes("RGB", size, raw).resize((480, 270)).quantize(colors=64) for raw in images]
    pics[0].save(gif, save_all=True, append_images=pics[1:], duration=50, loop=0, optimize=True)
    return [*stills, gif]


if __name__ == "__main__":
    for made in capture(Path(sys.argv[1]) if len(sys.argv) > 1 else PROJECT_ROOT / "assets" / "readme"):
        print(f"wrote {made} ({made.stat().st_size // 1024} KiB)")
