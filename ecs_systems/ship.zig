//! Arena: ships turn, thrust and fire as their `Control` says. Bullets leave the nose at
//! `bullet_speed` (plus the ship's own speed); rapid fire and spread shot come from pickups.
const std = @import("std");
const sdk = @import("sdk");
const c = @import("components");
pub const panic = sdk.panic;

pub const build_id: u32 = 1;

/// Pixels per second a bullet adds to the ship's speed.
const bullet_speed: f32 = 520;
/// Seconds a bullet flies (it bounces off the walls meanwhile).
const bullet_life: f32 = 1.1;
/// Seconds between shots; with rapid fire, between shots of `rapid_reload`.
const reload: f32 = 0.2;
const rapid_reload: f32 = 0.07;
/// Radians a spread shot fans out per extra bullet.
const spread_angle: f32 = 0.14;
/// Radians per second at full turn, pixels per second squared at full thrust, and the top
/// speed: tunables (F3 changes them live; write a value you like back here as its default).
const turning = sdk.Tunable{ .default = 4.2, .min = 0.5, .max = 12, .step = 0.1 };
const thrusting = sdk.Tunable{ .default = 420, .min = 0, .max = 2000, .step = 10 };
const top_speed = sdk.Tunable{ .default = 380, .min = 50, .max = 1500, .step = 10 };
/// Fraction of its speed a ship keeps after one second without thrust.
const drag: f32 = 0.45;

const Ships = sdk.Query(.{
    .pos = .{ c.Position, .read },
    .vel = .{ c.Velocity, .read_write },
    .heading = .{ c.Heading, .read_write },
    .control = .{ c.Control, .read },
    .ship = .{ c.Ship, .read_write },
}, .{});
const W = sdk.World(.{
    .queries = .{ .ships = Ships },
    .resources = .{ .rng = .{ c.Rng, .write } },
    .tunables = .{ .turn_rate = turning, .thrust_accel = thrusting, .max_speed = top_speed },
});

const api = sdk.system(W, .{ .name = "ship", .build_id = build_id, .order = 3, .run = run });

export fn plugin_entry() *const sdk.Api {
    return &api;
}

fn run(w: *W) !void {
    const dt = w.dt;
    const rng = &w.resource(.rng).state;
    const turn_rate = w.tune(.turn_rate);
    const thrust_accel = w.tune(.thrust_accel);
    const max_speed = w.tune(.max_speed);
    var tables = w.query(.ships);
    while (tables.next()) |t| {
        for (0..t.len) |i| {
            const ctl = .{ t.control.turn[i], t.control.thrust[i], t.control.fire[i] };
            var angle = t.heading.angle[i] + std.math.clamp(ctl[0], -1, 1) * turn_rate * dt;
            angle = @mod(angle, std.math.tau);
            t.heading.angle[i] = angle;
            const dir = [2]f32{ @cos(angle), @sin(angle) };
            var vx = t.vel.x[i] * std.math.pow(f32, drag, dt);
            var vy = t.vel.y[i] * std.math.pow(f32, drag, dt);
            const thrust = std.math.clamp(ctl[1], -1, 1);
            vx += dir[0] * thrust * thrust_accel * dt;
            vy += dir[1] * thrust * thrust_accel * dt;
            const speed = @sqrt(vx * vx + vy * vy);
            if (speed > max_speed) {
                vx *= max_speed / speed;
                vy *= max_speed / speed;
            }
            t.vel.x[i] = vx;
            t.vel.y[i] = vy;
            const x = t.pos.x[i];
            const y = t.pos.y[i];
            if (thrust > 0) flame(w, rng, x - dir[0] * 10, y - dir[1] * 10, vx - dir[0] * 160, vy - dir[1] * 160);

            t.ship.safe[i] = @max(t.ship.safe[i] - dt, 0);
            t.ship.rapid[i] = @max(t.ship.rapid[i] - dt, 0);
            t.ship.cooldown[i] -= dt;
            if (ctl[2] != 0 and t.ship.cooldown[i] <= 0) {
                t.ship.cooldown[i] = if (t.ship.rapid[i] > 0) rapid_reload else reload;
                const extra: i32 = @intCast(@min(t.ship.spread[i], 3));
                var k: i32 = -extra;
                while (k <= extra) : (k += 1) {
                    const a = angle + @as(f32, @floatFromInt(k)) * spread_angle;
                    w.spawn(.{
                        c.Position{ .x = x + @cos(a) * 12, .y = y + @sin(a) * 12 },
                        c.Velocity{ .x = vx + @cos(a) * bullet_speed, .y = vy + @sin(a) * bullet_speed },
                        c.Body{ .radius = 2, .layer = c.layer_bullet },
                        c.Bullet{},
                        c.Lifetime{ .seconds = bullet_life },
                    });
                }
            }
        }
    }
}

/// One spark of engine flame, a little scattered.
fn flame(w: *W, rng: *align(1) u64, x: f32, y: f32, vx: f32, vy: f32) void {
    w.spawn(.{
        c.Position{ .x = x, .y = y },
        c.Velocity{ .x = vx + sdk.randomRange(rng, -40, 40), .y = vy + sdk.randomRange(rng, -40, 40) },
        c.Spark{ .rgb = 0xFF9A30 },
        c.Lifetime{ .seconds = sdk.randomRange(rng, 0.15, 0.3) },
    });
}
