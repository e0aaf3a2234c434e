//! Colour by speed: slow entities are deep blue, fast ones turn cyan, yellow, then white-hot.
//! The speed that maps to the hottest colour is `Tunables.max_speed`, editable live.
const std = @import("std");
const sdk = @import("sdk");
const c = @import("components");
pub const panic = sdk.panic;

pub const build_id: u32 = 1;

// Frozen entities keep the colour they were given: they do not move, so speed says nothing.
const Painted = sdk.Query(.{ .vel = .{ c.Velocity, .read }, .color = .{ c.Color, .write } }, .{ .without = .{c.Frozen} });
const W = sdk.World(.{ .queries = .{ .painted = Painted }, .resources = .{ .tun = .{ c.Tunables, .read } } });

const api = sdk.system(W, .{ .name = "colorize", .build_id = build_id, .order = 40, .run = run });

export fn plugin_entry() *const sdk.Api {
    return &api;
}

fn run(w: *W) !void {
    const max_speed = w.resource(.tun).max_speed;
    var tables = w.query(.painted);
    while (tables.next()) |t| paint(t.vel.x, t.vel.y, t.color.rgb, max_speed);
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

/// t = speed / max_speed, clamped to [0, 1] on both sides: max_speed is edited live, and
/// a zero or negative value (or a NaN velocity) must not reach @intFromFloat out of range.
fn paint(vx: []const f32, vy: []const f32, color: []u32, max_speed: f32) void {
    const inv: sdk.Vf = @splat(1.0 / max_speed);
    const one: sdk.Vf = @splat(1);
    const zero: sdk.Vf = @splat(0);
    var i: usize = 0;
    while (i + sdk.lanes <= vx.len) : (i += sdk.lanes) {
        const x = sdk.load(vx, i);
        const y = sdk.load(vy, i);
        const t = @min(@max(@sqrt(x * x + y * y) * inv, zero), one);
        color[i..][0..sdk.lanes].* = ramp(t);
    }
    while (i < vx.len) : (i += 1) {
        const speed: sdk.Vf = @splat(@sqrt(vx[i] * vx[i] + vy[i] * vy[i]));
        color[i] = ramp(@min(@max(speed * inv, zero), one))[0];
    }
}

test "still entities are blue, the fastest are hot" {
    const vx = [_]f32{ 0, 10_000 };
    const vy = [_]f32{ 0, 0 };
    var color = [_]u32{ 0, 0 };
    paint(&vx, &vy, &color, 600);
    try std.testing.expectEqual(@as(u32, 0x0000FF), color[0]);
    try std.testing.expectEqual(@as(u32, 0xFF), color[1] >> 16);
}

test "a zero or negative max_speed still gives valid colours" {
    const vx = [_]f32{ 0, 0, 0, 0, 0, 0, 0, 0, 300, std.math.nan(f32) };
    const vy = [_]f32{ 0, 0, 0, 0, 0, 0, 0, 0, 400, 0 };
    var color: [10]u32 = @splat(0);
    paint(&vx, &vy, &color, 0);
    paint(&vx, &vy, &color, -5);
    for (color) |rgb| try std.testing.expect(rgb <= 0xFFFFFF);
}
