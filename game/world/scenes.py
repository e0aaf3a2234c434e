"""Starting scenes: pure functions from a seeded generator to column values.

The default systems shape each one: the attractor holds a galaxy in orbit and pulls a
fountain back down; `rain` starts still and falls towards the centre.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from game.world import spawn
from game.world.spawn import Columns


def galaxy(rng: np.random.Generator, n: int, width: float, height: float) -> Columns:
    """Two spiral arms around the centre, each star on a near-circular orbit."""
    cx, cy = width / 2, height / 2
    r = rng.exponential(min(width, height) / 7, n) + 10
    arm = rng.integers(0, 2, n) * np.pi
    theta = arm + r / 60 + rng.normal(0, 0.35, n)
    speed = np.sqrt(12_000 * r**2 / (r**2 + 2_500)) * 1.1  # balances the idle pull at radius r
    return {
        "pos_x": (cx + r * np.cos(theta)).astype(np.float32),
        "pos_y": (cy + r * np.sin(theta) * 0.8).astype(np.float32),
        "vel_x": (-np.sin(theta) * speed).astype(np.float32),
        "vel_y": (np.cos(theta) * speed * 0.8).astype(np.float32),
    }


def fountain(rng: np.random.Generator, n: int, width: float, height: float) -> Columns:
    """A jet from the bottom centre, fanned upwards."""
    angle = -np.pi / 2 + rng.normal(0, 0.25, n)
    speed = rng.uniform(150, 450, n)
    return {
        "pos_x": (width / 2 + rng.normal(0, 3, n)).astype(np.float32),
        "pos_y": (height - 5 - rng.uniform(0, 20, n)).astype(np.float32),
        "vel_x": (np.cos(angle) * speed).astype(np.float32),
        "vel_y": (np.sin(angle) * speed).astype(np.float32),
    }


def rain(rng: np.random.Generator, n: int, width: float, height: float) -> Columns:
    """A still grid of entities across the world (with a little jitter)."""
    cols = max(1, int(np.sqrt(n * width / height)))
    i = np.arange(n)
    return {
        "pos_x": ((i % cols + 0.5) * width / cols + rng.normal(0, 0.5, n)).astype(np.float32),
        "pos_y": ((i // cols + 0.5) * height / max(1, -(-n // cols)) + rng.normal(0, 0.5, n)).astype(np.float32),
        "vel_x": np.zeros(n, dtype=np.float32),
        "vel_y": np.zeros(n, dtype=np.float32),
    }


SCENES: dict[str, Callable[[np.random.Generator, int, float, float], Columns]] = {
    "drift": spawn.scatter,
    "galaxy": galaxy,
    "fountain": fountain,
    "rain": rain,
}
