//! NAME: a new system. Edit `run`, save, press F5 (or run with --watch).
//! It runs once per simulation step, after the systems with a lower `order`.
const std = @import("std");
const sdk = @import("sdk");
const c = @import("components"); // every component and resource of the world
pub const panic = sdk.panic; // keeps safe-mode rebuilds fast

pub const build_id: u32 = 1;

/// Gravity: how fast (px/s²) everything falls. Change it and press F5.
const gravity: f32 = 60;

/// What the system reads and writes: every entity with a Velocity that is not Frozen.
const Falling = sdk.Query(.{ .vel = .{ c.Velocity, .read_write } }, .{ .without = .{c.Frozen} });
const W = sdk.World(.{ .queries = .{ .falling = Falling } });

const api = sdk.system(W, .{ .name = "NAME", .build_id = build_id, .order = 15, .run = run });

export fn plugin_entry() *const sdk.Api {
    return &api;
}

fn run(w: *W) !void {
    // Entities are stored in tables (one per set of components): visit each in turn.
    var tables = w.query(.falling);
    while (tables.next()) |t| fall(t.vel.y, gravity * w.dt);
}

/// vel_y[i] += dv, eight lanes at a time, then the few left over.
fn fall(vel_y: []f32, dv: f32) void {
    const dvv: sdk.Vf = @splat(dv);
    var i: usize = 0;
    while (i + sdk.lanes <= vel_y.len) : (i += sdk.lanes) sdk.store(vel_y, i, sdk.load(vel_y, i) + dvv);
    while (i < vel_y.len) : (i += 1) vel_y[i] += dv;
}

test "NAME pulls every velocity down by the same amount" {
    var vy = [_]f32{ 0, 1, 2, 3, 4, 5, 6, 7, 8, 9 };
    fall(&vy, gravity * 0.5);
    try std.testing.expectEqual(@as(f32, gravity * 0.5), vy[0]);
    try std.testing.expectEqual(@as(f32, 9 + gravity * 0.5), vy[9]);
}
