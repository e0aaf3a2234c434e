"""Checks a loaded system against the host before it may run: ABI and columns."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from game.native.abi import ABI_VERSION, Kind, ffi
from game.native.errors import HandshakeError
from game.native.library import ColumnDecl, SystemInfo
from game.world.schema import ComponentSpec, DType

API_SIZE = ffi.sizeof("Api")


@dataclass(frozen=True)
class ColumnChange:
    """A column a new build needs the store to add (`old` None) or widen (from `old`)."""

    spec: ComponentSpec
    old: ComponentSpec | None

    def describe(self) -> str:
        if self.old is None:
            return f"adds column {self.spec.name} ({self.spec.describe()}, default {self.spec.default:g})"
        return f"widens column {self.spec.name} from {self.old.describe()} to {self.spec.describe()}"


def check(info: SystemInfo, source: str, specs: Mapping[str, ComponentSpec]) -> list[ColumnChange]:
    """Checks `info` against the host; returns the column changes it needs.

    Raises HandshakeError naming the system, the field and both sides on a mismatch that
    cannot be migrated safely (an unknown dtype, a narrower dtype, fewer elements).
    """
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
    if not (info.has_run and info.has_shutdown):
        missing = "run" if not info.has_run else "shutdown"
        raise HandshakeError(f"{source}: the Api's {missing} is NULL; give sdk.api a function for it")
    changes = []
    for decl in info.columns:
        if decl.access not in (1, 2, 3):
            raise HandshakeError(f"{source}: column {decl.name} has access {decl.access}; expected 1, 2 or 3")
        if decl.dtype not in DType._value2member_map_ or not 1 <= decl.width <= 64:
            raise HandshakeError(f"{source}: column {decl.name} declared {decl.describe()}: unknown dtype or width")
        if not decl.name.isidentifier():
            raise HandshakeError(f"{source}: column name {decl.name!r} is not an identifier")
        wanted = ComponentSpec(decl.name, DType(decl.dtype), decl.width, decl.default)
        spec = specs.get(decl.name)
        if spec is None:
            changes.append(ColumnChange(wanted, None))
        elif (spec.dtype, spec.width) != (wanted.dtype, wanted.width):
            if not widens(spec, wanted):
                raise HandshakeError(
                    f"{source}: column {decl.name} declared {decl.describe()}, the world has {spec.describe()}; "
                    "only widening (a wider dtype, more elements) is migrated"
                )
            changes.append(ColumnChange(ComponentSpec(decl.name, wanted.dtype, wanted.width, spec.default), spec))
    return changes


def widens(old: ComponentSpec, new: ComponentSpec) -> bool:
    """True when every value of `old` fits `new` unchanged."""
    return new.width >= old.width and bool(np.can_cast(old.dtype.numpy, new.dtype.numpy, "safe"))


def check_against_live(
    name: str,
    source: str,
    changes: list[ColumnChange],
    live: Mapping[str, tuple[ColumnDecl, ...]],
    planned: Mapping[str, ColumnChange],
) -> None:
    """A widened column must not leave another running system declaring the old layout."""
    for change in changes:
        if change.spec.name in planned and planned[change.spec.name].spec != change.spec:
            raise HandshakeError(
                f"{source} {change.describe()}, but another system in this reload declares it otherwise"
            )
        if change.old is None:
            continue
        for other, columns in live.items():
            if other == name:
                continue
            for decl in columns:
                if decl.name == change.spec.name:
                    raise HandshakeError(
                        f"{source} {change.describe()}, but {other} still declares {decl.describe()}; "
                        "change both, then press F5"
                    )
