//! Arena: draws the game over the frame `render` faded (so fast things leave trails):
//! asteroids as tumbling rocks, hunters, the ship (blinking while safe, with its flame),
//! bullets, pickups, sparks, and the score, wave and lives; "game over" and the autopilot
//! are said on screen. The ship is the picture in `assets/arena/ship.png` (the `ShipSprite`
//! resource), turned with its heading; an outline while no picture is loaded.
const std = @import("std");
const sdk = @import("sdk");
const c = @import("components");
const shared = @import("shared/arena.zig");
pub const panic = sdk.panic;

pub const build_id: u32 = 1;

const ship_rgb: u32 = 0xE8F4FF;
const rock_rgb: u32 = 0xC8B89A;
const hunter_rgb: u32 = 0xFF4A90;
const bullet_rgb: u32 = 0xFFE060;
const text_rgb: u32 = 0xFFFFFF;
const pickup_rgb = [3]u32{ 0x60FF90, 0xFFD040, 0x50D8FF };
const pickup_letter = [3][]const u8{ "+", "R", "S" };

const Ships = sdk.Query(.{ .pos = .{ c.Position, .read }, .heading = .{ c.Heading, .read }, .ship = .{ c.Ship, .read } }, .{});
const Rocks = sdk.Query(.{ .pos = .{ c.Position, .read }, .heading = .{ c.Heading, .read }, .rock = .{ c.Asteroid, .read }, .body = .{ c.Body, .read } }, .{});
const Hunters = sdk.Query(.{ .pos = .{ c.Position, .read }, .heading = .{ c.Heading, .read } }, .{ .with = .{c.Hunter} });
const Bullets = sdk.Query(.{ .pos = .{ c.Position, .read }, .vel = .{ c.Velocity, .read } }, .{ .with = .{c.Bullet} });
const Pickups = sdk.Query(.{ .pos = .{ c.Position, .read }, .pickup = .{ c.Pickup, .read }, .life = .{ c.Lifetime, .read } }, .{});
const Sparks = sdk.Query(.{ .pos = .{ c.Position, .read }, .spark = .{ c.Spark, .read }, .life = .{ c.Lifetime, .read } }, .{});
const W = sdk.World(.{
    .queries = .{ .ships = Ships, .rocks = Rocks, .hunters = Hunters, .bullets = Bullets, .pickups = Pickups, .sparks = Sparks },
    .resources = .{ .arena = .{ c.Arena, .read }, .score = .{ c.Score, .read }, .ship_sprite = .{ c.ShipSprite, .read } },
});

const api = sdk.system(W, .{ .name = "arena_draw", .build_id = build_id, .kind = .render, .order = 10, .run = run });

export fn plugin_entry() *const sdk.Api {
    return &api;
}

const ship_shape = [_][2]f32{ .{ 14, 0 }, .{ -9, -8 }, .{ -5, 0 }, .{ -9, 8 } };
const hunter_shape = [_][2]f32{ .{ 12, 0 }, .{ 0, -7 }, .{ -8, 0 }, .{ 0, 7 } };

fn run(w: *W) !void {
    const game = w.resource(.arena);
    if (game.state == 0) return;
    const cv = sdk.draw.Canvas.init(try w.target());
    const blink = w.step() / 8 % 2 == 0;

    var sparks = w.query(.sparks);
    while (sparks.next()) |t| {
        for (t.pos.x, t.pos.y, t.spark.rgb, t.life.seconds) |x, y, rgb, life| {
            cv.glow(@intFromFloat(@max(@min(x, 1e6), -1)), @intFromFloat(@max(@min(y, 1e6), -1)), dim(rgb, @min(life / 0.5, 1)));
        }
    }
    var bullets = w.query(.bullets);
    while (bullets.next()) |t| {
        for (t.pos.x, t.pos.y, t.vel.x, t.vel.y) |x, y, vx, vy| cv.line(x, y, x - vx * 0.012, y - vy * 0.012, bullet_rgb);
    }
    var rocks = w.query(.rocks);
    while (rocks.next()) |t| {
        for (0..t.len) |i| rock(cv, t.pos.x[i], t.pos.y[i], t.heading.angle[i], t.body.radius[i], t.rock.seed[i]);
    }
    var hunters = w.query(.hunters);
    while (hunters.next()) |t| {
        for (t.pos.x, t.pos.y, t.heading.angle) |x, y, a| {
            cv.shape(x, y, a, 1, &hunter_shape, hunter_rgb);
            cv.dot(x, y, 3, 0xFFFFFF);
        }
    }
    var pickups = w.query(.pickups);
    while (pickups.next()) |t| {
        for (t.pos.x, t.pos.y, t.pickup.kind, t.life.seconds) |x, y, kind, life| {
            if (life < 2 and blink) continue; // about to vanish
            const k = @min(kind, 2);
            cv.circle(x, y, 8, pickup_rgb[k]);
            _ = cv.text(@as(i32, @intFromFloat(x)) - 1, @as(i32, @intFromFloat(y)) - 2, 1, pickup_rgb[k], "{s}", .{pickup_letter[k]});
        }
    }
    var ships = w.query(.ships);
    while (ships.next()) |t| {
        for (t.pos.x, t.pos.y, t.heading.angle, t.ship.safe) |x, y, a, safe| {
            if (safe > 0 and blink) continue;
            ship(cv, w, x, y, a, 1);
        }
    }
    hud(cv, w, game, blink);
}

fn hud(cv: sdk.draw.Canvas, w: *W, game: anytype, blink: bool) void {
    const right: i32 = @intCast(cv.width);
    const score = w.resource(.score).value;
    const sw = sdk.draw.Canvas.textWidth(3, "SCORE {d}", .{score});
    _ = cv.text(right - sw - 16, 12, 3, text_rgb, "SCORE {d}", .{score});
    const ww = sdk.draw.Canvas.textWidth(2, "WAVE {d}", .{game.wave});
    _ = cv.text(right - ww - 16, 36, 2, 0xA0C8FF, "WAVE {d}", .{game.wave});
    var i: i32 = 0;
    while (i < @min(game.lives, 9)) : (i += 1) {
        ship(cv, w, @floatFromInt(right - 24 - i * 20), 66, -std.math.pi / 2.0, 0.7);
    }
    const mid: i32 = @divTrunc(right, 2);
    const h: i32 = @intCast(cv.height);
    if (game.state == 3) {
        const gw = sdk.draw.Canvas.textWidth(8, "GAME OVER", .{});
        _ = cv.text(mid - @divTrunc(gw, 2), @divTrunc(h, 2) - 40, 8, 0xFF5060, "GAME OVER", .{});
        const ew = sdk.draw.Canvas.textWidth(2, "ENTER: PLAY AGAIN", .{});
        _ = cv.text(mid - @divTrunc(ew, 2), @divTrunc(h, 2) + 10, 2, text_rgb, "ENTER: PLAY AGAIN", .{});
    }
    if (game.idle >= shared.autopilot_after and !blink) {
        const aw = sdk.draw.Canvas.textWidth(2, "AUTOPILOT - ARROWS TO FLY, X TO FIRE", .{});
        _ = cv.text(mid - @divTrunc(aw, 2), h - 30, 2, 0x90FFB0, "AUTOPILOT - ARROWS TO FLY, X TO FIRE", .{});
    }
}

/// The ship's picture if one is loaded, else its outline.
fn ship(cv: sdk.draw.Canvas, w: *W, x: f32, y: f32, angle: f32, scale: f32) void {
    if (sdk.draw.Image.of(w.resource(.ship_sprite))) |img| {
        cv.sprite(img, x, y, angle, scale);
    } else {
        cv.shape(x, y, angle, scale, &ship_shape, ship_rgb);
    }
}

/// A rock: a ring of 11 corners at radii the seed chooses, turned by its tumble.
fn rock(cv: sdk.draw.Canvas, x: f32, y: f32, angle: f32, r: f32, seed: u32) void {
    var pts: [11][2]f32 = undefined;
    var h: u32 = seed | 1;
    for (&pts, 0..) |*p, k| {
        h ^= h << 13;
        h ^= h >> 17;
        h ^= h << 5;
        const rr = 0.72 + 0.28 * @as(f32, @floatFromInt(h & 255)) / 255;
        const a = @as(f32, @floatFromInt(k)) * std.math.tau / 11;
        p.* = .{ @cos(a) * rr, @sin(a) * rr };
    }
    cv.shape(x, y, angle, r, &pts, rock_rgb);
}

fn dim(rgb: u32, f: f32) u32 {
    const k: u32 = @intFromFloat(@max(@min(f, 1), 0) * 256);
    const r = (rgb >> 16 & 255) * k >> 8;
    const g = (rgb >> 8 & 255) * k >> 8;
    const b = (rgb & 255) * k >> 8;
    return r << 16 | g << 8 | b;
}
