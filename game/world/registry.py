"""esper as the registry of entities and their component sets: the one bulk adapter.

Every live entity is an esper entity holding one instance of a component class per
component it has, so `esper.get_component(Position)`, `esper.get_components(Position,
Velocity)` and `esper.has_component(e, Player)` give the same entities as the tables.
The classes are made from the schema's names (`component_type("Position")`); their
instances are markers (the data lives in the tables: read it with `World.get` or a
`World.query` table by name).

esper creates entities one at a time (1-4 µs each) and throws away its query cache on
each change; the world spawns and despawns thousands per step, so the functions below
make the same state changes as `esper.create_entity` / `delete_entity(immediate=True)`
/ `add_component` / `remove_component`, once per batch, with C-level bulk operations
(dict and set updates, no per-entity Python loop). They read esper 3.9's module state,
which is why `pyproject.toml` pins esper exactly; `tests/world/test_registry.py` checks
the result through esper's public API after every kind of change.
"""

from __future__ import annotations

import itertools
from collections import deque
from collections.abc import Iterable
from typing import Any

import esper
import numpy as np

from game.world.entities import Ids


class Component:
    """Base of the marker classes esper sees for the schema's components."""

    __slots__ = ()

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


_TYPES: dict[str, type[Component]] = {}
_INSTANCES: dict[type[Component], Component] = {}
_TEMPLATES: dict[frozenset[str], dict[type[Any], Any]] = {}


def component_type(name: str) -> type[Component]:
    """The esper component class for component `name` (the same class every time)."""
    cls = _TYPES.get(name)
    if cls is None:
        cls = type(name, (Component,), {"__slots__": ()})
        _TYPES[name] = cls
        _INSTANCES[cls] = cls()
    return cls


def _template(key: frozenset[str]) -> dict[type[Any], Any]:
    template = _TEMPLATES.get(key)
    if template is None:
        template = {component_type(n): _INSTANCES[component_type(n)] for n in sorted(key)}
        _TEMPLATES[key] = template
    return template


def on_spawn(ids: Ids, key: frozenset[str]) -> None:
    """New entities `ids` holding the components in `key`."""
    id_list = ids.tolist()
    template = _template(key)
    esper._entities.update(zip(id_list, map(dict.copy, itertools.repeat(template, len(id_list))), strict=True))
    for cls in template:
        esper._components.setdefault(cls, set()).update(id_list)
    esper.clear_cache()


def on_despawn(ids: Ids) -> None:
    """Entities `ids` are gone."""
    id_list = ids.tolist()
    removed = set(id_list)
    for cls in list(esper._components):
        held = esper._components[cls]
        held -= removed
        if not held:
            del esper._components[cls]
    deque(map(esper._entities.pop, id_list), maxlen=0)  # C-level: no Python loop per entity
    esper.clear_cache()


def on_move(ids: Ids, key: frozenset[str]) -> None:
    """Entities `ids` now hold exactly the components in `key` (after an add or a remove)."""
    id_list = ids.tolist()
    template = _template(key)
    moved = set(id_list)
    for cls in list(esper._components):
        if cls not in template:
            held = esper._components[cls]
            held -= moved
            if not held:
                del esper._components[cls]
    for cls in template:
        esper._components.setdefault(cls, set()).update(id_list)
    esper._entities.update(zip(id_list, map(dict.copy, itertools.repeat(template, len(id_list))), strict=True))
    esper.clear_cache()


def rebuild(tables: Iterable[tuple[Ids, frozenset[str]]]) -> None:
    """esper's entities made anew from (ids, component set) pairs (a restored world)."""
    reset()
    for ids, key in tables:
        if len(ids):
            on_spawn(ids, key)


def reset() -> None:
    """Empties the current esper world's entities."""
    esper.clear_database()


def entity_ids() -> np.ndarray:
    """Every entity esper holds, sorted (for checks)."""
    return np.array(sorted(esper._entities), dtype=np.uint64)


def use_fresh_world(name: str = "sandbox") -> None:
    """Switches esper to a new, empty world called `name` (dropping an old one of that name)."""
    esper.switch_world("default")
    if name in esper.list_worlds():
        esper.delete_world(name)
    esper.switch_world(name)
