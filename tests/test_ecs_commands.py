"""Commands from hot Zig code against the real world: entity references and generations,
bad commands reported once each (system and entity named) with the world kept consistent,
and esper's view of the component sets in step with the tables."""

from __future__ import annotations

import logging
from pathlib import Path

import esper
import numpy as np
import pygame
import pytest

from game.native.system import COMMAND_RECORDS
from game.world import registry
from game.world.entities import INDEX_MASK, describe
from tests.conftest import assert_consistent, press
from tests.test_ecs_reload import add_churn, f5, started

BAD_COMMANDS = """//! Bad commands (a test system): one kind of mistake per call, then a flood.
const std = @import("std");
const sdk = @import("sdk");
const c = @import("components");
pub const panic = sdk.panic;

const Bodies = sdk.Query(.{ .pos = .{ c.Position, .read } }, .{ .with = .{c.Velocity}, .without = .{c.Lifetime} });
const W = sdk.World(.{ .queries = .{ .bodies = Bodies } });

const api = sdk.system(W, .{ .name = "badcmd", .build_id = 1, .order = 70, .run = run });

export fn plugin_entry() *const sdk.Api {
    return &api;
}

var calls: u32 = 0;

/// Row 0 of the first matching table.
fn first(w: *W) ?sdk.Entity {
    var tables = w.query(.bodies);
    while (tables.next()) |t| return t.entities[0];
    return null;
}

fn run(w: *W) !void {
    calls += 1;
    const e = first(w) orelse return;
    switch (calls) {
        1 => {
            w.despawn(e);
            w.despawn(e);
        },
        2 => w.despawn(@enumFromInt(12345)),
        3 => w.add(e, c.Velocity{ .x = 999, .y = 999 }),
        4 => w.remove(e, c.Health),
        5, 6 => for (0..20_000) |i| {
            w.spawn(.{ c.Position{ .x = @floatFromInt(i % 300), .y = 7 }, c.Velocity{} });
        },
        else => {},
    }
}
"""


def sandbox_warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "sandbox" and r.levelno >= logging.WARNING]


def test_a_reference_to_a_despawned_entity_is_stale_and_its_index_returns_with_a_new_generation(
    project: Path,
) -> None:
    add_churn(project)
    game = started(project)
    try:
        world = game.world
        for _ in range(20):
            game.frame()
        # One reference followed through: made for a live Health entity, whose hp runs out.
        table = next(world.query("Target"))
        holder, target = int(table.ids()[-1]), int(table.column("Target.entity")[-1])
        assert world.alive([target])[0] and world.has(target, "Health")
        for _ in range(40):
            game.frame()
        assert world.get(holder, "Target")["entity"] == target  # the reference is unchanged...
        assert not world.alive([target])[0]  # ...and stale: the host tells (a Zig system cannot)
        index, generation = target & 0xFFFF_FFFF, target >> 32
        heir = [int(e) for t in world.tables for e in t.ids() if int(e) & 0xFFFF_FFFF == index]
        assert len(heir) == 1 and heir[0] >> 32 > generation, [describe(e) for e in heir]
        with pytest.raises(KeyError, match="not alive"):
            world.components(target)  # the old id does not reach the heir's data

        refs = np.concatenate([t.column("Target.entity") for t in world.query("Target")])
        assert len(refs) > 20 and np.all(refs != 0)
        alive = world.alive(refs)
        assert alive.any() and not alive.all()  # some targets still live, some died since
        # A live reference still names the entity it was made for: a Health entity (nothing
        # else carries Health, and Health is never removed), never a newcomer on its index.
        for ref in refs[alive]:
            assert world.has(int(ref), "Health")
        # A dead one is stale for good: its index is back in use by another entity, with a
        # higher generation, and the old id still does not name it.
        reused = 0
        live_ids = np.concatenate([t.ids() for t in world.tables if t.count])
        for ref in np.unique(refs[~alive]):
            same_index = live_ids[(live_ids & INDEX_MASK) == (ref & INDEX_MASK)]
            assert len(same_index) <= 1
            if len(same_index):
                reused += 1
                assert same_index[0] != ref
                assert same_index[0] >> np.uint64(32) > ref >> np.uint64(32), (
                    describe(int(same_index[0])),
                    describe(int(ref)),
                )
                assert not world.alive([ref])[0] and world.alive(same_index)[0]
                with pytest.raises(KeyError, match=describe(int(ref))):
                    world.components(int(ref))
        assert reused > 0
        assert_consistent(game)
    finally:
        game.close()


def test_bad_commands_from_a_hot_system_are_each_reported_once_naming_system_and_entity(
    project: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="sandbox")
    game = started(project)
    try:
        for _ in range(5):
            game.frame()
        (project / "ecs_systems" / "badcmd.zig").write_text(BAD_COMMANDS)
        f5(game)
        assert "badcmd" in game.pipeline.slots, game.reloader.message
        slot = game.pipeline.slots["badcmd"]
        world = game.world
        body = world.tables[0]  # the drift scene's {Color, Position, Velocity}: the query's first table
        assert body.key == {"Color", "Position", "Velocity"}

        def call(expected: str | None) -> None:
            """One frame (one step, one call of badcmd): exactly one message, starting `expected`."""
            caplog.clear()
            game.frame()
            said = [m for m in sandbox_warnings(caplog) if "badcmd" in m]
            if expected is None:
                assert said == []
                return
            assert len(said) == 1 and said[0].startswith(expected), said
            assert slot.warning == said[0]
            assert slot.error is None and game.running
            assert_consistent(game)

        e = int(body.ids()[0])
        count = world.count
        call(f"badcmd: despawn {describe(e)}: named twice in one step; once applied")
        assert not world.alive([e])[0] and world.count == count - 1

        call("badcmd: despawn 12345v0: not a live entity")
        assert world.count == count - 1

        e = int(body.ids()[0])
        call(f"badcmd: add Velocity to {describe(e)}: already has it")
        assert world.alive([e])[0] and world.get(e, "Velocity")["x"] != 999

        e = int(body.ids()[0])
        call(f"badcmd: remove Health from {describe(e)}: does not have it")
        assert world.alive([e])[0] and set(world.components(e)) == {"Color", "Position", "Velocity"}

        # 20,000 spawns into a 16,384-record buffer: the overflow is dropped and reported, the
        # rest applies, and the next step's buffer is twice as large: all 20,000 fit.
        assert slot.system._commands.cap == COMMAND_RECORDS == 16384
        count = world.count
        call(f"badcmd: command buffer full: {20_000 - COMMAND_RECORDS} commands dropped")
        assert world.count == count + COMMAND_RECORDS
        assert slot.system._commands.cap == 2 * COMMAND_RECORDS
        call(None)
        assert world.count == count + COMMAND_RECORDS + 20_000

        # The game goes on with every system: steps advance, positions move, nothing is off.
        step = world.step
        x = body.column("Position.x").copy()
        for _ in range(3):
            game.frame()
        assert world.step == step + 3 and not np.array_equal(body.column("Position.x"), x)
        assert all(s.error is None for s in game.pipeline.slots.values())
        assert_consistent(game)
    finally:
        game.close()


def test_esper_sees_the_same_component_sets_as_the_tables_through_churn_and_rewind(project: Path) -> None:
    add_churn(project)
    game = started(project)
    position, velocity, frozen = (registry.component_type(n) for n in ("Position", "Velocity", "Frozen"))

    def check() -> None:
        world = game.world
        both = [t.ids() for t in world.tables if {"Position", "Velocity"} <= t.key]
        want = np.sort(np.concatenate(both))
        got = np.sort(np.array([e for e, _ in esper.get_components(position, velocity)], dtype=np.uint64))
        np.testing.assert_array_equal(got, want)
        held = [t.ids() for t in world.tables if "Frozen" in t.key]
        want_frozen = np.sort(np.concatenate(held)) if held else np.zeros(0, np.uint64)
        got_frozen = np.sort(np.array([e for e, _ in esper.get_component(frozen)], dtype=np.uint64))
        np.testing.assert_array_equal(got_frozen, want_frozen)
        for e in want_frozen[:5].tolist():
            assert esper.has_component(e, frozen) and world.has(e, "Frozen")
        assert_consistent(game)

    try:
        for _ in range(70):
            game.frame()
        assert len(esper.get_component(frozen)) > 0  # the tag was added (and removed) on the way
        check()
        press(game, pygame.K_r)  # the world (and esper) restored from a checkpoint
        game.frame()
        assert game.world.step < 70
        check()
        for _ in range(10):
            game.frame()
        check()
    finally:
        game.close()


SEEKER = """//! Seeker (a test system): drops every Target whose entity is no longer alive.
const sdk = @import("sdk");
const c = @import("components");
pub const panic = sdk.panic;

const Seekers = sdk.Query(.{ .target = .{ c.Target, .read } }, .{});
const W = sdk.World(.{ .queries = .{ .seekers = Seekers } });

const api = sdk.system(W, .{ .name = "seeker", .build_id = 1, .order = 5, .run = run });

export fn plugin_entry() *const sdk.Api {
    return &api;
}

fn run(w: *W) !void {
    var tables = w.query(.seekers);
    while (tables.next()) |t| {
        for (t.target.entity, t.entities) |target, e| {
            if (!w.alive(target)) w.remove(e, c.Target);
        }
    }
}
"""


def test_a_zig_system_tells_a_live_reference_from_a_stale_one_even_after_the_index_is_reused(project: Path) -> None:
    (project / "ecs_systems" / "seeker.zig").write_text(SEEKER)
    game = started(project, entities=0)
    try:
        world = game.world
        prey = world.spawn(2, {"Position": None, "Health": None})
        hunters = world.spawn(4, {"Position": None, "Target": {"entity": np.repeat(prey, 2)}})
        game.frame()
        assert world.components(int(hunters[0]))["Target"]["entity"] == prey[0]
        world.despawn(prey[:1])
        reborn = world.spawn(1, {"Position": None, "Health": None})  # takes the freed index back
        assert int(reborn[0]) & int(INDEX_MASK) == int(prey[0]) & int(INDEX_MASK) and reborn[0] != prey[0]
        game.frame()
        game.frame()
        assert not world.has(int(hunters[0]), "Target") and not world.has(int(hunters[1]), "Target")
        for hunter in hunters[2:]:
            assert world.get(int(hunter), "Target")["entity"] == prey[1]
        assert game.pipeline.slots["seeker"].error is None
        assert_consistent(game)
    finally:
        game.close()
