"""ZigBuild: `python -m ziglang build` in a child process, its errors parsed.

The Zig toolchain comes from the pinned `ziglang` package, so the same command works on
Linux, macOS and Windows with no shell. The child runs at low priority so the frame loop
keeps its core while a build runs.

`zig build` starts processes of its own (the build runner, a compiler per artifact), so
the build runs in a process group of its own (a new session on POSIX, a new process group
on Windows): a build that runs past its timeout, a `cancel()` and the interpreter's exit
kill the whole group, and no compiler outlives the game.
"""

from __future__ import annotations

import atexit
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from game.hotreload.excerpt import lay_out

_ERROR = re.compile(r"^(?P<file>[^\s:][^:\n]*?):(?P<line>\d+):(?P<col>\d+): error: (?P<msg>.*)$")

DEFAULT_TIMEOUT = 600.0
"""Seconds a build may take. The first build on an empty Zig cache takes 80-150 s here (Zig
compiles its build runner and runtime once), a slow or busy machine several times that;
a later build takes seconds. Ten minutes kills only a build that is stuck."""


@dataclass(frozen=True)
class CompileError:
    """One `file:line:col: error: message` from the compiler, with the source line it shows."""

    file: str
    line: int
    column: int
    message: str
    source_line: str = ""

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}: {self.message}"

    def excerpt(self, width: int | None = None) -> list[str]:
        """The source line and a caret under the column, as the overlay and the log show them:
        on a monospace grid (tabs, wide characters; `excerpt.lay_out`), with `width` cut to a
        window of that many cells around the column."""
        if not self.source_line.strip():
            return []
        text, caret = lay_out(self.source_line, self.column, width)
        return [text, " " * caret + "^"]


@dataclass(frozen=True)
class BuildResult:
    ok: bool
    returncode: int
    seconds: float
    errors: tuple[CompileError, ...]
    output: str
    stopped: str = ""  # why the build was killed (a timeout, a cancel); "" when it ran to its end

    @property
    def summary(self) -> str:
        """One line for the log and the HUD."""
        if self.ok:
            return f"build ok in {self.seconds:.2f} s"
        if self.stopped:
            return f"build failed: {self.stopped}"
        return failure(self.errors, self.output, f" (exit {self.returncode})")


def failure(errors: tuple[CompileError, ...], output: str, where: str = "") -> str:
    """One line for a failed build: its first compiler error (and how many more), or else
    the compiler's own `error:` line (or its last line). `where` follows "build failed"."""
    if errors:
        more = f" (+{len(errors) - 1} more)" if len(errors) > 1 else ""
        return f"build failed: {errors[0]}{more}"
    lines = [ln.strip() for ln in output.splitlines() if ln.strip()]
    said = next((ln for ln in lines if ln.startswith("error: ")), lines[-1] if lines else "no output")
    return f"build failed{where}: {said.removeprefix('error: ')}"


def parse_errors(output: str) -> tuple[CompileError, ...]:
    """Every distinct compiler error in `output`, in order, with the source line after it."""
    lines = output.splitlines()
    seen: dict[tuple[str, int, int, str], CompileError] = {}
    for i, line in enumerate(lines):
        m = _ERROR.match(line.strip())
        if not m:
            continue
        key = (m["file"], int(m["line"]), int(m["col"]), m["msg"])
        if key not in seen:
            source = lines[i + 1].rstrip() if i + 1 < len(lines) else ""
            seen[key] = CompileError(*key, source_line=source)
    return tuple(seen.values())


class ZigBuild:
    """Builds the project at `project` into `project/zig-out` (or `prefix`); a build that
    takes longer than `timeout` seconds is killed, with its compiler processes."""

    def __init__(
        self,
        project: Path,
        optimize: str = "safe",
        prefix: Path | None = None,
        zig: Sequence[str] | None = None,
        timeout: float = DEFAULT_TIMEOUT,
    ) -> None:
        self.project = project
        self.optimize = optimize
        self.prefix = prefix or project / "zig-out"
        self.zig = list(zig) if zig is not None else [sys.executable, "-m", "ziglang"]
        self.timeout = timeout
        self._proc: subprocess.Popen[str] | None = None
        self._cancelled = False

    def command(self, step: str | None = None, extra: Sequence[str] = ()) -> list[str]:
        cmd = [*self.zig, "build"]
        if step:
            cmd.append(step)
        return [*cmd, f"-Doptimize={self.optimize}", "--prefix", str(self.prefix), "--color", "off", *extra]

    def run(self, step: str | None = None, timeout: float | None = None, extra: Sequence[str] = ()) -> BuildResult:
        """Runs the build to completion, or for `timeout` seconds (default: `self.timeout`);
        then it is killed with every process it started. A compiler that cannot start, a
        build past its timeout and a cancelled build are failed results, not exceptions."""
        limit = self.timeout if timeout is None else timeout
        start = time.perf_counter()
        self._cancelled = False
        stopped = ""
        proc = start_compiler(self.command(step, extra), self.project, self.zig)
        if isinstance(proc, str):
            return BuildResult(False, -1, time.perf_counter() - start, (), proc)
        self._proc = proc
        try:
            output, _ = proc.communicate(timeout=limit)
        except subprocess.TimeoutExpired:
            kill_group(proc)
            try:
                output, _ = proc.communicate(timeout=10)  # what it printed before (its pipes are closed now)
            except subprocess.TimeoutExpired:
                output = ""
            stopped = (
                f"zig build did not finish within {limit:g} s; it was stopped with its compiler processes "
                "(a stuck build? F5 tries again)"
            )
        finally:
            _RUNNING.discard(proc)
            self._proc = None
        if self._cancelled and not stopped:
            stopped = "zig build was cancelled"
        code = proc.returncode
        seconds = time.perf_counter() - start
        return BuildResult(code == 0 and not stopped, code, seconds, parse_errors(output), output, stopped)

    def cancel(self) -> None:
        """Kills a build in progress (at exit) and every process it started, if there is one."""
        proc = self._proc
        if proc is not None:
            self._cancelled = True
            kill_group(proc)


_RUNNING: set[subprocess.Popen[str]] = set()  # builds in progress, killed at exit if still running
_LOCK = threading.Lock()


def kill_group(proc: subprocess.Popen[str]) -> None:
    """Kills `proc` and every process in its group (it leads one: see `_own_group`), then
    reaps it. Safe to call twice and from two threads."""
    with _LOCK:
        if proc.returncode is None:  # not reaped: its pid, so its group id, is still ours
            if os.name == "posix":
                try:
                    os.killpg(proc.pid, signal.SIGKILL)
                except (ProcessLookupError, PermissionError):
                    pass
            else:
                subprocess.run(["taskkill", "/F", "/T", "/PID", str(proc.pid)], capture_output=True, check=False)
                proc.kill()
    proc.wait()


def start_compiler(
    command: Sequence[str], cwd: Path, zig: Sequence[str], idle: bool = False
) -> subprocess.Popen[str] | str:
    """Starts `command` (the compiler `zig` and its arguments) in `cwd`, its output piped as
    text, in a process group of its own at low priority, killed at exit if still running;
    or says why it could not start."""
    try:
        proc = subprocess.Popen(
            command,
            cwd=cwd,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            text=True,
            errors="replace",
            **_own_group(),
        )
    except OSError as exc:
        return (
            f"cannot start the Zig compiler ({' '.join(zig)}): {exc.strerror or exc}; reinstall with pip install -e ."
        )
    lower_priority(proc, idle)
    _RUNNING.add(proc)
    return proc


def lower_priority(proc: subprocess.Popen[str], idle: bool = False) -> None:
    """Runs a just-started compiler below the frame loop's priority (POSIX; best effort):
    nice 10, or with `idle` Linux's SCHED_IDLE (it gets only what nothing else wants)."""
    if os.name == "posix":
        try:
            os.setpriority(os.PRIO_PROCESS, proc.pid, 10)
            if idle and hasattr(os, "SCHED_IDLE"):
                os.sched_setscheduler(proc.pid, os.SCHED_IDLE, os.sched_param(0))
        except OSError:
            pass


@atexit.register
def _kill_running() -> None:
    for proc in list(_RUNNING):
        kill_group(proc)


def _own_group() -> dict[str, Any]:
    """Popen arguments: a process group of its own (see `lower_priority` for the rest).
    No `preexec_fn`: it forces a fork of the whole game (page tables of every column),
    which took tens of ms at 1M entities; without it Python spawns with vfork."""
    if os.name == "posix":
        return {"start_new_session": True}
    flags = getattr(subprocess, "CREATE_NEW_PROCESS_GROUP", 0) | getattr(subprocess, "BELOW_NORMAL_PRIORITY_CLASS", 0)
    return {"creationflags": flags}
