//! Flock: each boid is a short stroke along its flight, coloured by its heading, so the
//! flock's currents show as bands of colour; the predator is a red ring.
const std = @import("std");
const sdk = @import("sdk");
const c = @import("components");
pub const panic = sdk.panic;

pub const build_id: u32 = 1;

/// Stroke length in pixels at full speed.
const tail: f32 = 6;
/// Colours round the compass (east, then clockwise on screen).
const hues = [12]u32{ 0xFF5A5A, 0xFF9A40, 0xFFD83A, 0xB8F040, 0x58E868, 0x40E8B0, 0x40D8F0, 0x4898FF, 0x6A68FF, 0xA860FF, 0xE058E8, 0xFF5AA8 };

const Flock = sdk.Query(.{ .pos = .{ c.Position, .read }, .vel = .{ c.Velocity, .read } }, .{ .with = .{c.Boid} });
const W = sdk.World(.{ .queries = .{ .flock = Flock }, .resources = .{ .predator = .{ c.Predator, .read } } });

const api = sdk.system(W, .{ .name = "flock_draw", .build_id = build_id, .kind = .render, .order = 20, .run = run });

export fn plugin_entry() *const sdk.Api {
    return &api;
}

fn run(w: *W) !void {
    var flock = w.query(.flock);
    if (flock.count() == 0) return;
    const cv = sdk.draw.Canvas.init(try w.target());
    while (flock.next()) |t| {
        for (t.pos.x, t.pos.y, t.vel.x, t.vel.y) |x, y, vx, vy| {
            const speed = @max(@sqrt(vx * vx + vy * vy), 0.001);
            const k = tail / speed;
            cv.line(x, y, x - vx * k * 0.5, y - vy * k * 0.5, hue(vx, vy));
            cv.pixel(@intFromFloat(@max(@min(x, 1e6), -1)), @intFromFloat(@max(@min(y, 1e6), -1)), 0xFFFFFF);
        }
    }
    const hawk = w.resource(.predator);
    cv.circle(hawk.x, hawk.y, 10, 0xFF3030);
    cv.circle(hawk.x, hawk.y, 7, 0xFF8080);
}

fn hue(vx: f32, vy: f32) u32 {
    const a = std.math.atan2(vy, vx); // -pi..pi
    const f = (a + std.math.pi) / std.math.tau * 12;
    return hues[@min(@as(usize, @intFromFloat(@max(f, 0))), 11)];
}
