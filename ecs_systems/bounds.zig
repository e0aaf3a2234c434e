//! Bounds: entities bounce off the edges of the world (velocity reflected, position mirrored).
const std = @import("std");
const sdk = @import("sdk");
const c = @import("components");
pub const panic = sdk.panic;

pub const build_id: u32 = 1;

const Bodies = sdk.Query(.{ .pos = .{ c.Position, .read_write }, .vel = .{ c.Velocity, .read_write } }, .{});
const W = sdk.World(.{ .queries = .{ .bodies = Bodies } });

const api = sdk.system(W, .{ .name = "bounds", .build_id = build_id, .order = 30, .run = run });

export fn plugin_entry() *const sdk.Api {
    return &api;
}

fn run(w: *W) !void {
    var tables = w.query(.bodies);
    while (tables.next()) |t| {
        bounce(t.pos.x, t.vel.x, w.width());
        bounce(t.pos.y, t.vel.y, w.height());
    }
}

/// Mirrors positions outside [0, limit] back inside and points their velocity inwards.
fn bounce(pos: []f32, vel: []f32, limit: f32) void {
    const zero: sdk.Vf = @splat(0);
    const hi: sdk.Vf = @splat(limit);
    var i: usize = 0;
    while (i + sdk.lanes <= pos.len) : (i += sdk.lanes) {
        const p = sdk.load(pos, i);
        const v = sdk.load(vel, i);
        const below = p < zero;
        const above = p > hi;
        const p1 = @select(f32, below, -p, @select(f32, above, hi + hi - p, p));
        const v1 = @select(f32, below, @abs(v), @select(f32, above, -@abs(v), v));
        sdk.store(pos, i, @min(@max(p1, zero), hi));
        sdk.store(vel, i, v1);
    }
    while (i < pos.len) : (i += 1) {
        if (pos[i] < 0) {
            pos[i] = -pos[i];
            vel[i] = @abs(vel[i]);
        } else if (pos[i] > limit) {
            pos[i] = limit + limit - pos[i];
            vel[i] = -@abs(vel[i]);
        }
        pos[i] = @min(@max(pos[i], 0), limit);
    }
}

test "bounce reflects both edges and leaves the inside alone" {
    var pos = [_]f32{ -1, 5, 11, 3, 0, 10, 2, 4, -2 };
    var vel = [_]f32{ -3, 1, 2, -1, 0, 0, 0, 0, -5 };
    bounce(&pos, &vel, 10);
    try std.testing.expectEqualSlices(f32, &.{ 1, 5, 9, 3, 0, 10, 2, 4, 2 }, &pos);
    try std.testing.expectEqualSlices(f32, &.{ 3, 1, -2, -1, 0, 0, 0, 0, 5 }, &vel);
}
