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

Another build faulting in the retried step (or the previous build, with the same bug) is set
aside too, and the world goes back to a copy of the last completed step taken after the
replay: exact. A build faulting during the replay itself (one that faults only sometimes)
is set aside and the replay restarts without it: what it wrote in those steps is lost. At
most MAX_ROUNDS of each. A call ended by SIGINT/SIGTERM is not a fault of the build: the
world goes back to the last completed step and the game exits.

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
        self.interrupted = False
        """A SIGINT/SIGTERM ended a call into system code: the game should stop stepping."""
        self.target: int | None = None
        """During a recovery: the last completed step it restores (what an exit must save)."""

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
        step = world.step  # steps completed; the faulting one is step `step`
        self.target = step
        journal = self.history.journal(step, pipeline.epoch)
        saved, save_error = self._autosave(journal)
        faults = [fault]
        replayed, outcome = self._repair(fault, journal, faults, dt, step_input)
        if not pipeline.torn:
            self.target = None  # else (interrupted half-way) restore_torn still needs it
        for caught in faults:
            caught.__traceback__ = caught.__context__ = None  # their frames hold checkpoints
            self.interrupted |= caught.interrupted
        named = ", ".join(dict.fromkeys(f.name for f in faults))
        if len(faults) > 1:
            outcome += f" (faulted: {named})"
        seconds = time.perf_counter() - started
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

    def _repair(
        self,
        fault: SystemFault,
        journal: tuple[Checkpoint, list[bytes]] | None,
        faults: list[SystemFault],
        dt: float,
        step_input: bytes,
    ) -> tuple[int, str]:
        """Back to the last completed step, the build set aside, the step again. Returns the
        steps replayed and what became of the system(s)."""
        pipeline = self.pipeline
        world = pipeline.world
        replayed = 0
        if journal is None:
            log.error("%s: no checkpoint of the running code to restore from; the world keeps what it wrote", fault)
        # 1. The last completed step, replayed with the code that completed it. A fault here is
        # a build that faults only sometimes: it goes, and the replay starts again without it.
        for _ in range(MAX_ROUNDS):
            if journal is None:
                break
            try:
                replayed += self._replay(journal, dt)
                break
            except SystemFault as again:
                faults.append(again)
                if again.fault.interrupted:
                    return replayed, "interrupted while replaying: the world is restored at exit"
                self._set_aside(again)
        else:
            return replayed, "gave up: a build faulted in every replay; the world keeps what it wrote"
        if fault.fault.interrupted:
            return replayed, "interrupted: world back at the last completed step"
        # 2. The faulting step again without the build; if another build faults in it too (or
        # the previous build has the same bug), back to the same point, exactly, and again.
        end = Checkpoint.capture(world) if journal is not None else None
        outcome = self._set_aside(fault)
        for _ in range(MAX_ROUNDS):
            try:
                pipeline.step(dt, step_input)
                return replayed, outcome
            except SystemFault as again:
                faults.append(again)
                if end is not None:
                    end.restore(world)
                    pipeline.torn = False
                if again.fault.interrupted:
                    return replayed, outcome + "; interrupted: world back at the last completed step"
                outcome = self._set_aside(again)
        return replayed, outcome + f"; step {world.step} skipped after {MAX_ROUNDS} more faults in it"

    def restore_torn(self, dt: float) -> bool:
        """After a step that never finished (Ctrl+C landed mid-step, or mid-recovery): the world
        back at the last completed step, before it is saved at exit. False when there is
        nothing to restore from."""
        if not self.pipeline.torn and self.target is None:
            return True
        target = self.target if self.target is not None else self.pipeline.world.step
        journal = self.history.journal(target, self.pipeline.epoch)
        if journal is None:
            return False
        self._replay(journal, dt)
        self.pipeline.torn = False
        self.target = None
        return True

    def _replay(self, journal: tuple[Checkpoint, list[bytes]], dt: float) -> int:
        """Restores the journal's checkpoint and steps through its inputs; raises SystemFault."""
        checkpoint, inputs = journal
        History.restore(checkpoint, self.pipeline.world)
        for recorded in inputs:
            self.pipeline.step(dt, recorded)
        return len(inputs)

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
