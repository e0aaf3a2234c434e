"""The guard on its own, over libc functions: faults, hangs and threads (the Zig systems'
faults are the fault matrix, tests/test_faults.py)."""

from __future__ import annotations

import signal
import sys
import threading
import time
from typing import Any

import cffi
import pytest

from game.native import guard
from game.native.library import escape

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="the guard is Linux only")

_ffi = cffi.FFI()
_ffi.cdef("int raise(int sig); unsigned int sleep(unsigned int seconds); int getpid(void);")
_libc: Any = _ffi.dlopen(None)


def address(name: str) -> int:
    return int(_ffi.cast("uintptr_t", getattr(_libc, name)))


@pytest.fixture(autouse=True)
def short_bound() -> Any:
    before = guard.bound()
    assert guard.install(0.2)
    yield
    guard.install(before)


@pytest.mark.parametrize(
    ("sig", "kind"),
    [
        (signal.SIGSEGV, "segfault"),
        (signal.SIGBUS, "bus error"),
        (signal.SIGILL, "illegal instruction"),
        (signal.SIGFPE, "arithmetic fault"),
        (signal.SIGABRT, "abort"),
        (signal.SIGTRAP, "trap"),
    ],
)
def test_a_fault_inside_a_call_is_a_fault_and_the_process_goes_on(sig: int, kind: str) -> None:
    with pytest.raises(guard.Fault) as caught:
        guard.call("run", address("raise"), sig)
    assert caught.value.kind.startswith(kind) and caught.value.entry == "run"
    assert guard.call("run", address("getpid")) > 0  # the next call is normal


def test_a_call_past_the_bound_is_a_hang() -> None:
    started = time.monotonic()
    with pytest.raises(guard.Fault) as caught:
        guard.call("run", address("sleep"), 30)
    assert caught.value.kind == "hang" and "the bound is 0.2 s" in str(caught.value)
    assert time.monotonic() - started < 2


def test_a_panic_message_names_the_fault() -> None:
    with pytest.raises(guard.Fault) as caught:
        guard.call("shutdown", address("raise"), signal.SIGILL, panic=lambda: "integer overflow")
    assert str(caught.value) == "panic in shutdown: integer overflow"


def test_threads_fault_independently_and_give_their_slots_back() -> None:
    """More threads than the guard has slots (64), one after another: each exiting thread
    frees its slot, or the later calls would run unguarded and kill the process."""
    kinds: list[str] = []

    def worker() -> None:
        try:
            guard.call("plugin_entry", address("raise"), signal.SIGSEGV)
        except guard.Fault as fault:
            kinds.append(fault.kind)

    for _ in range(100):
        thread = threading.Thread(target=worker)
        thread.start()
        thread.join()
    assert kinds == ["segfault"] * 100


def test_outside_a_call_signals_go_where_they_went_before() -> None:
    got: list[int] = []
    previous = signal.signal(signal.SIGUSR1, lambda s, f: got.append(s))
    try:
        signal.raise_signal(signal.SIGUSR1)
    finally:
        signal.signal(signal.SIGUSR1, previous)
    assert got == [signal.SIGUSR1]


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        (b"plain", "plain"),
        (b"nul\x00inside", "nul\\x00inside"),
        (b"bad \xff\xfe utf-8", "bad \\xff\\xfe utf-8"),
        (b"line\nbreak\x1b[31m", "line\\nbreak\\x1b[31m"),
        (b"x" * 5000, "x" * 509 + "..."),
    ],
)
def test_untrusted_bytes_are_shown_escaped_on_one_bounded_line(raw: bytes, shown: str) -> None:
    assert escape(raw) == shown
