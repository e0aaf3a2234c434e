//! Render: fades the previous frame (motion trails) and plots every entity in its colour,
//! straight into the window's pixel buffer. Runs once per drawn frame.
const std = @import("std");
const sdk = @import("sdk");
const c = @import("components");
pub const panic = sdk.panic;

pub const build_id: u32 = 1;

/// How much of the last frame survives (out of 256): higher means longer trails.
const fade: u16 = 200;
/// Above this many entities each is one pixel instead of a 2x2 dot.
const big_world: usize = 200_000;

const Drawn = sdk.Query(.{ .pos = .{ c.Position, .read }, .color = .{ c.Color, .read } }, .{});
const W = sdk.World(.{ .queries = .{ .drawn = Drawn } });

const api = sdk.system(W, .{ .name = "render", .build_id = build_id, .kind = .render, .run = run });

export fn plugin_entry() *const sdk.Api {
    return &api;
}

fn run(w: *W) !void {
    const t = w.target() catch return error.BadTarget;
    const bytes = t.pixels.?[0 .. @as(usize, t.pitch) * t.height];
    // Fade once per frame, not per table: every table draws onto the same faded picture.
    fadeAll(bytes);
    var tables = w.query(.drawn);
    // The dot size depends on the whole world, so a world split over many tables looks
    // the same as one big table.
    const size: u32 = if (tables.count() > big_world) 1 else 2;
    while (tables.next()) |tab| plot(bytes, t, tab.pos.x, tab.pos.y, tab.color.rgb, size);
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
    if (t.width < size or t.height < size) return; // a window smaller than one dot
    const w: f32 = @floatFromInt(t.width - size + 1);
    const h: f32 = @floatFromInt(t.height - size + 1);
    for (px, py, color) |x, y, rgb| {
        if (!(x >= 0 and x < w and y >= 0 and y < h)) continue; // also skips NaN
        const xi: usize = @intFromFloat(x);
        const yi: usize = @intFromFloat(y);
        var dy: usize = 0;
        while (dy < size) : (dy += 1) {
            const row: [*]u32 = @ptrCast(@alignCast(bytes.ptr + (yi + dy) * t.pitch));
            var dx: usize = 0;
            while (dx < size) : (dx += 1) row[xi + dx] = rgb;
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
