//! Game code the arena's systems share (not a system itself: only `ecs_systems/*.zig`
//! files are). A system imports it by path: `const arena = @import("shared/arena.zig");`.
const std = @import("std");
const sdk = @import("sdk");
const c = @import("components");

/// Body radius of an asteroid of each size (3 big .. 1 small).
pub fn asteroidRadius(size: u32) f32 {
    return switch (size) {
        0, 1 => 12,
        2 => 22,
        else => 38,
    };
}

/// Points for destroying an asteroid of `size` (small ones are harder to hit).
pub fn asteroidPoints(size: u32) i64 {
    return switch (size) {
        0, 1 => 100,
        2 => 50,
        else => 20,
    };
}

/// Seconds without a key before the autopilot flies (pilot, autopilot and arena_draw read it).
pub const autopilot_after: f32 = 4;

pub const hunter_points: i64 = 150;
pub const hunter_radius: f32 = 11;

/// `n` sparks flying out of (x, y) on top of velocity (vx, vy), living 0.3-0.9 s.
pub fn explode(w: anytype, rng: *align(1) u64, x: f32, y: f32, vx: f32, vy: f32, n: u32, rgb: u32) void {
    for (0..n) |_| {
        const a = sdk.randomRange(rng, 0, std.math.tau);
        const s = sdk.randomRange(rng, 30, 220);
        w.spawn(.{
            c.Position{ .x = x, .y = y },
            c.Velocity{ .x = vx * 0.5 + @cos(a) * s, .y = vy * 0.5 + @sin(a) * s },
            c.Spark{ .rgb = rgb },
            c.Lifetime{ .seconds = sdk.randomRange(rng, 0.3, 0.9) },
        });
    }
}

/// Sometimes (one time in `odds`) leaves a pickup where something was destroyed.
pub fn maybeDrop(w: anytype, rng: *align(1) u64, x: f32, y: f32, odds: u64) void {
    if (sdk.nextRandom(rng) % odds != 0) return;
    const kind: u32 = @intCast(sdk.nextRandom(rng) % 3);
    w.spawn(.{
        c.Position{ .x = x, .y = y },
        c.Velocity{ .x = sdk.randomRange(rng, -20, 20), .y = sdk.randomRange(rng, -20, 20) },
        c.Body{ .radius = 8, .layer = c.layer_pickup },
        c.Pickup{ .kind = kind },
        c.Lifetime{ .seconds = 10 },
    });
}

/// An asteroid of `size` at (x, y), tumbling, with its own outline.
pub fn spawnRock(w: anytype, rng: *align(1) u64, size: u32, x: f32, y: f32, vx: f32, vy: f32) void {
    w.spawn(.{
        c.Position{ .x = x, .y = y },
        c.Velocity{ .x = vx, .y = vy },
        c.Heading{ .angle = sdk.randomRange(rng, 0, std.math.tau), .spin = sdk.randomRange(rng, -1.5, 1.5) },
        c.Body{ .radius = asteroidRadius(size), .layer = c.layer_asteroid },
        c.Asteroid{ .size = size, .hp = @intCast(size), .seed = @truncate(sdk.nextRandom(rng)) },
    });
}
