"""Where new entities start: pure functions from a seeded generator to component values."""

from __future__ import annotations

from typing import Any

import numpy as np

Values = dict[str, dict[str, Any] | None]
"""Component name -> field name -> values (as `World.spawn` takes them)."""


def moving(x: np.ndarray, y: np.ndarray, vx: np.ndarray, vy: np.ndarray, **extra: dict[str, Any] | None) -> Values:
    """Position, Velocity and a Color (set by colorize), plus any `extra` components."""
    f32 = np.float32
    return {
        "Position": {"x": x.astype(f32), "y": y.astype(f32)},
        "Velocity": {"x": vx.astype(f32), "y": vy.astype(f32)},
        "Color": None,
        **extra,
    }


def scatter(rng: np.random.Generator, n: int, width: float, height: float) -> Values:
    """`n` entities spread over the world, drifting in random directions at 20-120 px/s."""
    angle = rng.uniform(0, 2 * np.pi, n)
    speed = rng.uniform(20, 120, n)
    return moving(rng.uniform(0, width, n), rng.uniform(0, height, n), np.cos(angle) * speed, np.sin(angle) * speed)


def burst(rng: np.random.Generator, n: int, x: float, y: float, lifetime: float = 5.0) -> Values:
    """`n` entities fired outwards from (x, y) at 50-300 px/s, living `lifetime` seconds (a
    mouse click spawns them; the lifetime system despawns them)."""
    angle = rng.uniform(0, 2 * np.pi, n)
    speed = rng.uniform(50, 300, n)
    return moving(
        x + rng.normal(0, 2, n),
        y + rng.normal(0, 2, n),
        np.cos(angle) * speed,
        np.sin(angle) * speed,
        Lifetime={"seconds": np.float32(lifetime) + rng.uniform(0, 1, n).astype(np.float32)},
    )
