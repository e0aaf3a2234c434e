"""NativeSystem: one loaded Zig system, run as an esper processor with one cffi call a step.

The Frame, the Column array and the message buffer are allocated once. Each call only
updates the counters, the input, and (when the store reallocated) the column pointers:
no per-entity Python and no per-frame allocation of anything sized by the world.
"""

from __future__ import annotations

import time

import esper

from game.native.abi import MESSAGE_CAPACITY, Kind, Status, ffi
from game.native.errors import SystemRunError
from game.native.library import NativeLibrary
from game.world.world import World


class InputState:
    """What the systems see of the mouse. Change it through the methods: they bump
    `version`, which is how a NativeSystem knows to copy it into its Frame."""

    def __init__(self, mouse_x: float = 0.0, mouse_y: float = 0.0, buttons: int = 0, in_window: bool = False) -> None:
        self.mouse_x, self.mouse_y, self.buttons, self.in_window = mouse_x, mouse_y, buttons, in_window
        self.version = 0

    def update(self, **fields: float | bool) -> None:
        """Sets any of mouse_x, mouse_y, buttons, in_window. Raises AttributeError for another name."""
        for name, value in fields.items():
            if name not in ("mouse_x", "mouse_y", "buttons", "in_window"):
                raise AttributeError(f"InputState has no field {name!r}")
            setattr(self, name, value)
        self.version += 1


class NativeSystem(esper.Processor):
    """Runs `library` over `world`'s columns. Raises SystemRunError on a non-zero status."""

    def __init__(self, library: NativeLibrary, world: World, inputs: InputState) -> None:
        self.library = library
        self.world = world
        self.inputs = inputs
        self.info = library.info
        self.last_ms = 0.0
        self._frame = ffi.new("Frame *")
        self._columns = ffi.new("Column[]", max(len(self.info.columns), 1))
        self._message = ffi.new("uint8_t[]", MESSAGE_CAPACITY)
        self._frame.columns = self._columns
        self._frame.column_count = len(self.info.columns)
        self._frame.message = self._message
        self._frame.message_cap = MESSAGE_CAPACITY
        self._bound_to: tuple[int, int] | None = None
        self._run = library.api.run
        # Last values written into the Frame (see run()).
        self._count = -1
        self._dt = -1.0
        self._size: tuple[int, int] = (-1, -1)
        self._input_version = -1

    @property
    def name(self) -> str:
        return self.info.name

    @property
    def is_render(self) -> bool:
        return self.info.kind == Kind.RENDER

    def _bind(self) -> None:
        store = self.world.store
        for i, decl in enumerate(self.info.columns):
            array = store.full_column(decl.name)
            col = self._columns[i]
            col.ptr = ffi.cast("uint8_t *", array.ctypes.data)
            col.stride = array.strides[0]
            col.dtype = decl.dtype
            col.width = decl.width
        self._bound_to = (id(store), store.layout_version)

    def process(self, dt: float) -> None:  # esper.Processor
        self.run(dt)

    def run(self, dt: float, target: tuple[int, int, int, int] | None = None) -> None:
        """One call of the system's `run`; `target` is (address, width, height, pitch) for render systems.

        Only what changed since the last call is written into the Frame: each cffi field
        write costs about 0.1 µs, and this is the per-system, per-frame fixed cost.
        """
        world = self.world
        store = world.store
        frame = self._frame
        if self._bound_to != (id(store), store.layout_version):
            self._bind()
        count = store.count
        if count != self._count:
            self._count = count
            frame.count = count
            for i in range(frame.column_count):
                self._columns[i].len = count
        if dt != self._dt:
            self._dt = frame.dt = dt
        size = (world.width, world.height)
        if size != self._size:
            self._size = size
            frame.world_width, frame.world_height = size
        inputs = self.inputs
        if inputs.version != self._input_version:
            self._input_version = inputs.version
            fi = frame.input
            fi.mouse_x, fi.mouse_y, fi.buttons, fi.mouse_in_window = (
                inputs.mouse_x,
                inputs.mouse_y,
                inputs.buttons,
                inputs.in_window,
            )
        frame.step = world.step
        if target is not None:
            t = frame.target
            t.pixels = ffi.cast("uint8_t *", target[0])
            t.width, t.height, t.pitch = target[1], target[2], target[3]
        start = time.perf_counter()
        status = self._run(frame)
        self.last_ms = (time.perf_counter() - start) * 1000.0
        if status != Status.OK:
            message = self._describe_failure(status)
            frame.message_len = 0
            raise SystemRunError(message)

    def _describe_failure(self, status: int) -> str:
        length = min(int(self._frame.message_len), MESSAGE_CAPACITY)
        said = bytes(ffi.buffer(self._message, length)).decode("utf-8", "replace")
        label = Status(status).name.lower() if status in Status._value2member_map_ else "unknown status"
        return f"{self.name}: run returned {status} ({label}){': ' + said if said else ''}"

    def shutdown(self) -> None:
        """Calls the system's `shutdown` (once, before its library is closed)."""
        self.library.api.shutdown()
