//! Colour by speed: slow entities are deep blue, fast ones turn cyan, yellow, then white-hot.
const std = @import("std");
const sdk = @import("sdk");
pub const panic = sdk.panic;

pub const build_id: u32 = 1;

/// Speed (px/s) that maps to the hottest colour.
const max_speed: f32 = 600;

const columns = [_]sdk.ColumnDecl{
    sdk.col("vel_x", .f32, 1, .read),
    sdk.col("vel_y", .f32, 1, .read),
    sdk.col("color", .u32, 1, .write),
};

const api = sdk.api(.{ .name = "colorize", .build_id = build_id, .order = 40, .columns = &columns, .run = run });

export fn plugin_entry() *const sdk.Api {
    return &api;
}

fn run(frame: *sdk.Frame) callconv(.c) i32 {
    const vx = sdk.slice(frame, 0, .f32) catch return sdk.report(frame, .bad_columns, "vel_x", .{});
    const vy = sdk.slice(frame, 1, .f32) catch return sdk.report(frame, .bad_columns, "vel_y", .{});
    const color = sdk.slice(frame, 2, .u32) catch return sdk.report(frame, .bad_columns, "color", .{});
    paint(vx, vy, color);
    return sdk.ok;
}

const Vu = @Vector(sdk.lanes, u32);

/// 0x00RRGGBB from t in [0, 1]: a heat ramp through blue, cyan, yellow and white.
fn ramp(t: sdk.Vf) Vu {
    const one: sdk.Vf = @splat(1);
    const zero: sdk.Vf = @splat(0);
    const c255: sdk.Vf = @splat(255);
    const r = @min(@max(t * @as(sdk.Vf, @splat(3)) - one, zero), one);
    const g = @min(@max(t * @as(sdk.Vf, @splat(2)), zero), one);
    const b = @max(one - t * @as(sdk.Vf, @splat(1.5)), @as(sdk.Vf, @splat(0.35)));
    const ri: Vu = @intFromFloat(r * c255);
    const gi: Vu = @intFromFloat(g * c255);
    const bi: Vu = @intFromFloat(b * c255);
    return (ri << @splat(16)) | (gi << @splat(8)) | bi;
}

fn paint(vx: []const f32, vy: []const f32, color: []u32) void {
    const inv: sdk.Vf = @splat(1.0 / max_speed);
    const one: sdk.Vf = @splat(1);
    var i: usize = 0;
    while (i + sdk.lanes <= vx.len) : (i += sdk.lanes) {
        const x = sdk.load(vx, i);
        const y = sdk.load(vy, i);
        const t = @min(@sqrt(x * x + y * y) * inv, one);
        color[i..][0..sdk.lanes].* = ramp(t);
    }
    while (i < vx.len) : (i += 1) {
        const t: sdk.Vf = @splat(@min(@sqrt(vx[i] * vx[i] + vy[i] * vy[i]) / max_speed, 1));
        color[i] = ramp(t)[0];
    }
}

test "still entities are blue, the fastest are hot" {
    const vx = [_]f32{ 0, 10_000 };
    const vy = [_]f32{ 0, 0 };
    var color = [_]u32{ 0, 0 };
    paint(&vx, &vy, &color);
    try std.testing.expectEqual(@as(u32, 0x0000FF), color[0]);
    try std.testing.expectEqual(@as(u32, 0xFF), color[1] >> 16);
}
