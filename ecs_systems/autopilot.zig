//! Arena, attract mode: when nobody has touched a key for a few seconds (always, headless)
//! the autopilot flies the ship. It aims ahead of the nearest asteroid or hunter, fires when
//! lined up, runs from whatever comes too close, and starts a new game after "game over".
//! It only writes the ship's `Control`, as the player's keys do.
const std = @import("std");
const sdk = @import("sdk");
const c = @import("components");
const shared = @import("shared/arena.zig");
pub const panic = sdk.panic;

pub const build_id: u32 = 1;

/// The bullet speed it leads its targets by (ship.zig's, roughly).
const aim_speed: f32 = 520;
/// How far away it shoots from, and how close is too close.
const sight: f32 = 360;
const danger: f32 = 75;
/// Seconds of "game over" before it plays again.
const restart_after: f32 = 4;

const Ships = sdk.Query(.{
    .pos = .{ c.Position, .read },
    .vel = .{ c.Velocity, .read },
    .heading = .{ c.Heading, .read },
    .control = .{ c.Control, .write },
}, .{ .with = .{c.Ship} });
/// What it shoots at: asteroids and hunters.
const Targets = sdk.Query(.{ .pos = .{ c.Position, .read }, .vel = .{ c.Velocity, .read }, .body = .{ c.Body, .read } }, .{ .without = .{ c.Ship, c.Bullet, c.Pickup, c.Boid } });
const W = sdk.World(.{
    .queries = .{ .ships = Ships, .targets = Targets },
    .resources = .{ .arena = .{ c.Arena, .write }, .grid = .{ c.Grid, .read } },
});

const api = sdk.system(W, .{ .name = "autopilot", .build_id = build_id, .order = 2, .run = run });

export fn plugin_entry() *const sdk.Api {
    return &api;
}

fn run(w: *W) !void {
    const arena = w.resource(.arena);
    if (arena.state == 0 or arena.idle < shared.autopilot_after) return;
    if (arena.state == 3 and arena.timer >= restart_after) arena.state = 1;
    const g = w.resource(.grid);
    var tables = w.query(.ships);
    while (tables.next()) |t| {
        for (0..t.len) |i| {
            const me = Mover{ .x = t.pos.x[i], .y = t.pos.y[i], .vx = t.vel.x[i], .vy = t.vel.y[i] };
            const ctl = fly(g, me, t.heading.angle[i], nearest(w, me), .{ w.width() / 2, w.height() / 2 });
            t.control.turn[i] = ctl.turn;
            t.control.thrust[i] = ctl.thrust;
            t.control.fire[i] = ctl.fire;
        }
    }
}

const Mover = struct { x: f32, y: f32, vx: f32 = 0, vy: f32 = 0, radius: f32 = 0 };
const Controls = struct { turn: f32 = 0, thrust: f32 = 0, fire: u32 = 0 };

/// The nearest asteroid or hunter, wherever it is.
fn nearest(w: *W, me: Mover) ?Mover {
    var best: ?Mover = null;
    var best_d2 = std.math.inf(f32);
    var targets = w.query(.targets);
    while (targets.next()) |t| {
        for (0..t.len) |i| {
            const dx = t.pos.x[i] - me.x;
            const dy = t.pos.y[i] - me.y;
            if (dx * dx + dy * dy >= best_d2) continue;
            best_d2 = dx * dx + dy * dy;
            best = .{ .x = t.pos.x[i], .y = t.pos.y[i], .vx = t.vel.x[i], .vy = t.vel.y[i], .radius = t.body.radius[i] };
        }
    }
    return best;
}

fn fly(g: anytype, me: Mover, angle: f32, target: ?Mover, centre: [2]f32) Controls {
    // The closest thing about to touch the ship, from the grid.
    var threat: ?u32 = null;
    var threat_gap: f32 = danger;
    var it = sdk.grid.near(g, me.x, me.y, danger + 40);
    while (it.next()) |k| {
        if (g.layer[k] & (c.layer_asteroid | c.layer_hunter) == 0) continue;
        const dx = g.x[k] - me.x;
        const dy = g.y[k] - me.y;
        const gap = @sqrt(dx * dx + dy * dy) - g.radius[k];
        if (gap < threat_gap) {
            threat_gap = gap;
            threat = k;
        }
    }
    var out: Controls = .{};
    if (threat) |k| {
        // Turn away from it and burn.
        const away = std.math.atan2(me.y - g.y[k], me.x - g.x[k]);
        out.turn = steer(angle, away);
        out.thrust = if (@abs(angleDiff(angle, away)) < 1.2) 1 else 0;
    }
    if (target) |t| {
        // Where the target will be when a bullet gets there.
        const dist = @sqrt((t.x - me.x) * (t.x - me.x) + (t.y - me.y) * (t.y - me.y));
        const eta = dist / aim_speed;
        const aim = std.math.atan2(t.y + (t.vy - me.vy) * eta - me.y, t.x + (t.vx - me.vx) * eta - me.x);
        const off = @abs(angleDiff(angle, aim));
        if (threat == null) {
            out.turn = steer(angle, aim);
            // Too far to hit: close in.
            out.thrust = if (dist > sight and off < 0.4) 0.7 else 0;
        }
        out.fire = @intFromBool(dist < sight * 1.3 and off < 0.1 + t.radius / @max(dist, 1));
    } else if (threat == null) {
        // Nothing left: back towards the middle, where the next wave is easiest to meet.
        const home = std.math.atan2(centre[1] - me.y, centre[0] - me.x);
        out.turn = steer(angle, home);
        const far = (centre[0] - me.x) * (centre[0] - me.x) + (centre[1] - me.y) * (centre[1] - me.y) > 150 * 150;
        out.thrust = if (far and @abs(angleDiff(angle, home)) < 0.5) 0.6 else 0;
    }
    return out;
}

/// -1..1: which way (and how hard) to turn from `angle` to `goal`.
fn steer(angle: f32, goal: f32) f32 {
    return std.math.clamp(angleDiff(angle, goal) * 3, -1, 1);
}

/// goal - angle, wrapped to -pi..pi.
fn angleDiff(angle: f32, goal: f32) f32 {
    return @mod(goal - angle + std.math.pi, std.math.tau) - std.math.pi;
}

test "steer turns the short way round" {
    try std.testing.expect(steer(0.1, 6.2) < 0);
    try std.testing.expect(steer(6.2, 0.1) > 0);
    try std.testing.expectEqual(@as(f32, 0), steer(1, 1));
}
