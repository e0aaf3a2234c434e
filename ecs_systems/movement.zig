//! Integration: position += velocity * dt, for every entity.
const std = @import("std");
const sdk = @import("sdk");
pub const panic = sdk.panic;

pub const build_id: u32 = 1;

const columns = [_]sdk.ColumnDecl{
    sdk.col("pos_x", .f32, 1, .read_write),
    sdk.col("pos_y", .f32, 1, .read_write),
    sdk.col("vel_x", .f32, 1, .read),
    sdk.col("vel_y", .f32, 1, .read),
};

const api = sdk.api(.{ .name = "movement", .build_id = build_id, .order = 20, .columns = &columns, .run = run });

export fn plugin_entry() *const sdk.Api {
    return &api;
}

fn run(frame: *sdk.Frame) callconv(.c) i32 {
    const px = sdk.slice(frame, 0, .f32) catch return sdk.report(frame, .bad_columns, "pos_x", .{});
    const py = sdk.slice(frame, 1, .f32) catch return sdk.report(frame, .bad_columns, "pos_y", .{});
    const vx = sdk.slice(frame, 2, .f32) catch return sdk.report(frame, .bad_columns, "vel_x", .{});
    const vy = sdk.slice(frame, 3, .f32) catch return sdk.report(frame, .bad_columns, "vel_y", .{});
    integrate(px, vx, frame.dt);
    integrate(py, vy, frame.dt);
    return sdk.ok;
}

/// pos[i] += vel[i] * dt, eight lanes at a time.
fn integrate(pos: []f32, vel: []const f32, dt: f32) void {
    const dtv: sdk.Vf = @splat(dt);
    var i: usize = 0;
    while (i + sdk.lanes <= pos.len) : (i += sdk.lanes) {
        sdk.store(pos, i, sdk.load(pos, i) + sdk.load(vel, i) * dtv);
    }
    while (i < pos.len) : (i += 1) pos[i] += vel[i] * dt;
}

test "integrate matches the scalar formula on a ragged length" {
    var pos = [_]f32{ 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10 };
    const vel = [_]f32{ 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, -10 };
    integrate(&pos, &vel, 0.5);
    try std.testing.expectEqual(@as(f32, 0.5), pos[0]);
    try std.testing.expectEqual(@as(f32, 8.5), pos[8]);
    try std.testing.expectEqual(@as(f32, 5.0), pos[10]);
}
