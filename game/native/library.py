"""Loading a system library: versioned copy, dlopen, `plugin_entry`, dlclose.

The host never opens the file `zig build` writes. It copies it to a fresh name per
load (`.hot/movement.v3.<pid>.so`) and opens the copy, because dlopen of a path that is
already loaded hands back the old image, and because on Windows the build could not
overwrite a DLL that is in use. `close()` dlcloses and deletes the copy.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import signal
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from game.native.abi import LAYOUT, Access, Kind, ffi
from game.native.errors import LoadError
from game.world.schema import ComponentSpec, DType, FieldSpec

MAX_SCHEMA = 64
MAX_FIELDS = 64
MAX_QUERIES = 32
MAX_TERMS = 32
_COPY = re.compile(r"^(?P<name>.+)\.v(?P<version>\d+)\.(?P<pid>\d+)\.(so|dll|dylib)$")


@dataclass(frozen=True)
class Term:
    """One query term or resource use: a component by name (as the library's schema names it)."""

    component: str
    access: int

    @property
    def is_data(self) -> bool:
        return self.access in (Access.READ, Access.WRITE, Access.READ_WRITE)

    @property
    def writes(self) -> bool:
        return self.access in (Access.WRITE, Access.READ_WRITE)


@dataclass(frozen=True)
class QueryInfo:
    name: str
    terms: tuple[Term, ...]

    @property
    def data_terms(self) -> tuple[Term, ...]:
        return tuple(t for t in self.terms if t.is_data)

    def include(self) -> frozenset[str]:
        return frozenset(t.component for t in self.terms if t.access != Access.WITHOUT)

    def exclude(self) -> frozenset[str]:
        return frozenset(t.component for t in self.terms if t.access == Access.WITHOUT)


@dataclass(frozen=True)
class SystemInfo:
    """What `plugin_entry` says about a library, copied out of its memory."""

    abi_version: int
    api_size: int
    name: str
    build_id: int
    kind: int
    order: int
    schema: tuple[ComponentSpec, ...] = ()
    queries: tuple[QueryInfo, ...] = ()
    resources: tuple[Term, ...] = ()
    layout: tuple[tuple[str, int], ...] = ()
    state_version: int = 0
    has_state_hooks: bool = False
    has_run: bool = True
    has_shutdown: bool = True

    @property
    def is_game_system(self) -> bool:
        return self.kind in (Kind.SIMULATION, Kind.RENDER)

    @property
    def components(self) -> dict[str, ComponentSpec]:
        return {s.name: s for s in self.schema}


def file_digest(path: Path) -> str:
    """SHA-256 of a file's bytes: tells a rebuilt library from an unchanged one."""
    return hashlib.sha256(path.read_bytes()).hexdigest()


class NativeLibrary:
    """One loaded versioned copy of a system library.

    `load` raises LoadError if the copy cannot be made or opened, or if it has no
    `plugin_entry`, or `plugin_entry` returns NULL.
    """

    def __init__(self, source: Path, copy: Path, handle: Any, api: Any, info: SystemInfo, digest: str, version: int):
        self.source = source
        self.copy = copy
        self.handle = handle
        self.api = api
        self.info = info
        self.digest = digest
        self.version = version
        self._closed = False

    @classmethod
    def load(cls, source: Path, copies: Path, version: int) -> NativeLibrary:
        copy = copies / f"{source.stem.removeprefix('lib')}.v{version}.{os.getpid()}{source.suffix}"
        if not source.is_file():
            raise LoadError(f"{source}: no such file")
        try:
            copies.mkdir(parents=True, exist_ok=True)
            digest = file_digest(source)
            shutil.copy2(source, copy)
        except OSError as exc:
            raise LoadError(f"{source.name}: cannot copy to {copies}: {exc.strerror or exc}") from None
        try:
            handle = ffi.dlopen(str(copy))
        except OSError as exc:
            copy.unlink(missing_ok=True)
            raise LoadError(f"{source.name}: not a loadable shared library ({exc})") from None
        try:
            entry = handle.plugin_entry
        except AttributeError:
            _dispose(handle, copy)
            raise LoadError(
                f"{source.name}: exports no plugin_entry; every system must `export fn plugin_entry`"
            ) from None
        api = entry()
        if api == ffi.NULL:
            _dispose(handle, copy)
            raise LoadError(f"{source.name}: plugin_entry returned NULL; it must return a pointer to its sdk.Api")
        return cls(source, copy, handle, api, read_info(api), digest, version)

    def close(self) -> None:
        """dlcloses the library and deletes its copy. Safe to call twice."""
        if self._closed:
            return
        self._closed = True
        _dispose(self.handle, self.copy)

    @property
    def closed(self) -> bool:
        return self._closed


def probe(path: Path, copies: Path, timeout: float = 30.0) -> str | None:
    """Loads `path` in a child process first: a malformed file can crash dlopen itself
    (seen here: a bus error), and then only the child dies. None if it loads, else why not."""
    code = (
        "import sys; from pathlib import Path; from game.native.library import NativeLibrary; "
        "NativeLibrary.load(Path(sys.argv[1]), Path(sys.argv[2]), 0).close()"
    )
    try:
        done = subprocess.run(
            [sys.executable, "-c", code, str(path), str(copies)],
            capture_output=True,
            text=True,
            timeout=timeout,
            cwd=Path(__file__).resolve().parents[2],
        )
    except subprocess.TimeoutExpired:
        return f"{path.name}: loading it did not finish within {timeout:.0f} s"
    if done.returncode == 0:
        return None
    if done.returncode < 0:
        return f"{path.name}: loading it crashed the loader ({signal.Signals(-done.returncode).name})"
    lines = [ln for ln in done.stderr.splitlines() if ln.strip()]
    return lines[-1].split(": ", 1)[-1] if lines else f"{path.name}: cannot be loaded"


def read_info(api: Any) -> SystemInfo:
    """Copies the Api struct's fields into Python values. Counts are clamped: a library's
    numbers are untrusted."""
    schema = tuple(
        _component(api.schema[i]) for i in range(min(int(api.schema_count), MAX_SCHEMA)) if api.schema != ffi.NULL
    )
    names = [c.name for c in schema]

    def term(t: Any) -> Term:
        index = int(t.component)
        return Term(names[index] if index < len(names) else f"#{index}", int(t.access))

    queries = tuple(
        QueryInfo(
            _string(q.name),
            tuple(term(q.terms[j]) for j in range(min(int(q.term_count), MAX_TERMS)) if q.terms != ffi.NULL),
        )
        for q in (api.queries[i] for i in range(min(int(api.query_count), MAX_QUERIES)) if api.queries != ffi.NULL)
    )
    resources = tuple(
        term(api.resources[i]) for i in range(min(int(api.resource_count), MAX_TERMS)) if api.resources != ffi.NULL
    )
    layout = tuple((name, int(getattr(api.layout, name))) for name in LAYOUT)
    return SystemInfo(
        abi_version=int(api.abi_version),
        api_size=int(api.api_size),
        name=_string(api.name),
        build_id=int(api.build_id),
        kind=int(api.kind),
        order=int(api.order),
        schema=schema,
        queries=queries,
        resources=resources,
        layout=layout,
        state_version=int(api.state_version),
        has_state_hooks=api.save_state != ffi.NULL and api.load_state != ffi.NULL,
        has_run=api.run != ffi.NULL,
        has_shutdown=api.shutdown != ffi.NULL,
    )


def _component(decl: Any) -> ComponentSpec:
    fields = tuple(
        FieldSpec(
            _string(f.name),
            DType(int(f.dtype)) if int(f.dtype) in DType._value2member_map_ else DType.U8,
            int(f.width),
            float(f.default_value),
            int(f.offset),
        )
        if int(f.dtype) in DType._value2member_map_
        else FieldSpec(f"{_string(f.name)}#bad-dtype-{int(f.dtype)}", DType.U8, 0)
        for f in (decl.fields[j] for j in range(min(int(decl.field_count), MAX_FIELDS)) if decl.fields != ffi.NULL)
    )
    return ComponentSpec(_string(decl.name), fields, int(decl.size), bool(decl.is_resource))


def _string(ptr: Any) -> str:
    if ptr == ffi.NULL:
        return ""
    return ffi.string(ptr, 256).decode("utf-8", "replace")  # type: ignore[no-any-return]


def _dispose(handle: Any, copy: Path) -> None:
    ffi.dlclose(handle)
    # cffi's FFI.dlopen appends every library to ffi._libraries and dlclose never removes it:
    # without this, each reload kept a few KiB alive for good (found with tracemalloc in the soak).
    opened = getattr(ffi, "_libraries", None)
    if isinstance(opened, list):
        try:
            opened.remove(handle)
        except ValueError:
            pass
    try:
        copy.unlink(missing_ok=True)
    except OSError:
        pass  # Windows may hold the file a moment after FreeLibrary; remove_stale_copies retries.


def remove_stale_copies(copies: Path) -> int:
    """Deletes versioned copies left by processes that are gone; returns how many."""
    if not copies.is_dir():
        return 0
    removed = 0
    for path in copies.iterdir():
        match = _COPY.match(path.name)
        if match and not _alive(int(match["pid"])):
            try:
                path.unlink()
                removed += 1
            except OSError:
                pass
    return removed


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError):
        return True
    return True
