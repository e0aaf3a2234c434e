"""`python -m game.capture [OUT_DIR]`: the README's screenshots and animations, made headless.

A scripted session (galaxy scene, the mouse circling and spawning, F1 help shown at the
end) is played through the real event loop with SDL's dummy driver; frames are taken from
the real screen surface. Then the two games, each as it plays itself: `arena` (the
autopilot) and `flock` (50,000 boids, the hawk circling); then the window tools
(`tools.png`: the tunables panel and the inspector). The animations need Pillow
(`pip install -e ".[capture]"`). The tour's animation is `run_game.py --tour --headless
--capture assets/readme/tour.gif`.
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


def scene(
    out: Path,
    name: str,
    entities: int,
    frames: int,
    every: int = 3,
    warm: int = 0,
    size: tuple[int, int] = (640, 360),
    colors: int = 64,
) -> list[Path]:
    """A still and an animation of scene `name` playing itself (the HUD hidden)."""
    game = Game(Options(headless=True, fast=True, entities=entities, scene=name, project=PROJECT_ROOT))
    images = []
    try:
        if not game.start():
            raise SystemExit("no systems: build failed")
        game.hud.visible = False  # the game alone
        for i in range(warm + frames):
            game.frame()
            if i >= warm and i % every == 0:
                small = pygame.transform.smoothscale(game.screen, size)
                images.append(pygame.image.tobytes(small, "RGB"))
        still = out / f"{name}.png"
        pygame.image.save(game.screen, str(still))
    finally:
        game.close()
    return [still, *animate(images, size, out / f"{name}.gif", colors)]


def animate(images: list[bytes], size: tuple[int, int], gif: Path, colors: int = 64) -> list[Path]:
    try:
        from PIL import Image
    except ImportError:
        print("Pillow is not installed: no animation (pip install -e '.[capture]')", file=sys.stderr)
        return []
    pics = [Image.frombytes("RGB", size, raw).quantize(colors=colors) for raw in images]
    pics[0].save(gif, save_all=True, append_images=pics[1:], duration=50, loop=0, optimize=True)
    return [gif]


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
    small = [
        pygame.image.tobytes(pygame.transform.smoothscale(pygame.image.frombytes(raw, size, "RGB"), (480, 270)), "RGB")
        for raw in images
    ]
    return [*stills, *animate(small, (480, 270), out / "sandbox.gif")]


def tools(out: Path, project: Path = PROJECT_ROOT) -> list[Path]:
    """`tools.png`: the flock with the tunables panel open (F3; cohesion raised from the
    keyboard) and the inspector (F2) on the boid nearest the middle, pinned."""
    out.mkdir(parents=True, exist_ok=True)
    game = Game(Options(headless=True, fast=True, entities=4000, scene="flock", size=(960, 540), project=project))
    try:
        if not game.start():
            raise SystemExit("no systems: build failed")
        for _ in range(90):
            game.frame()

        def key(name: str, shift: bool = False) -> None:
            mod = pygame.KMOD_LSHIFT if shift else 0
            post(pygame.KEYDOWN, key=pygame.key.key_code(name), mod=mod, unicode="", scancode=0)
            game.frame()

        key("f3")
        while (chosen := game.tools.tunables.chosen()) is not None and chosen.spec.name != "cohesion":
            key("down")
        for _ in range(2):
            key("right", shift=True)
        for _ in range(60):
            game.frame()
        key("f2")
        table = next(iter(game.world.query("Position", "Boid")))
        xs, ys = (table.column(f"Position.{a}")[: table.count] for a in "xy")
        nearest = int(((xs - 480) ** 2 + (ys - 270) ** 2).argmin())
        post(pygame.MOUSEBUTTONDOWN, pos=(int(xs[nearest]), int(ys[nearest])), button=1)
        game.frame()
        key("p")
        for _ in range(20):
            game.frame()
        path = out / "tools.png"
        pygame.image.save(game.screen, str(path))
    finally:
        game.close()
    return [path]


if __name__ == "__main__":
    folder = Path(sys.argv[1]) if len(sys.argv) > 1 else PROJECT_ROOT / "assets" / "readme"
    made = capture(folder)
    made += scene(folder, "arena", 0, 300, warm=1800)  # wave 3 or so: hunters, splitting rocks
    made += scene(folder, "flock", 50_000, 150, every=5, warm=120, size=(480, 270), colors=32)
    made += tools(folder)
    for path in made:
        print(f"wrote {path} ({path.stat().st_size // 1024} KiB)")
