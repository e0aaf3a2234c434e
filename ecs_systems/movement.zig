//! Integration: position += velocity * dt, for every entity that moves and is not frozen.
const std = @import("std");
const sdk = @import("sdk");
const c = @import("components");
pub const panic = sdk.panic;

pub const build_id: u32 = 1;

const Movers = sdk.Query(.{ .pos = .{ c.Position, .read_write }, .vel = .{ c.Velocity, .read } }, .{ .without = .{c.Frozen} });
const W = sdk.World(.{ .queries = .{ .movers = Movers } });

const api = sdk.system(W, .{ .name = "movement", .build_id = build_id, .order = 20, .run = run });

export fn plugin_entry() *const sdk.Api {
    return &api;
}

fn run(w: *W) !void {
    var tables = w.query(.movers);
    while (tables.next()) |t| {
        integrate(t.pos.x, t.vel.x, w.dt);
        integrate(t.pos.y, t.vel.y, w.dt);
    }
}

/// pos[i] += vel[i] * dt, eight lanes at a time.
fn integrate(pos: []f32, vel: []const f32, dt: f32) void {
    const dtv: sdk.Vf = @splat(dt);
    var i: usize = 0;
    while (i + sdk.lanes <= pos.len) : (i += sdk.lanes) {
        sdk.store(pos, i, sdk.load(pos, i) + sdk.load(vel, i) * dtv);
    }
    while (i < pos.len) : (i += 1) pos[i] += vel[i] * dt;
}

test "integrate matches the scalar formula on a ragged length" {
    var pos = [_]f32{ 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10 };
    const vel = [_]f32{ 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, -10 };
    integrate(&pos, &vel, 0.5);
    try std.testing.expectEqual(@as(f32, 0.5), pos[0]);
    try std.testing.expectEqual(@as(f32, 8.5), pos[8]);
    try std.testing.expectEqual(@as(f32, 5.0), pos[10]);
}
