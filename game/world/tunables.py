"""Tunables: named constants a system exposes, whose values the host keeps and the window edits.

A system declares them in its `sdk.World` (`.tunables = .{ .thrust = sdk.Tunable{ .default
= 240, .min = 0, .max = 1000 } }`) and reads them with `w.tune(.thrust)`. The values live
here, one float32 buffer per loaded build, which the build's every call reads through
`Frame.tunables`: changing one costs no rebuild and takes effect at the next step.

What a value does over time:
- a reload keeps it (a new build of the system gets the value by name, clamped to the new
  range), until the source's `default` changes: then the source wins, since writing the
  value into the source is how a tweak is made permanent;
- a saved world carries every value that differs from its default (`snapshot` keeps them in
  the file's meta); loading one sets them again;
- rewind does not undo a change: like an edit of the code, a change holds from then on (it
  bumps the pipeline's epoch: a replay across it is not exact).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

MAX_TUNABLES = 32


@dataclass(frozen=True)
class TunableSpec:
    """One tunable as a build declares it."""

    name: str
    default: float
    min: float
    max: float
    step: float

    def problem(self) -> str | None:
        """Why a library's declaration cannot be used, or None."""
        numbers = (self.default, self.min, self.max, self.step)
        if not all(math.isfinite(v) for v in numbers):
            return "default, min, max and step must be finite"
        if not self.min <= self.default <= self.max:
            return f"default {self.default:g} is outside {self.min:g}..{self.max:g}"
        if self.step <= 0:
            return f"step {self.step:g} must be above 0"
        return None

    def clamp(self, value: float) -> float:
        """`value` within min..max, as the float32 the system reads."""
        return float(np.float32(min(max(value, self.min), self.max)))


class Tunables:
    """Every system's tunable values (by system name, then tunable name), and the buffer of
    each loaded build. Not thread-safe: the frame thread binds and sets."""

    def __init__(self) -> None:
        self._values: dict[str, dict[str, tuple[float, float]]] = {}
        """system -> tunable -> (value, the source's default when it was set)."""
        self._bound: dict[str, tuple[tuple[TunableSpec, ...], Any]] = {}
        """system -> (the live build's specs, its float32 buffer)."""
        self.changes = 0
        """Bumped by every change of a value (the pipeline turns it into a new epoch)."""

    def bind(self, system: str, specs: tuple[TunableSpec, ...]) -> np.ndarray:
        """A buffer of `specs`' current values for a build of `system` to read (its frame
        points at it): kept values, clamped, or the defaults (see the module's rules). The
        build that binds last is the one `set` writes through."""
        kept = self._values.get(system, {})
        values = np.empty(len(specs), dtype=np.float32)
        for i, spec in enumerate(specs):
            value, default = kept.get(spec.name, (spec.default, spec.default))
            values[i] = spec.clamp(value) if default == spec.default else spec.default
        self._bound[system] = (specs, values)
        self._values[system] = {s.name: (float(values[i]), s.default) for i, s in enumerate(specs)}
        return values

    def specs(self, system: str) -> tuple[TunableSpec, ...]:
        bound = self._bound.get(system)
        return bound[0] if bound is not None else ()

    def systems(self) -> list[str]:
        """The systems whose live build has tunables, in name order."""
        return sorted(name for name, (specs, _) in self._bound.items() if specs)

    def get(self, system: str, name: str) -> float:
        """The value of `system`'s tunable `name`. Raises KeyError if it has none of that name."""
        return self._values[system][name][0]

    def set(self, system: str, name: str, value: float) -> float:
        """Sets a value (clamped to its range) in the live build's buffer; returns it.
        Raises KeyError if the live build of `system` has no tunable `name`."""
        specs, buffer = self._bound[system]
        index = next((i for i, s in enumerate(specs) if s.name == name), -1)
        if index < 0:
            raise KeyError(f"{system} has no tunable {name!r}")
        spec = specs[index]
        clamped = spec.clamp(value) if math.isfinite(value) else spec.default
        if float(buffer[index]) != clamped:
            buffer[index] = clamped
            self.changes += 1
        self._values[system][name] = (clamped, spec.default)
        return clamped

    def forget(self, system: str) -> None:
        """`system` is gone (its source removed): its values go too."""
        self._bound.pop(system, None)
        self._values.pop(system, None)

    # --- saved with the world ---------------------------------------------------------------

    def saved(self) -> dict[str, dict[str, list[float]]]:
        """The values that differ from their default, for a world file's meta:
        `{system: {name: [value, default]}}` (the default tells a later source change)."""
        return {
            system: {name: [value, default] for name, (value, default) in values.items() if value != default}
            for system, values in self._values.items()
            if any(value != default for value, default in values.values())
        }

    def restore(self, saved: object) -> list[str]:
        """Sets the values a world file carried (see `saved`); returns what was ignored and
        why (a malformed entry is skipped, never trusted)."""
        ignored: list[str] = []
        if not isinstance(saved, dict):
            return ["tunables: not a table"] if saved is not None else []
        for system, values in saved.items():
            if not isinstance(system, str) or not isinstance(values, dict):
                ignored.append(f"tunables of {system!r}: not a table")
                continue
            for name, pair in values.items():
                ok = isinstance(name, str) and isinstance(pair, list) and len(pair) == 2
                if not ok or not all(isinstance(v, (int, float)) and math.isfinite(v) for v in pair):
                    ignored.append(f"tunable {system}.{name}: expected [value, default]")
                    continue
                self._restore_one(system, name, float(pair[0]), float(pair[1]))
        return ignored

    def _restore_one(self, system: str, name: str, value: float, default: float) -> None:
        spec = next((s for s in self.specs(system) if s.name == name), None)
        if spec is None:  # no live build declares it (yet): kept for the build that will
            self._values.setdefault(system, {})[name] = (value, default)
        elif spec.default == default:
            self.set(system, name, value)
