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


M_MMAP_THRESHOLD = -3
"""glibc's `mallopt` parameter number (malloc.h)."""


def return_big_buffers_to_the_os(threshold: int = 128 << 10) -> bool:
    """Fixes glibc's mmap threshold, so every allocation over `threshold` bytes is its own
    mapping, given back to the system when freed. glibc raises the threshold each time such a
    buffer is freed, after which multi-MiB buffers (checkpoints and canary copies of the
    world, with the spatial grid's 8 MiB) come from the heap and fragment it: the process
    grew by about 100 MiB over 30 reloads. False where there is no glibc."""
    if not sys.platform.startswith("linux"):
        return False
    import ctypes

    try:
        libc = ctypes.CDLL("libc.so.6")
        return bool(libc.mallopt(M_MMAP_THRESHOLD, threshold))
    except (OSError, AttributeError):
        return False
