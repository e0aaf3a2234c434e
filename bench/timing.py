"""Small timing helpers: medians over repeated runs, percentiles."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable


def per_call(fn: Callable[[], object], budget: float = 0.5, min_reps: int = 3, max_reps: int = 2000) -> float:
    """Median seconds per call of `fn`, after one warm-up call, within about `budget` seconds."""
    fn()
    samples: list[float] = []
    deadline = time.perf_counter() + budget
    while len(samples) < max_reps and (len(samples) < min_reps or time.perf_counter() < deadline):
        start = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def percentile(values: list[float], q: float) -> float:
    """The q-th percentile (0-100) by nearest rank."""
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[index]


def interleaved(fns: dict[str, Callable[[], object]], budget: float = 1.0, min_rounds: int = 5) -> dict[str, float]:
    """Median seconds per call of each of `fns`, measured round by round in turn, so that
    the machine's drift (other load, clock changes) affects every variant alike."""
    for fn in fns.values():
        fn()
    samples: dict[str, list[float]] = {name: [] for name in fns}
    deadline = time.perf_counter() + budget
    rounds = 0
    while rounds < min_rounds or (time.perf_counter() < deadline and rounds < 5000):
        for name, fn in fns.items():
            start = time.perf_counter()
            fn()
            samples[name].append(time.perf_counter() - start)
        rounds += 1
    return {name: statistics.median(values) for name, values in samples.items()}
