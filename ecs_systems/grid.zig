//! The spatial grid: every step, every entity with a `Body` is sorted into the `Grid`
//! resource by cell, so any system can ask what is near a point (`sdk.grid.near`): the
//! arena's collisions and autopilot, the flock's neighbours. It runs after movement and
//! bounds, so the grid holds where things are at the end of the step.
const std = @import("std");
const sdk = @import("sdk");
const c = @import("components");
pub const panic = sdk.panic;

pub const build_id: u32 = 1;

const Bodies = sdk.Query(.{
    .pos = .{ c.Position, .read },
    .vel = .{ c.Velocity, .read },
    .body = .{ c.Body, .read },
}, .{});
const W = sdk.World(.{ .queries = .{ .bodies = Bodies }, .resources = .{ .grid = .{ c.Grid, .write } } });

const api = sdk.system(W, .{ .name = "grid", .build_id = build_id, .order = 32, .run = run });

export fn plugin_entry() *const sdk.Api {
    return &api;
}

fn run(w: *W) !void {
    const g = w.resource(.grid);
    var bodies = w.query(.bodies);
    if (bodies.count() == 0 and g.count == 0) return; // nothing to file, nothing filed
    sdk.grid.begin(g, w.width(), w.height());
    // Two passes in the same order: count per cell, then place.
    var first = w.query(.bodies);
    outer: while (first.next()) |t| {
        for (t.pos.x, t.pos.y) |x, y| if (!sdk.grid.count(g, x, y)) break :outer;
    }
    sdk.grid.offsets(g);
    var left = g.count;
    var second = w.query(.bodies);
    while (second.next()) |t| {
        const n = @min(t.len, left);
        for (0..n) |i| sdk.grid.place(g, t.entities[i], t.pos.x[i], t.pos.y[i], t.vel.x[i], t.vel.y[i], t.body.radius[i], t.body.layer[i]);
        left -= @intCast(n);
        if (left == 0) break;
    }
    sdk.grid.finish(g);
}
