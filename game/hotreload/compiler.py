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

import hashlib
import os
import re
import subprocess
import sys
import threading
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


def build_args(name: str, mode: str, cache: Path, lines: bool | None = None) -> list[str]:
    """`zig build-lib` arguments for system `name` in optimize `mode`, as `zig build` passes them.
    `lines`: keep the DWARF line tables (None: only in debug mode, where a panic's file:line
    is read from the library itself; game/hotreload/panics.py)."""
    opt = f"-O{mode}"
    keep = mode.lower() == "debug" if lines is None else lines
    return [
        "build-lib",
        *(() if keep else ("-fstrip",)),
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


def _is_code(before: bytes) -> bool:
    """Whether what follows `before` (the start of its line) is code: not in a `//` comment,
    a string or a `\\\\` multiline string line."""
    if before.lstrip().startswith(b"\\\\"):
        return False
    quote = None
    i = 0
    while i < len(before):
        char = before[i : i + 1]
        if quote is not None:
            if char == b"\\":
                i += 1  # an escaped character
            elif char == quote:
                quote = None
        elif char in (b'"', b"'"):
            quote = char
        elif before.startswith(b"//", i):
            return False
        i += 1
    return quote is None


class Sources:
    """The project's Zig files as builds see them: each file's digest and direct imports,
    read again only when its stat changes (a key over 20 systems costs a few stats instead of
    reading and parsing every file: 8 ms less between a save and its build). Thread-safe."""

    def __init__(self, project: Path) -> None:
        self.project = project
        self._files: dict[Path, tuple[tuple[int, ...], bytes, tuple[Path, ...]]] = {}
        self._lock = threading.Lock()

    def _file(self, path: Path) -> tuple[bytes, tuple[Path, ...]] | None:
        try:
            st = path.stat()
        except OSError:
            return None
        stamp = (st.st_mtime_ns, st.st_ctime_ns, st.st_size, st.st_ino)
        with self._lock:
            known = self._files.get(path)
        if known is not None and known[0] == stamp:
            return known[1], known[2]
        try:
            text = path.read_bytes()
        except OSError:
            return None
        deps = []
        for match in _IMPORT.finditer(text):
            if not _is_code(text[text.rfind(b"\n", 0, match.start()) + 1 : match.start()]):
                continue  # in a comment (a doc comment showing how to import a file, say)
            target = match.group(1).decode(errors="replace")
            if target in MODULES:
                deps.append(self.project / MODULES[target])
            elif target.endswith(".zig"):
                deps.append((path.parent / target).resolve())
        entry = (stamp, hashlib.blake2b(text, digest_size=16).digest(), tuple(deps))
        with self._lock:
            self._files[path] = entry
        return entry[1], entry[2]

    def imports(self, name: str) -> tuple[Path, ...]:
        """Every project file the build of `name` reads: its root and, transitively, each
        `@import` of a `.zig` file or of the `sdk` / `components` modules, sorted."""
        seen: set[Path] = set()
        todo = [self.project / root_file(name)]
        while todo:
            path = todo.pop()
            if path in seen:
                continue
            seen.add(path)
            found = self._file(path)
            if found is not None:
                todo.extend(found[1])
        return tuple(sorted(seen))

    def key(self, name: str) -> str:
        """A digest of the contents of every file `name`'s build reads (a missing one counts)."""
        digest = hashlib.blake2b(digest_size=16)
        for path in self.imports(name):
            found = self._file(path)
            digest.update(found[0] if found is not None else b"\0missing\0")
            digest.update(str(path.relative_to(self.project)).encode() + b"\0")
        return digest.hexdigest()


def imports(project: Path, name: str) -> tuple[Path, ...]:
    """Every project file the build of `name` reads (see `Sources.imports`)."""
    return Sources(project).imports(name)


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
    lines: bool | None = None,
) -> Compiled:
    """Builds system `name` in `mode` into the file `output`. A compiler that cannot start
    or runs past `timeout` seconds gives a failed result, never an exception."""
    zig = list(zig or zig_command())
    start = time.perf_counter()
    output.parent.mkdir(parents=True, exist_ok=True)
    args = build_args(name, mode, cache, lines)
    proc = start_compiler([*zig, *args, f"-femit-bin={output}"], project, zig, idle)
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
