"""Checks a loaded system against the host before it may run: ABI and columns."""

from __future__ import annotations

from collections.abc import Mapping

from game.native.abi import ABI_VERSION, Kind, ffi
from game.native.errors import HandshakeError
from game.native.library import SystemInfo
from game.world.schema import ComponentSpec

API_SIZE = ffi.sizeof("Api")


def check(info: SystemInfo, source: str, specs: Mapping[str, ComponentSpec]) -> None:
    """Raises HandshakeError naming the system, the field and both sides on any mismatch."""
    if info.abi_version != ABI_VERSION:
        raise HandshakeError(
            f"{source}: ABI version {info.abi_version}, host expects {ABI_VERSION}; rebuild with the current sdk"
        )
    if info.api_size != API_SIZE:
        raise HandshakeError(
            f"{source}: Api struct is {info.api_size} bytes, host expects {API_SIZE}; rebuild with the current sdk"
        )
    if info.kind not in Kind._value2member_map_:
        raise HandshakeError(f"{source}: unknown kind {info.kind}; expected 0 (simulation), 1 (render) or 2 (demo)")
    if not info.name:
        raise HandshakeError(f"{source}: the Api has an empty name")
    for decl in info.columns:
        spec = specs.get(decl.name)
        if spec is None:
            known = ", ".join(specs)
            raise HandshakeError(f"{source}: declares column {decl.name!r}, which the world does not have ({known})")
        if decl.dtype != spec.dtype or decl.width != spec.width:
            raise HandshakeError(
                f"{source}: column {decl.name} declared {decl.describe()}, the world has {spec.describe()}"
            )
        if decl.access not in (1, 2, 3):
            raise HandshakeError(f"{source}: column {decl.name} has access {decl.access}; expected 1, 2 or 3")
