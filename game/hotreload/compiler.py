"""Compiler: one system's library, built by `zig build-lib` directly (no build runner).

The arguments are those `zig build` passes for the same library (see `build.zig`, and
`zig build --verbose`), so both paths produce the same bytes (tested); the library is
written straight to its own file (`-femit-bin`), which leaves nothing behind in Zig's
local cache but three small files of parsed source. One process per build: measured on
0.17.1 here, a compiler kept alive between builds (`--listen`, what `zig build --watch`
does) rebuilds wrongly: with Zig's own x86_64 backend (Debug) its second build is a
library with no code in it, with LLVM (ReleaseSafe) a new library with the old code.

Each compiler runs in a process group of its own at low priority; one that runs past its
timeout is killed with everything it started, and so is any still running at exit.
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

from game.hotreload.zigbuild import _RUNNING, CompileError, failure, kill_group, parse_errors, start_compiler

SYSTEMS = "ecs_systems"
SCHEMA_ROOT = f"{SYSTEMS}/sdk/schema_library.zig"
MODULES = {"sdk": f"{SYSTEMS}/sdk/sdk.zig", "components": f"{SYSTEMS}/components.zig"}
_IMPORT = re.compile(rb'@import\(\s*"([^"]+)"\s*\)')


def zig_command() -> list[str]:
    """The pinned compiler's binary (no Python in between), or `python -m ziglang`."""
    try:
        import ziglang

        binary = Path(ziglang.__file__).parent / ("zig.exe" if os.name == "nt" else "zig")
        if binary.is_file():
            return [str(binary)]
    except ImportError:
        pass
    return [sys.executable, "-m", "ziglang"]


def root_file(name: str) -> str:
    """The root source of system `name` (the schema library's root is the SDK's)."""
    return SCHEMA_ROOT if name == "components" else f"{SYSTEMS}/{name}.zig"


def build_args(name: str, mode: str, cache: Path) -> list[str]:
    """`zig build-lib` arguments for system `name` in optimize `mode`, as `zig build` passes them."""
    opt = f"-O{mode}"
    return [
        "build-lib",
        "-fstrip",
        opt,
        "--dep",
        "sdk",
        "--dep",
        "components",
        f"-Mroot={root_file(name)}",
        opt,
        "--dep",
        "components",
        f"-Msdk={MODULES['sdk']}",
        opt,
        "--dep",
        "sdk",
        f"-Mcomponents={MODULES['components']}",
        "--cache-dir",
        str(cache),
        "--name",
        name,
        "-dynamic",
        "--color",
        "off",
    ]


def imports(project: Path, name: str) -> tuple[Path, ...]:
    """Every project file the build of `name` reads: its root and, transitively, each
    `@import` of a `.zig` file or of the `sdk` / `components` modules, sorted."""
    seen: set[Path] = set()
    todo = [project / root_file(name)]
    while todo:
        path = todo.pop()
        if path in seen:
            continue
        seen.add(path)
        try:
            text = path.read_bytes()
        except OSError:
            continue
        for match in _IMPORT.finditer(text):
            target = match.group(1).decode(errors="replace")
            if target in MODULES:
                todo.append(project / MODULES[target])
            elif target.endswith(".zig"):
                todo.append((path.parent / target).resolve())
    return tuple(sorted(seen))


@dataclass(frozen=True)
class Compiled:
    """What one build of one system gave."""

    name: str
    mode: str
    ok: bool
    library: Path | None
    errors: tuple[CompileError, ...] = ()
    output: str = ""
    seconds: float = 0.0

    @property
    def summary(self) -> str:
        if self.ok:
            return f"{self.name} built ({self.mode}) in {self.seconds * 1000:.0f} ms"
        return failure(self.errors, self.output, f" ({self.name})")


def compile_system(
    project: Path,
    name: str,
    mode: str,
    output: Path,
    cache: Path,
    timeout: float,
    zig: Sequence[str] | None = None,
    idle: bool = False,
) -> Compiled:
    """Builds system `name` in `mode` into the file `output`. A compiler that cannot start
    or runs past `timeout` seconds gives a failed result, never an exception."""
    zig = list(zig or zig_command())
    start = time.perf_counter()
    output.parent.mkdir(parents=True, exist_ok=True)
    proc = start_compiler([*zig, *build_args(name, mode, cache), f"-femit-bin={output}"], project, zig, idle)
    if isinstance(proc, str):
        return Compiled(name, mode, False, None, output=proc, seconds=time.perf_counter() - start)
    try:
        text, _ = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        kill_group(proc)
        proc.communicate()
        said = f"the compiler did not finish within {timeout:g} s and was stopped (stuck? F5 tries again)"
        return Compiled(name, mode, False, None, output=said, seconds=time.perf_counter() - start)
    finally:
        _RUNNING.discard(proc)
    seconds = time.perf_counter() - start
    ok = proc.returncode == 0 and output.is_file()
    if proc.returncode < 0 and not text.strip():
        text = f"the compiler was stopped (signal {-proc.returncode})"
    return Compiled(name, mode, ok, output if ok else None, parse_errors(text), text, seconds)
