"""Audit: do esper, the tables and the entity index agree? (Tests run it after every case.)"""

from __future__ import annotations

import esper
import numpy as np

from game.world import registry
from game.world.entities import INDEX_MASK
from game.world.world import World


def problems(world: World) -> list[str]:
    """Every disagreement between esper, the tables, the entity index and the table counts.
    A world too broken to check (ids outside the index, as a wild write can leave) is one
    problem saying so, not an exception."""
    try:
        return _problems(world)
    except (IndexError, ValueError, KeyError) as exc:
        return [f"the world is too broken to audit: {type(exc).__name__}: {exc}"]


def _problems(world: World) -> list[str]:
    found: list[str] = []
    all_ids = [t.ids() for t in world.tables]
    ids = np.concatenate(all_ids) if all_ids else np.zeros(0, dtype=np.uint64)
    if len(np.unique(ids)) != len(ids):
        found.append("an entity is in two rows")
    if not world.entities.alive(ids).all():
        found.append("a table holds an id the entity index calls dead")
    if world.entities.live_count != len(ids):
        found.append(f"entity index has {world.entities.live_count} live, tables hold {len(ids)}")
    for table in world.tables:
        if int(world.counts[table.id]) != table.count:
            found.append(f"table {table.label}: count {table.count}, counts array {int(world.counts[table.id])}")
        tids, rows = world.entities.locate(table.ids())
        if len(tids) and (np.any(tids != table.id) or np.any(rows != np.arange(table.count))):
            found.append(f"table {table.label}: entity index rows disagree")
    if not np.array_equal(registry.entity_ids(), np.sort(ids)):
        found.append(f"esper holds {len(esper._entities)} entities, the tables {len(ids)}")
    for name, spec in world.schema.items():
        if spec.is_resource:
            continue
        holding = [t.ids() for t in world.tables if name in t.key and t.count]
        want = np.sort(np.concatenate(holding)) if holding else np.zeros(0, dtype=np.uint64)
        got = np.array(sorted(e for e, _ in esper.get_component(registry.component_type(name))), dtype=np.uint64)
        if not np.array_equal(got, want):
            found.append(f"esper's {name} entities differ from the tables' ({len(got)} vs {len(want)})")
    free = world.entities.free.astype(np.uint64)
    if len(np.intersect1d(free, ids & INDEX_MASK)):
        found.append("a live entity's index is on the free list")
    return found
