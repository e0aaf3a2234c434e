"""Builds: every system on its own, in parallel, at a tier.

A system's **key** is a digest of the contents of every project file its build reads (its
own file, the SDK, components.zig, anything it imports). Only systems whose key changed are
built; several build at once, up to the core count, each by its own `zig build-lib`
(game/hotreload/compiler.py), so one system's compile error never holds back another.

Tiers: **tier 1** is Zig's Debug mode on its own x86_64 backend: the fastest build that
keeps every safety check, but slow code (movement at 1M entities: 11 ms a step against
0.7 ms). **Tier 2** is the game's optimize mode (`--optimize`, default safe: ReleaseSafe,
checks on). A tier-2 library is installed into `zig-out/lib` exactly as `zig build`
installs it (the same bytes). Each build writes its own file, `.zig-cache/live/MODE/`
(one per system and mode, overwritten by the next build: the loader copies what it loads).
"""

from __future__ import annotations

import json
import os
import shutil
import threading
import time
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from game.hotreload.compiler import SYSTEMS, Compiled, Sources, compile_system
from game.hotreload.zigbuild import _RUNNING, DEFAULT_TIMEOUT, kill_group
from game.native.library import file_digest
from game.native.platform import built_libraries, library_dir, library_filename

TIER_DEBUG = "debug"
KEPT_SOURCES = 64
"""Copies of the sources of the newest builds kept for the panic locator (a few KiB each)."""


def _oldest_copies(root: Path) -> list[Path]:
    """The kept source copies in `root` past the newest KEPT_SOURCES. Other build threads (and
    games) write and prune there at the same time: a copy still being written (a dot name) is
    not counted, and one that vanishes while it is looked at is skipped, never an error."""
    try:
        paths = [path for path in root.iterdir() if not path.name.startswith(".")]
    except OSError:
        return []
    dated = []
    for path in paths:
        try:
            dated.append((path.stat().st_mtime, path))
        except OSError:
            continue  # gone between the listing and its stat
    return [path for _, path in sorted(dated)[:-KEPT_SOURCES]]


def mode_for(tier: int, optimize: str) -> str:
    """The optimize mode of `tier`: 1 is debug, 2 is the game's optimize mode."""
    return TIER_DEBUG if tier == 1 else optimize


class Builds:
    """The project's systems, their keys, and their per-system builds."""

    def __init__(
        self,
        project: Path,
        optimize: str = "safe",
        prefix: Path | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        workers: int | None = None,
    ) -> None:
        self.project = project
        self.optimize = optimize
        self.prefix = prefix or project / "zig-out"
        self.timeout = timeout
        self.cache = Path(".zig-cache") / "live"  # relative to the project: the compiler runs there
        self.workers = workers or os.cpu_count() or 2
        self.zig: list[str] | None = None
        """The compiler command (None: the pinned `ziglang` package's binary)."""
        self.builds = 0
        """Compiler runs so far (a reused library is not one)."""
        self.idle = False
        """Compile at SCHED_IDLE (the reloader sets it for large worlds, whose frames it protects)."""
        self._lock = threading.Lock()
        self._closed = False
        self.sources = Sources(project)
        self._manifest: dict[str, dict[str, str]] = self._load_manifest()

    def _load_manifest(self) -> dict[str, dict[str, str]]:
        """`built.json`: for each system and mode, the key, file and digest of its last build."""
        try:
            data = json.loads((self.project / self.cache / "built.json").read_text())
        except (OSError, ValueError):
            return {}
        if not isinstance(data, dict):
            return {}
        return {k: v for k, v in data.items() if isinstance(v, dict) and all(isinstance(x, str) for x in v.values())}

    # --- what there is and what changed -------------------------------------------------

    def names(self) -> list[str]:
        """Every system: a `*.zig` file directly in ecs_systems/ (components.zig included)."""
        return sorted(p.stem for p in (self.project / SYSTEMS).glob("*.zig") if p.is_file())

    def key(self, name: str) -> str:
        """A digest of the contents of every file `name`'s build reads (see `Sources.key`)."""
        return self.sources.key(name)

    def keys(self, names: Iterable[str] | None = None) -> dict[str, str]:
        return {name: self.key(name) for name in (self.names() if names is None else names)}

    # --- building -----------------------------------------------------------------------

    def build(self, names: Iterable[str], tier: int) -> dict[str, Compiled]:
        """Builds `names` at `tier`, up to `workers` at once; a tier-2 library is installed
        into zig-out. Returns each system's result."""
        mode = mode_for(tier, self.optimize)
        todo = list(names)
        if not todo:
            return {}
        with ThreadPoolExecutor(max_workers=min(self.workers, len(todo)), thread_name_prefix="zig") as pool:
            results = dict(zip(todo, pool.map(lambda n: self._build_one(n, mode, tier), todo), strict=True))
        return results

    def _build_one(self, name: str, mode: str, tier: int) -> Compiled:
        key = self.key(name)
        kept = self._reuse(name, mode, tier, key)
        if kept is not None:
            self._keep_sources(name, key)
            return kept
        if self._closed:  # the game is quitting: the builds still queued are not started
            return Compiled(name, mode, False, None, output="not built: the game is closing")
        output = self.project / self.cache / mode / library_filename(name)
        result = compile_system(self.project, name, mode, output, self.cache, self.timeout, self.zig, self.idle)
        with self._lock:
            self.builds += 1
        if result.ok and result.library is not None:
            library = self._install(name, result.library) if tier == 2 else result.library
            self._remember(name, mode, key, library)
            self._keep_sources(name, key)
        return result

    def _reuse(self, name: str, mode: str, tier: int, key: str) -> Compiled | None:
        """The last library built of `name` in `mode`, when it was built from these very
        sources (same key) and is still the file it was: no compiler needs to run."""
        started = time.perf_counter()
        entry = self._manifest.get(f"{name}:{mode}")
        if entry is None or entry.get("key") != key:
            return None
        library = self._library(entry)
        try:
            if file_digest(library) != entry.get("digest"):
                return None
        except OSError:
            return None
        return Compiled(name, mode, True, library, output="reused", seconds=time.perf_counter() - started)

    def _library(self, entry: dict[str, str]) -> Path:
        library = Path(entry.get("path", ""))
        return library if library.is_absolute() else self.project / library

    @property
    def cold(self) -> bool:
        """True when the build cache (`.zig-cache/live/`) holds no library of any system: a
        fresh checkout, or the cache deleted. The next build compiles every system, the one
        slow start; after it, a system whose sources did not change is not compiled again."""
        return not any(self._library(entry).is_file() for entry in self._manifest.values())

    def _remember(self, name: str, mode: str, key: str, library: Path) -> None:
        try:
            digest = file_digest(library)
        except OSError:
            return
        path = library.relative_to(self.project) if library.is_relative_to(self.project) else library
        with self._lock:
            self._manifest[f"{name}:{mode}"] = {"key": key, "digest": digest, "path": str(path)}
            target = self.project / self.cache / "built.json"
            scratch = target.with_name(f".built.{os.getpid()}.{threading.get_ident()}")
            try:
                target.parent.mkdir(parents=True, exist_ok=True)
                scratch.write_text(json.dumps(self._manifest, indent=1, sort_keys=True))
                os.replace(scratch, target)
            except OSError:
                scratch.unlink(missing_ok=True)

    def _install(self, name: str, library: Path) -> Path:
        """Copies a tier-2 library to where `zig build` installs it (atomically); returns
        where it is now (the build's own file if the copy failed)."""
        target = library_dir(self.prefix) / library_filename(name)
        scratch = target.with_name(f".{target.name}.{os.getpid()}.{threading.get_ident()}")
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(library, scratch)
            os.replace(scratch, target)
        except OSError:
            scratch.unlink(missing_ok=True)
            return library
        return target

    def kept_sources(self, key: str) -> Path | None:
        """The folder holding a copy of the files a build with key `key` read (laid out as in
        the project), or None."""
        folder = self.project / self.cache / "sources" / key
        return folder if folder.is_dir() else None

    def _keep_sources(self, name: str, key: str) -> None:
        """Copies the files the build of `name` read, for the panic locator: it may have to
        build them again with line tables, or show a line, after they were edited. A few small
        files a build, the newest KEPT_SOURCES kept; a copy whose files changed under it (its
        key is not `key`) is dropped."""
        if self.kept_sources(key) is not None:
            return
        root = self.project / self.cache / "sources"
        scratch = root / f".{key}.{os.getpid()}.{threading.get_ident()}"
        try:
            for path in self.sources.imports(name):
                if not path.is_file():
                    continue  # an import of a file that is not there: missing in the copy too
                target = scratch / path.relative_to(self.project)
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(path, target)
            if Sources(scratch).key(name) == key:
                os.replace(scratch, root / key)
        except (OSError, ValueError):
            pass
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
        for stale in _oldest_copies(root):
            shutil.rmtree(stale, ignore_errors=True)

    def with_lines(self, name: str, mode: str, key: str) -> Path | None:
        """A library of `name` in `mode` built from the sources whose key is `key`, with DWARF
        line tables (for game/hotreload/panics.py): from the copy `_keep_sources` made, or the
        project's files while they still have that key; None when neither has them or the
        build fails. Built once per key and mode."""
        root = self.kept_sources(key) or (self.project if self.key(name) == key else None)
        if root is None:
            return None
        output = self.project / self.cache / "lines" / mode / f"{key}-{library_filename(name)}"
        if output.is_file():
            return output
        result = compile_system(root, name, mode, output, self.cache, self.timeout, self.zig, True, lines=True)
        if not result.ok or (root == self.project and self.key(name) != key):
            output.unlink(missing_ok=True)
            return None
        return result.library

    # --- housekeeping -------------------------------------------------------------------

    def remove_stale(self) -> list[Path]:
        """Deletes libraries in zig-out whose system has no source any more."""
        names = set(self.names())
        removed = []
        for name, path in built_libraries(self.prefix).items():
            if name not in names:
                try:
                    path.unlink()
                    removed.append(path)
                except OSError:
                    pass
        return removed

    def close(self) -> None:
        """Stops every compiler still running and starts no more (the game is closing)."""
        self._closed = True
        for proc in list(_RUNNING):
            kill_group(proc)
