//! A uniform spatial grid, kept in a resource so every system can read it.
//!
//! `components.zig` declares the resource (`pub const Grid = sdk.grid.Grid(capacity, cells)`);
//! the `grid` system fills it every step from each entity with a `Body`; any system that
//! declares `.grid = .{ c.Grid, .read }` asks what is near a point:
//!
//!     var it = sdk.grid.near(g, x, y, radius);
//!     while (it.next()) |i| if (sdk.grid.touches(g, i, x, y, radius)) ... g.entity[i], g.x[i], g.layer[i] ...
//!
//! Items are sorted by cell (counting sort, in query order), so a neighbourhood is a few
//! short runs of memory. Being a resource, the grid is saved, rewound and carried across a
//! reload with the world, and a system reading it sees the last `grid` step's bodies.
const std = @import("std");
const Entity = @import("sdk.zig").Entity;

/// The resource type: room for `cap` bodies over up to `max_cells` cells.
pub fn Grid(comptime cap: u32, comptime max_cells: u32) type {
    return struct {
        /// Side of a cell in pixels; the builder widens it when the world would need more
        /// than `max_cells` cells. A scene sets it for its typical neighbourhood.
        cell: f32 = 24,
        cols: u32 = 0,
        rows: u32 = 0,
        /// Bodies in the grid this step.
        count: u32 = 0,
        /// Bodies left out this step because the grid was full.
        dropped: u32 = 0,
        /// The items of cell k are `start[k] .. start[k + 1]`.
        start: [max_cells + 1]u32 = @splat(0),
        entity: [cap]Entity = @splat(.none),
        x: [cap]f32 = @splat(0),
        y: [cap]f32 = @splat(0),
        vx: [cap]f32 = @splat(0),
        vy: [cap]f32 = @splat(0),
        radius: [cap]f32 = @splat(0),
        layer: [cap]u32 = @splat(0),
        pub const resource = true;
        pub const capacity = cap;
    };
}

fn cellsOf(g: anytype) usize {
    return g.start.len - 1;
}

fn capacityOf(g: anytype) usize {
    return g.x.len;
}

/// Starts a build over a world of `width` x `height`: sizes the cells and clears the counts.
pub fn begin(g: anytype, width: f32, height: f32) void {
    if (!(g.cell >= 1)) g.cell = 24;
    var cols = cellCount(width, g.cell);
    var lines = cellCount(height, g.cell);
    while (@as(usize, cols) * lines > cellsOf(g)) {
        g.cell *= 1.5;
        cols = cellCount(width, g.cell);
        lines = cellCount(height, g.cell);
    }
    g.cols = cols;
    g.rows = lines;
    g.count = 0;
    g.dropped = 0;
    @memset(g.start[0 .. @as(usize, cols) * lines + 1], 0);
}

fn cellCount(extent: f32, cell: f32) u32 {
    return @intFromFloat(@min(@max(@ceil(extent / cell), 1), 1 << 20));
}

/// The cell of a point; points outside the world go to the nearest edge cell.
pub fn cellOf(g: anytype, x: f32, y: f32) u32 {
    return cellRow(g, y) * g.cols + cellCol(g, x);
}

fn cellCol(g: anytype, x: f32) u32 {
    const c = x / g.cell;
    return if (c >= 0) @min(@as(u32, @intFromFloat(@min(c, 1 << 20))), g.cols - 1) else 0; // NaN: 0
}

fn cellRow(g: anytype, y: f32) u32 {
    const r = y / g.cell;
    return if (r >= 0) @min(@as(u32, @intFromFloat(@min(r, 1 << 20))), g.rows - 1) else 0;
}

/// First pass: counts a body at (x, y). False when the grid is full (the body is left out,
/// and must be left out of the second pass too: call both in the same order).
pub fn count(g: anytype, x: f32, y: f32) bool {
    if (g.count >= capacityOf(g)) {
        g.dropped += 1;
        return false;
    }
    g.count += 1;
    g.start[cellOf(g, x, y)] += 1;
    return true;
}

/// Between the passes: each cell's count becomes where its items begin.
pub fn offsets(g: anytype) void {
    const n = @as(usize, g.cols) * g.rows;
    var sum: u32 = 0;
    for (g.start[0..n]) |*s| {
        const c = s.*;
        s.* = sum;
        sum += c;
    }
    g.start[n] = sum;
}

/// Second pass: places a body counted in the first (same order).
pub fn place(g: anytype, e: Entity, x: f32, y: f32, vx: f32, vy: f32, radius: f32, layer: u32) void {
    const k = cellOf(g, x, y);
    const i = g.start[k];
    g.start[k] = i + 1;
    g.entity[i] = e;
    g.x[i] = x;
    g.y[i] = y;
    g.vx[i] = vx;
    g.vy[i] = vy;
    g.radius[i] = radius;
    g.layer[i] = layer;
}

/// After the second pass: each cell's `start` is back to where its items begin.
pub fn finish(g: anytype) void {
    const n = @as(usize, g.cols) * g.rows;
    var k = n;
    while (k > 0) : (k -= 1) g.start[k] = g.start[k - 1];
    g.start[0] = 0;
}

/// Iterates the items of every cell the square (x ± r, y ± r) touches: the cell of
/// (x, y) first (the nearest items, for a caller that stops after a few), then the rest.
pub const Near = struct {
    start: [*]align(1) const u32,
    cols: u32,
    centre: u32,
    col0: u32,
    col1: u32,
    row1: u32,
    col: u32,
    row: u32,
    i: u32,
    end: u32,

    pub fn next(it: *Near) ?u32 {
        while (it.i >= it.end) {
            if (it.row > it.row1) return null;
            const k = it.row * it.cols + it.col;
            if (it.col == it.col1) {
                it.col = it.col0;
                it.row += 1;
            } else it.col += 1;
            if (k == it.centre) continue; // visited first
            it.i = it.start[k];
            it.end = it.start[k + 1];
        }
        it.i += 1;
        return it.i - 1;
    }
};

/// What is near (x, y): every item in the cells within `r` of it (a superset; filter with
/// `touches` or your own distance test), the items of (x, y)'s own cell first. Empty
/// before the first build.
pub fn near(g: anytype, x: f32, y: f32, r: f32) Near {
    if (g.cols == 0 or g.rows == 0) return .{ .start = &g.start, .cols = 0, .centre = 0, .col0 = 0, .col1 = 0, .row1 = 0, .col = 0, .row = 1, .i = 0, .end = 0 };
    const col0 = cellCol(g, x - r);
    const row0 = cellRow(g, y - r);
    const centre = cellOf(g, x, y);
    return .{
        .start = &g.start,
        .cols = g.cols,
        .centre = centre,
        .col0 = col0,
        .col1 = cellCol(g, x + r),
        .row1 = cellRow(g, y + r),
        .col = col0,
        .row = row0,
        .i = g.start[centre],
        .end = g.start[centre + 1],
    };
}

/// The items near (x, y) as runs of consecutive items, one run per row of cells the
/// square (x ± r, y ± r) touches, the row of (x, y) first: for loops that take items
/// `lanes` at a time (see boids.zig). Each run is `.{ first, end, middle }`: items
/// `[first, end)`, and `middle` the middle of the items of (x, y)'s column, for a loop that
/// takes only some of a crowded run and wants them from around the point, not one side.
pub const Rows = struct {
    start: [*]align(1) const u32,
    cols: u32,
    col0: u32,
    col1: u32,
    col: u32,
    row0: u32,
    rows: u32,
    mid: u32,
    n: u32 = 0,

    pub fn next(it: *Rows) ?[3]u32 {
        if (it.n >= it.rows) return null;
        // 0 is the middle row; then the others top to bottom, skipping it.
        var row = if (it.n == 0) it.mid else it.row0 + it.n - 1;
        if (it.n != 0 and row >= it.mid) row += 1;
        it.n += 1;
        const first = row * it.cols;
        const middle = (it.start[first + it.col] + it.start[first + it.col + 1]) / 2;
        return .{ it.start[first + it.col0], it.start[first + it.col1 + 1], middle };
    }
};

pub fn rows(g: anytype, x: f32, y: f32, r: f32) Rows {
    if (g.cols == 0 or g.rows == 0) return .{ .start = &g.start, .cols = 0, .col0 = 0, .col1 = 0, .col = 0, .row0 = 0, .rows = 0, .mid = 0 };
    const row0 = cellRow(g, y - r);
    return .{
        .start = &g.start,
        .cols = g.cols,
        .col0 = cellCol(g, x - r),
        .col1 = cellCol(g, x + r),
        .col = cellCol(g, x),
        .row0 = row0,
        .rows = cellRow(g, y + r) - row0 + 1,
        .mid = cellRow(g, y),
    };
}

/// Whether item `i` overlaps the circle of radius `r` at (x, y).
pub fn touches(g: anytype, i: u32, x: f32, y: f32, r: f32) bool {
    const dx = g.x[i] - x;
    const dy = g.y[i] - y;
    const reach = r + g.radius[i];
    return dx * dx + dy * dy <= reach * reach;
}

test "a built grid finds exactly the bodies near a point" {
    const G = Grid(16, 64);
    var g: G = .{ .cell = 10 };
    const pts = [_][2]f32{ .{ 5, 5 }, .{ 95, 55 }, .{ 12, 8 }, .{ -40, 500 }, .{ 50, 30 } };
    begin(&g, 100, 60);
    try std.testing.expectEqual(@as(u32, 10), g.cols);
    for (pts) |p| try std.testing.expect(count(&g, p[0], p[1]));
    offsets(&g);
    for (pts, 0..) |p, i| place(&g, @fromBackingInt(@intCast(i + 1)), p[0], p[1], 0, 0, 1, 1);
    finish(&g);
    try std.testing.expectEqual(@as(u32, 5), g.start[60]);
    var found: u32 = 0;
    var it = near(&g, 8, 6, 6);
    while (it.next()) |i| {
        if (touches(&g, i, 8, 6, 6)) found |= @as(u32, 1) << @intCast(@backingInt(g.entity[i]));
    }
    try std.testing.expectEqual(@as(u32, 0b1010), found); // entities 1 and 3: the first and third points
    // Off-world bodies sit in the edge cells and are found there.
    it = near(&g, 0, 59, 1);
    var any = false;
    while (it.next()) |i| any = any or g.entity[i] == @as(Entity, @fromBackingInt(@intCast(4)));
    try std.testing.expect(any);
}

test "rows cover the same items as near, the middle row first" {
    const G = Grid(64, 64);
    var g: G = .{ .cell = 10 };
    begin(&g, 60, 60);
    var n: u32 = 0;
    while (n < 36) : (n += 1) _ = count(&g, @floatFromInt(n % 6 * 10 + 5), @floatFromInt(n / 6 * 10 + 5));
    offsets(&g);
    n = 0;
    while (n < 36) : (n += 1) place(&g, @fromBackingInt(@intCast(n + 1)), @floatFromInt(n % 6 * 10 + 5), @floatFromInt(n / 6 * 10 + 5), 0, 0, 1, 1);
    finish(&g);
    var seen: u64 = 0;
    var it = rows(&g, 25, 25, 10);
    const first = it.next().?;
    try std.testing.expectEqual(@as(f32, 25), g.y[first[0]]); // the middle row
    var runs: u32 = 1;
    var k = first[0];
    while (k < first[1]) : (k += 1) seen |= @as(u64, 1) << @intCast(k);
    while (it.next()) |run| {
        runs += 1;
        k = run[0];
        while (k < run[1]) : (k += 1) seen |= @as(u64, 1) << @intCast(k);
    }
    try std.testing.expectEqual(@as(u32, 3), runs);
    var want: u64 = 0;
    var near_it = near(&g, 25, 25, 10);
    while (near_it.next()) |i| want |= @as(u64, 1) << @intCast(i);
    try std.testing.expectEqual(want, seen);
    try std.testing.expectEqual(@as(u32, 9), @popCount(seen));
}

test "a full grid counts what it leaves out" {
    var g: Grid(2, 4) = .{ .cell = 1000 };
    begin(&g, 10, 10);
    try std.testing.expect(count(&g, 1, 1) and count(&g, 2, 2));
    try std.testing.expect(!count(&g, 3, 3));
    try std.testing.expectEqual(@as(u32, 1), g.dropped);
}
