//! Flock: every boid steers by its neighbours in the spatial grid: away from the ones too
//! close (separation), along with their heading (alignment), towards their middle
//! (cohesion), and away from the predator (the mouse; with no mouse, a hawk circling on
//! its own). Everything it reads comes from the grid as the last step left it, so boids
//! are steered in the grid's cell order (neighbours are close in memory: 10x faster at
//! 50k than visiting them row by row) and the result does not depend on that order.
const std = @import("std");
const sdk = @import("sdk");
const c = @import("components");
pub const panic = sdk.panic;

pub const build_id: u32 = 1;

/// Pixels: who counts as a neighbour, and who is too close.
const radius: f32 = 10;
const personal: f32 = 5;
/// Boids looked at per row of cells (three rows), at most: a crowd costs no more than this.
const per_row: u32 = 32;
/// Steering strengths (per second) and the top speed: tunables, changed live in the
/// window (F3), so `run` reads them each step and hands them to `steer`.
const Weights = struct { separation: f32 = 5, alignment: f32 = 3, cohesion: f32 = 1.1, max_speed: f32 = 150 };
const defaults: Weights = .{};
/// Fleeing: within `fear` pixels of the predator, pushed away this hard.
const fear: f32 = 140;
const flee: f32 = 900;
/// Speed limits (pixels per second) and the push back from the edges.
const min_speed: f32 = 60;
const margin: f32 = 60;
const edge_push: f32 = 700;

const Flock = sdk.Query(.{ .pos = .{ c.Position, .read }, .vel = .{ c.Velocity, .read_write } }, .{ .with = .{c.Boid} });
const W = sdk.World(.{
    .queries = .{ .flock = Flock },
    .resources = .{ .grid = .{ c.Grid, .read }, .predator = .{ c.Predator, .write } },
    .tunables = .{
        .separation = sdk.Tunable{ .default = defaults.separation, .min = 0, .max = 20 },
        .alignment = sdk.Tunable{ .default = defaults.alignment, .min = 0, .max = 10 },
        .cohesion = sdk.Tunable{ .default = defaults.cohesion, .min = 0, .max = 5 },
        .max_speed = sdk.Tunable{ .default = defaults.max_speed, .min = min_speed, .max = 400, .step = 5 },
    },
});

const api = sdk.system(W, .{ .name = "boids", .build_id = build_id, .order = 15, .run = run });

export fn plugin_entry() *const sdk.Api {
    return &api;
}

fn run(w: *W) !void {
    var flock = w.query(.flock);
    if (flock.count() == 0) return; // another scene
    const hawk = w.resource(.predator);
    const in = w.input;
    if (in.mouse_in_window != 0) {
        hawk.x = in.mouse_x;
        hawk.y = in.mouse_y;
    } else {
        const t = @as(f32, @floatFromInt(w.step())) * w.dt;
        hawk.x = w.width() * (0.5 + 0.38 * @cos(t * 0.41));
        hawk.y = w.height() * (0.5 + 0.36 * @sin(t * 0.67));
    }
    const g = w.resource(.grid);
    const size = [2]f32{ w.width(), w.height() };
    // Steer in the grid's order, so neighbours are next to each other in memory, into
    // `steered`; then hand each boid its row's result by entity.
    const items: usize = g.count;
    const weights: Weights = .{
        .separation = w.tune(.separation),
        .alignment = w.tune(.alignment),
        .cohesion = w.tune(.cohesion),
        .max_speed = w.tune(.max_speed),
    };
    for (0..items) |k| {
        if (g.layer[k] != c.layer_boid) continue;
        steered[k] = steer(g, .{ g.x[k], g.y[k] }, .{ g.vx[k], g.vy[k] }, .{ hawk.x, hawk.y }, size, w.dt, weights);
        const e = g.entity[k].index();
        if (e < item_of.len) item_of[e] = @intCast(k);
    }
    while (flock.next()) |t| {
        for (t.entities, t.vel.x, t.vel.y) |e, *vx, *vy| {
            const i = e.index();
            if (i >= item_of.len) continue;
            const k = item_of[i];
            if (k >= items or g.entity[k] != e) continue; // not in the grid yet: spawned this step
            vx.* = steered[k][0];
            vy.* = steered[k][1];
        }
    }
}

/// Scratch for one step (not state: nothing in them outlives `run`).
var steered: [c.Grid.capacity][2]f32 = undefined;
var item_of: [1 << 21]u32 = undefined;

fn steer(g: anytype, p: [2]f32, v: [2]f32, hawk: [2]f32, size: [2]f32, dt: f32, weights: Weights) [2]f32 {
    const L = sdk.lanes;
    const V = sdk.Vf;
    const zero: V = @splat(0);
    const px: V = @splat(p[0]);
    const py: V = @splat(p[1]);
    const iota = std.simd.iota(u32, L);
    var sep_x = zero;
    var sep_y = zero;
    var ali_x = zero;
    var ali_y = zero;
    var mid_x = zero;
    var mid_y = zero;
    var count = zero;
    // Neighbours a row of cells at a time, `lanes` of them at once: whether a boid is a
    // neighbour is a coin toss a branch would mispredict, so every sum is weighted instead.
    // In a crowd each row gives the same share, taken from around the boid's own column, so
    // the few it looks at lie on every side of it.
    var runs = sdk.grid.rows(g, p[0], p[1], radius);
    while (runs.next()) |span| {
        const first, const end, const middle = span;
        const lo = @max(first, @min(middle -| per_row / 2, end -| per_row));
        const hi = @min(end, lo + per_row);
        var k = lo;
        while (k < hi) : (k += L) {
            const in_run = @as(@Vector(L, u32), @splat(k)) + iota < @as(@Vector(L, u32), @splat(hi));
            const at = @min(k, c.Grid.capacity - L); // the last lanes of the grid: read in bounds
            const shift = k - at; // 0 except there, where lanes are realigned below
            const qx = shifted(lanesAt(&g.x, at), shift);
            const qy = shifted(lanesAt(&g.y, at), shift);
            const layer = shiftedU(lanesAtU(&g.layer, at), shift);
            const dx = px - qx;
            const dy = py - qy;
            const d2 = dx * dx + dy * dy;
            // d2 > 0 leaves the boid itself out (and any boid exactly on top of it).
            const boid = in_run & (layer == @as(@Vector(L, u32), @splat(c.layer_boid))) & (d2 > zero);
            const near_w = @select(f32, boid & (d2 <= @as(V, @splat(radius * radius))), @as(V, @splat(1)), zero);
            const close = boid & (d2 < @as(V, @splat(personal * personal)));
            const push = @select(f32, close, @as(V, @splat(personal)) / @max(d2, @as(V, @splat(0.01))), zero);
            sep_x += dx * push;
            sep_y += dy * push;
            ali_x += shifted(lanesAt(&g.vx, at), shift) * near_w;
            ali_y += shifted(lanesAt(&g.vy, at), shift) * near_w;
            mid_x += qx * near_w;
            mid_y += qy * near_w;
            count += near_w;
        }
    }
    const sep = [2]f32{ @reduce(.Add, sep_x), @reduce(.Add, sep_y) };
    const ali = [2]f32{ @reduce(.Add, ali_x), @reduce(.Add, ali_y) };
    const mid = [2]f32{ @reduce(.Add, mid_x), @reduce(.Add, mid_y) };
    const n = @reduce(.Add, count);
    var out = v;
    if (n > 0) {
        const inv: f32 = 1 / n;
        out[0] += ((ali[0] * inv - v[0]) * weights.alignment + (mid[0] * inv - p[0]) * weights.cohesion + sep[0] * weights.separation * 60) * dt;
        out[1] += ((ali[1] * inv - v[1]) * weights.alignment + (mid[1] * inv - p[1]) * weights.cohesion + sep[1] * weights.separation * 60) * dt;
    }
    const hx = p[0] - hawk[0];
    const hy = p[1] - hawk[1];
    const hd2 = hx * hx + hy * hy;
    if (hd2 < fear * fear) {
        const hd = @max(@sqrt(hd2), 1);
        const push = flee * (1 - hd / fear) * dt / hd;
        out[0] += hx * push;
        out[1] += hy * push;
    }
    if (p[0] < margin) out[0] += edge_push * dt;
    if (p[0] > size[0] - margin) out[0] -= edge_push * dt;
    if (p[1] < margin) out[1] += edge_push * dt;
    if (p[1] > size[1] - margin) out[1] -= edge_push * dt;
    const speed = @sqrt(out[0] * out[0] + out[1] * out[1]);
    const limited = std.math.clamp(speed, min_speed, weights.max_speed);
    if (speed > 0.001 and limited != speed) {
        out[0] *= limited / speed;
        out[1] *= limited / speed;
    }
    return out;
}

test "a boid flees the predator and keeps its speed within the limits" {
    var g: c.Grid = .{};
    sdk.grid.begin(&g, 100, 100);
    sdk.grid.offsets(&g);
    sdk.grid.finish(&g);
    const v = steer(&g, .{ 50, 50 }, .{ 0, 0 }, .{ 40, 50 }, .{ 100, 100 }, 1.0 / 60.0, defaults);
    try std.testing.expect(v[0] > 0); // away from the hawk on its left
    try std.testing.expect(@sqrt(v[0] * v[0] + v[1] * v[1]) <= defaults.max_speed + 0.01);
}

fn lanesAt(a: anytype, at: u32) sdk.Vf {
    return a[at..][0..sdk.lanes].*;
}

fn lanesAtU(a: anytype, at: u32) @Vector(sdk.lanes, u32) {
    return a[at..][0..sdk.lanes].*;
}

/// Lanes moved down by `shift` (only at the very end of the grid's arrays, where a chunk was
/// read from further back to stay in bounds); the lanes shifted in are past the run.
fn shifted(v: sdk.Vf, shift: u32) sdk.Vf {
    if (shift == 0) return v;
    var a: [sdk.lanes]f32 = v;
    var out: [sdk.lanes]f32 = @splat(0);
    for (0..sdk.lanes - shift) |i| out[i] = a[i + shift];
    a = out;
    return a;
}

fn shiftedU(v: @Vector(sdk.lanes, u32), shift: u32) @Vector(sdk.lanes, u32) {
    if (shift == 0) return v;
    const a: [sdk.lanes]u32 = v;
    var out: [sdk.lanes]u32 = @splat(0);
    for (0..sdk.lanes - shift) |i| out[i] = a[i + shift];
    return out;
}
