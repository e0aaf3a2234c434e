//! Arena: the player's keys fly the ship. Left/Right turn, Up thrusts, Down brakes, X or
//! Ctrl fires, Enter starts a new game after "game over". A few seconds without a key and
//! the autopilot takes over (see autopilot.zig); any key takes the ship back.
const std = @import("std");
const sdk = @import("sdk");
const c = @import("components");
const shared = @import("shared/arena.zig");
pub const panic = sdk.panic;

pub const build_id: u32 = 1;

const Ships = sdk.Query(.{ .control = .{ c.Control, .write } }, .{ .with = .{c.Ship} });
const W = sdk.World(.{ .queries = .{ .ships = Ships }, .resources = .{ .arena = .{ c.Arena, .write } } });

const api = sdk.system(W, .{ .name = "pilot", .build_id = build_id, .order = 1, .run = run });

export fn plugin_entry() *const sdk.Api {
    return &api;
}

fn run(w: *W) !void {
    const arena = w.resource(.arena);
    if (arena.state == 0) return; // another scene
    const in = w.input;
    arena.idle = if (in.anyKey()) 0 else @min(arena.idle + w.dt, 1_000);
    if (arena.state == 3 and in.pressed(.enter)) arena.state = 1;
    if (arena.idle >= shared.autopilot_after) return;
    const turn = axis(in.held(.right), in.held(.left));
    const thrust = axis(in.held(.up), in.held(.down)) * @as(f32, if (in.held(.down)) 0.5 else 1);
    const fire: u32 = @intFromBool(in.held(.x) or in.held(.left_ctrl) or in.held(.right_ctrl));
    var tables = w.query(.ships);
    while (tables.next()) |t| {
        @memset(t.control.turn, turn);
        @memset(t.control.thrust, thrust);
        @memset(t.control.fire, fire);
    }
}

fn axis(plus: bool, minus: bool) f32 {
    return @as(f32, @floatFromInt(@intFromBool(plus))) - @as(f32, @floatFromInt(@intFromBool(minus)));
}
