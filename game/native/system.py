"""NativeSystem: one loaded Zig system, run as an esper processor with one cffi call a step.

The Frame, the query views, the command buffer and the message buffer are allocated once.
Query views point at the world's table columns and at the world's array of table counts,
so a step that only changes counts writes nothing into them; they are rebuilt only when
the world's layout changes (a new table, a table reallocated, a migration). Each call
writes only what changed (step, dt, world size): no per-entity Python and no per-frame
allocation of anything sized by the world.
"""

from __future__ import annotations

import time
from typing import Any

import esper
import numpy as np

from game.native import guard
from game.native.abi import COMMAND_DTYPE, MESSAGE_CAPACITY, Kind, Status, ffi
from game.native.errors import SystemFault, SystemRunError
from game.native.input import InputState
from game.native.library import NativeLibrary, escape
from game.world.commands import Batch, decode
from game.world.table import column_name
from game.world.world import World

COMMAND_RECORDS = 1 << 14
COMMAND_DATA = 1 << 20
MAX_COMMAND_RECORDS = 1 << 22
"""A buffer that overflows doubles for the next step, up to this many records."""


class NativeSystem(esper.Processor):
    """Runs `library` over `world`'s tables. Raises SystemRunError on a non-zero status."""

    def __init__(self, library: NativeLibrary, world: World, inputs: InputState) -> None:
        self.library = library
        self.world = world
        self.inputs = inputs
        self.info = library.info
        self.last_ms = 0.0
        self._frame = ffi.new("Frame *")
        self._message = ffi.new("uint8_t[]", MESSAGE_CAPACITY)
        self._queries = ffi.new("QueryView[]", max(len(self.info.queries), 1))
        self._commands = ffi.new("Commands *")
        self._keep: list[Any] = []
        frame = self._frame
        frame.message = self._message
        frame.message_cap = MESSAGE_CAPACITY
        frame.queries = self._queries
        frame.query_count = len(self.info.queries)
        frame.resource_count = len(self.info.resources)
        frame.input = inputs.struct
        frame.commands = self._commands
        self.tunables = world.tunables.bind(self.info.name, self.info.tunables)
        """The values this build reads (game/world/tunables.py writes them in place)."""
        frame.tunables = ffi.cast("const float *", self.tunables.ctypes.data)
        frame.tunable_count = len(self.tunables)
        self._records: Any = None
        self._data: Any = None
        self._allocate_commands(COMMAND_RECORDS, COMMAND_DATA)
        self._bound_to: tuple[int, int] | None = None
        self._run = guard.Caller(
            "render" if self.is_render else "run", guard.address(library.api.run), library.panic_message
        )
        self._frame_address = guard.address(self._frame)
        self._hot = guard.run_path(self._run, self._frame_address)  # one cffi call, nothing to convert
        self._step = -1
        self._dt = -1.0
        self._size: tuple[int, int] = (-1, -1)
        self.tables_bound = 0

    @property
    def name(self) -> str:
        return self.info.name

    @property
    def is_render(self) -> bool:
        return self.info.kind == Kind.RENDER

    def _allocate_commands(self, records: int, data: int) -> None:
        self._records = ffi.new("Command[]", records)
        self._data = ffi.new("uint8_t[]", data)
        c = self._commands
        c.records, c.cap, c.len = self._records, records, 0
        c.data, c.data_cap, c.data_len = self._data, data, 0
        c.dropped = 0

    def _bind(self) -> None:
        """Points every query view at the current tables, the resources at their values and
        the entity index view at the world's index."""
        world = self.world
        mine = self.info.components
        counts = ffi.cast("uint64_t *", world.counts.ctypes.data)
        keep: list[Any] = []
        bound = 0
        for qi, query in enumerate(self.info.queries):
            tables = world.matching(query.include(), query.exclude())
            names = [column_name(t.component, f.name) for t in query.data_terms for f in mine[t.component].fields]
            views = ffi.new("TableView[]", max(len(tables), 1))
            columns = ffi.new("uint8_t *[]", max(len(tables) * len(names), 1))
            for ti, table in enumerate(tables):
                view = views[ti]
                view.count = counts + table.id
                view.entities = ffi.cast("uint64_t *", table.entities.ctypes.data)
                for ci, name in enumerate(names):
                    columns[ti * len(names) + ci] = ffi.cast("uint8_t *", table.columns[name].ctypes.data)
                view.columns = columns + ti * len(names)
            q = self._queries[qi]
            q.tables, q.table_count, q.column_count = views, len(tables), len(names)
            keep += [views, columns]
            bound += len(tables)
        index = world.entities
        view = self._frame.entities
        view.generations = ffi.cast("uint32_t *", index.generation.ctypes.data)
        view.tables = ffi.cast("int32_t *", index.table.ctypes.data)
        view.len = len(index.generation)
        resources = ffi.new("uint8_t *[]", max(len(self.info.resources), 1))
        for i, term in enumerate(self.info.resources):
            resources[i] = ffi.cast("uint8_t *", world.resources[term.component].ctypes.data)
        self._frame.resources = resources
        keep.append(resources)
        self._keep = keep
        self.tables_bound = bound
        self._bound_to = (id(world), world.layout_version)

    def process(self, dt: float) -> None:  # esper.Processor
        self.run(dt)

    def run(self, dt: float, target: tuple[int, int, int, int] | None = None) -> None:
        """One call of the system's `run`; `target` is (address, width, height, pitch) for render systems.

        Only what changed since the last call is written into the Frame: each cffi field
        write costs about 0.1 µs, and this is the per-system, per-frame fixed cost.
        """
        world = self.world
        frame = self._frame
        if self._bound_to != (id(world), world.layout_version):
            self._bind()
        if dt != self._dt:
            self._dt = frame.dt = dt
        if world.step != self._step:
            self._step = frame.step = world.step
        size = (world.width, world.height)
        if size != self._size:
            self._size = size
            frame.world_width, frame.world_height = size
        if target is not None:
            t = frame.target
            t.pixels = ffi.cast("uint8_t *", target[0])
            t.width, t.height, t.pitch = target[1], target[2], target[3]
        start = time.perf_counter()
        hot = self._hot
        if hot is not None:
            raw = hot[0](hot[1], hot[2])
            kind = raw >> 32
        else:
            kind, raw = guard.OK, self._run(self._frame_address)
        if kind != guard.OK:
            frame.message_len = 0
            self.take_commands()  # a faulted step's commands are not applied
            fault = guard.describe(self._run.entry, kind, self._run.panic)
            raise SystemFault(self.name, fault, world.step)
        self.last_ms = (time.perf_counter() - start) * 1000.0
        if raw & 0xFFFFFFFF:
            status = guard.int32(raw)
            message = self._describe_failure(status)
            frame.message_len = 0
            self.take_commands()  # a failed step's commands are not applied
            raise SystemRunError(message)

    def discard_commands(self) -> None:
        """Forgets whatever the system wrote since the last call (a step that did not finish)."""
        c = self._commands
        c.len = c.data_len = c.dropped = 0

    def take_commands(self) -> Batch | None:
        """The commands this system wrote since the last call (decoded), or None; the buffer is
        emptied, and grown when it overflowed."""
        c = self._commands
        n, dropped = int(c.len), int(c.dropped)
        if n == 0 and dropped == 0:
            return None
        n = min(n, int(c.cap))
        records = np.frombuffer(ffi.buffer(self._records, n * COMMAND_DTYPE.itemsize), dtype=COMMAND_DTYPE)
        data = np.frombuffer(ffi.buffer(self._data, int(c.data_cap)), dtype=np.uint8)
        batch = decode(records, data, self.info.schema, dropped)
        c.len = c.data_len = c.dropped = 0
        if dropped and int(c.cap) < MAX_COMMAND_RECORDS:
            self._allocate_commands(int(c.cap) * 2, int(c.data_cap) * 2)
        return batch

    def _describe_failure(self, status: int) -> str:
        length = min(int(self._frame.message_len), MESSAGE_CAPACITY)
        said = escape(bytes(ffi.buffer(self._message, length)))  # untrusted: NUL, bad UTF-8, control bytes
        label = Status(status).name.lower() if status in Status._value2member_map_ else "unknown status"
        return f"{self.name}: run returned {status} ({label}){': ' + said if said else ''}"

    def shutdown(self) -> None:
        """Calls the system's `shutdown` (once, before its library is closed). Raises SystemFault."""
        self.library.shutdown(self.world.step)
