//! Attractor: every entity is pulled towards the mouse (pushed away while the right
//! button is held). With no mouse in the window, a gentle pull towards the centre.
const std = @import("std");
const sdk = @import("sdk");
pub const panic = sdk.panic;

pub const build_id: u32 = 1;

/// Pull strength near the mouse, in px/s² at the softening radius.
const strength: f32 = 90_000;
/// Pull towards the centre when there is no mouse.
const idle_strength: f32 = 12_000;
/// Softening radius squared (px²): keeps the force finite at the centre.
const soft2: f32 = 2_500;
const right_button: u32 = 4;

const columns = [_]sdk.ColumnDecl{
    sdk.col("pos_x", .f32, 1, .read),
    sdk.col("pos_y", .f32, 1, .read),
    sdk.col("vel_x", .f32, 1, .read_write),
    sdk.col("vel_y", .f32, 1, .read_write),
};

const api = sdk.api(.{ .name = "attractor", .build_id = build_id, .order = 10, .columns = &columns, .run = run });

export fn plugin_entry() *const sdk.Api {
    return &api;
}

fn run(frame: *sdk.Frame) callconv(.c) i32 {
    const px = sdk.slice(frame, 0, .f32) catch return sdk.report(frame, .bad_columns, "pos_x", .{});
    const py = sdk.slice(frame, 1, .f32) catch return sdk.report(frame, .bad_columns, "pos_y", .{});
    const vx = sdk.slice(frame, 2, .f32) catch return sdk.report(frame, .bad_columns, "vel_x", .{});
    const vy = sdk.slice(frame, 3, .f32) catch return sdk.report(frame, .bad_columns, "vel_y", .{});
    const in = frame.input;
    var target = [2]f32{ frame.world_width / 2, frame.world_height / 2 };
    var k = idle_strength;
    if (in.mouse_in_window != 0) {
        target = .{ in.mouse_x, in.mouse_y };
        k = if (in.buttons & right_button != 0) -strength else strength;
    }
    pull(px, py, vx, vy, target, k * frame.dt);
    return sdk.ok;
}

/// vel += k * d / (|d|² + soft²)^(1/2) / |d|...: a softened inverse-distance pull.
fn pull(px: []const f32, py: []const f32, vx: []f32, vy: []f32, target: [2]f32, k: f32) void {
    const tx: sdk.Vf = @splat(target[0]);
    const ty: sdk.Vf = @splat(target[1]);
    const kv: sdk.Vf = @splat(k);
    const s2: sdk.Vf = @splat(soft2);
    var i: usize = 0;
    while (i + sdk.lanes <= px.len) : (i += sdk.lanes) {
        const dx = tx - sdk.load(px, i);
        const dy = ty - sdk.load(py, i);
        const r2 = dx * dx + dy * dy + s2;
        const f = kv / r2;
        sdk.store(vx, i, sdk.load(vx, i) + dx * f);
        sdk.store(vy, i, sdk.load(vy, i) + dy * f);
    }
    while (i < px.len) : (i += 1) {
        const dx = target[0] - px[i];
        const dy = target[1] - py[i];
        const f = k / (dx * dx + dy * dy + soft2);
        vx[i] += dx * f;
        vy[i] += dy * f;
    }
}

test "pull points velocity towards the target, and away when k < 0" {
    const px = [_]f32{ 0, 100 };
    const py = [_]f32{ 0, 0 };
    var vx = [_]f32{ 0, 0 };
    var vy = [_]f32{ 0, 0 };
    pull(&px, &py, &vx, &vy, .{ 50, 0 }, 1000);
    try std.testing.expect(vx[0] > 0 and vx[1] < 0);
    try std.testing.expectEqual(@as(f32, 0), vy[0]);
    pull(&px, &py, &vx, &vy, .{ 50, 0 }, -4000);
    try std.testing.expect(vx[0] < 0 and vx[1] > 0);
}
