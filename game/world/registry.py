"""esper as the entity registry, with bulk create and delete.

Every entity the store holds is an esper entity carrying the `Body` marker, so esper's
own queries (`esper.entity_exists`, `esper.get_component(Body)`) see the same entities
as the columns. esper creates entities one at a time (1-4 µs each) and throws away its
query cache on each; spawning thousands per frame that way would stall the game, so the
bulk functions below make the same state changes as `esper.create_entity` /
`esper.delete_entity(immediate=True)` once per batch. They read esper 3.9's module
state, which is why `pyproject.toml` pins esper exactly; `tests/world/test_registry.py`
checks the result through esper's public API.
"""

from __future__ import annotations

import itertools

import esper
import numpy as np
import numpy.typing as npt


class Body:
    """Marker component: the entity's data lives in the `ComponentStore` columns."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "Body()"


BODY = Body()


def create_entities(n: int) -> npt.NDArray[np.int64]:
    """Creates `n` esper entities carrying `Body`; returns their ids in creation order."""
    counter = esper._entity_count
    ids = np.fromiter((next(counter) for _ in range(n)), dtype=np.int64, count=n)
    id_list = ids.tolist()
    esper._entities.update({e: {Body: BODY} for e in id_list})
    esper._components.setdefault(Body, set()).update(id_list)
    esper.clear_cache()
    return ids


def delete_entities(ids: npt.NDArray[np.int64]) -> None:
    """Deletes esper entities at once. Raises KeyError naming an id esper does not hold."""
    id_list = ids.tolist()
    missing = [e for e in id_list if e not in esper._entities]
    if missing:
        raise KeyError(f"entities not in the esper world: {missing[:5]}")
    for e in id_list:
        del esper._entities[e]
    bodies = esper._components.get(Body)
    if bodies is not None:
        bodies.difference_update(id_list)
        if not bodies:
            del esper._components[Body]
    esper.clear_cache()


def next_entity_id() -> int:
    """The id esper will hand out next (saved with the world so ids never repeat)."""
    counter = esper._entity_count
    value = next(counter)
    reset_next_id(value)
    return value


def reset(next_id: int = 1) -> None:
    """Empties the current esper world's entities; the next id handed out is `next_id`."""
    esper.clear_database()
    reset_next_id(next_id)


def create_entities_with_ids(ids: npt.NDArray[np.int64]) -> None:
    """Re-creates entities under known ids (loading a saved world). Raises ValueError if one exists."""
    id_list = ids.tolist()
    if any(e in esper._entities for e in id_list):
        raise ValueError("an entity with a saved id already exists")
    esper._entities.update({e: {Body: BODY} for e in id_list})
    esper._components.setdefault(Body, set()).update(id_list)
    esper.clear_cache()


def reset_next_id(next_id: int) -> None:
    """Makes `next_id` the next id esper hands out."""
    esper._entity_count = itertools.count(start=next_id)


def use_fresh_world(name: str = "sandbox") -> None:
    """Switches esper to a new, empty world called `name` (dropping an old one of that name)."""
    esper.switch_world("default")
    if name in esper.list_worlds():
        esper.delete_world(name)
    esper.switch_world(name)
