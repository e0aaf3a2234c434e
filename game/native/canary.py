"""Canary: a new build runs first in a separate process, against a copy of the world.

The host keeps one worker process (`python -m game.native.canary`) and sends it a job per
library: load it (copy, dlopen, `plugin_entry`), check it, run it for a few frames over a
copy of the current world. Whatever the build does (segfault, Zig panic, endless loop,
error status) happens in that process: the worker's death or silence is the verdict, and
the game only loads a build the canary passed. The worker is started once and reused,
so Python's start-up cost is not paid on every F5; after a crash the next job starts a new one.

The world copy is the newest rewind checkpoint (no copy on the frame thread), written to a
file while the compiler runs and read by the worker right away (`preload`), so a check only
restores it. A world of more than SAMPLE entities is sampled: every table keeps the same
share of its rows (its first ones), the others are despawned in the copy. Five frames over
50k entities exercise every query, table and code path the data reaches; a fault that needs
one particular entity outside the sample is caught after the swap by the guard (see
game/native/guard.py), with the world restored, like any fault the canary's frames miss.

Protocol: one JSON object a line on stdin (a job) and on stdout (its verdict).
"""

from __future__ import annotations

import json
import os
import queue
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
from pathlib import Path
from typing import IO, Any

import numpy as np

from game.native import guard
from game.world.entities import INDEX_MASK
from game.world.schema import ComponentSpec
from game.world.state import WorldState, schema_to_json
from game.world.world import World

SAMPLE = 50_000
"""At most this many entities in the canary's copy of the world."""


def sample(image: WorldState, limit: int = SAMPLE) -> WorldState:
    """`image` with at most about `limit` entities: each table keeps its first rows, in
    proportion; the rest are despawned (their indices join the free list, as a despawn's
    do). The arrays are views of `image`'s: nothing is copied."""
    tables = len(image.meta["tables"])
    total = sum(len(image.arrays[f"t{i}.entities"]) for i in range(tables))
    if total <= limit:
        return image
    arrays = dict(image.arrays)
    dropped = []
    for i in range(tables):
        ids = image.arrays[f"t{i}.entities"]
        keep = -(-len(ids) * limit // total)
        dropped.append((ids[keep:] & INDEX_MASK).astype(np.uint32))
        prefix = f"t{i}."
        for key, array in image.arrays.items():
            if key.startswith(prefix):
                arrays[key] = array[:keep]
    arrays["entities.free"] = np.concatenate([image.arrays["entities.free"], *dropped])
    return WorldState(image.meta, arrays)


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
        self._closed = False
        self._spawning = threading.Lock()  # no worker starts once `stop` has begun
        self.panic_offset: int | None = None
        """The last check's panic site, as an offset into the library's file (None: no panic)."""

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
            start_new_session=True,  # a Ctrl+C in the terminal is the game's to handle: it closes the worker
        )
        self._lines = queue.Queue()
        stdout = proc.stdout
        assert stdout is not None
        threading.Thread(target=_pump, args=(stdout, self._lines), daemon=True, name="canary-reader").start()
        self._proc = proc
        return proc

    def warm(self) -> None:
        """Starts the worker now if it is not running (it takes a few hundred ms to start),
        so the first check does not wait for it."""
        with self._spawning:
            if not self._closed and (self._proc is None or self._proc.poll() is not None):
                self._spawn()

    def world_file(self, image: WorldState) -> Path:
        """Writes (a sample of) `image` for the checks to come, and has the worker read it
        now (a build is usually still compiling): a check then only restores it."""
        from game.world.snapshot import write_state

        path = self._dir / "world.npz"
        write_state(sample(image), path, durable=False)
        self._ask({"preload": str(path)}, "preload")
        return path

    def check(
        self,
        library: Path,
        world_file: Path,
        name: str,
        schema: dict[str, ComponentSpec] | None = None,
        tunables: dict[str, dict[str, list[float]]] | None = None,
    ) -> str | None:
        """Runs `library` in the worker on the world in `world_file` (migrated to `schema` first,
        when a change of components.zig comes with it) with the game's `tunables` values (see
        `Tunables.saved`); None if it passed, else a one-line reason naming `name`."""
        job = {
            "library": str(library),
            "world": str(world_file),
            "frames": self.frames,
            "copies": str(self.copies),
            "source": name,
            "schema": schema_to_json(schema) if schema is not None else None,
            "bound": guard.bound(),
            "tunables": tunables or {},
        }
        return self._ask(job, name)

    def _ask(self, job: dict[str, Any], name: str) -> str | None:
        self.panic_offset = None
        with self._spawning:
            if self._closed:
                return f"{name}: canary stopped: the game is closing"
            proc = self._proc if self._proc is not None and self._proc.poll() is None else self._spawn()
        assert proc.stdin is not None and self._stderr is not None
        mark = self._stderr.tell()
        try:
            proc.stdin.write(json.dumps(job) + "\n")
            proc.stdin.flush()
        except OSError:
            return self._died(proc, name, mark)
        try:
            line = self._lines.get(timeout=max(self.timeout, 2 * guard.bound() + 1))  # the guard ends a hang first
        except queue.Empty:
            line = ""  # silence: the system is stuck
        if self._closed:
            return f"{name}: canary stopped: the game is closing"
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
        offset = verdict.get("panic_offset")
        self.panic_offset = offset if isinstance(offset, int) else None
        return None if verdict["ok"] else str(verdict["error"])  # it names the file already

    def _died(self, proc: subprocess.Popen[str], name: str, mark: int) -> str:
        code = proc.wait()
        self._proc = None
        if self._closed:
            return f"{name}: canary stopped: the game is closing"
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

    def stop(self) -> None:
        """Kills the worker: a check waiting on it returns at once, and any later one is
        answered "the game is closing". The scratch folder and the log stay, for a build
        thread still writing a world copy into it: `close` removes them once it has ended."""
        with self._spawning:
            self._closed = True
            proc = self._proc
        if proc is not None:
            proc.kill()
            proc.wait()

    def close(self) -> None:
        """`stop`, then closes the worker's log and removes its scratch folder (world copies:
        megabytes each). Only once no build thread uses the canary any more."""
        self.stop()
        self._proc = None
        if self._stderr is not None:
            self._stderr.close()
        shutil.rmtree(self._dir, ignore_errors=True)


def _pump(stream: IO[str], lines: queue.Queue[str | None]) -> None:
    for line in stream:
        lines.put(line)
    lines.put(None)


# --- the worker process -------------------------------------------------------------


def _run_job(job: dict[str, Any]) -> dict[str, Any]:
    from game.native import handshake
    from game.native.abi import Kind
    from game.native.errors import HandshakeError, LoadError, SystemFault, SystemRunError
    from game.native.input import InputState
    from game.native.library import NativeLibrary
    from game.native.system import NativeSystem
    from game.world import commands, registry, state

    guard.install(float(job.get("bound", guard.DEFAULT_BOUND)))  # a hang ends as the game's would
    registry.use_fresh_world()
    image = _read_world(Path(job["world"]))
    if "library" not in job:  # a preload: the world is read, the check comes later
        return {"ok": True}
    width, height = image.meta["size"]
    world = World(width, height, seed=0)
    state.restore(image, world, checked=True)
    if job.get("schema") is not None:
        world.migrate(state.schema_from_json(job["schema"]))
    world.tunables.restore(job.get("tunables"))  # the values the game runs with, not the defaults
    try:
        lib = NativeLibrary.load(Path(job["library"]), Path(job["copies"]), version=0)
    except LoadError as exc:
        return {"ok": False, "error": f"{job['source']}: {exc}"}
    try:
        handshake.check_abi(lib.info, job["source"])
        if lib.info.kind in (Kind.SCHEMA, Kind.DEMO):
            return {"ok": True}
        handshake.check_schema(lib.info, job["source"], world.schema)
        system = NativeSystem(lib, world, InputState())
        pixels = np.zeros((world.height, world.width), dtype=np.uint32)
        target = (
            (pixels.ctypes.data, world.width, world.height, world.width * 4) if lib.info.kind == Kind.RENDER else None
        )
        for _ in range(job["frames"]):
            system.run(1.0 / 60.0, target)
            batch = system.take_commands()
            if batch is not None:
                commands.apply(world, lib.info.name, batch)
            world.step += 1
        _exercise_hooks(lib, world.step)
    except SystemFault as exc:
        # Offsets into the library's file hold for the build's own file too (the same bytes).
        where = lib.panic_offset() if exc.fault.kind == "panic" else None
        return {"ok": False, "error": f"{job['source']}: canary caught {exc}", "panic_offset": where}
    except HandshakeError as exc:
        return {"ok": False, "error": str(exc)}
    except SystemRunError as exc:
        return {"ok": False, "error": f"{job['source']}: {exc}"}
    finally:
        lib.close()
    return {"ok": True}


_WORLD: tuple[tuple[str, int, int], WorldState] | None = None  # the last world file read, by name and stat


def _read_world(path: Path) -> WorldState:
    """The world in `path`, read (and checked in full: a worker must not trust a file) once
    per version of the file."""
    global _WORLD
    from game.world.snapshot import read_state

    st = path.stat()
    key = (str(path), st.st_mtime_ns, st.st_size)
    if _WORLD is None or _WORLD[0] != key:
        _WORLD = (key, read_state(path))
    return _WORLD[1]


def _exercise_hooks(lib: Any, step: int) -> None:
    """The entry points a swap calls besides `run`: state out, the same state back in, shutdown.
    A fault in any of them is caught here, before the game ever runs the build."""
    from game.native.abi import ffi

    if lib.info.has_state_hooks:
        capacity = 1 << 20
        buf, length = ffi.new("uint8_t[]", capacity), ffi.new("uint64_t *")
        if lib.save_state(buf, capacity, length, step) == 0 and length[0] <= capacity:
            lib.load_state(buf, length[0], lib.info.state_version, step)
    lib.shutdown(step)


def main() -> None:
    for line in sys.stdin:
        try:
            job = json.loads(line)
            verdict = _run_job({**job, "world": job["preload"]} if "preload" in job else job)
        except Exception as exc:  # a bad job must not look like a crash of the system
            verdict = {"ok": False, "error": f"canary error: {type(exc).__name__}: {exc}"}
        sys.stdout.write(json.dumps(verdict) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
