"""What can go wrong with a native system, as exceptions with messages a person can act on."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from game.native.guard import Fault


class LoadError(OSError):
    """The library could not be copied, opened, or has no usable `plugin_entry`."""


class HandshakeError(ValueError):
    """The library loaded but does not fit the host: ABI version, layout, or columns."""


class SystemRunError(RuntimeError):
    """A system's `run` returned a non-zero status; the message includes its own words."""


class LoadFault(LoadError):
    """`plugin_entry` faulted (or hung) while the library was loaded; `fault` says how."""

    def __init__(self, message: str, fault: Fault) -> None:
        super().__init__(message)
        self.fault = fault


class SystemFault(RuntimeError):
    """A system's code faulted, hung or was interrupted in one of its entry points (see
    game/native/guard.py); `name` is the system, `fault` the guard's account of it."""

    def __init__(self, name: str, fault: Fault, step: int) -> None:
        super().__init__(f"{name}: {fault} at step {step}")
        fault.__traceback__ = None  # its frames hold the system (and its 1.5 MiB of buffers)
        self.name = name
        self.fault = fault
        self.step = step

    @property
    def entry(self) -> str:
        return self.fault.entry

    @property
    def interrupted(self) -> bool:
        """The call was ended by SIGINT/SIGTERM: quitting, not the build's fault."""
        return self.fault.interrupted
