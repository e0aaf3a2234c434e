"""The entity inspector (F2): one entity's id, component set and every field, live.

Click an entity (the one nearest the pointer within `PICK_RADIUS` pixels, by its
`Position`) or step through them in id order with PageUp / PageDown. Up / Down choose a
field; Left / Right nudge a number (Shift: ten times as much); Enter types a value (Enter
again writes it, Esc gives up). P pins the entity: its marker stays on screen, following
it, with the panel closed too. Everything is read from the world each frame, so it works
paused, stepping and after a rewind (an entity that is not alive at the rewound step says
so, and shows again once it is).

An edit writes the world between steps (`World.set`), as a system's write would; it is a
change of the world the recorded input does not hold, so it bumps the pipeline's epoch
(a replay across it is not exact) and a rewind to before it undoes it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from game.world.entities import describe
from game.world.schema import DType

if TYPE_CHECKING:
    import pygame

    from game.pipeline import Pipeline
    from game.world.world import World

PICK_RADIUS = 24.0
"""Pixels: a click further than this from every entity picks none."""
MAX_ROWS = 40
"""Fields shown at once (an array field is one row per element, up to ARRAY_SHOWN)."""
ARRAY_SHOWN = 4


@dataclass(frozen=True)
class Row:
    """One shown value: `component.field[index]` (index None: a plain field)."""

    component: str
    field: str
    index: int | None
    value: Any
    dtype: DType

    @property
    def label(self) -> str:
        return f"{self.field}[{self.index}]" if self.index is not None else self.field

    @property
    def text(self) -> str:
        if self.dtype == DType.ENTITY:
            return describe(int(self.value)) if int(self.value) else "none"
        if self.dtype in (DType.F32, DType.F64):
            return f"{float(self.value):.6g}"
        return str(int(self.value))


class Inspector:
    """The inspector's state: which entity, which field, what is being typed."""

    def __init__(self, world: World, pipeline: Pipeline) -> None:
        self.world = world
        self.pipeline = pipeline
        self.open = False
        self.entity: int | None = None
        self.pinned = False
        self.row = 0
        self.typing: str | None = None
        """The value being typed after Enter, or None."""
        self.said = ""
        """The last thing the inspector has to say (an edit refused, a pick that found none)."""

    def toggle(self) -> None:
        self.open = not self.open
        self.typing = None

    # --- choosing an entity ----------------------------------------------------------

    def pick(self, x: float, y: float) -> int | None:
        """Inspects the entity nearest (x, y) within PICK_RADIUS (by Position); None if none."""
        best: tuple[float, int] | None = None
        for table in self.world.query("Position"):
            n = table.count
            dx = table.column("Position.x")[:n] - np.float32(x)
            dy = table.column("Position.y")[:n] - np.float32(y)
            d2 = dx * dx + dy * dy
            i = int(np.argmin(d2))
            if best is None or float(d2[i]) < best[0]:
                best = (float(d2[i]), int(table.ids()[i]))
        if best is None or best[0] > PICK_RADIUS * PICK_RADIUS:
            self.said = f"no entity within {PICK_RADIUS:g} px of ({x:.0f}, {y:.0f})"
            return None
        self._show(best[1])
        return best[1]

    def cycle(self, step: int) -> int | None:
        """The next (step 1) or previous (-1) live entity in id order, wrapping around."""
        ids = np.sort(np.concatenate([t.ids() for t in self.world.tables] or [np.zeros(0, np.uint64)]))
        if len(ids) == 0:
            self.said = "the world has no entities"
            return None
        here = np.uint64(self.entity if self.entity is not None else 0)
        if step > 0:
            at = int(np.searchsorted(ids, here, side="right")) % len(ids)
        else:
            at = (int(np.searchsorted(ids, here, side="left")) - 1) % len(ids)
        self._show(int(ids[at]))
        return self.entity

    def _show(self, entity: int) -> None:
        if entity != self.entity:
            self.row = 0
        self.entity = entity
        self.typing = None
        self.said = ""

    def alive(self) -> bool:
        return self.entity is not None and bool(self.world.alive([self.entity])[0])

    # --- what is shown -----------------------------------------------------------------

    def rows(self) -> list[Row]:
        """Every field of the inspected entity now, component by component (empty when none
        is inspected or it is not alive)."""
        if not self.alive():
            return []
        assert self.entity is not None
        out: list[Row] = []
        for component, values in self.world.components(self.entity).items():
            spec = self.world.schema[component]
            for field in spec.fields:
                value = np.asarray(values[field.name])
                if field.width == 1:
                    out.append(Row(component, field.name, None, value.reshape(-1)[0], field.dtype))
                else:
                    flat = value.reshape(-1)
                    out += [
                        Row(component, field.name, i, flat[i], field.dtype) for i in range(min(len(flat), ARRAY_SHOWN))
                    ]
        return out[:MAX_ROWS]

    def lines(self) -> list[tuple[str, bool]]:
        """The panel's text, line by line, with whether the line is the chosen field."""
        if self.entity is None:
            return [("Inspector: click an entity, or PageUp / PageDown", False), *self._said()]
        head = f"entity {describe(self.entity)}{'  PINNED' if self.pinned else ''}  step {self.world.step}"
        if not self.alive():
            return [(head, False), ("  not alive at this step (despawned, or not spawned yet)", False), *self._said()]
        assert self.entity is not None
        table, _ = self.world.table_of(self.entity)
        tags = sorted(name for name in table.key if not self.world.schema[name].fields)
        out = [
            (head, False),
            (f"  {len(table.key)} components" + (f", tags: {', '.join(tags)}" if tags else ""), False),
        ]
        component = ""
        rows = self.rows()  # read once: each read copies the entity's every field
        for i, row in enumerate(rows):
            if row.component != component:
                component = row.component
                out.append((component, False))
            chosen = i == self.row % len(rows)
            value = f"{self.typing}_" if chosen and self.typing is not None else row.text
            out.append((f"  {row.label:<14} {value}", chosen))
        return out + self._said()

    def _said(self) -> list[tuple[str, bool]]:
        return [(self.said, False)] if self.said else []

    # --- changing a field ----------------------------------------------------------------

    def nudge(self, sign: int, big: bool = False) -> None:
        """Left / Right: the chosen number up or down by a step (a tenth of its size, at
        least 1; `big`: ten steps); a bool-like or entity field is not nudged."""
        row = self._chosen()
        if row is None or row.dtype == DType.ENTITY:
            return
        value = float(row.value)
        step = max(abs(value) * 0.1, 1.0) if row.dtype in (DType.F32, DType.F64) else 1.0
        self.write(row, value + sign * step * (10 if big else 1))

    def write(self, row: Row, value: float) -> bool:
        """Writes `value` into the entity's field (cast to its type, clipped to an integer
        type's range); False, with `said`, when it cannot be."""
        if not self.alive() or self.entity is None:
            self.said = "the entity is not alive: nothing written"
            return False
        if not np.isfinite(value) and row.dtype not in (DType.F32, DType.F64):
            self.said = f"{row.label}: {value} is not a whole number"
            return False
        kind = row.dtype.numpy
        if np.issubdtype(kind, np.integer):
            info = np.iinfo(kind)  # type: ignore[type-var]
            value = float(min(max(round(value), int(info.min)), int(info.max)))
        column = self.world.get(self.entity, row.component)[row.field]
        if row.index is None:
            new: Any = np.array(value).astype(kind)
        else:
            new = np.array(column, copy=True).reshape(-1)
            new[row.index] = np.array(value).astype(kind)
            new = new.reshape(np.shape(column))
        self.world.set(self.entity, row.component, row.field, new)
        self.pipeline.epoch += 1  # a change the recorded input does not hold: replays end here
        self.said = f"{row.component}.{row.label} = {self._chosen_text()}"
        return True

    def _chosen(self) -> Row | None:
        rows = self.rows()
        return rows[self.row % len(rows)] if rows else None

    def _chosen_text(self) -> str:
        row = self._chosen()
        return row.text if row is not None else ""

    # --- keys and clicks (pygame key names) --------------------------------------------

    def key(self, name: str, shift: bool = False, text: str = "") -> bool:
        """Handles a key press while open; True if the inspector used it."""
        if self.typing is not None:
            return self._type(name, text)
        rows = len(self.rows())
        match name:
            case "page down":
                self.cycle(1)
            case "page up":
                self.cycle(-1)
            case "down":
                self.row = (self.row + 1) % max(rows, 1)
            case "up":
                self.row = (self.row - 1) % max(rows, 1)
            case "left" | "right":
                self.nudge(1 if name == "right" else -1, shift)
            case "return" | "enter":
                if self._chosen() is not None:
                    self.typing = ""
            case "p":
                self.pinned = not self.pinned and self.entity is not None
            case _:
                return False
        return True

    def _type(self, name: str, text: str) -> bool:
        assert self.typing is not None
        if name == "escape":
            self.typing = None
        elif name == "backspace":
            self.typing = self.typing[:-1]
        elif name in ("return", "enter"):
            typed, self.typing = self.typing, None
            row = self._chosen()
            try:
                value = float(typed)
            except ValueError:
                self.said = f"{typed!r} is not a number"
                return True
            if row is not None:
                self.write(row, value)
        elif text and text in "0123456789.-+eE" and len(self.typing) < 32:
            self.typing += text
        return True  # while typing, every key is the inspector's

    # --- drawing -----------------------------------------------------------------------

    def marker(self) -> tuple[float, float] | None:
        """Where the inspected entity is (its Position), for the marker; None if it has none."""
        if not self.alive() or self.entity is None:
            return None
        try:
            position = self.world.get(self.entity, "Position")
        except KeyError:  # no Position (or no such component in the schema)
            return None
        return float(position["x"]), float(position["y"])

    def draw(self, screen: pygame.Surface, font: pygame.font.Font, top: int = 10) -> int:
        """The marker (open or pinned) and, when open, the panel on the right from `top`;
        returns where the panel ends (`top` when none is drawn)."""
        import pygame

        if not (self.open or self.pinned):
            return top
        at = self.marker()
        if at is not None:
            x, y = int(at[0]), int(at[1])
            pygame.draw.circle(screen, (255, 230, 80), (x, y), 12, 2)
            pygame.draw.line(screen, (255, 230, 80), (x - 18, y), (x - 8, y), 2)
            pygame.draw.line(screen, (255, 230, 80), (x + 8, y), (x + 18, y), 2)
        from game.tools.panel import draw_panel

        return draw_panel(screen, font, self.lines(), top)[3] if self.open else top
