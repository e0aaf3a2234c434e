//! Arena: hunters (from wave 2) chase the nearest ship, faster every wave, and take their
//! hits like asteroids do (after `collide`): a destroyed hunter scores, bursts and often
//! drops a pickup.
const std = @import("std");
const sdk = @import("sdk");
const c = @import("components");
const arena = @import("shared/arena.zig");
pub const panic = sdk.panic;

pub const build_id: u32 = 1;

/// Pixels per second squared towards the ship; top speed grows by `speed_per_wave`.
const chase: f32 = 260;
const base_speed: f32 = 110;
const speed_per_wave: f32 = 12;
const drop_odds: u64 = 3;

const Hunting = sdk.Query(.{
    .pos = .{ c.Position, .read },
    .vel = .{ c.Velocity, .read_write },
    .heading = .{ c.Heading, .write },
}, .{ .with = .{c.Hunter} });
const Prey = sdk.Query(.{ .pos = .{ c.Position, .read } }, .{ .with = .{c.Ship} });
const Hurt = sdk.Query(.{
    .pos = .{ c.Position, .read },
    .vel = .{ c.Velocity, .read },
    .hunter = .{ c.Hunter, .read_write },
    .hit = .{ c.Hit, .read },
}, .{});
const W = sdk.World(.{
    .queries = .{ .hunting = Hunting, .prey = Prey, .hurt = Hurt },
    .resources = .{ .arena = .{ c.Arena, .write }, .score = .{ c.Score, .write }, .rng = .{ c.Rng, .write } },
});

const api = sdk.system(W, .{ .name = "hunters", .build_id = build_id, .order = 37, .run = run });

export fn plugin_entry() *const sdk.Api {
    return &api;
}

fn run(w: *W) !void {
    const game = w.resource(.arena);
    const top = base_speed + speed_per_wave * @as(f32, @floatFromInt(game.wave));
    var hunting = w.query(.hunting);
    while (hunting.next()) |t| {
        for (0..t.len) |i| {
            const x = t.pos.x[i];
            const y = t.pos.y[i];
            var vx = t.vel.x[i];
            var vy = t.vel.y[i];
            if (nearestShip(w, x, y)) |goal| {
                const dx = goal[0] - x;
                const dy = goal[1] - y;
                const d = @max(@sqrt(dx * dx + dy * dy), 1);
                vx += dx / d * chase * w.dt;
                vy += dy / d * chase * w.dt;
            }
            const speed = @sqrt(vx * vx + vy * vy);
            if (speed > top) {
                vx *= top / speed;
                vy *= top / speed;
            }
            t.vel.x[i] = vx;
            t.vel.y[i] = vy;
            t.heading.angle[i] = std.math.atan2(vy, vx);
        }
    }
    const rng = &w.resource(.rng).state;
    var hurt = w.query(.hurt);
    while (hurt.next()) |t| {
        for (0..t.len) |i| {
            const e = t.entities[i];
            t.hunter.hp[i] -= t.hit.damage[i];
            if (t.hunter.hp[i] > 0) {
                w.remove(e, c.Hit);
                continue;
            }
            w.despawn(e);
            w.resource(.score).value += arena.hunter_points;
            game.kills += 1;
            arena.explode(w, rng, t.pos.x[i], t.pos.y[i], t.vel.x[i], t.vel.y[i], 18, 0xFF4080);
            arena.maybeDrop(w, rng, t.pos.x[i], t.pos.y[i], drop_odds);
        }
    }
}

fn nearestShip(w: *W, x: f32, y: f32) ?[2]f32 {
    var best: ?[2]f32 = null;
    var best_d2: f32 = std.math.inf(f32);
    var ships = w.query(.prey);
    while (ships.next()) |s| {
        for (s.pos.x, s.pos.y) |sx, sy| {
            const d2 = (sx - x) * (sx - x) + (sy - y) * (sy - y);
            if (d2 < best_d2) {
                best_d2 = d2;
                best = .{ sx, sy };
            }
        }
    }
    return best;
}
