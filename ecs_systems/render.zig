//! Render: fades the previous frame (motion trails) and plots every entity in its colour,
//! straight into the window's pixel buffer. Runs once per drawn frame.
const std = @import("std");
const sdk = @import("sdk");
pub const panic = sdk.panic;

pub const build_id: u32 = 1;

/// How much of the last frame survives (out of 256): higher means longer trails.
const fade: u16 = 200;
/// Above this many entities each is one pixel instead of a 2x2 dot.
const big_world: u64 = 200_000;

const columns = [_]sdk.ColumnDecl{
    sdk.col("pos_x", .f32, 1, .read),
    sdk.col("pos_y", .f32, 1, .read),
    sdk.col("color", .u32, 1, .read),
};

const api = sdk.api(.{ .name = "render", .build_id = build_id, .kind = .render, .columns = &columns, .run = run });

export fn plugin_entry() *const sdk.Api {
    return &api;
}

fn run(frame: *sdk.Frame) callconv(.c) i32 {
    const px = sdk.slice(frame, 0, .f32) catch return sdk.report(frame, .bad_columns, "pos_x", .{});
    const py = sdk.slice(frame, 1, .f32) catch return sdk.report(frame, .bad_columns, "pos_y", .{});
    const color = sdk.slice(frame, 2, .u32) catch return sdk.report(frame, .bad_columns, "color", .{});
    const t = frame.target;
    const pixels = t.pixels orelse return sdk.report(frame, .bad_target, "no pixel buffer", .{});
    if (t.pitch < t.width * 4) return sdk.report(frame, .bad_target, "pitch {d} < 4 * width {d}", .{ t.pitch, t.width });
    const bytes = pixels[0 .. @as(usize, t.pitch) * t.height];
    fadeAll(bytes);
    const size: u32 = if (frame.count > big_world) 1 else 2;
    plot(bytes, t, px, py, color, size);
    return sdk.ok;
}

const chunk = 32;

/// Every byte *= fade / 256, 32 bytes at a time.
fn fadeAll(bytes: []u8) void {
    const f: @Vector(chunk, u16) = @splat(fade);
    var i: usize = 0;
    while (i + chunk <= bytes.len) : (i += chunk) {
        const v: @Vector(chunk, u16) = bytes[i..][0..chunk].*;
        const faded: @Vector(chunk, u8) = @truncate((v * f) >> @splat(8));
        bytes[i..][0..chunk].* = faded;
    }
    while (i < bytes.len) : (i += 1) bytes[i] = @truncate((@as(u16, bytes[i]) * fade) >> 8);
}

fn plot(bytes: []u8, t: sdk.Target, px: []const f32, py: []const f32, color: []const u32, size: u32) void {
    const w: f32 = @floatFromInt(t.width - size + 1);
    const h: f32 = @floatFromInt(t.height - size + 1);
    for (px, py, color) |x, y, c| {
        if (!(x >= 0 and x < w and y >= 0 and y < h)) continue; // also skips NaN
        const xi: usize = @intFromFloat(x);
        const yi: usize = @intFromFloat(y);
        var dy: usize = 0;
        while (dy < size) : (dy += 1) {
            const row: [*]u32 = @ptrCast(@alignCast(bytes.ptr + (yi + dy) * t.pitch));
            var dx: usize = 0;
            while (dx < size) : (dx += 1) row[xi + dx] = c;
        }
    }
}

test "plot draws inside the target and skips what is outside" {
    var pixels: [16]u32 = @splat(0);
    const t = sdk.Target{ .pixels = @ptrCast(&pixels), .width = 4, .height = 4, .pitch = 16 };
    const bytes: []u8 = @as([*]u8, @ptrCast(&pixels))[0..64];
    plot(bytes, t, &.{ 1, -5, 3.5 }, &.{ 2, 0, 99 }, &.{ 0xABCDEF, 1, 2 }, 1);
    try std.testing.expectEqual(@as(u32, 0xABCDEF), pixels[2 * 4 + 1]);
    var lit: usize = 0;
    for (pixels) |p| lit += @intFromBool(p != 0);
    try std.testing.expectEqual(@as(usize, 1), lit);
    fadeAll(bytes);
    try std.testing.expectEqual(@as(u32, (0xAB * 200 >> 8) << 16 | (0xCD * 200 >> 8) << 8 | (0xEF * 200 >> 8)), pixels[9]);
}
