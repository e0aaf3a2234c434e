//! Lifetime: every timer counts down, and an entity whose timer is at zero or below is
//! despawned at the end of the step. Shows commands from a hot loop: the countdown is
//! SIMD, and only the rare chunk where a timer ran out drops to the per-entity despawn.
const std = @import("std");
const sdk = @import("sdk");
const c = @import("components");
pub const panic = sdk.panic;

pub const build_id: u32 = 1;

const Timed = sdk.Query(.{ .life = .{ c.Lifetime, .read_write } }, .{});
const W = sdk.World(.{ .queries = .{ .timed = Timed } });

const api = sdk.system(W, .{ .name = "lifetime", .build_id = build_id, .order = 50, .run = run });

export fn plugin_entry() *const sdk.Api {
    return &api;
}

/// One bit per row of a chunk of `sdk.lanes` rows.
const Mask = @Int(.unsigned, sdk.lanes);

fn run(w: *W) !void {
    var tables = w.query(.timed);
    while (tables.next()) |t| {
        var i: usize = 0;
        while (i < t.len) : (i += sdk.lanes) {
            var expired = countdown(t.life.seconds, i, w.dt);
            // Despawns land at the end of the step. Every expired entity is asked for, not
            // only the ones that just ran out: one dropped by a full command buffer (the
            // host reports it and grows the buffer) goes the step after.
            while (expired != 0) : (expired &= expired - 1) {
                w.despawn(t.entities[i + @ctz(expired)]);
            }
        }
    }
}

/// seconds -= dt for the chunk of rows starting at `i` (fewer than `sdk.lanes` at the end
/// of the slice). Returns a bit per row whose timer is now at zero or below.
fn countdown(seconds: []f32, i: usize, dt: f32) Mask {
    if (i + sdk.lanes <= seconds.len) {
        const zero: sdk.Vf = @splat(0);
        const before = sdk.load(seconds, i);
        const after = before - @as(sdk.Vf, @splat(dt));
        sdk.store(seconds, i, after);
        return @bitCast(after <= zero);
    }
    var mask: Mask = 0;
    for (seconds[i..], 0..) |*s, lane| {
        const before = s.*;
        s.* = before - dt;
        if (s.* <= 0) mask |= @as(Mask, 1) << @intCast(lane);
    }
    return mask;
}

test "countdown reports every timer at zero or below" {
    // Rows 0-7 take the vector path, rows 8-9 the scalar tail.
    var seconds = [_]f32{ 5, 0.5, 1, -1, 2, 3, 0.25, 4, 1, 0 };
    try std.testing.expectEqual(@as(Mask, 0b0100_1110), countdown(&seconds, 0, 1));
    try std.testing.expectEqual(@as(Mask, 0b11), countdown(&seconds, 8, 1));
    try std.testing.expectEqual(@as(f32, 4), seconds[0]);
    try std.testing.expectEqual(@as(f32, -1), seconds[9]);
    // Row 4 (2 -> 1 -> 0) joins the ones already out.
    try std.testing.expectEqual(@as(Mask, 0b0101_1110), countdown(&seconds, 0, 1));
}
