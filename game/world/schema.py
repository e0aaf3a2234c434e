"""Component layouts: what `ecs_systems/components.zig` declares, as the host holds it.

The layouts are not written here: the `components` library (built from components.zig)
describes them in its `Api`, `game.native.library` reads that into `ComponentSpec`s, and
everything else (table columns, numpy dtypes, payload decoding, the handshake, world
files) derives from them. `plan_migration` compares two schemas by name and says what a
change of components.zig does to the world, or why it is refused.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import numpy as np

from game.world import memory


class DType(enum.IntEnum):
    """Element types a field may hold; the numbers are the ABI's (`sdk.DType`)."""

    F32 = 1
    F64 = 2
    I32 = 3
    U32 = 4
    U8 = 5
    I64 = 6
    U64 = 7
    ENTITY = 8

    @property
    def numpy(self) -> np.dtype[np.generic]:
        return np.dtype(_NUMPY[self])

    @property
    def label(self) -> str:
        return self.name.lower()


_NUMPY: dict[DType, type[np.generic]] = {
    DType.F32: np.float32,
    DType.F64: np.float64,
    DType.I32: np.int32,
    DType.U32: np.uint32,
    DType.U8: np.uint8,
    DType.I64: np.int64,
    DType.U64: np.uint64,
    DType.ENTITY: np.uint64,
}


@dataclass(frozen=True)
class FieldSpec:
    """One field: `width` elements of `dtype` per entity, at `offset` in the payload."""

    name: str
    dtype: DType
    width: int = 1
    default: float = 0
    offset: int = 0

    def describe(self) -> str:
        return f"{self.dtype.label}x{self.width}" if self.width != 1 else self.dtype.label

    def same_type(self, other: FieldSpec) -> bool:
        return (self.dtype, self.width) == (other.dtype, other.width)

    def widens_to(self, new: FieldSpec) -> bool:
        """True when every value of this field fits `new` unchanged."""
        if self.dtype == DType.ENTITY or new.dtype == DType.ENTITY:
            return self.dtype == new.dtype and new.width >= self.width
        return new.width >= self.width and bool(np.can_cast(self.dtype.numpy, new.dtype.numpy, "safe"))

    def allocate(self, rows: int) -> np.ndarray:
        shape = (rows,) if self.width == 1 else (rows, self.width)
        return memory.column(shape, self.dtype.numpy, self.default)


@dataclass(frozen=True)
class ComponentSpec:
    """A component (or, `is_resource`, a resource): named fields, `size` payload bytes."""

    name: str
    fields: tuple[FieldSpec, ...] = ()
    size: int = 0
    is_resource: bool = False

    @property
    def is_tag(self) -> bool:
        return not self.fields

    def field(self, name: str) -> FieldSpec:
        """Raises KeyError naming the component when it has no field `name`."""
        for f in self.fields:
            if f.name == name:
                return f
        raise KeyError(f"component {self.name} has no field {name!r}")

    def payload_dtype(self) -> np.dtype[np.void]:
        """The numpy layout of one payload (a spawn's or an add's values, a resource)."""
        return np.dtype(
            {
                "names": [f.name for f in self.fields],
                "formats": [f.dtype.numpy if f.width == 1 else (f.dtype.numpy, (f.width,)) for f in self.fields],
                "offsets": [f.offset for f in self.fields],
                "itemsize": max(self.size, 1),
            }
        )

    def describe(self) -> str:
        return "{" + ", ".join(f"{f.name}: {f.describe()}" for f in self.fields) + "}"


def component(
    name: str, resource: bool = False, **fields: DType | tuple[DType, int] | tuple[DType, int, float]
) -> ComponentSpec:
    """A spec written by hand (tests, tools): fields laid out as an `extern struct` would be."""
    specs = []
    offset = 0
    for fname, kind in fields.items():
        dtype, width, default = (kind, 1, 0.0) if isinstance(kind, DType) else (*kind, 0.0)[:3]
        size = DType(dtype).numpy.itemsize
        offset = -(-offset // size) * size
        specs.append(FieldSpec(fname, DType(dtype), int(width), float(default), offset))
        offset += size * int(width)
    align = max((f.dtype.numpy.itemsize for f in specs), default=1)
    return ComponentSpec(name, tuple(specs), -(-offset // align) * align if specs else 0, resource)


Schema = Mapping[str, ComponentSpec]


@dataclass(frozen=True)
class Change:
    """One step of a migration: a new component, a new field, or a wider field."""

    component: str
    field: FieldSpec | None = None
    old: FieldSpec | None = None

    def describe(self) -> str:
        if self.field is None:
            return f"adds component {self.component}"
        if self.old is None:
            return f"adds {self.component}.{self.field.name} ({self.field.describe()}, default {self.field.default:g})"
        return f"widens {self.component}.{self.field.name} from {self.old.describe()} to {self.field.describe()}"


class MigrationError(ValueError):
    """A schema change that would lose data; the message names the component and field."""


def plan_migration(
    old: Schema, new: Schema, in_use: Iterable[str] = (), source: str = "components.zig"
) -> list[Change]:
    """What turning schema `old` into `new` does, matched by name.

    `in_use` names the components some entity (or, for resources, the world) holds.
    Raises MigrationError for a narrower or re-typed field, a component turned into a
    resource or back, or a removed component or field that is in use.
    """
    used = set(in_use)
    changes: list[Change] = []
    for name, spec in old.items():
        if name not in new:
            if name in used:
                raise MigrationError(
                    f"{source}: removes {name}, which entities still have; removing it would lose data"
                )
            continue
        other = new[name]
        if other.is_resource != spec.is_resource:
            kind = "a resource" if other.is_resource else "a component"
            raise MigrationError(f"{source}: makes {name} {kind}; that would lose its data")
        for f in spec.fields:
            try:
                nf = other.field(f.name)
            except KeyError:
                if name in used:
                    raise MigrationError(
                        f"{source}: removes field {name}.{f.name}, which entities still hold; "
                        "removing it would lose data"
                    ) from None
                continue
            if nf.same_type(f):
                continue
            if not f.widens_to(nf):
                raise MigrationError(
                    f"{source}: {name}.{f.name} declared {nf.describe()}, the world has {f.describe()}; "
                    "only widening (a wider type, more elements) is migrated"
                )
            changes.append(Change(name, nf, f))
        known = {f.name for f in spec.fields}
        changes.extend(Change(name, f) for f in other.fields if f.name not in known)
    changes.extend(Change(name) for name in new if name not in old)
    return changes
