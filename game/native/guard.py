"""Guarded calls into system code: a fault or a hang in a system becomes a `Fault`, not a crash.

Every call the host makes into a system library (`plugin_entry`, `run`, `save_state`,
`load_state`, `shutdown`) goes through `call`, which enters the library through the small
C trampoline in `guard.c` (a jump point, signal handlers on an alternate stack, and a
watchdog thread). A segfault, bus error, Zig panic or trap, abort, arithmetic fault or
stack overflow inside the call, or a call that runs past the bound (`install`, default
1 s), returns control to the host, which raises `Fault`. SIGINT and SIGTERM during a call
are passed on to Python's (or SDL's) handler as usual and end the call, so Ctrl+C and
closing the game work during a hang.

The trampoline is compiled from `guard.c` with the pinned Zig (`zig cc`) the first time it
is needed, into `game/native/_build/` (keyed by the source's hash), and loaded once.
Linux only: elsewhere `install()` returns False and calls run unguarded.
"""

from __future__ import annotations

import hashlib
import logging
import os
import signal
import subprocess
import sys
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cffi

log = logging.getLogger("sandbox")

SOURCE = Path(__file__).with_name("guard.c")
DEFAULT_BOUND = 1.0

OK, FAULT, TIMEOUT, INTERRUPTED = 0, 1, 2, 3

ffi = cffi.FFI()
ffi.cdef(
    """
    typedef struct {
        int32_t kind; int32_t signal; int32_t code; int32_t _reserved;
        uint64_t address; uint64_t stack; double seconds;
    } GuardResult;
    int32_t guard_install(double seconds);
    void guard_set_bound(double seconds);
    int32_t guard_call(uintptr_t fn, uint64_t a, uint64_t b, uint64_t c, uint64_t *ret);
    int64_t guard_run(void *fn, void *frame);
    void guard_result(GuardResult *out);
    """
)

_SIGNALS = {
    signal.SIGSEGV: "segfault",
    signal.SIGBUS: "bus error",
    signal.SIGILL: "illegal instruction (a Zig trap)",
    signal.SIGFPE: "arithmetic fault",
    signal.SIGABRT: "abort",
    signal.SIGTRAP: "trap",
}
STACK_REACH = 64 << 20
"""A segfault this far below the stack pointer at the call is a stack overflow."""


@dataclass
class Fault(Exception):
    """System code faulted, hung or was interrupted inside an entry point."""

    entry: str
    kind: str
    """segfault, bus error, panic, stack overflow, abort, hang, interrupted, ..."""
    detail: str = ""
    signal: int = 0
    seconds: float = 0.0

    def __str__(self) -> str:
        return f"{self.kind} in {self.entry}{': ' + self.detail if self.detail else ''}"

    @property
    def interrupted(self) -> bool:
        return self.kind == "interrupted"


class _Guard:
    def __init__(self) -> None:
        self.lib: Any = None
        self.failed: str | None = None
        self.bound = DEFAULT_BOUND
        self._lock = threading.Lock()

    def load(self) -> Any:
        if self.lib is not None or self.failed is not None:
            return self.lib
        with self._lock:
            if self.lib is None and self.failed is None:
                try:
                    lib = ffi.dlopen(str(_build()))
                    if lib.guard_install(self.bound) != 0:
                        raise OSError("guard_install could not set the signal handlers or start the watchdog")
                    self.lib = lib
                except (OSError, subprocess.SubprocessError) as exc:
                    self.failed = str(exc)
                    log.error("system calls run UNGUARDED (a fault will end the game): %s", exc)
        return self.lib


_guard = _Guard()


def install(bound: float = DEFAULT_BOUND) -> bool:
    """Loads the trampoline (building it if needed) and sets the per-call bound; False when
    calls will run unguarded (not Linux, or it could not be built: logged)."""
    if bound <= 0:
        raise ValueError("the bound on a system call must be positive")
    _guard.bound = bound
    if not sys.platform.startswith("linux"):
        return False
    lib = _guard.load()
    if lib is None:
        return False
    lib.guard_set_bound(bound)
    return True


def bound() -> float:
    return _guard.bound


def address(cdata: Any) -> int:
    """The integer address of a cffi pointer or function pointer (from any FFI instance)."""
    from game.native.abi import ffi as abi_ffi

    return int(abi_ffi.cast("uintptr_t", cdata))


class Caller:
    """A guarded entry point: `caller(a, b, c)` calls the function at address `fn`.

    Made once per entry point (the hot path is one cffi call into the trampoline), and
    used by one thread at a time. Returns the raw 64-bit result; raises Fault. `panic()`
    reads the library's last panic message when a call ends in a trap."""

    def __init__(self, entry: str, fn: int, panic: Any = None) -> None:
        self.entry = entry
        self.fn = fn
        self.panic = panic
        self.lib = _guard.lib if _guard.lib is not None else _guard.load()
        self.ret = ffi.new("uint64_t *")
        self._plain: Any = None
        if self.lib is None:
            self._plain = ffi.cast("uint64_t (*)(uint64_t, uint64_t, uint64_t)", fn)

    def __call__(self, a: int = 0, b: int = 0, c: int = 0) -> int:
        if self._plain is not None:
            return int(self._plain(a, b, c))
        kind = self.lib.guard_call(self.fn, a, b, c, self.ret)
        if kind == OK:
            return int(self.ret[0])
        raise describe(self.entry, kind, self.panic)


def run_path(caller: Caller, frame: int) -> tuple[Any, Any, Any] | None:
    """The hot path for a `run` entry point: (guard_run, fn, frame) as cffi values, so a call
    is `guard_run(fn, frame)` with nothing to convert; None when calls are unguarded.
    The result is 0, or a status in the low 32 bits, or a fault's kind shifted left by 32."""
    if caller.lib is None:
        return None
    return caller.lib.guard_run, ffi.cast("void *", caller.fn), ffi.cast("void *", frame)


def call(entry: str, fn: int, a: int = 0, b: int = 0, c: int = 0, panic: Any = None) -> int:
    """One guarded call (see Caller)."""
    return Caller(entry, fn, panic)(a, b, c)


def int32(raw: int) -> int:
    """An `i32` return value out of the raw 64-bit register."""
    raw &= 0xFFFFFFFF
    return raw - (1 << 32) if raw >= 1 << 31 else raw


def describe(entry: str, kind: int, panic: Any = None) -> Fault:
    result = ffi.new("GuardResult *")
    _guard.lib.guard_result(result)
    seconds = float(result.seconds)
    if kind == TIMEOUT:
        return Fault(entry, "hang", f"no return after {seconds:.2f} s (the bound is {_guard.bound:g} s)", 0, seconds)
    if kind == INTERRUPTED:
        return Fault(entry, "interrupted", "SIGINT/SIGTERM during the call", 0, seconds)
    sig = int(result.signal)
    name = (
        _SIGNALS.get(signal.Signals(sig), f"signal {sig}")
        if sig in signal.Signals._value2member_map_
        else f"signal {sig}"
    )
    addr = int(result.address)
    if sig == signal.SIGSEGV and result.stack - STACK_REACH < addr <= result.stack:
        return Fault(entry, "stack overflow", f"at 0x{addr:x}", sig, seconds)
    if sig in (signal.SIGILL, signal.SIGTRAP) and panic is not None:
        message = panic()
        if message:
            return Fault(entry, "panic", message, sig, seconds)
    if sig in (signal.SIGSEGV, signal.SIGBUS):
        return Fault(entry, name, f"at address 0x{addr:x}", sig, seconds)
    return Fault(entry, name, "", sig, seconds)


FLAGS = ("-shared", "-fPIC", "-O2", "-Wl,-z,nodelete", "-lpthread")
"""`-z nodelete`: never unmapped (cffi dlcloses its libraries at exit), since the watchdog
thread runs the library's code until the process ends."""


def _build() -> Path:
    """The trampoline's library, compiled from guard.c with the pinned Zig on first use
    (about 4 s), then reused while guard.c and the flags stay the same."""
    key = hashlib.sha256(SOURCE.read_bytes() + repr(FLAGS).encode()).hexdigest()[:16]
    for folder in (Path(__file__).with_name("_build"), Path(tempfile.gettempdir()) / "ecs-sandbox-guard"):
        target = folder / f"libguard-{key}.so"
        if target.is_file():
            return target
        try:
            folder.mkdir(parents=True, exist_ok=True)
            for stale in folder.glob("libguard-*.so"):
                stale.unlink(missing_ok=True)  # an older guard.c's (a loaded one stays mapped)
            tmp = folder / f".libguard-{key}.{os.getpid()}.so"
            done = subprocess.run(
                [sys.executable, "-m", "ziglang", "cc", *FLAGS, "-o", str(tmp), str(SOURCE)],
                capture_output=True,
                text=True,
                timeout=300,
                check=False,
                start_new_session=True,  # a Ctrl+C in the terminal must not leave the game unguarded
            )
            if done.returncode != 0:
                raise OSError(f"zig cc failed to build {SOURCE.name}: {done.stderr.strip()[-800:]}")
            os.replace(tmp, target)
            return target
        except PermissionError:
            continue
    raise OSError(f"no writable folder to build {SOURCE.name} into")
