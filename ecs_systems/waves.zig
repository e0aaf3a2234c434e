//! Arena: the game itself. A new game (state 1) clears the arena, resets score, lives and
//! wave, and puts a ship in the middle. While playing (2), an empty arena brings the next
//! wave after a breath: what each wave holds is the `Waves` table, read from
//! `assets/arena/waves.json` (save the file and the next wave follows it). Game over (3)
//! waits for Enter (pilot.zig) or the autopilot. State 0 is another scene: nothing runs.
const std = @import("std");
const sdk = @import("sdk");
const c = @import("components");
const arena = @import("shared/arena.zig");
pub const panic = sdk.panic;

pub const build_id: u32 = 1;

// Without a wave table (a world the host gave no `Waves`): seconds between clearing a wave
// and the next one, and asteroids in wave n, `first_rocks + n - 1`, at most `max_rocks`.
const breather: f32 = 1.5;
const first_rocks: u32 = 3;
const max_rocks: u32 = 14;
const max_hunters: u32 = 8;
/// A wave never brings more of either than this, whatever the table says.
const most: u32 = 4096;

// Everything the arena spawns, for a clean start; rocks and hunters are what a wave is.
const Rocks = sdk.Query(.{ .rock = .{ c.Asteroid, .read } }, .{});
const Hunters = sdk.Query(.{ .pos = .{ c.Position, .read } }, .{ .with = .{c.Hunter} });
const Ships = sdk.Query(.{ .ship = .{ c.Ship, .read } }, .{});
const Bullets = sdk.Query(.{ .bullet = .{ c.Bullet, .read } }, .{});
const Pickups = sdk.Query(.{ .pickup = .{ c.Pickup, .read } }, .{});
const Sparks = sdk.Query(.{ .spark = .{ c.Spark, .read } }, .{});
const W = sdk.World(.{
    .queries = .{ .rocks = Rocks, .hunters = Hunters, .ships = Ships, .bullets = Bullets, .pickups = Pickups, .sparks = Sparks },
    .resources = .{ .arena = .{ c.Arena, .write }, .score = .{ c.Score, .write }, .rng = .{ c.Rng, .write }, .waves = .{ c.Waves, .read } },
});

const api = sdk.system(W, .{ .name = "waves", .build_id = build_id, .order = 60, .run = run });

export fn plugin_entry() *const sdk.Api {
    return &api;
}

fn run(w: *W) !void {
    const game = w.resource(.arena);
    switch (game.state) {
        1 => start(w),
        2 => {
            if (w.query(.rocks).count() + w.query(.hunters).count() != 0) {
                game.timer = 0;
                return;
            }
            game.timer += w.dt;
            const table = w.resource(.waves);
            if (game.timer >= if (table.count == 0) breather else table.breather) {
                game.timer = 0;
                game.wave += 1;
                spawnWave(w, game.wave);
            }
        },
        3 => game.timer += w.dt,
        else => {},
    }
}

fn start(w: *W) void {
    inline for (.{ .rocks, .hunters, .ships, .bullets, .pickups, .sparks }) |q| {
        var tables = w.query(q);
        while (tables.next()) |t| for (t.entities) |e| w.despawn(e);
    }
    const game = w.resource(.arena);
    game.state = 2;
    game.lives = 3;
    game.wave = 0;
    game.timer = 0;
    game.kills = 0;
    w.resource(.score).value = 0;
    w.spawn(.{
        c.Position{ .x = w.width() / 2, .y = w.height() / 2 },
        c.Velocity{},
        c.Heading{ .angle = -std.math.pi / 2.0 },
        c.Body{ .radius = 10, .layer = c.layer_ship },
        c.Control{},
        c.Ship{},
    });
}

const Wave = struct { rocks: u32, hunters: u32, min_speed: f32, max_speed: f32 };

/// Wave `wave` (from 1): its row of the table, the last row once the table ends.
fn waveOf(w: *W, wave: u32) Wave {
    const t = w.resource(.waves);
    if (t.count == 0) return .{
        .rocks = @min(first_rocks + wave - 1, max_rocks),
        .hunters = @min(wave -| 1, max_hunters),
        .min_speed = 30,
        .max_speed = 70 + 6 * @as(f32, @floatFromInt(wave)),
    };
    const i = @min(wave -| 1, @min(t.count, c.max_waves) - 1);
    return .{ .rocks = @min(t.rocks[i], most), .hunters = @min(t.hunters[i], most), .min_speed = t.min_speed[i], .max_speed = t.max_speed[i] };
}

fn spawnWave(w: *W, wave: u32) void {
    const rng = &w.resource(.rng).state;
    const row = waveOf(w, wave);
    for (0..row.rocks) |_| {
        const p = edgePoint(w, rng);
        const a = sdk.randomRange(rng, 0, std.math.tau);
        const s = sdk.randomRange(rng, row.min_speed, row.max_speed);
        arena.spawnRock(w, rng, 3, p[0], p[1], @cos(a) * s, @sin(a) * s);
    }
    for (0..row.hunters) |_| {
        const p = edgePoint(w, rng);
        w.spawn(.{
            c.Position{ .x = p[0], .y = p[1] },
            c.Velocity{},
            c.Heading{},
            c.Body{ .radius = arena.hunter_radius, .layer = c.layer_hunter },
            c.Hunter{ .hp = 2 },
        });
    }
}

/// A point near one of the four edges: waves come from outside, away from the ship.
fn edgePoint(w: *W, rng: *align(1) u64) [2]f32 {
    const along = sdk.randomFloat(rng);
    const inset: f32 = 30;
    return switch (sdk.nextRandom(rng) % 4) {
        0 => .{ along * w.width(), inset },
        1 => .{ along * w.width(), w.height() - inset },
        2 => .{ inset, along * w.height() },
        else => .{ w.width() - inset, along * w.height() },
    };
}
