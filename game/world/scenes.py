"""Starting scenes: pure functions from a seeded generator to component sets and values.

A scene is a list of (count, values) groups, each becoming one table. The default systems
shape each one: the attractor holds a galaxy in orbit round a frozen core (entities with
the `Frozen` tag, which movement and the attractor skip) and pulls a fountain back down;
the fountain's drops have a `Lifetime`; `rain` starts still and falls towards the centre.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from game.world import spawn
from game.world.spawn import Values, moving

Scene = list[tuple[int, Values]]


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
    return [(n, arms), (core, frozen)]


def fountain(rng: np.random.Generator, n: int, width: float, height: float) -> Scene:
    """A jet from the bottom centre, fanned upwards; drops live 4-12 s."""
    angle = -np.pi / 2 + rng.normal(0, 0.25, n)
    speed = rng.uniform(150, 450, n)
    life = {"seconds": rng.uniform(4, 12, n).astype(np.float32)}
    x, y = width / 2 + rng.normal(0, 3, n), height - 5 - rng.uniform(0, 20, n)
    return [(n, moving(x, y, np.cos(angle) * speed, np.sin(angle) * speed, Lifetime=life))]


def rain(rng: np.random.Generator, n: int, width: float, height: float) -> Scene:
    """A still grid of entities across the world (with a little jitter)."""
    cols = max(1, int(np.sqrt(n * width / height)))
    i = np.arange(n)
    x = (i % cols + 0.5) * width / cols + rng.normal(0, 0.5, n)
    y = (i // cols + 0.5) * height / max(1, -(-n // cols)) + rng.normal(0, 0.5, n)
    return [(n, moving(x, y, np.zeros(n), np.zeros(n)))]


def drift(rng: np.random.Generator, n: int, width: float, height: float) -> Scene:
    """Entities spread over the world, drifting in random directions."""
    return [(n, spawn.scatter(rng, n, width, height))]


SCENES: dict[str, Callable[[np.random.Generator, int, float, float], Scene]] = {
    "drift": drift,
    "galaxy": galaxy,
    "fountain": fountain,
    "rain": rain,
}
