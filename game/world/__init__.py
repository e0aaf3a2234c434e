"""The world: component schema, numpy column store, esper registry, spawning, snapshots."""
