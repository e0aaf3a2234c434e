//! Bounds: entities bounce off the edges of the world (velocity reflected, position mirrored).
const std = @import("std");
const sdk = @import("sdk");
pub const panic = sdk.panic;

pub const build_id: u32 = 1;

const columns = [_]sdk.ColumnDecl{
    sdk.col("pos_x", .f32, 1, .read_write),
    sdk.col("pos_y", .f32, 1, .read_write),
    sdk.col("vel_x", .f32, 1, .read_write),
    sdk.col("vel_y", .f32, 1, .read_write),
};

const api = sdk.api(.{ .name = "bounds", .build_id = build_id, .order = 30, .columns = &columns, .run = run });

export fn plugin_entry() *const sdk.Api {
    return &api;
}

fn run(frame: *sdk.Frame) callconv(.c) i32 {
    const px = sdk.slice(frame, 0, .f32) catch return sdk.report(frame, .bad_columns, "pos_x", .{});
    const py = sdk.slice(frame, 1, .f32) catch return sdk.report(frame, .bad_columns, "pos_y", .{});
    const vx = sdk.slice(frame, 2, .f32) catch return sdk.report(frame, .bad_columns, "vel_x", .{});
    const vy = sdk.slice(frame, 3, .f32) catch return sdk.report(frame, .bad_columns, "vel_y", .{});
    bounce(px, vx, frame.world_width);
    bounce(py, vy, frame.world_height);
    return sdk.ok;
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
