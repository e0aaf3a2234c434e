"""Column memory: every table column ends at an inaccessible page.

System code gets raw pointers to the columns. A system that runs off the end of one (a
loop bound one past the capacity, an index from a bad entity) would otherwise write over
whatever the allocator put next: another column, the entity index, Python's heap, all
silently. Here each column is its own anonymous mapping whose data ends exactly where a
PROT_NONE page begins (with another one before it), so the first byte past either end
faults inside the system's guarded call, and the host repairs the world (see
game/hotreload/recovery.py) instead of running on with a corrupted one.

Costs: two pages of address space per column (no memory), one mmap and two mprotect
calls per allocation (tables grow by doubling, so that is rare); nothing per step.
Linux and macOS (mmap + mprotect through libc); elsewhere plain numpy arrays.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import mmap
import sys

import numpy as np
import numpy.typing as npt

PAGE = mmap.PAGESIZE
PROT_NONE = 0

_libc = None
if sys.platform.startswith("linux") or sys.platform == "darwin":
    try:
        _libc = ctypes.CDLL(ctypes.util.find_library("c") or None, use_errno=True)
        _libc.mprotect.argtypes = (ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int)
        _libc.mprotect.restype = ctypes.c_int
    except (OSError, AttributeError):
        _libc = None


def guarded() -> bool:
    """True when columns get guard pages here."""
    return _libc is not None


def column(shape: tuple[int, ...], dtype: npt.DTypeLike, fill: float = 0) -> np.ndarray:
    """A writable array of `shape`, filled with `fill`, whose last byte is followed by a
    PROT_NONE page (and whose first page is preceded by one)."""
    dtype = np.dtype(dtype)
    count = int(np.prod(shape)) if shape else 1
    nbytes = count * dtype.itemsize
    if _libc is None or nbytes == 0:
        return np.full(shape, fill, dtype=dtype)
    inner = -(-nbytes // PAGE) * PAGE
    region = mmap.mmap(-1, inner + 2 * PAGE, flags=mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS)
    base = ctypes.addressof(ctypes.c_char.from_buffer(region))
    if _libc.mprotect(base, PAGE, PROT_NONE) or _libc.mprotect(base + PAGE + inner, PAGE, PROT_NONE):
        region.close()
        return np.full(shape, fill, dtype=dtype)
    # Data ends at the guard page; the start stays aligned to 64 bytes whenever nbytes is a
    # multiple of 64 (every capacity from 16 rows up is); otherwise it moves down to 64 bytes.
    offset = PAGE + inner - nbytes
    offset -= offset % 64  # still >= PAGE: PAGE is a multiple of 64
    array = np.frombuffer(region, dtype=dtype, count=count, offset=offset).reshape(shape)
    if fill:
        array.fill(fill)
    return array
