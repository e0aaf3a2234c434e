//! Flock: each boid is a short stroke along its flight, coloured by its heading, so the
//! flock's currents show as bands of colour; the predator is a red ring. The colours are
//! the `Palette` resource, read from `assets/flock/palette.png` (save it, and the boids
//! take the new colours on the next frame).
const std = @import("std");
const sdk = @import("sdk");
const c = @import("components");
pub const panic = sdk.panic;

pub const build_id: u32 = 1;

/// Stroke length in pixels.
const tail: f32 = 4;
/// Colours round the compass (flying left first, then turning clockwise on screen) when no
/// palette is loaded.
const hues = [12]u32{ 0xFF5A5A, 0xFF9A40, 0xFFD83A, 0xB8F040, 0x58E868, 0x40E8B0, 0x40D8F0, 0x4898FF, 0x6A68FF, 0xA860FF, 0xE058E8, 0xFF5AA8 };

const Flock = sdk.Query(.{ .pos = .{ c.Position, .read }, .vel = .{ c.Velocity, .read } }, .{ .with = .{c.Boid} });
const W = sdk.World(.{ .queries = .{ .flock = Flock }, .resources = .{ .predator = .{ c.Predator, .read }, .palette = .{ c.Palette, .read } } });

const api = sdk.system(W, .{ .name = "flock_draw", .build_id = build_id, .kind = .render, .order = 20, .run = run });

export fn plugin_entry() *const sdk.Api {
    return &api;
}

fn run(w: *W) !void {
    var flock = w.query(.flock);
    if (flock.count() == 0) return;
    const cv = sdk.draw.Canvas.init(try w.target());
    const right: f32 = @floatFromInt(cv.width);
    const bottom: f32 = @floatFromInt(cv.height);
    const palette = w.resource(.palette);
    const colours: []align(1) const u32 = if (palette.count == 0) &hues else palette.rgb[0..@min(palette.count, palette.rgb.len)];
    while (flock.next()) |t| {
        for (t.pos.x, t.pos.y, t.vel.x, t.vel.y) |x, y, vx, vy| {
            // A stroke of `tail` pixels back from the head: one pixel a step along the
            // heading, so no general line drawing (the boids are 2-3x faster to draw).
            if (!(x >= 0 and x < right and y >= 0 and y < bottom)) continue; // off screen, or NaN
            const k = 1 / @max(@sqrt(vx * vx + vy * vy), 0.001);
            const dx = vx * k;
            const dy = vy * k;
            const rgb = hue(colours, vx, vy);
            var i: f32 = 1;
            while (i < tail) : (i += 1) cv.pixel(@intFromFloat(x - dx * i), @intFromFloat(y - dy * i), rgb);
            cv.pixel(@intFromFloat(x), @intFromFloat(y), 0xFFFFFF);
        }
    }
    const hawk = w.resource(.predator);
    cv.circle(hawk.x, hawk.y, 10, 0xFF3030);
    cv.circle(hawk.x, hawk.y, 7, 0xFF8080);
}

fn hue(colours: []align(1) const u32, vx: f32, vy: f32) u32 {
    const a = std.math.atan2(vy, vx); // -pi..pi
    const n: f32 = @floatFromInt(colours.len);
    const f = (a + std.math.pi) / std.math.tau * n;
    return colours[@min(@as(usize, @intFromFloat(@max(f, 0))), colours.len - 1)];
}
