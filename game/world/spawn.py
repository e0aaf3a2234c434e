"""Where new entities start: pure functions from a seeded generator to column values."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

Columns = dict[str, npt.NDArray[np.float32]]


def scatter(rng: np.random.Generator, n: int, width: float, height: float) -> Columns:
    """`n` entities spread over the world, drifting in random directions at 20-120 px/s."""
    angle = rng.uniform(0, 2 * np.pi, n)
    speed = rng.uniform(20, 120, n)
    return {
        "pos_x": rng.uniform(0, width, n).astype(np.float32),
        "pos_y": rng.uniform(0, height, n).astype(np.float32),
        "vel_x": (np.cos(angle) * speed).astype(np.float32),
        "vel_y": (np.sin(angle) * speed).astype(np.float32),
    }


def burst(rng: np.random.Generator, n: int, x: float, y: float) -> Columns:
    """`n` entities fired outwards from (x, y) at 50-300 px/s, as a mouse click spawns them."""
    angle = rng.uniform(0, 2 * np.pi, n)
    speed = rng.uniform(50, 300, n)
    return {
        "pos_x": np.full(n, x, dtype=np.float32) + rng.normal(0, 2, n).astype(np.float32),
        "pos_y": np.full(n, y, dtype=np.float32) + rng.normal(0, 2, n).astype(np.float32),
        "vel_x": (np.cos(angle) * speed).astype(np.float32),
        "vel_y": (np.sin(angle) * speed).astype(np.float32),
    }
