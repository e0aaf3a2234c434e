"""Where `zig build` puts a system's library on each platform, and what it is called."""

from __future__ import annotations

import sys
from pathlib import Path


def library_filename(name: str, platform: str = sys.platform) -> str:
    """`movement` -> `libmovement.so` (Linux), `movement.dll` (Windows), `libmovement.dylib` (macOS)."""
    if platform.startswith("win"):
        return f"{name}.dll"
    if platform == "darwin":
        return f"lib{name}.dylib"
    return f"lib{name}.so"


def library_dir(prefix: Path, platform: str = sys.platform) -> Path:
    """Zig installs DLLs beside executables (`bin/`), other shared libraries in `lib/`."""
    return prefix / ("bin" if platform.startswith("win") else "lib")


def system_name(filename: str, platform: str = sys.platform) -> str | None:
    """The inverse of `library_filename`; None for a file that is not a system library."""
    suffix = library_filename("", platform)  # "lib.so", ".dll", "lib.dylib"
    prefix = "lib" if suffix.startswith("lib") else ""
    ext = suffix[len(prefix) :]
    if not (filename.startswith(prefix) and filename.endswith(ext)):
        return None
    stem = filename[len(prefix) : len(filename) - len(ext)]
    return stem or None


def built_libraries(prefix: Path, platform: str = sys.platform) -> dict[str, Path]:
    """Every system library under an install prefix, by system name, sorted by name."""
    directory = library_dir(prefix, platform)
    if not directory.is_dir():
        return {}
    found = {}
    for path in sorted(directory.iterdir()):
        name = system_name(path.name, platform)
        if name is not None and path.is_file():
            found[name] = path
    return found
