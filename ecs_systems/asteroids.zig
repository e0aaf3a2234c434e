//! Arena: asteroids tumble, and take their hits. It runs after `collide`, so a hit (`Hit`,
//! added by `collide` at the end of the last step) is taken before anything else can hit
//! a rock it destroys. A hit costs
//! hit points; a rock with none left breaks into two smaller, faster pieces (the
//! smallest into dust), scores, throws sparks, and now and then leaves a pickup behind.
const std = @import("std");
const sdk = @import("sdk");
const c = @import("components");
const arena = @import("shared/arena.zig");
pub const panic = sdk.panic;

pub const build_id: u32 = 1;

/// How much faster the pieces fly than the asteroid they came from.
const split_speedup: f32 = 1.35;
/// One destroyed asteroid in this many drops a pickup.
const drop_odds: u64 = 9;

const Tumbling = sdk.Query(.{ .heading = .{ c.Heading, .read_write } }, .{ .with = .{c.Asteroid} });
const Hurt = sdk.Query(.{
    .pos = .{ c.Position, .read },
    .vel = .{ c.Velocity, .read },
    .rock = .{ c.Asteroid, .read_write },
    .hit = .{ c.Hit, .read },
}, .{});
const W = sdk.World(.{
    .queries = .{ .tumbling = Tumbling, .hurt = Hurt },
    .resources = .{ .arena = .{ c.Arena, .write }, .score = .{ c.Score, .write }, .rng = .{ c.Rng, .write } },
});

const api = sdk.system(W, .{ .name = "asteroids", .build_id = build_id, .order = 36, .run = run });

export fn plugin_entry() *const sdk.Api {
    return &api;
}

fn run(w: *W) !void {
    var spinning = w.query(.tumbling);
    while (spinning.next()) |t| {
        for (t.heading.angle, t.heading.spin) |*a, s| a.* = @mod(a.* + s * w.dt, std.math.tau);
    }
    const rng = &w.resource(.rng).state;
    const game = w.resource(.arena);
    var hurt = w.query(.hurt);
    while (hurt.next()) |t| {
        for (0..t.len) |i| {
            const e = t.entities[i];
            t.rock.hp[i] -= t.hit.damage[i];
            const x = t.pos.x[i];
            const y = t.pos.y[i];
            if (t.rock.hp[i] > 0) {
                w.remove(e, c.Hit);
                arena.explode(w, rng, x, y, 0, 0, 3, 0xB0A090);
                continue;
            }
            const size = t.rock.size[i];
            w.despawn(e);
            w.resource(.score).value += arena.asteroidPoints(size);
            game.kills += 1;
            arena.explode(w, rng, x, y, t.vel.x[i], t.vel.y[i], 6 + 4 * size, 0xD8C8A8);
            arena.maybeDrop(w, rng, x, y, drop_odds);
            if (size > 1) {
                const vx = t.vel.x[i] * split_speedup;
                const vy = t.vel.y[i] * split_speedup;
                for ([_]f32{ -1, 1 }) |side| {
                    const turn = side * sdk.randomRange(rng, 0.35, 0.9);
                    arena.spawnRock(w, rng, size - 1, x, y, vx * @cos(turn) - vy * @sin(turn), vx * @sin(turn) + vy * @cos(turn));
                }
            }
        }
    }
}
