"""Ctrl+C and SIGTERM as a request to quit, answered at the next frame boundary.

Python's default turns Ctrl+C into KeyboardInterrupt wherever the main thread happens to
be: half-way through a step's commands, inside the start-up build's wait, or in `close`
while the world is being saved; the user sees a traceback and may lose the world. Inside
`listening()`, a SIGINT or SIGTERM only records itself (`received()`): the game loop
(`Game.frame`, the start-up wait) sees it and stops, `Game.close` saves the world as for
Esc, and the run exits with 128 + the signal's number (130 for Ctrl+C, 143 for SIGTERM),
what a shell reports for a process a signal ended, so a script that runs the game knows it
was interrupted. Closing the window or Esc exits 0.

A call into system code that hangs is ended by the guard (game/native/guard.py), which sees
both signals first and passes them on to these handlers. A second signal while quitting
raises KeyboardInterrupt (the user insists): `run_game.py` exits 130 without a traceback,
and the world may not be saved.

Handlers must be installed before SDL's video init: SDL takes SIGTERM (as a quit event)
only when nobody else has it, and the guard passes both on to what was there before it.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType
from typing import Any

SIGNALS = (signal.SIGINT, signal.SIGTERM)
NAMES = {signal.SIGINT: "Ctrl+C (SIGINT)", signal.SIGTERM: "SIGTERM"}

_received: int | None = None


def received() -> int | None:
    """The signal that asked the game to quit, or None."""
    return _received


def describe(signum: int) -> str:
    return NAMES.get(signal.Signals(signum), signal.Signals(signum).name)


def exit_status(code: int) -> int:
    """`code`, unless a signal asked the game to quit: then 128 + its number."""
    return code if _received is None else 128 + _received


def _handle(signum: int, frame: FrameType | None) -> None:
    global _received
    if _received is not None:
        raise KeyboardInterrupt  # a second signal: stop waiting for a clean exit
    _received = signum


@contextmanager
def listening() -> Iterator[None]:
    """SIGINT and SIGTERM are recorded instead of raising or ending the process, until the
    block ends (the previous handlers are put back). A signal ignored at start (`nohup`, a
    background job of a script) stays ignored. Only in the main thread (signals are not
    delivered to Python handlers elsewhere); elsewhere it changes nothing."""
    global _received
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    _received = None
    previous: dict[signal.Signals, Any] = {}
    try:
        for sig in SIGNALS:
            if signal.getsignal(sig) != signal.SIG_IGN:
                previous[sig] = signal.signal(sig, _handle)
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, signal.SIG_DFL if handler is None else handler)  # None: set outside Python
