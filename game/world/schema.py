"""Component layouts, declared once.

Every column the store allocates, every numpy dtype, and every check of a system's
declared columns (see `game.native.handshake`) derives from `COMPONENTS` below. The
dtype codes mirror `sdk.DType` in `ecs_systems/sdk/sdk.zig`.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

import numpy as np


class DType(enum.IntEnum):
    """Element types a column may hold; the numbers are the ABI's (`sdk.DType`)."""

    F32 = 1
    F64 = 2
    I32 = 3
    U32 = 4
    U8 = 5
    I64 = 6

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
}


@dataclass(frozen=True)
class ComponentSpec:
    """One column: `width` elements of `dtype` per entity, `default` for new entities."""

    name: str
    dtype: DType
    width: int = 1
    default: float = 0

    @property
    def row_bytes(self) -> int:
        return self.dtype.numpy.itemsize * self.width

    def describe(self) -> str:
        return f"{self.dtype.label}x{self.width}"


COMPONENTS: tuple[ComponentSpec, ...] = (
    ComponentSpec("pos_x", DType.F32),
    ComponentSpec("pos_y", DType.F32),
    ComponentSpec("vel_x", DType.F32),
    ComponentSpec("vel_y", DType.F32),
    ComponentSpec("color", DType.U32, default=0x3050FF),
)
