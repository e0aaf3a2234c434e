"""Record and rewind: checkpoints of the last seconds of the world, and every step's input.

A checkpoint is taken every `interval` steps; the interval grows with the world so the
buffer stays within `budget` bytes (100k entities: every 10 steps; 1M: every 60 or so).
Each step's input (the `sdk.Input` bytes, 120 of them) is kept too. Rewinding restores
the newest checkpoint at least `seconds` back, forgets the ones after it, and hands back
the input of the steps from there to where the world was: played again, they reproduce
the session exactly (or show what code reloaded since does with the same input).

Each checkpoint carries the pipeline's code `epoch` (bumped by every swap, flip and set-aside).
`journal` hands back the newest checkpoint of the running code and the input since: the
recovery from a fault (game/hotreload/recovery.py) replays it to rebuild the last completed
step exactly, so it needs a checkpoint taken since the code last changed (`mark`).
"""

from __future__ import annotations

import threading
from collections import deque

import numpy as np

from game.world import state
from game.world.checkpoint import Checkpoint
from game.world.schema import plan_migration
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
        self._lock = threading.Lock()  # a lease (another thread) against the reuse of its arrays
        self._spare: Checkpoint | None = None
        """Memory for the next capture that has no checkpoint to evict: fresh memory costs the
        frame thread its page faults (20-36 ms at 1M entities), so it is faulted in off it."""
        self._preparing = False

    def __len__(self) -> int:
        return len(self._ring)

    def record(self, world: World, step_input: bytes = b"", epoch: int = 0) -> None:
        """Call after every step with that step's input: keeps a checkpoint every `interval` steps."""
        span = int(self.seconds * STEPS_PER_SECOND)
        self._inputs.append((world.step - 1, step_input))
        while self._inputs and self._inputs[0][0] < world.step - 2 * span:
            self._inputs.popleft()
        if world.step % self.interval and self._ring:
            return
        if self._ring and world.step - self._ring[-1].step < self.interval // 2:
            return  # a checkpoint was just marked (a swap): two copies in two frames would stall
        self._capture(world, epoch)

    @property
    def epoch(self) -> int | None:
        """The code epoch of the newest checkpoint (None when there is none)."""
        return self._ring[-1].epoch if self._ring else None

    def mark(self, world: World, epoch: int) -> Checkpoint:
        """A checkpoint of `world` now, for code `epoch`; returns it. It reuses the memory of
        the oldest checkpoint when that one is due to go (or a spare made off the frame thread)."""
        return self._capture(world, epoch)

    def lease_newest(self) -> Checkpoint | None:
        """The newest checkpoint, its arrays kept from reuse until `release` (for a reader on
        another thread: the canary's copy of the world is written from it)."""
        with self._lock:
            if not self._ring:
                return None
            checkpoint = self._ring[-1]
            checkpoint.leased += 1
            return checkpoint

    def release(self, checkpoint: Checkpoint) -> None:
        with self._lock:
            checkpoint.leased -= 1

    def journal(self, step: int, epoch: int) -> tuple[Checkpoint, list[bytes]] | None:
        """The newest checkpoint at or before `step` taken while code `epoch` ran, and the
        input of every step from it to `step`; None when there is none (or a step's input is
        missing). Changes nothing."""
        for checkpoint in reversed(self._ring):
            if checkpoint.step <= step and checkpoint.epoch == epoch:
                inputs = [data for s, data in self._inputs if checkpoint.step <= s < step]
                if len(inputs) != step - checkpoint.step or not all(inputs):
                    return None
                return checkpoint, inputs
        return None

    def _capture(self, world: World, epoch: int) -> Checkpoint:
        span = int(self.seconds * STEPS_PER_SECOND)
        ring = self._ring
        with self._lock:
            evict = ring and (ring[0].step < world.step - span or len(ring) >= self._slots)
            reuse = ring.popleft() if evict else None
            if reuse is not None and (reuse.shared or reuse.leased):
                reuse = None
            if reuse is None:
                reuse, self._spare = self._spare, None
        checkpoint = Checkpoint.capture(world, reuse=reuse)
        checkpoint.epoch = epoch
        slots = self._slots = max(1, self.budget // max(checkpoint.nbytes, 1))
        self.interval = max(self.min_interval, -(-span // slots))
        ring.append(checkpoint)
        with self._lock:
            while self._ring and (self._ring[0].step < world.step - span or len(self._ring) > slots):
                dropped = self._ring.popleft()
                if not (dropped.shared or dropped.leased):
                    self._spare = dropped  # its memory serves the next capture
            if self._spare is None and not self._preparing:
                self._preparing = True
                threading.Thread(target=self._prepare_spare, args=(checkpoint.state,), daemon=True).start()
        return checkpoint

    def _prepare_spare(self, like: state.WorldState) -> None:
        """Off the frame thread: buffers shaped like `like`'s arrays, with a quarter more
        room, their pages faulted in (numpy's fill releases the GIL)."""
        try:
            spare = {
                key: np.empty((len(a) + len(a) // 4, *a.shape[1:]), a.dtype) for key, a in list(like.arrays.items())
            }
            for buffer in spare.values():
                buffer.fill(0)
            made = Checkpoint(state.WorldState(like.meta, {k: b[:0] for k, b in spare.items()}, spare))
            with self._lock:
                if self._spare is None:
                    self._spare = made
        finally:
            self._preparing = False

    def rewind(self, world: World, seconds: float = 1.0) -> tuple[int, list[bytes]] | None:
        """Restores the newest checkpoint at least `seconds` back (or the oldest one); returns
        its step and the recorded input of the steps from there to where the world was, or
        None when nothing is recorded.

        A checkpoint from before a change of components.zig comes back migrated to the
        world's current schema (the running systems are built against it), as a world file
        does. Raises MigrationError, changing nothing, when that would lose its data."""
        if not self._ring:
            return None
        now = world.step
        target = now - int(seconds * STEPS_PER_SECOND)
        back = len(self._ring)
        while back > 1 and self._ring[back - 1].step > target:
            back -= 1
        checkpoint = self._ring[back - 1]
        self.restore(checkpoint, world)
        while len(self._ring) > back:
            self._ring.pop()
        replay = [data for step, data in self._inputs if checkpoint.step <= step < now and data]
        while self._inputs and self._inputs[-1][0] >= checkpoint.step:
            self._inputs.pop()
        return checkpoint.step, replay

    @staticmethod
    def restore(checkpoint: Checkpoint, world: World) -> None:
        """Puts `checkpoint` back, migrated to the world's current schema. Raises
        MigrationError, changing nothing, when that would lose its data."""
        schema = dict(world.schema)
        meta = checkpoint.state.meta
        migrate = meta["schema"] != state.schema_to_json(schema)
        if migrate:
            old = state.schema_from_json(meta["schema"])
            held = [names for i, names in enumerate(meta["tables"]) if len(checkpoint.state.arrays[f"t{i}.entities"])]
            used = {n for names in held for n in names} | {n for n, s in old.items() if s.is_resource}  # World.in_use
            plan_migration(old, schema, used, source=f"rewind to step {checkpoint.step}")
        checkpoint.restore(world)
        if migrate:
            world.migrate(schema, source=f"rewind to step {checkpoint.step}")

    def forget_after(self, step: int) -> None:
        """Drops the checkpoints taken after `step` (a rollback replaced that stretch of the
        world's past; the inputs recorded for it are the ones replayed, and stay)."""
        while self._ring and self._ring[-1].step > step:
            self._ring.pop()

    def clear(self) -> None:
        self._ring.clear()
        self._inputs.clear()
