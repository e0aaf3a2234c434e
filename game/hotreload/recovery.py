"""Recovery: a system faults in `run` at step N; the game goes on at step N with the world intact.

What a fault leaves: the step's commands were never applied (they are applied only at the
end of a step), but columns the systems write in place may be half-written. What comes back:

1. **Autosave first.** The newest checkpoint of the running code and the input of every
   step since are written to the autosave file (atomically) before anything else: loading
   it replays those steps, so even if recovery itself fails, at most the faulting step is lost.
2. **The last completed step, exactly.** The checkpoint is restored and the recorded steps
   replayed with the same code that ran them (the faulting build included: it completed
   them). The world is then bit for bit what it was at the end of step N-1.
3. **The build is set aside** (game/pipeline.py `set_aside_live`): no more of its code runs,
   the system returns to its previous build, or is switched off when it has none.
4. **Step N again**, with its recorded input and the remaining code.

A fault during the replay or the retried step (another build, or one that faults only
sometimes) sets that build aside too and starts again from the checkpoint; after
MAX_ROUNDS the faulting systems are switched off and the world is restored to the
checkpoint's replay as far as it got. A step interrupted by SIGINT/SIGTERM is not a fault
of the build: the world goes back to the last completed step and the game exits.

The pipeline bumps its code `epoch` at every change of code; `prepare` (before each step)
takes a checkpoint when the newest one belongs to an older epoch, so a journal always exists.
"""

from __future__ import annotations

import logging
import time
from collections import deque
from dataclasses import dataclass
from pathlib import Path

from game.native.errors import SystemFault
from game.pipeline import Pipeline
from game.world import snapshot
from game.world.checkpoint import Checkpoint
from game.world.history import History

log = logging.getLogger("sandbox")

MAX_ROUNDS = 4


@dataclass
class RecoveryReport:
    """One recovery, for the HUD, the log and the tests."""

    fault: SystemFault
    outcome: str
    replayed: int
    seconds: float
    autosave: Path | None
    autosave_error: str | None = None


class Recovery:
    def __init__(self, pipeline: Pipeline, history: History, autosave: Path | None) -> None:
        self.pipeline = pipeline
        self.history = history
        self.autosave = autosave
        self.reports: deque[RecoveryReport] = deque(maxlen=100)

    def prepare(self) -> None:
        """Before a step: makes sure a checkpoint of the running code exists."""
        pipeline = self.pipeline
        if self.history.epoch != pipeline.epoch:
            self.history.mark(pipeline.world, pipeline.epoch)

    def recover(self, fault: SystemFault, dt: float, step_input: bytes) -> RecoveryReport:
        """Steps 1-4 above; the world ends one step further on (or, interrupted, unchanged)."""
        started = time.perf_counter()
        pipeline = self.pipeline
        world = pipeline.world
        step = world.step  # the last completed step; the faulting one is step + 1
        journal = self.history.journal(step, pipeline.epoch)
        saved, save_error = self._autosave(journal)
        replayed = 0
        outcome = "world restored"
        if journal is None:
            log.error(
                "%s: no checkpoint of the running code to restore from; the world keeps what step %d wrote",
                fault,
                step + 1,
            )
        faults = [fault]
        for round_ in range(MAX_ROUNDS):
            if journal is not None:
                checkpoint, inputs = journal
                History.restore(checkpoint, world)
                try:
                    for recorded in inputs:
                        pipeline.step(dt, recorded)
                        replayed += 1
                except SystemFault as again:
                    faults.append(again)
                    self._set_aside(again)
                    continue
            if fault.fault.interrupted:  # type: ignore[attr-defined]
                outcome = "interrupted: world back at the last completed step"
                break
            if round_ == 0:
                outcome = self._set_aside(fault)
            try:
                pipeline.step(dt, step_input)
                break
            except SystemFault as again:
                faults.append(again)
                self._set_aside(again)
                if journal is None:
                    break
        else:
            outcome += f"; {len(faults)} faults in a row, gave up replaying"
        seconds = time.perf_counter() - started
        for caught in faults:
            caught.__traceback__ = caught.__context__ = None  # their frames hold checkpoints
        report = RecoveryReport(fault, outcome, replayed, seconds, saved, save_error)
        self.reports.append(report)
        log.error(
            "recovered from %s in %.0f ms: %s; replayed %d steps%s",
            fault,
            seconds * 1000,
            outcome,
            replayed,
            f"; world autosaved to {saved}" if saved else f"; AUTOSAVE FAILED: {save_error}" if save_error else "",
        )
        return report

    def restore_torn(self, dt: float) -> bool:
        """After a step that never finished (Ctrl+C landed mid-step): the world back at the last
        completed step, before it is saved at exit. False when there is nothing to restore from."""
        if not self.pipeline.torn:
            return True
        journal = self.history.journal(self.pipeline.world.step, self.pipeline.epoch)
        if journal is None:
            return False
        checkpoint, inputs = journal
        History.restore(checkpoint, self.pipeline.world)
        for recorded in inputs:
            self.pipeline.step(dt, recorded)
        self.pipeline.torn = False
        return True

    def _set_aside(self, fault: SystemFault) -> str:
        if fault.name not in self.pipeline.slots:
            return "already gone"
        return self.pipeline.set_aside_live(fault)

    def save(self, checkpoint: Checkpoint, inputs: list[bytes]) -> tuple[Path | None, str | None]:
        """Writes the autosave: `checkpoint` and the inputs that replay it to the last completed
        step. Returns (path, None), or (None, why) when it could not be written."""
        if self.autosave is None:
            return None, None
        started = time.perf_counter()
        try:
            snapshot.write_state(checkpoint.state, self.autosave, replay=inputs)
        except OSError as exc:
            log.error("autosave to %s failed: %s", self.autosave, exc.strerror or exc)
            return None, f"{self.autosave}: {exc.strerror or exc}"
        log.info(
            "autosaved step %d + %d recorded steps to %s in %.0f ms",
            checkpoint.step,
            len(inputs),
            self.autosave,
            (time.perf_counter() - started) * 1000,
        )
        return self.autosave, None

    def save_world(self) -> None:
        """Writes the autosave from the world as it is (a fault that left it untouched)."""
        self.save(Checkpoint.capture(self.pipeline.world), [])

    def _autosave(self, journal: tuple[Checkpoint, list[bytes]] | None) -> tuple[Path | None, str | None]:
        if journal is None:
            return None, None
        return self.save(*journal)
