"""Record and rewind: checkpoints of the last seconds of the world, and every step's input.

A checkpoint is taken every `interval` steps; the interval grows with the world so the
buffer stays within `budget` bytes (100k entities: every 10 steps; 1M: every 60 or so).
Each step's input (the `sdk.Input` bytes, 120 of them) is kept too. Rewinding restores
the newest checkpoint at least `seconds` back, forgets the ones after it, and hands back
the input of the steps from there to where the world was: played again, they reproduce
the session exactly (or show what code reloaded since does with the same input).
"""

from __future__ import annotations

from collections import deque

from game.world.checkpoint import Checkpoint
from game.world.world import World

STEPS_PER_SECOND = 60


class History:
    def __init__(self, seconds: float = 5.0, budget: int = 256 << 20, min_interval: int = 10) -> None:
        self.seconds = seconds
        self.budget = budget
        self.min_interval = min_interval
        self.interval = min_interval
        self._ring: deque[Checkpoint] = deque()
        self._inputs: deque[tuple[int, bytes]] = deque()
        self._slots = 1 << 30  # how many checkpoints fit the budget; known after the first

    def __len__(self) -> int:
        return len(self._ring)

    def record(self, world: World, step_input: bytes = b"") -> None:
        """Call after every step with that step's input: keeps a checkpoint every `interval` steps."""
        span = int(self.seconds * STEPS_PER_SECOND)
        self._inputs.append((world.step - 1, step_input))
        while self._inputs and self._inputs[0][0] < world.step - 2 * span:
            self._inputs.popleft()
        if world.step % self.interval:
            return
        ring = self._ring
        evict = ring and (ring[0].step < world.step - span or len(ring) >= self._slots)
        checkpoint = Checkpoint.capture(world, reuse=ring.popleft() if evict else None)
        slots = self._slots = max(1, self.budget // max(checkpoint.nbytes, 1))
        self.interval = max(self.min_interval, -(-span // slots))
        ring.append(checkpoint)
        while self._ring and self._ring[0].step < world.step - span:
            self._ring.popleft()
        while len(self._ring) > slots:
            self._ring.popleft()

    def rewind(self, world: World, seconds: float = 1.0) -> tuple[int, list[bytes]] | None:
        """Restores the newest checkpoint at least `seconds` back (or the oldest one); returns
        its step and the recorded input of the steps from there to where the world was, or
        None when nothing is recorded."""
        if not self._ring:
            return None
        now = world.step
        target = now - int(seconds * STEPS_PER_SECOND)
        while len(self._ring) > 1 and self._ring[-1].step > target:
            self._ring.pop()
        checkpoint = self._ring[-1]
        checkpoint.restore(world)
        replay = [data for step, data in self._inputs if checkpoint.step <= step < now and data]
        while self._inputs and self._inputs[-1][0] >= checkpoint.step:
            self._inputs.pop()
        return checkpoint.step, replay

    def clear(self) -> None:
        self._ring.clear()
        self._inputs.clear()
