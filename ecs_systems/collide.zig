//! Arena: what touches what, through the spatial grid. A bullet that touches an asteroid
//! or a hunter is spent and gives it a `Hit` (its own system takes the damage next step).
//! A ship that touches one loses a life (unless it is still safe after a respawn) and
//! comes back in the middle, or the game is over; a ship that touches a pickup takes it.
const std = @import("std");
const sdk = @import("sdk");
const c = @import("components");
const arena = @import("shared/arena.zig");
pub const panic = sdk.panic;

pub const build_id: u32 = 1;

/// The biggest body a bullet or a ship can touch (a big asteroid): how far to look.
const reach: f32 = 40;
/// Seconds a respawned ship cannot be hit.
const respawn_safe: f32 = 3;
/// Seconds of rapid fire a pickup gives.
const rapid_seconds: f32 = 8;

const Bullets = sdk.Query(.{ .pos = .{ c.Position, .read }, .body = .{ c.Body, .read }, .bullet = .{ c.Bullet, .read }, .life = .{ c.Lifetime, .read } }, .{});
const Pickups = sdk.Query(.{ .pos = .{ c.Position, .read }, .body = .{ c.Body, .read }, .pickup = .{ c.Pickup, .read }, .life = .{ c.Lifetime, .read } }, .{});
/// Whatever still has last step's `Hit` (its system takes it after this one runs).
const Hurt = sdk.Query(.{ .hit = .{ c.Hit, .read } }, .{});
const Ships = sdk.Query(.{
    .pos = .{ c.Position, .read_write },
    .vel = .{ c.Velocity, .read_write },
    .body = .{ c.Body, .read },
    .ship = .{ c.Ship, .read_write },
}, .{});
const W = sdk.World(.{
    .queries = .{ .bullets = Bullets, .pickups = Pickups, .hurt = Hurt, .ships = Ships },
    .resources = .{ .grid = .{ c.Grid, .read }, .arena = .{ c.Arena, .write }, .rng = .{ c.Rng, .write } },
});

const api = sdk.system(W, .{ .name = "collide", .build_id = build_id, .order = 35, .run = run });

export fn plugin_entry() *const sdk.Api {
    return &api;
}

fn run(w: *W) !void {
    const game = w.resource(.arena);
    if (game.state == 0) return;
    const g = w.resource(.grid);
    const targets = c.layer_asteroid | c.layer_hunter;
    // One Hit per target and step: a target named twice, or one that still has a Hit,
    // would be a second add of the same component (refused, and reported, by the host).
    var hit: Once = .{};
    var hurt = w.query(.hurt);
    while (hurt.next()) |t| for (t.entities) |e| {
        _ = hit.first(e);
    };
    var bullets = w.query(.bullets);
    while (bullets.next()) |t| {
        for (0..t.len) |i| {
            if (t.life.seconds[i] <= w.dt) continue; // the lifetime system despawns it this step
            const x = t.pos.x[i];
            const y = t.pos.y[i];
            const r = t.body.radius[i];
            var it = sdk.grid.near(g, x, y, r + reach);
            while (it.next()) |k| {
                if (g.layer[k] & targets == 0 or !sdk.grid.touches(g, k, x, y, r)) continue;
                w.despawn(t.entities[i]);
                if (hit.first(g.entity[k])) w.add(g.entity[k], c.Hit{ .damage = t.bullet.damage[i] });
                break;
            }
        }
    }
    var pickups = w.query(.pickups);
    while (pickups.next()) |t| {
        for (0..t.len) |i| {
            if (t.life.seconds[i] <= w.dt) continue;
            var it = sdk.grid.near(g, t.pos.x[i], t.pos.y[i], t.body.radius[i] + reach);
            while (it.next()) |k| {
                if (g.layer[k] != c.layer_ship or !sdk.grid.touches(g, k, t.pos.x[i], t.pos.y[i], t.body.radius[i])) continue;
                if (take(w, g.entity[k], t.pickup.kind[i])) w.despawn(t.entities[i]);
                break;
            }
        }
    }
    const rng = &w.resource(.rng).state;
    var ships = w.query(.ships);
    while (ships.next()) |t| {
        for (0..t.len) |i| {
            if (t.ship.safe[i] > 0) continue;
            const x = t.pos.x[i];
            const y = t.pos.y[i];
            var it = sdk.grid.near(g, x, y, t.body.radius[i] + reach);
            while (it.next()) |k| {
                if (g.layer[k] & targets == 0 or !sdk.grid.touches(g, k, x, y, t.body.radius[i])) continue;
                if (hit.first(g.entity[k])) w.add(g.entity[k], c.Hit{ .damage = 1 });
                arena.explode(w, rng, x, y, t.vel.x[i], t.vel.y[i], 40, 0x80D0FF);
                game.lives -= 1;
                if (game.lives <= 0) {
                    w.despawn(t.entities[i]);
                    game.state = 3;
                    game.timer = 0;
                } else {
                    t.pos.x[i] = w.width() / 2;
                    t.pos.y[i] = w.height() / 2;
                    t.vel.x[i] = 0;
                    t.vel.y[i] = 0;
                    t.ship.safe[i] = respawn_safe;
                    t.ship.spread[i] = 0;
                    t.ship.rapid[i] = 0;
                }
                break;
            }
        }
    }
}

/// Ship `e` takes a pickup of `kind`; false if that ship is not (or no longer) there.
fn take(w: *W, e: sdk.Entity, kind: u32) bool {
    var ships = w.query(.ships);
    while (ships.next()) |t| {
        for (t.entities, 0..) |id, i| {
            if (id != e) continue;
            switch (kind) {
                0 => w.resource(.arena).lives = @min(w.resource(.arena).lives + 1, 9),
                1 => t.ship.rapid[i] = rapid_seconds,
                else => t.ship.spread[i] = @min(t.ship.spread[i] + 1, 3),
            }
            return true;
        }
    }
    return false;
}

/// Entities already hit: this step's, and those with a `Hit` not yet taken. A hash set
/// (open addressing) for a step with thousands of hits.
const Once = struct {
    slots: [slot_count]sdk.Entity = @splat(.none),
    len: usize = 0,

    const slot_count = 1 << 13;

    /// True the first time `e` is named. Once the set is three-quarters full, false: a
    /// target it cannot remember is not hit this step (better than a refused command).
    fn first(o: *Once, e: sdk.Entity) bool {
        var i: usize = @intCast((@backingInt(e) *% 0x9E3779B97F4A7C15) >> 51);
        while (o.slots[i] != .none) : (i = (i + 1) % slot_count) {
            if (o.slots[i] == e) return false;
        }
        if (o.len >= slot_count / 4 * 3) return false;
        o.slots[i] = e;
        o.len += 1;
        return true;
    }
};
