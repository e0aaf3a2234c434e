//! Drawing for `.render` systems: `sdk.draw.Canvas` over the frame's target, with pixels,
//! lines, circles, polygons and text in a built-in 3x5 pixel font. Every shape is clipped
//! to the target, so a system can draw anything anywhere (NaN included) without checks.
//!
//!     const cv = sdk.draw.Canvas.init(try w.target());
//!     cv.line(x0, y0, x1, y1, 0xFFD040);
//!     cv.text(10, 10, 2, 0xFFFFFF, "SCORE {d}", .{score});
//!
//! Pictures come from files: `components.zig` declares a sprite resource
//! (`pub const ShipSprite = sdk.draw.Sprite(64 * 64);`), the host fills it from a PNG under
//! `assets/` (and again whenever the file is saved), and a render system draws it turned and
//! scaled: `if (sdk.draw.Image.of(w.resource(.ship))) |img| cv.sprite(img, x, y, angle, 1);`.
const std = @import("std");
const Target = @import("sdk.zig").Target;

/// A resource holding one picture of up to `max_pixels` pixels, filled by the host from a
/// PNG (game/world/assets.py): `width` x `height` pixels, 0xAARRGGBB, row by row from the
/// top left. `width` 0: no picture (the file never loaded).
pub fn Sprite(comptime max_pixels: u32) type {
    return struct {
        width: u32 = 0,
        height: u32 = 0,
        pixels: [max_pixels]u32 = @splat(0),
        pub const resource = true;
    };
}

/// A picture for `Canvas.sprite`: `width * height` pixels 0xAARRGGBB, row by row.
pub const Image = struct {
    width: u32,
    height: u32,
    pixels: []align(1) const u32,

    /// The picture in a `Sprite` resource; null when it holds none, or when its size does
    /// not fit its pixels (a resource written by hand).
    pub fn of(s: anytype) ?Image {
        const n = @as(u64, s.width) * s.height;
        if (n == 0 or n > s.pixels.len) return null;
        return .{ .width = s.width, .height = s.height, .pixels = s.pixels[0..@intCast(n)] };
    }
};

pub const Canvas = struct {
    pixels: [*]u8,
    width: u32,
    height: u32,
    pitch: u32,

    pub fn init(t: Target) Canvas {
        return .{ .pixels = t.pixels.?, .width = t.width, .height = t.height, .pitch = t.pitch };
    }

    fn row(cv: Canvas, y: usize) [*]u32 {
        return @ptrCast(@alignCast(cv.pixels + y * cv.pitch));
    }

    /// Every pixel's channels times `keep / 256`: what is left of the last frame (trails).
    pub fn fade(cv: Canvas, keep: u16) void {
        const chunk = 32;
        const bytes = cv.pixels[0 .. @as(usize, cv.pitch) * cv.height];
        const f: @Vector(chunk, u16) = @splat(keep);
        var i: usize = 0;
        while (i + chunk <= bytes.len) : (i += chunk) {
            const v: @Vector(chunk, u16) = bytes[i..][0..chunk].*;
            bytes[i..][0..chunk].* = @truncate((v * f) >> @splat(8));
        }
        while (i < bytes.len) : (i += 1) bytes[i] = @truncate((@as(u16, bytes[i]) * keep) >> 8);
    }

    pub fn clear(cv: Canvas, rgb: u32) void {
        for (0..cv.height) |y| @memset(cv.row(y)[0..cv.width], rgb);
    }

    /// One pixel; nothing when (x, y) is outside.
    pub fn pixel(cv: Canvas, x: i32, y: i32, rgb: u32) void {
        if (x < 0 or y < 0 or x >= cv.width or y >= cv.height) return;
        cv.row(@intCast(y))[@intCast(x)] = rgb;
    }

    /// Adds `rgb` to the pixel, each channel saturating: overlapping glows brighten.
    pub fn glow(cv: Canvas, x: i32, y: i32, rgb: u32) void {
        if (x < 0 or y < 0 or x >= cv.width or y >= cv.height) return;
        const p = &cv.row(@intCast(y))[@intCast(x)];
        const a: @Vector(4, u8) = @bitCast(p.*);
        const b: @Vector(4, u8) = @bitCast(rgb);
        p.* = @bitCast(a +| b);
    }

    /// A filled square of side `size` centred on (x, y).
    pub fn dot(cv: Canvas, x: f32, y: f32, size: i32, rgb: u32) void {
        const x0 = toPixel(x) - @divTrunc(size, 2);
        const y0 = toPixel(y) - @divTrunc(size, 2);
        var dy: i32 = 0;
        while (dy < size) : (dy += 1) {
            var dx: i32 = 0;
            while (dx < size) : (dx += 1) cv.pixel(x0 + dx, y0 + dy, rgb);
        }
    }

    /// A one-pixel line from (x0, y0) to (x1, y1).
    pub fn line(cv: Canvas, x0: f32, y0: f32, x1: f32, y1: f32, rgb: u32) void {
        if (!(@abs(x0) < 1e6 and @abs(y0) < 1e6 and @abs(x1) < 1e6 and @abs(y1) < 1e6)) return; // NaN too
        // Lines wholly off one side are skipped before any stepping.
        const w: f32 = @floatFromInt(cv.width);
        const h: f32 = @floatFromInt(cv.height);
        if ((x0 < 0 and x1 < 0) or (y0 < 0 and y1 < 0) or (x0 >= w and x1 >= w) or (y0 >= h and y1 >= h)) return;
        const steps: u32 = @intFromFloat(@min(@max(@abs(x1 - x0), @abs(y1 - y0)), 4096));
        if (steps == 0) return cv.pixel(toPixel(x0), toPixel(y0), rgb);
        const n: f32 = @floatFromInt(steps);
        const sx = (x1 - x0) / n;
        const sy = (y1 - y0) / n;
        var i: u32 = 0;
        while (i <= steps) : (i += 1) {
            const t: f32 = @floatFromInt(i);
            cv.pixel(toPixel(x0 + sx * t), toPixel(y0 + sy * t), rgb);
        }
    }

    /// The outline of a circle of radius `r`.
    pub fn circle(cv: Canvas, cx: f32, cy: f32, r: f32, rgb: u32) void {
        if (!(r > 0 and r < 4096)) return;
        const n: u32 = @max(8, @as(u32, @intFromFloat(r * 0.8)) * 4);
        cv.ngon(cx, cy, r, 0, n, rgb);
    }

    /// A filled disc of radius `r`.
    pub fn disc(cv: Canvas, cx: f32, cy: f32, r: f32, rgb: u32) void {
        if (!(r > 0 and r < 4096 and @abs(cx) < 1e6 and @abs(cy) < 1e6)) return;
        const y0 = toPixel(cy - r);
        const y1 = toPixel(cy + r);
        var y = @max(y0, 0);
        while (y <= @min(y1, @as(i32, @intCast(cv.height)) - 1)) : (y += 1) {
            const dy = @as(f32, @floatFromInt(y)) + 0.5 - cy;
            const span = @sqrt(@max(r * r - dy * dy, 0));
            var x = @max(toPixel(cx - span), 0);
            while (x <= @min(toPixel(cx + span), @as(i32, @intCast(cv.width)) - 1)) : (x += 1) cv.pixel(x, y, rgb);
        }
    }

    /// A regular `n`-gon of radius `r`, its first corner at angle `angle`.
    pub fn ngon(cv: Canvas, cx: f32, cy: f32, r: f32, angle: f32, n: u32, rgb: u32) void {
        var px = cx + r * @cos(angle);
        var py = cy + r * @sin(angle);
        for (1..n + 1) |i| {
            const a = angle + @as(f32, @floatFromInt(i)) * std.math.tau / @as(f32, @floatFromInt(n));
            const qx = cx + r * @cos(a);
            const qy = cy + r * @sin(a);
            cv.line(px, py, qx, qy, rgb);
            px = qx;
            py = qy;
        }
    }

    /// A closed outline through `points` (local coordinates), turned by `angle`, scaled by
    /// `scale` and placed at (x, y).
    pub fn shape(cv: Canvas, x: f32, y: f32, angle: f32, scale: f32, points: []const [2]f32, rgb: u32) void {
        const cs = @cos(angle) * scale;
        const sn = @sin(angle) * scale;
        for (points, 0..) |p, i| {
            const q = points[(i + 1) % points.len];
            cv.line(x + p[0] * cs - p[1] * sn, y + p[0] * sn + p[1] * cs, x + q[0] * cs - q[1] * sn, y + q[0] * sn + q[1] * cs, rgb);
        }
    }

    /// `img` centred on (x, y), turned by `angle` (radians; 0 draws it as stored) and scaled by
    /// `scale`, each target pixel taking the nearest picture pixel. Alpha 0 leaves the
    /// target as it was, 255 covers it, anything between blends.
    pub fn sprite(cv: Canvas, img: Image, x: f32, y: f32, angle: f32, scale: f32) void {
        if (!(scale > 0 and scale < 64 and @abs(x) < 1e6 and @abs(y) < 1e6 and @abs(angle) < 1e6)) return;
        const w: f32 = @floatFromInt(img.width);
        const h: f32 = @floatFromInt(img.height);
        const reach = @sqrt(w * w + h * h) * 0.5 * scale + 1;
        const x0 = @max(toPixel(x - reach), 0);
        const x1 = @min(toPixel(x + reach), @as(i32, @intCast(cv.width)) - 1);
        const y0 = @max(toPixel(y - reach), 0);
        const y1 = @min(toPixel(y + reach), @as(i32, @intCast(cv.height)) - 1);
        // Back from the target to the picture: turned by -angle, divided by scale.
        const cs = @cos(angle) / scale;
        const sn = @sin(angle) / scale;
        var py = y0;
        while (py <= y1) : (py += 1) {
            const dy = @as(f32, @floatFromInt(py)) + 0.5 - y;
            const out = cv.row(@intCast(py));
            var px = x0;
            while (px <= x1) : (px += 1) {
                const dx = @as(f32, @floatFromInt(px)) + 0.5 - x;
                const u = dx * cs + dy * sn + w * 0.5;
                const v = dy * cs - dx * sn + h * 0.5;
                if (!(u >= 0 and u < w and v >= 0 and v < h)) continue;
                const src = img.pixels[@as(usize, @intFromFloat(v)) * img.width + @as(usize, @intFromFloat(u))];
                const p = &out[@intCast(px)];
                p.* = over(p.*, src);
            }
        }
    }

    /// Text formatted like `std.fmt` (up to 64 characters), each glyph 3x5 pixels times
    /// `scale`, from its top-left corner (x, y). Letters are upper case; a character the
    /// font lacks is a box. Returns the width drawn, in pixels.
    pub fn text(cv: Canvas, x: i32, y: i32, scale: i32, rgb: u32, comptime fmt: []const u8, args: anytype) i32 {
        var buf: [64]u8 = undefined;
        const s = std.fmt.bufPrint(&buf, fmt, args) catch buf[0..];
        var cx = x;
        for (s) |ch| {
            const g = glyph(ch);
            for (0..5) |gy| {
                for (0..3) |gx| {
                    if (g >> @intCast(14 - (gy * 3 + gx)) & 1 == 0) continue;
                    var sy: i32 = 0;
                    while (sy < scale) : (sy += 1) {
                        var sx: i32 = 0;
                        while (sx < scale) : (sx += 1) cv.pixel(cx + @as(i32, @intCast(gx)) * scale + sx, y + @as(i32, @intCast(gy)) * scale + sy, rgb);
                    }
                }
            }
            cx += 4 * scale;
        }
        return cx - x;
    }

    /// The width `text` would draw, in pixels.
    pub fn textWidth(scale: i32, comptime fmt: []const u8, args: anytype) i32 {
        return @as(i32, @intCast(std.fmt.count(fmt, args))) * 4 * scale;
    }
};

/// `src` (0xAARRGGBB) over `dst` (0x00RRGGBB).
fn over(dst: u32, src: u32) u32 {
    const a = src >> 24;
    if (a == 0) return dst;
    if (a == 255) return src & 0xFFFFFF;
    var out: u32 = 0;
    inline for (.{ 0, 8, 16 }) |shift| {
        const s = src >> shift & 255;
        const d = dst >> shift & 255;
        out |= (s * a + d * (255 - a) + 127) / 255 << shift;
    }
    return out;
}

fn toPixel(v: f32) i32 {
    return @intFromFloat(@floor(@min(@max(v, -1e6), 1e6)));
}

/// 3x5 glyphs, one bit per pixel, rows top to bottom, 3 bits a row (bit 14 = top left).
fn glyph(ch: u8) u15 {
    const c = std.ascii.toUpper(ch);
    return switch (c) {
        ' ' => 0,
        '0' => 0b111_101_101_101_111,
        '1' => 0b010_110_010_010_111,
        '2' => 0b111_001_111_100_111,
        '3' => 0b111_001_011_001_111,
        '4' => 0b101_101_111_001_001,
        '5' => 0b111_100_111_001_111,
        '6' => 0b111_100_111_101_111,
        '7' => 0b111_001_010_010_010,
        '8' => 0b111_101_111_101_111,
        '9' => 0b111_101_111_001_111,
        'A' => 0b010_101_111_101_101,
        'B' => 0b110_101_110_101_110,
        'C' => 0b011_100_100_100_011,
        'D' => 0b110_101_101_101_110,
        'E' => 0b111_100_110_100_111,
        'F' => 0b111_100_110_100_100,
        'G' => 0b011_100_101_101_011,
        'H' => 0b101_101_111_101_101,
        'I' => 0b111_010_010_010_111,
        'J' => 0b001_001_001_101_010,
        'K' => 0b101_101_110_101_101,
        'L' => 0b100_100_100_100_111,
        'M' => 0b101_111_111_101_101,
        'N' => 0b110_101_101_101_101,
        'O' => 0b010_101_101_101_010,
        'P' => 0b110_101_110_100_100,
        'Q' => 0b010_101_101_110_011,
        'R' => 0b110_101_110_101_101,
        'S' => 0b011_100_010_001_110,
        'T' => 0b111_010_010_010_010,
        'U' => 0b101_101_101_101_111,
        'V' => 0b101_101_101_101_010,
        'W' => 0b101_101_111_111_101,
        'X' => 0b101_101_010_101_101,
        'Y' => 0b101_101_010_010_010,
        'Z' => 0b111_001_010_100_111,
        ':' => 0b000_010_000_010_000,
        '.' => 0b000_000_000_000_010,
        ',' => 0b000_000_000_010_100,
        '-' => 0b000_000_111_000_000,
        '+' => 0b000_010_111_010_000,
        '!' => 0b010_010_010_000_010,
        '?' => 0b111_001_010_000_010,
        '/' => 0b001_001_010_100_100,
        '(' => 0b001_010_010_010_001,
        ')' => 0b100_010_010_010_100,
        '%' => 0b101_001_010_100_101,
        '=' => 0b000_111_000_111_000,
        '>' => 0b100_010_001_010_100,
        '<' => 0b001_010_100_010_001,
        '\'' => 0b010_010_000_000_000,
        '_' => 0b000_000_000_000_111,
        else => 0b111_101_101_101_111 ^ 0b000_010_010_010_000,
    };
}

test "shapes are clipped to the target, text is drawn in the font" {
    var pixels: [16 * 8]u32 = @splat(0);
    const cv = Canvas{ .pixels = @ptrCast(&pixels), .width = 16, .height = 8, .pitch = 64 };
    cv.line(-100, -50, 200, 100, 0xFF); // crosses the target and leaves it
    cv.line(std.math.nan(f32), 0, 3, 3, 0xFF);
    cv.disc(8, 4, 100, 0x10); // bigger than the target
    cv.circle(-1000, -1000, 5, 0x20);
    for (pixels) |p| try std.testing.expectEqual(@as(u32, 0x10), p);
    cv.clear(0);
    try std.testing.expectEqual(@as(i32, 8), cv.text(0, 0, 1, 0xFFFFFF, "{d}", .{17}));
    // "1" is 010/110/010/010/111: its top row lights the middle pixel only.
    try std.testing.expectEqual(@as(u32, 0), pixels[0]);
    try std.testing.expectEqual(@as(u32, 0xFFFFFF), pixels[1]);
    try std.testing.expectEqual(@as(u32, 0xFFFFFF), pixels[4 * 16 + 2]);
    cv.glow(0, 7, 0x808080);
    cv.glow(0, 7, 0x908070);
    try std.testing.expectEqual(@as(u32, 0xFFFFF0), pixels[7 * 16]);
}

test "a sprite is drawn as stored, turned, scaled, blended and clipped" {
    const expect = std.testing.expectEqual;
    var pixels: [8 * 8]u32 = @splat(0x000010);
    const cv = Canvas{ .pixels = @ptrCast(&pixels), .width = 8, .height = 8, .pitch = 32 };
    // 2 x 1: a red pixel left, a see-through one right.
    const S = Sprite(4);
    var s: S = .{};
    try std.testing.expect(Image.of(&s) == null); // width 0: nothing loaded
    s.width = 3;
    s.height = 2;
    try std.testing.expect(Image.of(&s) == null); // 6 pixels do not fit in 4
    s.width = 2;
    s.height = 1;
    s.pixels[0] = 0xFFFF0000;
    s.pixels[1] = 0x00FFFFFF;
    const img = Image.of(&s).?;
    try expect(@as(usize, 2), img.pixels.len);

    // As stored: its top-left pixel at (3, 4) when centred on (4, 4.5).
    cv.sprite(img, 4, 4.5, 0, 1);
    try expect(@as(u32, 0xFF0000), pixels[4 * 8 + 3]);
    try expect(@as(u32, 0x000010), pixels[4 * 8 + 4]); // alpha 0 leaves the target
    var lit: usize = 0;
    for (pixels) |p| lit += @intFromBool(p != 0x000010);
    try expect(@as(usize, 1), lit);

    // Turned a quarter (clockwise on screen, y down): the picture's left is now up.
    @memset(&pixels, 0);
    cv.sprite(img, 4.5, 4, std.math.pi / 2.0, 1);
    try expect(@as(u32, 0xFF0000), pixels[3 * 8 + 4]);
    lit = 0;
    for (pixels) |p| lit += @intFromBool(p != 0);
    try expect(@as(usize, 1), lit);

    // Scaled 2x: the red pixel covers 2 x 2.
    @memset(&pixels, 0);
    cv.sprite(img, 4, 4, 0, 2);
    lit = 0;
    for (pixels) |p| lit += @intFromBool(p == 0xFF0000);
    try expect(@as(usize, 4), lit);
    try expect(@as(u32, 0xFF0000), pixels[3 * 8 + 2]);

    // Off the target, NaN or a silly scale draws nothing; partly off an edge, the part
    // inside is drawn.
    @memset(&pixels, 0);
    cv.sprite(img, -50, 3, 0, 1);
    cv.sprite(img, 100, 100, 1, 3);
    cv.sprite(img, std.math.nan(f32), 3, 0, 1);
    cv.sprite(img, 3, 3, 0, 0);
    cv.sprite(img, 3, 3, std.math.inf(f32), 1);
    for (pixels) |p| try expect(@as(u32, 0), p);
    cv.sprite(img, 1, 0.5, 0, 2);
    try expect(@as(u32, 0xFF0000), pixels[0]);
    try expect(@as(u32, 0), pixels[1]);

    // Half alpha blends.
    @memset(&pixels, 0x0000FF);
    s.pixels[0] = 0x80FF0000;
    cv.sprite(img, 4, 4.5, 0, 1);
    try expect(@as(u32, 0x80007F), pixels[4 * 8 + 3]);
}
