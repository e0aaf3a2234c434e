"""World: tables of entities by component set, the entity index, resources, the RNG.

Every structural change goes through the bulk methods here (`spawn`, `despawn`, `add`,
`remove`), each vectorized over many entities: no per-entity Python loop. Each keeps
esper's registry in step (`game.world.registry`). Systems' commands arrive here too,
through `game.world.commands`.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Any

import numpy as np
import numpy.typing as npt

from game.world import registry
from game.world.entities import EntityIndex, Ids, describe
from game.world.schema import Change, ComponentSpec, plan_migration
from game.world.table import Table, column_name
from game.world.tunables import Tunables

Values = Mapping[str, Mapping[str, npt.ArrayLike] | None]
"""Component name -> field name -> values (one per entity, or one for all); None for a tag."""

DEFAULT_MAX_ENTITIES = 20_000_000

Names = set[str]  # `World.set` shadows the builtin inside the class body


class World:
    """A `width` x `height` world whose randomness all comes from `seed`.

    Resets the current esper world: one `World` lives at a time.
    """

    def __init__(
        self,
        width: int,
        height: int,
        seed: int,
        schema: Iterable[ComponentSpec] = (),
        max_entities: int = DEFAULT_MAX_ENTITIES,
    ) -> None:
        self.width = width
        self.height = height
        self.seed = seed
        self.max_entities = max_entities
        self.schema: dict[str, ComponentSpec] = {}
        self.resources: dict[str, np.ndarray] = {}
        self.tunables = Tunables()
        """The systems' tunable values: kept across a reset (a new scene), like the code."""
        self.layout_version = 0
        self._fresh()
        self.migrate({s.name: s for s in schema})

    def _fresh(self) -> None:
        self.rng = np.random.default_rng(self.seed)
        self.step = 0
        self.tables: list[Table] = []
        self._by_key: dict[frozenset[str], Table] = {}
        self.counts = np.zeros(256, dtype=np.uint64)
        self.entities = EntityIndex()
        self.resources = {n: self._new_resource(s) for n, s in self.schema.items() if s.is_resource}
        self.layout_version += 1
        registry.attach(self._esper_view)

    def _esper_view(self) -> Iterator[tuple[Ids, frozenset[str]]]:
        return ((t.ids(), t.key) for t in self.tables)

    def reset(self) -> None:
        """Empties the world: no entities, resources at their defaults, RNG and step restarted."""
        self._fresh()

    # --- reading --------------------------------------------------------------------------

    @property
    def count(self) -> int:
        return sum(t.count for t in self.tables)

    def alive(self, ids: npt.ArrayLike) -> npt.NDArray[np.bool_]:
        return self.entities.alive(ids)

    def query(self, *components: str, without: Iterable[str] = ()) -> Iterator[Table]:
        """Non-empty tables holding every component in `components` and none in `without`.
        Raises KeyError for a name the schema does not declare."""
        include = frozenset(self._known(components))
        exclude = frozenset(self._known(without))
        for table in self.matching(include, exclude):
            if table.count:
                yield table

    def matching(self, include: frozenset[str], exclude: frozenset[str] = frozenset()) -> list[Table]:
        return [t for t in self.tables if include <= t.key and not exclude & t.key]

    def table_of(self, entity: int) -> tuple[Table, int]:
        """The table and row of a live entity. Raises KeyError naming a dead or unknown id."""
        if not self.entities.alive([entity])[0]:
            raise KeyError(f"entity {describe(entity)} is not alive")
        tid, row = self.entities.locate(np.array([entity], dtype=np.uint64))
        return self.tables[int(tid[0])], int(row[0])

    def has(self, entity: int, component: str) -> bool:
        """Raises KeyError for a dead entity or an unknown component."""
        self._known([component])
        return component in self.table_of(entity)[0].key

    def get(self, entity: int, component: str) -> dict[str, Any]:
        """Copies of `entity`'s `component` fields. Raises KeyError (entity, component)."""
        table, row = self.table_of(entity)
        if component not in table.key:
            raise KeyError(f"entity {describe(entity)} has no {component}")
        return {
            f.name: np.array(table.columns[column_name(component, f.name)][row]) for f in table.specs[component].fields
        }

    def set(self, entity: int, component: str, field: str, value: npt.ArrayLike) -> None:
        """Writes one field of one entity. Raises KeyError (entity, component, field)."""
        table, row = self.table_of(entity)
        if component not in table.key:
            raise KeyError(f"entity {describe(entity)} has no {component}")
        table.columns[column_name(component, self.schema[component].field(field).name)][row] = value

    def components(self, entity: int) -> dict[str, dict[str, Any]]:
        """Every component of `entity` with its field values. Raises KeyError if it is not alive."""
        table, _ = self.table_of(entity)
        return {name: self.get(entity, name) for name in sorted(table.key)}

    def resource(self, name: str) -> np.ndarray:
        """Resource `name` as a one-element structured array, writable in place."""
        if name not in self.resources:
            raise KeyError(f"no resource {name!r}; components.zig declares {sorted(self.resources)}")
        return self.resources[name]

    def in_use(self) -> Names:
        """Components some entity has, and every resource."""
        used = {n for t in self.tables if t.count for n in t.key}
        return used | set(self.resources)

    # --- structural changes ---------------------------------------------------------------

    def spawn(self, n: int, values: Values) -> Ids:
        """Creates `n` entities with the components named in `values`; returns their ids.

        Raises KeyError for an unknown component or field, ValueError for a resource, a
        value array of the wrong length, or more entities than `max_entities`; nothing
        changes then.
        """
        if n <= 0:
            return np.zeros(0, dtype=np.uint64)
        specs = [self._component(name) for name in values]  # checked before a table is made
        columns: dict[str, np.ndarray] = {}
        for spec in specs:
            columns.update(self._columns_of(spec, values[spec.name] or {}, n))
        live = self.count
        if live + n > self.max_entities:
            raise ValueError(f"spawning {n} entities would pass the bound of {self.max_entities:,} ({live:,} live)")
        table = self.table_for(values.keys())
        index_size = len(self.entities.generation)
        ids = self.entities.allocate(n)
        if len(self.entities.generation) != index_size:
            self.layout_version += 1  # native systems hold a view of the index: rebind
        self._grow(table, table.count + n)
        rows = table.append(ids, columns)
        self._sync_count(table)
        self.entities.place(ids, table.id, rows)
        registry.on_spawn(ids, table.key)
        return ids

    def despawn(self, ids: npt.ArrayLike) -> None:
        """Deletes live entities. Raises KeyError, changing nothing, if any id is dead or repeated."""
        ids = self._live(ids, "despawn")
        self.despawn_live(ids)

    def despawn_live(self, ids: Ids) -> None:
        """`despawn` for ids known to be live and unique."""
        if not len(ids):
            return
        tids, rows = self.entities.locate(ids)
        for tid in self._distinct(tids):
            table = self.tables[tid]
            pick = tids == tid
            moved, holes = table.swap_remove(rows[pick])
            self._sync_count(table)
            self.entities.place(moved, tid, holes)
            registry.on_despawn(ids[pick], table.key)
        self.entities.release(ids)

    def add(self, ids: npt.ArrayLike, component: str, values: Mapping[str, npt.ArrayLike] | None = None) -> None:
        """Adds `component` to live entities that lack it (fields from `values`, else defaults).
        Raises KeyError / ValueError, changing nothing, for a dead id or one that has it."""
        ids = self._live(ids, f"add {component} to")
        spec = self._component(component)
        tids, _ = self.entities.locate(ids)
        for tid in self._distinct(tids):
            if component in self.tables[tid].key:
                bad = ids[tids == tid][0]
                raise ValueError(f"add {component}: entity {describe(int(bad))} already has it")
        self._columns_of(spec, values or {}, len(ids))  # names and lengths checked before anything moves
        self.move(ids, add=spec, values=values)

    def remove(self, ids: npt.ArrayLike, component: str) -> None:
        """Removes `component` from live entities that have it.
        Raises KeyError / ValueError, changing nothing, for a dead id or one that lacks it."""
        ids = self._live(ids, f"remove {component} from")
        self._component(component)
        tids, _ = self.entities.locate(ids)
        for tid in self._distinct(tids):
            if component not in self.tables[tid].key:
                bad = ids[tids == tid][0]
                raise ValueError(f"remove {component}: entity {describe(int(bad))} does not have it")
        self.move(ids, drop=component)

    def move(
        self,
        ids: Ids,
        add: ComponentSpec | None = None,
        values: Mapping[str, npt.ArrayLike] | None = None,
        drop: str | None = None,
    ) -> None:
        """Moves live, unique `ids` to the table with `add` added or `drop` removed (checked by the caller)."""
        tids, rows = self.entities.locate(ids)
        for tid in self._distinct(tids):
            src = self.tables[tid]
            pick = tids == tid
            key = src.key | {add.name} if add is not None else src.key - {drop}
            dst = self.table_for(key)
            moving = ids[pick]
            carried = src.gather(rows[pick])
            if add is not None and values:
                carried.update(self._columns_of(add, values, len(moving), pick))
            self._grow(dst, dst.count + len(moving))
            new_rows = dst.append(moving, {k: v for k, v in carried.items() if k in dst.columns})
            moved, holes = src.swap_remove(rows[pick])
            self.entities.place(moved, src.id, holes)
            self.entities.place(moving, dst.id, new_rows)
            self._sync_count(src)
            self._sync_count(dst)
            registry.on_move(moving, src.key, dst.key)

    def table_for(self, names: Iterable[str]) -> Table:
        """The table of exactly these components (created on first use). Raises KeyError for
        an unknown name and ValueError for a resource."""
        key = frozenset(names)
        table = self._by_key.get(key)
        if table is not None:
            return table
        specs = tuple(self._component(n) for n in sorted(key))
        table = Table(len(self.tables), specs)
        self.tables.append(table)
        self._by_key[key] = table
        if table.id >= len(self.counts):
            self.counts = np.concatenate([self.counts, np.zeros(len(self.counts), dtype=np.uint64)])
        self.layout_version += 1
        return table

    # --- schema ---------------------------------------------------------------------------

    def migrate(self, new: Mapping[str, ComponentSpec], source: str = "components.zig") -> list[Change]:
        """Brings the world to schema `new`, matched by name; returns what changed.
        Raises MigrationError, changing nothing, for a change that would lose data."""
        changes = plan_migration(self.schema, new, self.in_use(), source)
        for change in changes:
            spec = new[change.component]
            if change.field is None:
                if spec.is_resource:
                    self.resources[spec.name] = self._new_resource(spec)
                continue
            if spec.is_resource:
                self.resources[spec.name] = self._convert_resource(self.resources[spec.name], spec)
                continue
            for table in self.tables:
                if spec.name in table.key:
                    if change.old is None:
                        table.add_field(spec.name, change.field)
                    else:
                        table.widen_field(spec.name, change.field)
        for table in self.tables:
            for name in table.key & new.keys():
                table.respec(new[name])
        for name in set(self.resources) - new.keys():
            del self.resources[name]
        self._drop_tables(set(self.schema) - new.keys())
        self.schema = dict(new)
        self.layout_version += 1
        return changes

    def _drop_tables(self, removed: Names) -> None:
        """Drops the tables holding a removed component (empty: `plan_migration` refuses
        removing one an entity holds) and renumbers the rest, so the world names no
        component its schema lacks (a checkpoint of it restores, a file of it loads)."""
        if not any(t.key & removed for t in self.tables):
            return
        self.tables = [t for t in self.tables if not t.key & removed]
        self._by_key = {t.key: t for t in self.tables}
        self.counts[:] = 0
        for i, table in enumerate(self.tables):
            table.id = i
            self.counts[i] = table.count
            self.entities.place(table.ids(), i, np.arange(table.count, dtype=np.int64))

    @staticmethod
    def _new_resource(spec: ComponentSpec) -> np.ndarray:
        value = np.zeros(1, dtype=spec.payload_dtype())
        for f in spec.fields:
            value[f.name] = f.default
        return value

    def _convert_resource(self, old: np.ndarray, spec: ComponentSpec) -> np.ndarray:
        value = self._new_resource(spec)
        for name in old.dtype.names or ():
            if name in (value.dtype.names or ()):
                target = value[name]
                source = old[name]
                if target.ndim == 2 and source.ndim == 2:
                    value[name][:, : source.shape[1]] = source
                else:
                    value[name] = source
        return value

    # --- helpers --------------------------------------------------------------------------

    def _known(self, names: Iterable[str]) -> list[str]:
        out = list(names)
        for n in out:
            self._component(n)
        return out

    def _component(self, name: str) -> ComponentSpec:
        spec = self.schema.get(name)
        if spec is None:
            raise KeyError(f"unknown component {name!r}; components.zig declares {sorted(self.schema)}")
        if spec.is_resource:
            raise ValueError(f"{name} is a resource, not a component")
        return spec

    @staticmethod
    def _columns_of(
        spec: ComponentSpec, fields: Mapping[str, npt.ArrayLike], n: int, pick: np.ndarray | None = None
    ) -> dict[str, np.ndarray]:
        out = {}
        for fname, value in fields.items():
            field = spec.field(fname)
            array = np.asarray(value)
            if array.ndim > (0 if field.width == 1 else 1):
                if pick is not None and len(array) == len(pick):
                    array = array[pick]
                if len(array) != n:
                    raise ValueError(f"{spec.name}.{fname}: {len(array)} values for {n} entities")
            out[column_name(spec.name, fname)] = array
        return out

    def _live(self, ids: npt.ArrayLike, what: str) -> Ids:
        # A copy: `ids` may be a view of a table's ids (`table.ids()[:3]`), which the
        # swap-remove rewrites mid-change (the wrong entities were then freed).
        array = np.array(ids, dtype=np.uint64).reshape(-1)
        alive = self.entities.alive(array)
        if not alive.all():
            bad = int(array[~alive][0])
            raise KeyError(f"{what} entity {describe(bad)}: not a live entity")
        if not self.entities.first_occurrence(array).all():
            raise ValueError(f"{what}: an entity is named twice")
        return array

    def _distinct(self, tids: np.ndarray) -> list[int]:
        """The table ids in `tids`, ascending (a count, not a sort: O(n))."""
        return np.flatnonzero(np.bincount(tids, minlength=len(self.tables))).tolist()

    def _grow(self, table: Table, rows: int) -> None:
        if table.reserve(rows):
            self.layout_version += 1

    def _sync_count(self, table: Table) -> None:
        self.counts[table.id] = table.count
