"""Canary: a new build runs first in a separate process, against a copy of the world.

The host keeps one worker process (`python -m game.native.canary`) and sends it a job per
library: load it (copy, dlopen, `plugin_entry`), check it, run it for a few frames over a
copy of the current world. Whatever the build does (segfault, Zig panic, endless loop,
error status) happens in that process: the worker's death or silence is the verdict, and
the game only loads a build the canary passed. The worker is started once and reused,
so Python's start-up cost is not paid on every F5; after a crash the next job starts a new one.

Protocol: one JSON object a line on stdin (a job) and on stdout (its verdict).
"""

from __future__ import annotations

import json
import os
import queue
import signal
import subprocess
import sys
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import numpy as np

from game.world.checkpoint import Checkpoint
from game.world.schema import ComponentSpec, DType
from game.world.world import World


@dataclass
class WorldImage:
    """A checkpoint of the world, taken at a frame boundary, plus its size: what the canary runs on."""

    checkpoint: Checkpoint
    width: int
    height: int

    @classmethod
    def capture(cls, world: World) -> WorldImage:
        return cls(Checkpoint.capture(world), world.width, world.height)

    def write(self, path: Path) -> None:
        cp = self.checkpoint
        meta = {
            "specs": [[s.name, int(s.dtype), s.width, s.default] for s in cp.specs],
            "size": [self.width, self.height],
            "step": cp.step,
        }
        with path.open("wb") as f:
            arrays: dict[str, Any] = {f"col_{k}": v for k, v in cp.columns.items()}
            np.savez(f, **arrays, ids=cp.ids, meta=np.array(json.dumps(meta)))


class CanaryWorker:
    """Runs canary jobs in a child process; `check` returns None (passed) or why it failed."""

    def __init__(self, copies: Path, frames: int = 5, timeout: float = 3.0) -> None:
        self.copies = copies
        self.frames = frames
        self.timeout = timeout
        self._proc: subprocess.Popen[str] | None = None
        self._lines: queue.Queue[str | None] = queue.Queue()
        self._stderr: IO[str] | None = None
        self._dir = Path(tempfile.mkdtemp(prefix="ecs-canary-"))

    def _spawn(self) -> subprocess.Popen[str]:
        from game.native.library import remove_stale_copies

        remove_stale_copies(self.copies)  # what a crashed worker left behind
        self._stderr = (self._dir / "stderr.txt").open("w+", encoding="utf-8", errors="replace")
        proc = subprocess.Popen(
            [sys.executable, "-m", "game.native.canary"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._stderr,
            text=True,
            cwd=Path(__file__).resolve().parents[2],
        )
        self._lines = queue.Queue()
        stdout = proc.stdout
        assert stdout is not None
        threading.Thread(target=_pump, args=(stdout, self._lines), daemon=True, name="canary-reader").start()
        self._proc = proc
        return proc

    def world_file(self, image: WorldImage) -> Path:
        path = self._dir / "world.npz"
        image.write(path)
        return path

    def check(self, library: Path, world_file: Path, name: str) -> str | None:
        """Runs `library` in the worker; None if it passed, else a one-line reason naming `name`."""
        proc = self._proc if self._proc is not None and self._proc.poll() is None else self._spawn()
        job = {
            "library": str(library),
            "world": str(world_file),
            "frames": self.frames,
            "copies": str(self.copies),
            "source": name,
        }
        assert proc.stdin is not None and self._stderr is not None
        mark = self._stderr.tell()
        try:
            proc.stdin.write(json.dumps(job) + "\n")
            proc.stdin.flush()
        except OSError:
            return self._died(proc, name, mark)
        try:
            line = self._lines.get(timeout=self.timeout)
        except queue.Empty:
            line = ""  # silence: the system is stuck
        if line == "":
            proc.kill()
            proc.wait()
            self._proc = None
            return (
                f"{name}: canary did not finish {self.frames} frames within {self.timeout:.0f} s "
                "(endless loop?); the game never ran it: fix the loop and press F5"
            )
        if line is None:
            return self._died(proc, name, mark)
        verdict = json.loads(line)
        return None if verdict["ok"] else str(verdict["error"])  # it names the file already

    def _died(self, proc: subprocess.Popen[str], name: str, mark: int) -> str:
        code = proc.wait()
        self._proc = None
        assert self._stderr is not None
        self._stderr.seek(mark)
        said = " ".join(ln.strip() for ln in self._stderr.read().splitlines() if ln.strip())[-300:]
        self._stderr.seek(0, os.SEEK_END)
        how = (
            f"killed by {signal.Signals(-code).name}"
            if code < 0 and -code in signal.valid_signals()
            else f"exited with {code}"
        )
        return (
            f"{name}: canary crashed ({how})"
            + (f": {said}" if said else "")
            + "; the game never ran it: fix the crash and press F5"
        )

    def close(self) -> None:
        if self._proc is not None:
            self._proc.kill()
            self._proc.wait()
            self._proc = None
        if self._stderr is not None:
            self._stderr.close()


def _pump(stream: IO[str], lines: queue.Queue[str | None]) -> None:
    for line in stream:
        lines.put(line)
    lines.put(None)


# --- the worker process -------------------------------------------------------------


def _run_job(job: dict[str, Any]) -> dict[str, Any]:
    from game.native import handshake
    from game.native.abi import Kind
    from game.native.errors import HandshakeError, LoadError, SystemRunError
    from game.native.library import NativeLibrary
    from game.native.system import InputState, NativeSystem
    from game.world import registry

    with np.load(job["world"], allow_pickle=False) as npz:
        meta = json.loads(str(npz["meta"]))
        ids = npz["ids"]
        columns = {k[4:]: npz[k] for k in npz.files if k.startswith("col_")}
    specs = [ComponentSpec(n, DType(d), w, default) for n, d, w, default in meta["specs"]]
    registry.use_fresh_world()
    width, height = meta["size"]
    world = World(width, height, seed=0, specs=specs)
    registry.reset_next_id(int(ids.max()) + 1 if len(ids) else 1)
    world.store.append(ids, columns)
    world.step = meta["step"]
    library = Path(job["library"])
    try:
        lib = NativeLibrary.load(library, Path(job["copies"]), version=0)
    except LoadError as exc:
        return {"ok": False, "error": f"{job['source']}: {exc}"}
    try:
        for change in handshake.check(lib.info, job["source"], world.store.specs):
            if change.old is None:
                world.store.add_column(change.spec)
            else:
                world.store.widen_column(change.spec)
        system = NativeSystem(lib, world, InputState())
        pixels = np.zeros((world.height, world.width), dtype=np.uint32)
        target = (
            (pixels.ctypes.data, world.width, world.height, world.width * 4) if lib.info.kind == Kind.RENDER else None
        )
        for _ in range(job["frames"]):
            system.run(1.0 / 60.0, target)
            world.step += 1
    except HandshakeError as exc:
        return {"ok": False, "error": str(exc)}
    except SystemRunError as exc:
        return {"ok": False, "error": f"{job['source']}: {exc}"}
    finally:
        lib.close()
    return {"ok": True}


def main() -> None:
    for line in sys.stdin:
        try:
            verdict = _run_job(json.loads(line))
        except Exception as exc:  # a bad job must not look like a crash of the system
            verdict = {"ok": False, "error": f"canary error: {type(exc).__name__}: {exc}"}
        sys.stdout.write(json.dumps(verdict) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
