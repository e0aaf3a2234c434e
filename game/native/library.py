"""Loading a system library: versioned copy, dlopen, `plugin_entry`, dlclose.

The host never opens the file `zig build` writes. It copies it to a fresh name per
load (`.hot/movement.v3.<pid>.so`) and opens the copy, because dlopen of a path that is
already loaded hands back the old image, and because on Windows the build could not
overwrite a DLL that is in use. `close()` dlcloses and deletes the copy.
"""

from __future__ import annotations

import dataclasses
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

from game.native import guard
from game.native.abi import ABI_VERSION, LAYOUT, PANIC_CAPACITY, Access, Kind, ffi
from game.native.errors import LoadError, LoadFault, SystemFault
from game.world.schema import ComponentSpec, DType, FieldSpec
from game.world.state import is_name
from game.world.tunables import MAX_TUNABLES, TunableSpec

MAX_SCHEMA = 64
MAX_FIELDS = 64
MAX_QUERIES = 32
MAX_TERMS = 32
MAX_NAME = 255  # bytes of a name read from a library
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
    tunables: tuple[TunableSpec, ...] = ()
    problems: tuple[str, ...] = ()  # what `read_info` refused to read; the handshake refuses the library

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
        self.tier = 0
        """1 (debug, built fastest) or 2 (the game's optimize mode); 0 when not known."""
        self.key = ""
        """The digest of the sources it was built from (game/hotreload/builds.py)."""

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
        try:
            api = ffi.cast(
                "const Api *", guard.call("plugin_entry", guard.address(entry), panic=lambda: panic_message(handle))
            )
        except guard.Fault as fault:
            _dispose(handle, copy)
            raise LoadFault(f"{source.name}: {fault}", fault) from None
        if api == ffi.NULL:
            _dispose(handle, copy)
            raise LoadError(f"{source.name}: plugin_entry returned NULL; it must return a pointer to its sdk.Api")
        return cls(source, copy, handle, api, read_info(api), digest, version)

    def panic_message(self) -> str:
        return panic_message(self.handle)

    def panic_offset(self) -> int | None:
        """Where the library's last Zig panic happened (`sdk.panic` keeps the address), as an
        offset into the library's file (game/hotreload/panics.py names its file:line); None
        when not known. Reads /proc/self/maps: Linux only."""
        try:
            address = int(self.handle.sdk_panic_address)
        except (AttributeError, ffi.error):
            return None
        return file_offset(self.copy, address)

    def shutdown(self, step: int) -> None:
        """Calls `shutdown`, guarded. Raises SystemFault."""
        if self.api.shutdown != ffi.NULL:
            self._guarded("shutdown", self.api.shutdown, step)

    def save_state(self, buf: Any, cap: int, length: Any, step: int) -> int:
        """`save_state(buf, cap, &length)`, guarded: its status. Raises SystemFault."""
        return guard.int32(self._guarded("save_state", self.api.save_state, step, buf, cap, length))

    def load_state(self, buf: Any, length: int, version: int, step: int) -> int:
        """`load_state(buf, length, version)`, guarded: its status. Raises SystemFault."""
        return guard.int32(self._guarded("load_state", self.api.load_state, step, buf, length, version))

    def _guarded(self, entry: str, fn: Any, step: int, *args: Any) -> int:
        """One guarded call of `fn` (pointers passed as addresses); a fault becomes SystemFault."""
        raw = [a if isinstance(a, int) else guard.address(a) for a in args]
        try:
            return guard.Caller(entry, guard.address(fn), self.panic_message)(*raw)
        except guard.Fault as fault:
            raise SystemFault(self.info.name, fault, step) from None

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
    """Copies the Api struct's fields into Python values. Everything in it is untrusted:
    names are read up to MAX_NAME bytes and escaped (`_string`); an array whose count is
    past its bound (MAX_SCHEMA, MAX_FIELDS, MAX_QUERIES, MAX_TERMS), or NULL with a count,
    is not read at all but named in `problems`, which `handshake.check_abi` refuses. Under
    another ABI version or Api size only the header is read: nothing after it is where
    this host would look, and `check_abi` refuses the library on the header alone."""
    header = SystemInfo(
        abi_version=int(api.abi_version),
        api_size=int(api.api_size),
        name=_string(api.name),
        build_id=int(api.build_id),
        kind=int(api.kind),
        order=int(api.order),
    )
    if header.abi_version != ABI_VERSION or header.api_size != ffi.sizeof("Api"):
        return header
    problems: list[str] = []
    schema = tuple(
        _component(decl, f"Api.schema[{i}]", problems)
        for i, decl in enumerate(_entries(api, "Api", "schema", "schema_count", MAX_SCHEMA, problems))
    )
    names = [c.name for c in schema]

    def term(t: Any) -> Term:
        index = int(t.component)
        return Term(names[index] if index < len(names) else f"#{index}", int(t.access))

    queries = tuple(
        QueryInfo(
            _string(q.name),
            tuple(term(t) for t in _entries(q, f"Api.queries[{i}]", "terms", "term_count", MAX_TERMS, problems)),
        )
        for i, q in enumerate(_entries(api, "Api", "queries", "query_count", MAX_QUERIES, problems))
    )
    resources = tuple(term(t) for t in _entries(api, "Api", "resources", "resource_count", MAX_TERMS, problems))
    tunables = _tunables(api, problems)
    return dataclasses.replace(
        header,
        schema=schema,
        queries=queries,
        resources=resources,
        layout=tuple((name, int(getattr(api.layout, name))) for name in LAYOUT),
        state_version=int(api.state_version),
        has_state_hooks=api.save_state != ffi.NULL and api.load_state != ffi.NULL,
        has_run=api.run != ffi.NULL,
        has_shutdown=api.shutdown != ffi.NULL,
        tunables=tunables,
        problems=tuple(problems),
    )


def _tunables(api: Any, problems: list[str]) -> tuple[TunableSpec, ...]:
    """The tunables the library declares; a bad one (not a name, a name twice, a range
    without its default) is a problem, which the handshake refuses."""
    out: list[TunableSpec] = []
    for i, t in enumerate(_entries(api, "Api", "tunables", "tunable_count", MAX_TUNABLES, problems)):
        spec = TunableSpec(_string(t.name), float(t.default_value), float(t.min), float(t.max), float(t.step))
        why = spec.problem()
        if not is_name(spec.name):
            why = f"{spec.name!r} is not a name"
        elif any(s.name == spec.name for s in out):
            why = f"{spec.name!r} is declared twice"
        if why is not None:
            problems.append(f"Api.tunables[{i}]: {why}")
        else:
            out.append(spec)
    return tuple(out)


def _entries(owner: Any, where: str, array: str, count: str, bound: int, problems: list[str]) -> list[Any]:
    """The entries of C array `owner.array`, `owner.count` of them; none, and a problem
    naming the field, when the count is past `bound` or the array is NULL with a count:
    the count is checked before it indexes the library's memory."""
    n = int(getattr(owner, count))
    if n > bound:
        problems.append(f"{where}.{count} is {n}; the host reads at most {bound}")
        return []
    pointer = getattr(owner, array)
    if n and pointer == ffi.NULL:
        problems.append(f"{where}.{array} is NULL but {where}.{count} is {n}")
        return []
    return [pointer[i] for i in range(n)]


def file_offset(path: Path, address: int) -> int | None:
    """The offset in the file `path` of `address` in this process, from the mappings in
    /proc/self/maps; None when `path` does not map it (or there is no /proc)."""
    if not address:
        return None
    wanted = os.fsencode(os.path.realpath(path))
    try:
        with open("/proc/self/maps", "rb") as maps:
            for row in maps:
                fields = row.split(None, 5)
                if len(fields) < 6 or fields[5].rstrip(b"\n") != wanted:
                    continue
                start, end = (int(x, 16) for x in fields[0].split(b"-"))
                if start <= address < end:
                    return address - start + int(fields[2], 16)
    except OSError:
        return None
    return None


def panic_message(handle: Any) -> str:
    """The message of the library's last Zig panic (`sdk.panic` keeps it), escaped; "" if none."""
    try:
        length = min(int(handle.sdk_panic_length), PANIC_CAPACITY)
        raw = bytes(ffi.buffer(handle.sdk_panic_message, length))
    except (AttributeError, ffi.error):
        return ""
    return escape(raw)


def escape(raw: bytes, limit: int = 512) -> str:
    """Untrusted bytes from a system as one printable line: invalid UTF-8, NUL and other
    control characters escaped, at most `limit` characters."""
    text = raw[: limit * 4].decode("utf-8", "backslashreplace")
    text = "".join(ch if ch.isprintable() else ch.encode("unicode_escape").decode("ascii") for ch in text)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _component(decl: Any, where: str, problems: list[str]) -> ComponentSpec:
    fields = tuple(
        FieldSpec(_string(f.name), DType(int(f.dtype)), int(f.width), float(f.default_value), int(f.offset))
        if int(f.dtype) in DType._value2member_map_
        else FieldSpec(f"{_string(f.name)}#bad-dtype-{int(f.dtype)}", DType.U8, 0)
        for f in _entries(decl, where, "fields", "field_count", MAX_FIELDS, problems)
    )
    return ComponentSpec(_string(decl.name), fields, int(decl.size), bool(decl.is_resource))


def _string(ptr: Any) -> str:
    """A name from the library: at most MAX_NAME bytes are read (a longer name is cut and
    ends in "..."), invalid UTF-8 and control characters escaped (`escape`)."""
    if ptr == ffi.NULL:
        return ""
    raw: bytes = ffi.string(ptr, MAX_NAME + 1)
    return escape(raw[:MAX_NAME]) + ("..." if len(raw) > MAX_NAME else "")


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
