"""The seed experiment (`python run_game.py --demo`), step by step, like the seed's Zig host.

Load plugin_a and plugin_b, run both, then for each cycle: unload plugin_a, bump `BuildId`
in its source in place, run `zig build` and wait for it to exit, reopen the library
(retrying while it is not yet loadable), and run it again to show the new `BuildId`.
No shell is involved: Zig runs through Python on every platform. Each step is printed
with its duration; any failure is one clear line and exit code 1.
"""

from __future__ import annotations

import functools
import re
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TextIO, TypeVar

from game.hotreload.zigbuild import ZigBuild
from game.native.abi import MESSAGE_CAPACITY, Status, ffi
from game.native.errors import LoadError
from game.native.library import NativeLibrary, probe
from game.native.platform import built_libraries

T = TypeVar("T")
BUILD_ID = re.compile(r"(pub const BuildId: u32 = )(\d+)(;)")


class DemoError(RuntimeError):
    """A step of the demo failed; the message says which and why."""


class Demo:
    def __init__(self, project: Path, out: TextIO = sys.stdout, retry_seconds: float = 5.0) -> None:
        self.project = project
        self.out = out
        self.retry_seconds = retry_seconds
        self.builder = ZigBuild(project)
        self.copies = project / ".hot"
        self._versions = 0

    @contextmanager
    def step(self, what: str) -> Iterator[None]:
        start = time.perf_counter()
        self.out.write(f"{what} ...")
        self.out.flush()
        try:
            yield
        except Exception:
            self.out.write(" FAILED\n")
            raise
        self.out.write(f" {(time.perf_counter() - start) * 1000:.0f} ms\n")

    def build(self) -> None:
        result = self.builder.run(timeout=900)
        if not result.ok:
            raise DemoError(f"zig build failed: {result.summary}")

    def open(self, path: Path, probe_first: bool = False) -> NativeLibrary:
        """Opens `path`, retrying while it is missing or not yet loadable (a build still writing it).
        A library the user named is first loaded in a child process (`probe`): a malformed
        file can crash dlopen itself, and the demo must end with a message, not a crash."""
        if probe_first and path.is_file():
            failure = probe(path, self.copies)
            if failure is not None:
                raise DemoError(f"cannot load {path}: {failure}")
        deadline = time.perf_counter() + self.retry_seconds
        while True:
            self._versions += 1
            try:
                return NativeLibrary.load(path, self.copies, self._versions)
            except (LoadError, FileNotFoundError) as exc:
                if time.perf_counter() >= deadline:
                    raise DemoError(f"cannot load {path}: {exc}") from None
                time.sleep(0.1)

    def run(self, lib: NativeLibrary) -> str:
        frame = ffi.new("Frame *")
        buffer = ffi.new("uint8_t[]", MESSAGE_CAPACITY)
        frame.message, frame.message_cap = buffer, MESSAGE_CAPACITY
        status = lib.api.run(frame)
        banner = bytes(ffi.buffer(buffer, min(int(frame.message_len), MESSAGE_CAPACITY))).decode("utf-8", "replace")
        if status != Status.OK:
            raise DemoError(f"{lib.info.name}: run returned {status}: {banner}")
        return banner

    def bump(self, source: Path) -> int:
        """Rewrites `BuildId` in `source` as the next number; returns it."""
        try:
            text = source.read_text()
        except OSError as exc:
            raise DemoError(f"cannot read {source}: {exc.strerror}") from None
        match = BUILD_ID.search(text)
        if match is None:
            raise DemoError(f"{source}: no `pub const BuildId: u32 = N;` line to bump")
        new_id = int(match[2]) + 1
        try:
            source.write_text(BUILD_ID.sub(rf"\g<1>{new_id}\g<3>", text, count=1))
        except OSError as exc:
            raise DemoError(f"cannot write {source}: {exc.strerror}") from None
        return new_id

    def main(self, cycles: int, libraries: list[Path]) -> None:
        if libraries:
            if len(libraries) != 2:
                raise DemoError("give two libraries (plugin_a, then plugin_b), or none for the built ones")
            path_a, path_b = libraries
        else:
            with self.step("zig build (first build of the plugins)"):
                self.build()
            built = built_libraries(self.builder.prefix)
            if "plugin_a" not in built or "plugin_b" not in built:
                raise DemoError(f"zig build made no plugin_a/plugin_b under {self.builder.prefix}")
            path_a, path_b = built["plugin_a"], built["plugin_b"]
        source = self.project / "ecs_systems" / "plugin_a.zig"
        given = bool(libraries)
        a = self._timed(f"load {path_a.name}", lambda: self.open(path_a, probe_first=given))
        b = self._timed(f"load {path_b.name}", lambda: self.open(path_b, probe_first=given))
        try:
            self.out.write(f"  {self._timed('run plugin_a', lambda: self.run(a))}\n")
            self.out.write(f"  {self._timed('run plugin_b', lambda: self.run(b))}\n")
            for cycle in range(1, cycles + 1):
                self.out.write(f"cycle {cycle}/{cycles}\n")
                with self.step("  unload plugin_a"):
                    a.api.shutdown()
                    a.close()
                new_id = self._timed(f"  bump BuildId in {source.name}", lambda: self.bump(source))
                with self.step("  zig build"):
                    self.build()
                a = self._timed(f"  reload {path_a.name}", lambda: self.open(path_a))
                banner = self._timed("  run plugin_a", functools.partial(self.run, a))
                self.out.write(f"    {banner}\n")
                if f"BuildId {new_id}" not in banner:
                    raise DemoError(f"expected BuildId {new_id} after the rebuild, plugin_a says {banner!r}")
        finally:
            for lib in (a, b):
                if not lib.closed:
                    lib.api.shutdown()
                    lib.close()
        self.out.write(f"done: {cycles} reload cycles, the host never restarted\n")

    def _timed(self, what: str, fn: Callable[[], T]) -> T:
        with self.step(what):
            return fn()


def run(project: Path, cycles: int, libraries: list[Path]) -> int:
    try:
        Demo(project).main(cycles, libraries)
    except DemoError as exc:
        print(f"demo failed: {exc}", file=sys.stderr)
        return 1
    return 0
