"""esper as the registry of entities and their component sets: the one bulk adapter.

Every live entity is an esper entity holding one instance of a component class per
component it has, so `esper.get_component(Position)`, `esper.get_components(Position,
Velocity)` and `esper.has_component(e, Player)` give the same entities as the tables.
The classes are made from the schema's names (`component_type("Position")`); their
instances are markers (the data lives in the tables: read it with `World.get` or a
`World.query` table by name). Structural changes go through the World (or commands):
entities of one table share one read-only component map, so `esper.add_component` /
`remove_component` on them raise TypeError instead of silently changing the others.

Cost. esper creates entities one at a time (1-4 µs each), keeps a dict per entity (at 1M
entities the garbage collector's pauses reached 170 ms) and a set per component type.
Here the world's changes are queued (one list append per batch, no per-entity work on the
frame path) and applied to esper's dicts and sets in bulk, with C-level operations, the
first time anything reads esper afterwards: every public esper function is wrapped to do
that first. Past `MAX_PENDING` queued ids, the queue is dropped and esper is rebuilt from
the tables on the next read instead. It reads and writes esper 3.9's module state, which is
why `pyproject.toml` pins esper exactly; `tests/world/test_registry.py` checks the result
through esper's public API after every kind of change.
"""

from __future__ import annotations

import functools
import itertools
from collections import deque
from collections.abc import Callable, Iterable
from types import MappingProxyType
from typing import Any

import esper
import numpy as np

from game.world.entities import Ids, describe

MAX_PENDING = 2_000_000

Tables = Callable[[], Iterable[tuple[Ids, frozenset[str]]]]


class Component:
    """Base of the marker classes esper sees for the schema's components."""

    __slots__ = ()

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


_TYPES: dict[str, type[Component]] = {}
_INSTANCES: dict[type[Component], Component] = {}
_MAPS: dict[frozenset[str], MappingProxyType[type[Any], Any]] = {}

_pending: list[tuple[str, Ids, frozenset[str]]] = []
_pending_ids = 0
_stale = False
_tables: Tables | None = None


def component_type(name: str) -> type[Component]:
    """The esper component class for component `name` (the same class every time)."""
    cls = _TYPES.get(name)
    if cls is None:
        cls = type(name, (Component,), {"__slots__": ()})
        _TYPES[name] = cls
        _INSTANCES[cls] = cls()
    return cls


def _map(key: frozenset[str]) -> MappingProxyType[type[Any], Any]:
    shared = _MAPS.get(key)
    if shared is None:
        shared = MappingProxyType({component_type(n): _INSTANCES[component_type(n)] for n in sorted(key)})
        _MAPS[key] = shared
    return shared


# --- the world tells the registry (O(1) per batch) ------------------------------------------


def attach(tables: Tables) -> None:
    """The world whose tables esper mirrors (a function listing (ids, component set) pairs)."""
    global _tables
    _tables = tables
    reset()


def on_spawn(ids: Ids, key: frozenset[str]) -> None:
    """New entities `ids` holding the components in `key`."""
    _queue("spawn", ids, key)


def on_despawn(ids: Ids, key: frozenset[str]) -> None:
    """Entities `ids`, which held the components in `key`, are gone."""
    _queue("despawn", ids, key)


def on_move(ids: Ids, old: frozenset[str], new: frozenset[str]) -> None:
    """Entities `ids` held `old` and now hold exactly `new` (after an add or a remove)."""
    _queue("despawn", ids, old)
    _queue("spawn", ids, new)


def rebuild() -> None:
    """esper is rebuilt from the tables on its next read (a restored world)."""
    global _stale, _pending_ids
    _pending.clear()
    _pending_ids = 0
    _stale = True
    esper._cache_dirty = True


def reset() -> None:
    """Empties the current esper world's entities (and anything queued)."""
    global _stale, _pending_ids
    _pending.clear()
    _pending_ids = 0
    _stale = False
    esper.clear_database()


def _queue(kind: str, ids: Ids, key: frozenset[str]) -> None:
    global _pending_ids
    if _stale or not len(ids):
        return
    _pending.append((kind, ids.copy(), key))
    _pending_ids += len(ids)
    esper._cache_dirty = True
    if _pending_ids > MAX_PENDING:
        rebuild()


# --- esper catches up when read ------------------------------------------------------------


def flush() -> None:
    """Applies every queued change to esper (or rebuilds it from the tables)."""
    global _stale, _pending_ids
    if _stale:
        _stale = False
        esper.clear_database()
        if _tables is not None:
            for ids, key in _tables():
                if len(ids):
                    _add(ids, key)
        esper.clear_cache()
        return
    if not _pending:
        return
    batches = list(_pending)
    _pending.clear()
    _pending_ids = 0
    for kind, ids, key in batches:
        if kind == "spawn":
            _add(ids, key)
        else:
            _remove(ids, key)
    esper.clear_cache()


def _add(ids: Ids, key: frozenset[str]) -> None:
    id_list = ids.tolist()
    shared = _map(key)
    esper._entities.update(zip(id_list, itertools.repeat(shared, len(id_list)), strict=True))  # type: ignore[arg-type]
    for cls in shared:
        esper._components.setdefault(cls, set()).update(id_list)


def _remove(ids: Ids, key: frozenset[str]) -> None:
    id_list = ids.tolist()
    for cls in _map(key):
        held = esper._components.get(cls)
        if held is not None:
            held.difference_update(id_list)
            if not held:
                del esper._components[cls]
    deque(map(esper._entities.pop, id_list), maxlen=0)  # C-level: no Python loop per entity


_READS = (
    "entity_exists", "get_entities", "component_for_entity", "components_for_entity", "has_component",
    "has_components", "get_component", "get_components", "try_component", "try_components",
    "add_component", "remove_component", "try_remove_component", "delete_entity", "create_entity",
    "clear_dead_entities", "clear_database", "switch_world", "delete_world",
)  # fmt: skip


def _flushing(fn: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if _pending or _stale:
            flush()
        return fn(*args, **kwargs)

    wrapper.__wrapped_by_registry__ = True  # type: ignore[attr-defined]
    return wrapper


_CHANGES = ("add_component", "remove_component", "try_remove_component", "delete_entity")


def _guarded(fn: Callable[..., Any]) -> Callable[..., Any]:
    """esper's own structural changes, refused for the world's entities before they touch
    anything: esper 3.9 updates its component sets first and would fail half-way on the
    shared read-only map, leaving esper out of step with the tables."""

    @functools.wraps(fn)
    def wrapper(entity: int, *args: Any, **kwargs: Any) -> Any:
        if _pending or _stale:
            flush()
        if isinstance(esper._entities.get(entity), MappingProxyType):
            raise TypeError(
                f"esper.{fn.__name__}: entity {describe(int(entity))} belongs to the world; "
                "change it through World (spawn, despawn, add, remove) or a Commands buffer"
            )
        return fn(entity, *args, **kwargs)

    wrapper.__wrapped_by_registry__ = True  # type: ignore[attr-defined]
    return wrapper


def _install() -> None:
    for name in _READS:
        fn = getattr(esper, name)
        if not getattr(fn, "__wrapped_by_registry__", False):
            setattr(esper, name, (_guarded if name in _CHANGES else _flushing)(fn))


_install()


def entity_ids() -> np.ndarray:
    """Every entity esper holds, sorted (for checks)."""
    flush()
    return np.array(sorted(esper._entities), dtype=np.uint64)


def use_fresh_world(name: str = "sandbox") -> None:
    """Switches esper to a new, empty world called `name` (dropping an old one of that name).
    What was queued for the world being left is dropped, not applied: nobody will read it."""
    global _stale, _pending_ids
    _pending.clear()
    _pending_ids = 0
    _stale = False
    esper.switch_world("default")
    if name in esper.list_worlds():
        esper.delete_world(name)
    esper.switch_world(name)
    reset()
