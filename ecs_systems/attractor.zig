//! Attractor: every particle (an entity with a `Color`) is pulled towards the mouse
//! (pushed away while the right button is held). With no mouse in the window, a gentle
//! pull towards the centre.
//! The strengths live in the `Tunables` resource, so they can be edited live from Python.
const std = @import("std");
const sdk = @import("sdk");
const c = @import("components");
pub const panic = sdk.panic;

pub const build_id: u32 = 1;

/// Softening radius squared (px²): keeps the force finite at the centre.
const soft2: f32 = 2_500;

// Particles only: the games' entities have no Color and fly by their own rules.
// Frozen entities keep their velocity: movement skips them, so a pull would only pile up.
const Pulled = sdk.Query(.{ .pos = .{ c.Position, .read }, .vel = .{ c.Velocity, .read_write } }, .{ .with = .{c.Color}, .without = .{c.Frozen} });
const W = sdk.World(.{ .queries = .{ .pulled = Pulled }, .resources = .{ .tun = .{ c.Tunables, .read } } });

const api = sdk.system(W, .{ .name = "attractor", .build_id = build_id, .order = 10, .run = run });

export fn plugin_entry() *const sdk.Api {
    return &api;
}

fn run(w: *W) !void {
    const tun = w.resource(.tun);
    const in = w.input;
    var target = [2]f32{ w.width() / 2, w.height() / 2 };
    var k = tun.idle_attract;
    if (in.mouse_in_window != 0) {
        target = .{ in.mouse_x, in.mouse_y };
        k = if (in.button(.right)) -tun.attract else tun.attract;
    }
    var tables = w.query(.pulled);
    while (tables.next()) |t| pull(t.pos.x, t.pos.y, t.vel.x, t.vel.y, target, k * w.dt);
}

/// vel += k * d / (|d|² + soft²): a softened inverse-distance pull.
fn pull(px: []const f32, py: []const f32, vx: []f32, vy: []f32, target: [2]f32, k: f32) void {
    const tx: sdk.Vf = @splat(target[0]);
    const ty: sdk.Vf = @splat(target[1]);
    const kv: sdk.Vf = @splat(k);
    const s2: sdk.Vf = @splat(soft2);
    var i: usize = 0;
    while (i + sdk.lanes <= px.len) : (i += sdk.lanes) {
        const dx = tx - sdk.load(px, i);
        const dy = ty - sdk.load(py, i);
        const r2 = dx * dx + dy * dy + s2;
        const f = kv / r2;
        sdk.store(vx, i, sdk.load(vx, i) + dx * f);
        sdk.store(vy, i, sdk.load(vy, i) + dy * f);
    }
    while (i < px.len) : (i += 1) {
        const dx = target[0] - px[i];
        const dy = target[1] - py[i];
        const f = k / (dx * dx + dy * dy + soft2);
        vx[i] += dx * f;
        vy[i] += dy * f;
    }
}

test "pull points velocity towards the target, and away when k < 0" {
    const px = [_]f32{ 0, 100 };
    const py = [_]f32{ 0, 0 };
    var vx = [_]f32{ 0, 0 };
    var vy = [_]f32{ 0, 0 };
    pull(&px, &py, &vx, &vy, .{ 50, 0 }, 1000);
    try std.testing.expect(vx[0] > 0 and vx[1] < 0);
    try std.testing.expectEqual(@as(f32, 0), vy[0]);
    pull(&px, &py, &vx, &vy, .{ 50, 0 }, -4000);
    try std.testing.expect(vx[0] < 0 and vx[1] > 0);
}
