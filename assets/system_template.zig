//! NAME: a new system. Edit `run`, save, press F5 (or run with --watch).
//! It runs once per simulation step, after the systems with a lower `order`.
const std = @import("std");
const sdk = @import("sdk");
pub const panic = sdk.panic; // keeps safe-mode rebuilds fast

pub const build_id: u32 = 1;

/// Gravity: how fast (px/s²) everything falls. Change it and press F5.
const gravity: f32 = 60;

const columns = [_]sdk.ColumnDecl{
    sdk.col("vel_y", .f32, 1, .read_write),
};

const api = sdk.api(.{ .name = "NAME", .build_id = build_id, .order = 15, .columns = &columns, .run = run });

export fn plugin_entry() *const sdk.Api {
    return &api;
}

fn run(frame: *sdk.Frame) callconv(.c) i32 {
    const vy = sdk.slice(frame, 0, .f32) catch return sdk.report(frame, .bad_columns, "vel_y", .{});
    const dv: sdk.Vf = @splat(gravity * frame.dt);
    var i: usize = 0;
    while (i + sdk.lanes <= vy.len) : (i += sdk.lanes) sdk.store(vy, i, sdk.load(vy, i) + dv);
    while (i < vy.len) : (i += 1) vy[i] += gravity * frame.dt;
    return sdk.ok;
}

test "NAME pulls every velocity down by gravity * dt" {
    var vy = [_]f32{ 0, 1, 2, 3, 4, 5, 6, 7, 8, 9 };
    var cols = [_]sdk.Column{.{ .ptr = @ptrCast(&vy), .len = vy.len, .stride = 4, .dtype = .f32, .width = 1 }};
    var frame = std.mem.zeroes(sdk.Frame);
    frame.dt = 0.5;
    frame.count = vy.len;
    frame.columns = &cols;
    frame.column_count = 1;
    try std.testing.expectEqual(sdk.ok, run(&frame));
    try std.testing.expectEqual(@as(f32, gravity * 0.5), vy[0]);
    try std.testing.expectEqual(@as(f32, 9 + gravity * 0.5), vy[9]);
}
