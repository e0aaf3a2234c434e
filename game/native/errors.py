"""What can go wrong with a native system, as exceptions with messages a person can act on."""

from __future__ import annotations


class LoadError(OSError):
    """The library could not be copied, opened, or has no usable `plugin_entry`."""


class HandshakeError(ValueError):
    """The library loaded but does not fit the host: ABI version, layout, or columns."""


class SystemRunError(RuntimeError):
    """A system's `run` returned a non-zero status; the message includes its own words."""
