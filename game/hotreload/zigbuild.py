"""ZigBuild: `python -m ziglang build` in a child process, its errors parsed.

The Zig toolchain comes from the pinned `ziglang` package, so the same command works on
Linux, macOS and Windows with no shell. The child runs at low priority so the frame loop
keeps its core while a build runs.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

_ERROR = re.compile(r"^(?P<file>[^\s:][^:\n]*?):(?P<line>\d+):(?P<col>\d+): error: (?P<msg>.*)$")


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

    def excerpt(self) -> list[str]:
        """The source line and a caret under the column, as the overlay and the log show them."""
        if not self.source_line.strip():
            return []
        return [self.source_line.rstrip(), " " * max(self.column - 1, 0) + "^"]


@dataclass(frozen=True)
class BuildResult:
    ok: bool
    returncode: int
    seconds: float
    errors: tuple[CompileError, ...]
    output: str

    @property
    def summary(self) -> str:
        """One line for the log and the HUD."""
        if self.ok:
            return f"build ok in {self.seconds:.2f} s"
        if self.errors:
            more = f" (+{len(self.errors) - 1} more)" if len(self.errors) > 1 else ""
            return f"build failed: {self.errors[0]}{more}"
        lines = [ln.strip() for ln in self.output.splitlines() if ln.strip()]
        said = next((ln for ln in lines if ln.startswith("error: ")), lines[-1] if lines else "no output")
        return f"build failed (exit {self.returncode}): {said.removeprefix('error: ')}"


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
    """Builds the project at `project` into `project/zig-out` (or `prefix`)."""

    def __init__(
        self, project: Path, optimize: str = "safe", prefix: Path | None = None, zig: Sequence[str] | None = None
    ) -> None:
        self.project = project
        self.optimize = optimize
        self.prefix = prefix or project / "zig-out"
        self.zig = list(zig) if zig is not None else [sys.executable, "-m", "ziglang"]
        self._proc: subprocess.Popen[str] | None = None

    def command(self, step: str | None = None, extra: Sequence[str] = ()) -> list[str]:
        cmd = [*self.zig, "build"]
        if step:
            cmd.append(step)
        return [*cmd, f"-Doptimize={self.optimize}", "--prefix", str(self.prefix), "--color", "off", *extra]

    def run(self, step: str | None = None, timeout: float | None = None, extra: Sequence[str] = ()) -> BuildResult:
        """Runs the build to completion. A compiler that cannot start is a failed result, not an exception."""
        start = time.perf_counter()
        try:
            self._proc = subprocess.Popen(
                self.command(step, extra),
                cwd=self.project,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                text=True,
                errors="replace",
                **_low_priority(),
            )
            output, _ = self._proc.communicate(timeout=timeout)
            code = self._proc.returncode
        except subprocess.TimeoutExpired:
            self.cancel()
            output, code = f"zig build did not finish within {timeout} s", -1
        except OSError as exc:
            zig = " ".join(self.zig)
            output, code = (
                f"cannot start the Zig compiler ({zig}): {exc.strerror or exc}; reinstall with pip install -e .",
                -1,
            )
        finally:
            self._proc = None
        seconds = time.perf_counter() - start
        return BuildResult(code == 0, code, seconds, parse_errors(output), output)

    def cancel(self) -> None:
        """Kills a build in progress (at exit), if there is one."""
        proc = self._proc
        if proc is not None and proc.poll() is None:
            proc.kill()
            proc.wait()


def _low_priority() -> dict[str, Any]:
    if os.name == "posix":
        return {"preexec_fn": lambda: os.nice(10)}
    return {"creationflags": getattr(subprocess, "BELOW_NORMAL_PRIORITY_CLASS", 0)}
