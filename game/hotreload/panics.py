"""Where a system panicked: file:line and the source line, found off the frame thread.

`sdk.panic` keeps the panic's return address (`sdk_panic_address`: the code whose safety
check failed, or that called `@panic`) next to its message. The host turns that address
into an offset in the library's file while the library is still mapped
(`NativeLibrary.panic_offset`, a read of /proc/self/maps: microseconds, on the thread that
caught the fault) and keeps the file (a hard link); everything else happens on the
locator's own thread: reading the DWARF line table (pyelftools) of a
library that carries one, and naming `file:line`, the line itself and the column.

Tier-1 (debug) libraries are built with their line tables. Tier-2 libraries are stripped:
line tables cost 25 ms a ReleaseSafe build (measured: 159 -> 184 ms), and LLVM emits the
same machine code with or without them. So the locator builds the same sources once more,
with line tables, when a panic needs it, and trusts a line only when that build's code is
byte for byte the code that panicked (the sources may have changed since: then it says so).
"""

from __future__ import annotations

import dataclasses
import itertools
import os
import shutil
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from game.native.library import NativeLibrary


@dataclass(frozen=True)
class Site:
    """A panic site: `offset` bytes into `library` (a file that stays until `done()`)."""

    library: Path
    offset: int
    name: str
    mode: str
    key: str


@dataclass(frozen=True)
class Location:
    file: str
    """Relative to the project when it is inside it."""
    line: int
    column: int
    text: str
    """The source line as it is now, stripped ("" when the file cannot be read)."""
    note: str = ""
    """Why the line may not be the one that ran (the file changed since that build)."""

    def __str__(self) -> str:
        at = f"{self.file}:{self.line}" + (f":{self.column}" if self.column else "")
        return at + (f" `{self.text}`" if self.text else "") + (f" ({self.note})" if self.note else "")


def _vaddr(elf: Any, offset: int) -> int | None:
    """The virtual address (as the line table counts) of file `offset`, via the loadable segments."""
    for segment in elf.iter_segments():
        if segment["p_type"] == "PT_LOAD" and segment["p_offset"] <= offset < segment["p_offset"] + segment["p_filesz"]:
            return int(offset - segment["p_offset"] + segment["p_vaddr"])
    return None


def _text(elf: Any) -> tuple[int, bytes] | None:
    section = elf.get_section_by_name(".text")
    return None if section is None else (int(section["sh_addr"]), section.data())


def same_code(a: Path, b: Path) -> bool:
    """True when both libraries hold the same machine code at the same addresses."""
    from elftools.elf.elffile import ELFFile

    with open(a, "rb") as fa, open(b, "rb") as fb:
        return _text(ELFFile(fa)) == _text(ELFFile(fb))


def line_of(library: Path, offset: int) -> tuple[str, int, int] | None:
    """(file, line, column) of the instruction before file `offset` in `library` (a return
    address points just past its call), from its DWARF line table; None without one."""
    from elftools.elf.elffile import ELFFile

    with open(library, "rb") as f:
        elf = ELFFile(f)
        if not elf.has_dwarf_info():
            return None
        vaddr = _vaddr(elf, offset)
        if vaddr is None:
            return None
        dwarf = elf.get_dwarf_info()
        if not dwarf.has_debug_info:
            return None
        target = vaddr - 1
        aranges = dwarf.get_aranges()
        cu_offset = aranges.cu_offset_at_addr(target) if aranges is not None else None
        units = [dwarf.get_CU_at(cu_offset)] if cu_offset is not None else dwarf.iter_CUs()
        for unit in units:
            program = dwarf.line_program_for_CU(unit)
            if program is None:
                continue
            found = _row_at(program, target)
            if found is not None:
                top = unit.get_top_DIE()
                comp_dir = top.attributes.get("DW_AT_comp_dir")
                base = comp_dir.value.decode(errors="replace") if comp_dir is not None else ""
                return _file_name(program, found.file, base), int(found.line), int(found.column)
    return None


def _row_at(program: Any, address: int) -> Any:
    """The line-table row whose address range holds `address`, or None."""
    previous = None
    for entry in program.get_entries():
        row = entry.state
        if row is None:
            continue
        if previous is not None and previous.address <= address < row.address:
            return previous
        previous = None if row.end_sequence else row
    return None


def _file_name(program: Any, index: int, comp_dir: str) -> str:
    header = program.header
    version = int(header["version"])
    files, folders = header["file_entry"], header["include_directory"]
    entry = files[index] if version >= 5 else files[index - 1]
    name = entry.name.decode(errors="replace")
    folder_index = int(entry.dir_index)
    if version >= 5:
        folder = folders[folder_index].decode(errors="replace")
    else:
        folder = folders[folder_index - 1].decode(errors="replace") if folder_index > 0 else comp_dir
    return os.path.join(comp_dir, folder, name)


def keep(library: NativeLibrary, folder: Path, optimize: str) -> Site | None:
    """The site of `library`'s last panic, with its file kept (a hard link in `folder`) for
    the locator: the loader deletes its copy when the library closes. None when not known."""
    offset = library.panic_offset()
    if offset is None:
        return None
    kept = folder / f".panicked-{next(_KEPT)}-{library.copy.name}"
    try:
        os.link(library.copy, kept)
    except OSError:
        try:
            shutil.copyfile(library.copy, kept)
        except OSError:
            return None
    mode = "debug" if library.tier == 1 else optimize
    return Site(kept, offset, library.info.name, mode, library.key)


_KEPT = itertools.count(1)


class PanicLocator:
    """Finds where panics happened, one at a time on its own thread.

    `submit(site, said)` returns at once; later `said(text)` is called on the locator's
    thread with ``file:line:column `source line` `` (or why the line is not known).
    `key(name)` is the digest of a system's sources now; `with_lines(name, mode, key)` a
    library of the sources with that key, with line tables (None: not to be had);
    `kept_sources(key)` a folder with a copy of those sources (the line is shown as it was
    built, even after an edit)."""

    def __init__(
        self,
        project: Path,
        key: Callable[[str], str],
        with_lines: Callable[[str, str, str], Path | None],
        kept_sources: Callable[[str], Path | None],
    ) -> None:
        self.project = project
        self.key = key
        self.with_lines = with_lines
        self.kept_sources = kept_sources
        self._jobs: deque[tuple[Site, Callable[[str], None]]] = deque()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self.idle = threading.Event()
        """Set while no panic waits to be located (tests wait on it)."""
        self.idle.set()

    def submit(self, site: Site, said: Callable[[str], None]) -> None:
        """Locates `site` on the locator's thread, then deletes its kept file. The thread
        lives while there is work: none is left running between panics."""
        with self._lock:
            self.idle.clear()
            self._jobs.append((site, said))
            if self._thread is None:
                self._thread = threading.Thread(target=self._work, name="panic-locator", daemon=True)
                self._thread.start()

    def _work(self) -> None:
        while True:
            with self._lock:
                if not self._jobs:
                    self._thread = None
                    self.idle.set()
                    return
                site, said = self._jobs.popleft()
            try:
                said(self.describe(site))
            finally:
                site.library.unlink(missing_ok=True)

    def describe(self, site: Site) -> str:
        """``file:line:column `source line` `` for `site`, or why it is not known. Never raises:
        a library that cannot be read is one more reason."""
        try:
            found = line_of(site.library, site.offset)
            if found is None:
                rebuilt = self.with_lines(site.name, site.mode, site.key) if site.key else None
                if rebuilt is None:
                    return "line unknown: the sources of that build are gone (changed since, and no copy kept)"
                if not same_code(site.library, rebuilt):
                    return "line unknown: the build with line tables came out different"
                found = line_of(rebuilt, site.offset)
                if found is None:
                    return "line unknown: no line table entry for that address"
        except (OSError, ValueError, KeyError, IndexError) as exc:
            return f"line unknown: {type(exc).__name__}: {exc}"
        location = self._location(*found, self.kept_sources(site.key) if site.key else None)
        if site.key and self.key(site.name) != site.key:
            location = dataclasses.replace(location, note="the file has changed since that build")
        return str(location)

    def _location(self, file: str, line: int, column: int, kept: Path | None) -> Location:
        """`file` (from a line table: in the project, or in a kept copy of its sources) as the
        project names it, with its line as it was built when a copy was kept."""
        path = Path(file)
        shown = str(path)
        for root in (kept, self.project):
            if root is None:
                continue
            full = path if path.is_absolute() else root / path
            try:
                shown = str(full.resolve().relative_to(root.resolve()))
                break
            except ValueError:
                continue
        text = ""
        for root in (kept, self.project):
            if root is not None and (root / shown).is_file():
                try:
                    lines = (root / shown).read_text(errors="replace").splitlines()
                except OSError:
                    continue
                text = lines[line - 1].strip() if 0 < line <= len(lines) else ""
                break
        return Location(shown, line, column, text)

    def close(self) -> None:
        """Forgets panics not located yet (the game is closing; the thread is a daemon)."""
        with self._lock:
            for site, _ in self._jobs:
                site.library.unlink(missing_ok=True)
            self._jobs.clear()
