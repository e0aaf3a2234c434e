"""Starting scenes: pure functions from a seeded generator to a starting world.

A scene is a list of (count, values) groups, each becoming one table, and resource values
to start from. The particle scenes are shaped by the default systems: the attractor holds
a galaxy in orbit round a frozen core (entities with the `Frozen` tag, which movement and
the attractor skip) and pulls a fountain back down; the fountain's drops have a
`Lifetime`; `rain` starts still and falls towards the centre.

The two games start nearly empty and are played by their Zig systems: `arena` only sets
`Arena.state` to "start a new game" (waves.zig spawns the ship and the waves), and `flock`
spawns its boids, which boids.zig steers. Both name asset files that fill resources (the
wave table, the ship's picture, the flock's palette): game/world/assets.py reads them, and
reads them again when they are saved.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from game.world import spawn
from game.world.spawn import Values, moving


@dataclass
class Scene:
    groups: list[tuple[int, Values]]
    resources: dict[str, dict[str, Any]] = field(default_factory=dict)
    """Resource name -> field name -> value, set after the groups are spawned."""
    assets: dict[str, str] = field(default_factory=dict)
    """Resource name -> the file under `assets/` that fills it (game/world/assets.py): not
    set by `place`, but by the app's asset store, at the next frame boundary and whenever
    the file is saved."""

    def place(self, world: Any) -> None:
        """Spawns the groups into `world` and sets the resources."""
        for count, values in self.groups:
            world.spawn(count, values)
        for name, fields in self.resources.items():
            value = world.resource(name)
            for field_name, v in fields.items():
                value[field_name] = v


def galaxy(rng: np.random.Generator, n: int, width: float, height: float) -> Scene:
    """Two spiral arms around a frozen core, each star on a near-circular orbit."""
    core = min(n // 50, 2000)
    n -= core
    cx, cy = width / 2, height / 2
    r = rng.exponential(min(width, height) / 7, n) + 10
    arm = rng.integers(0, 2, n) * np.pi
    theta = arm + r / 60 + rng.normal(0, 0.35, n)
    speed = np.sqrt(12_000 * r**2 / (r**2 + 2_500)) * 1.1  # balances the idle pull at radius r
    arms = moving(
        cx + r * np.cos(theta), cy + r * np.sin(theta) * 0.8, -np.sin(theta) * speed, np.cos(theta) * speed * 0.8
    )
    rc = rng.exponential(8, core)
    tc = rng.uniform(0, 2 * np.pi, core)
    zero = np.zeros(core)
    frozen = moving(cx + rc * np.cos(tc), cy + rc * np.sin(tc), zero, zero, Frozen=None)
    frozen["Color"] = {"rgb": np.full(core, 0xFFF4C0, dtype=np.uint32)}
    return Scene([(n, arms), (core, frozen)])


def fountain(rng: np.random.Generator, n: int, width: float, height: float) -> Scene:
    """A jet from the bottom centre, fanned upwards; drops live 4-12 s."""
    angle = -np.pi / 2 + rng.normal(0, 0.25, n)
    speed = rng.uniform(150, 450, n)
    life = {"seconds": rng.uniform(4, 12, n).astype(np.float32)}
    x, y = width / 2 + rng.normal(0, 3, n), height - 5 - rng.uniform(0, 20, n)
    return Scene([(n, moving(x, y, np.cos(angle) * speed, np.sin(angle) * speed, Lifetime=life))])


def rain(rng: np.random.Generator, n: int, width: float, height: float) -> Scene:
    """A still grid of entities across the world (with a little jitter)."""
    cols = max(1, int(np.sqrt(n * width / height)))
    i = np.arange(n)
    x = (i % cols + 0.5) * width / cols + rng.normal(0, 0.5, n)
    y = (i // cols + 0.5) * height / max(1, -(-n // cols)) + rng.normal(0, 0.5, n)
    return Scene([(n, moving(x, y, np.zeros(n), np.zeros(n)))])


def drift(rng: np.random.Generator, n: int, width: float, height: float) -> Scene:
    """Entities spread over the world, drifting in random directions."""
    return Scene([(n, spawn.scatter(rng, n, width, height))])


def arena(rng: np.random.Generator, n: int, width: float, height: float) -> Scene:
    """The arcade game: no entities yet (`n` is not used); `waves` starts a new game."""
    assets = {"Waves": "arena/waves.json", "ShipSprite": "arena/ship.png"}
    return Scene([], {"Arena": {"state": 1}, "Grid": {"cell": 32.0}}, assets)


BOID_CELL = 10.0
"""The grid's cell for the flock: boids.zig's neighbour radius, so a neighbourhood is 3x3 cells."""


def flock(rng: np.random.Generator, n: int, width: float, height: float) -> Scene:
    """`n` boids spread over the world, each flying its own way at 60-150 px/s."""
    angle = rng.uniform(0, 2 * np.pi, n)
    speed = rng.uniform(60, 150, n)
    f32 = np.float32
    boids: Values = {
        "Position": {"x": rng.uniform(40, width - 40, n).astype(f32), "y": rng.uniform(40, height - 40, n).astype(f32)},
        "Velocity": {"x": (np.cos(angle) * speed).astype(f32), "y": (np.sin(angle) * speed).astype(f32)},
        "Body": {"radius": np.full(n, 2, f32), "layer": np.full(n, LAYER_BOID, np.uint32)},
        "Boid": None,
    }
    return Scene([(n, boids)], {"Grid": {"cell": BOID_CELL}}, {"Palette": "flock/palette.png"})


LAYER_BOID = 32
"""components.zig's `layer_boid`."""

SCENES: dict[str, Callable[[np.random.Generator, int, float, float], Scene]] = {
    "drift": drift,
    "galaxy": galaxy,
    "fountain": fountain,
    "rain": rain,
    "arena": arena,
    "flock": flock,
}
