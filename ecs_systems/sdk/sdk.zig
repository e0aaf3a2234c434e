//! The ABI contract between the Python host and every system library.
//!
//! Mirrored on the Python side by `game/native/abi.py`; a test on each side pins every
//! size and offset below, so the two cannot drift apart silently.
//!
//! Entry point
//!   Every library exports `plugin_entry() -> *const Api` (C calling convention). The
//!   returned struct and everything it points to is static: it stays valid until the
//!   host unloads the library.
//!
//! Call order (host side)
//!   1. dlopen a versioned copy of the library, call `plugin_entry` once.
//!   2. Check `abi_version == abi_version` and `api_size == @sizeOf(Api)`, then every
//!      declared column against the host's component schema (name, dtype, width).
//!   3. Call `run(frame)` once per simulation step (or per drawn frame for `.render`).
//!   4. On reload: the old build's `save_state` (if any) writes its private state into a
//!      host buffer; the new build's `load_state` (if any) gets it with the old
//!      `state_version`. Then the old build's `shutdown()`. The old library stays loaded
//!      as the "last good" build until the next reload.
//!   5. Before unloading (quit, or a later reload): `shutdown()` once, then dlclose.
//!
//! Memory ownership
//!   The host owns all entity data. `Frame.columns[i]` points into a host column for
//!   the duration of one `run` call only; a system must not keep a pointer past it.
//!   Columns arrive in the order the system declared them. `Frame.message` is a host
//!   buffer a system may write a short UTF-8 message into (set `message_len`).
//!
//! Status codes (fixed numbers; the host turns them into readable errors)
//!   0 ok, 1 failed (see message), 2 bad_columns (a column is missing or of the wrong
//!   shape), 3 bad_target (the render target is missing or of the wrong format).
const std = @import("std");
const builtin = @import("builtin");

pub const abi_version: u32 = 1;

pub const DType = enum(u32) { f32 = 1, f64 = 2, i32 = 3, u32 = 4, u8 = 5, i64 = 6 };
pub const Access = enum(u32) { read = 1, write = 2, read_write = 3 };
pub const Kind = enum(u32) {
    /// Runs once per fixed simulation step, in ascending `order`.
    simulation = 0,
    /// Runs once per drawn frame, drawing into `Frame.target`.
    render = 1,
    /// Not part of the game loop: the seed experiment's plugins (`--demo`).
    demo = 2,
};
pub const Status = enum(i32) { ok = 0, failed = 1, bad_columns = 2, bad_target = 3 };

/// One column a system reads or writes, as it declares it. A column the world does not
/// have yet is added on reload, every entity starting at `default`; an existing column
/// declared wider (f32 -> f64, width 2 -> 3) is widened, old values kept.
pub const ColumnDecl = extern struct {
    name: [*:0]const u8,
    dtype: DType,
    width: u32,
    access: Access,
    _reserved: u32 = 0,
    default: f64 = 0,

    pub fn withDefault(self: ColumnDecl, value: f64) ColumnDecl {
        var c = self;
        c.default = value;
        return c;
    }
};

/// A view of one host column, valid for one `run` call.
pub const Column = extern struct {
    ptr: ?[*]u8,
    /// Rows in use (the entity count).
    len: u64,
    /// Bytes from one row to the next.
    stride: u64,
    dtype: DType,
    /// Elements per row.
    width: u32,
};

pub const Input = extern struct {
    mouse_x: f32,
    mouse_y: f32,
    /// Bit 0 left, bit 1 middle, bit 2 right.
    buttons: u32,
    /// 0 when the pointer is outside the window (always 0 headless).
    mouse_in_window: u32,
};

/// The pixels a `.render` system draws into: 32-bit 0x00RRGGBB, `pitch` bytes a row.
pub const Target = extern struct {
    pixels: ?[*]u8,
    width: u32,
    height: u32,
    pitch: u32,
    _reserved: u32 = 0,
};

pub const Frame = extern struct {
    dt: f32,
    _reserved: u32 = 0,
    /// Index of this simulation step since the world began.
    step: u64,
    /// Rows in every column (the entity count).
    count: u64,
    columns: [*]Column,
    column_count: u32,
    world_width: f32,
    world_height: f32,
    input: Input,
    target: Target,
    message: ?[*]u8,
    message_cap: u64,
    /// Set by the system: bytes written to `message`.
    message_len: u64,
};

pub const RunFn = *const fn (frame: *Frame) callconv(.c) i32;
pub const ShutdownFn = *const fn () callconv(.c) void;
/// Writes the system's private state into `buf` (capacity `cap`), sets `len`; returns a status.
pub const SaveStateFn = *const fn (buf: [*]u8, cap: u64, len: *u64) callconv(.c) i32;
/// Takes state saved by the previous build (`version` = its `state_version`); a non-zero
/// status means "cannot use it": the host drops it with a warning and goes on.
pub const LoadStateFn = *const fn (buf: [*]const u8, len: u64, version: u32) callconv(.c) i32;

pub const Api = extern struct {
    abi_version: u32 = abi_version,
    /// `@sizeOf(Api)` as the system was compiled: catches a stale SDK.
    api_size: u32 = @sizeOf(Api),
    name: [*:0]const u8,
    /// The `build_id` constant in the system's source; shown in the HUD and the log.
    build_id: u32,
    kind: Kind = .simulation,
    /// Position in the pipeline: lower runs first.
    order: i32 = 0,
    column_count: u32,
    columns: [*]const ColumnDecl,
    run: RunFn,
    shutdown: ShutdownFn,
    /// Version of the bytes `save_state` writes; passed to the next build's `load_state`.
    state_version: u32 = 0,
    _reserved: u32 = 0,
    /// Optional: carried across a reload (old build's save, then new build's load).
    save_state: ?SaveStateFn = null,
    load_state: ?LoadStateFn = null,
};

/// Builds the `Api` for a system from its declarations.
pub fn api(comptime spec: struct {
    name: [:0]const u8,
    build_id: u32,
    kind: Kind = .simulation,
    order: i32 = 0,
    columns: []const ColumnDecl,
    run: RunFn,
    shutdown: ShutdownFn = noShutdown,
    state_version: u32 = 0,
    save_state: ?SaveStateFn = null,
    load_state: ?LoadStateFn = null,
}) Api {
    return .{
        .name = spec.name.ptr,
        .build_id = spec.build_id,
        .kind = spec.kind,
        .order = spec.order,
        .column_count = @intCast(spec.columns.len),
        .columns = spec.columns.ptr,
        .run = spec.run,
        .shutdown = spec.shutdown,
        .state_version = spec.state_version,
        .save_state = spec.save_state,
        .load_state = spec.load_state,
    };
}

fn noShutdown() callconv(.c) void {}

pub fn col(name: [*:0]const u8, dtype: DType, width: u32, access: Access) ColumnDecl {
    return .{ .name = name, .dtype = dtype, .width = width, .access = access };
}

pub const ColumnError = error{BadColumn};

fn ZigType(comptime dtype: DType) type {
    return switch (dtype) {
        .f32 => f32,
        .f64 => f64,
        .i32 => i32,
        .u32 => u32,
        .u8 => u8,
        .i64 => i64,
    };
}

/// Column `index` as a dense slice of `count * width` elements.
/// Fails when the column is missing, of another dtype, or not densely packed.
pub fn slice(frame: *const Frame, index: usize, comptime dtype: DType) ColumnError![]ZigType(dtype) {
    const T = ZigType(dtype);
    if (index >= frame.column_count) return error.BadColumn;
    const c = frame.columns[index];
    if (c.dtype != dtype or c.stride != @sizeOf(T) * c.width or c.len != frame.count) return error.BadColumn;
    const n: usize = @intCast(c.len * c.width);
    if (n == 0) return &[_]T{};
    const p = c.ptr orelse return error.BadColumn;
    const typed: [*]T = @ptrCast(@alignCast(p));
    return typed[0..n];
}

/// Writes a message for the host (truncated to the host's buffer) and returns `status`.
pub fn report(frame: *Frame, status: Status, comptime fmt: []const u8, args: anytype) i32 {
    if (frame.message) |buf| {
        const cap: usize = @intCast(frame.message_cap);
        const written = std.fmt.bufPrint(buf[0..cap], fmt, args) catch buf[0..cap];
        frame.message_len = written.len;
    }
    return @intFromEnum(status);
}

pub const ok: i32 = @intFromEnum(Status.ok);

/// SIMD lane count used by the systems' hot loops (Zig 0.17 does not auto-vectorize).
pub const lanes = 8;
pub const Vf = @Vector(lanes, f32);

/// `lanes` floats from `s[i..]`. The caller's loop condition (`i + lanes <= s.len`) is the
/// bounds check, so safe mode's own check per vector is switched off here: it cost a
/// quarter of movement's throughput at 1M entities.
pub inline fn load(s: []const f32, i: usize) Vf {
    @setRuntimeSafety(false);
    std.debug.assert(i + lanes <= s.len);
    return s.ptr[i..][0..lanes].*;
}

pub inline fn store(s: []f32, i: usize, v: Vf) void {
    @setRuntimeSafety(false);
    std.debug.assert(i + lanes <= s.len);
    s.ptr[i..][0..lanes].* = v;
}

test "ABI layout is pinned (mirrored in tests/native/test_abi.py)" {
    try std.testing.expectEqual(32, @sizeOf(ColumnDecl));
    try std.testing.expectEqual(24, @offsetOf(ColumnDecl, "default"));
    try std.testing.expectEqual(8, @offsetOf(ColumnDecl, "dtype"));
    try std.testing.expectEqual(12, @offsetOf(ColumnDecl, "width"));
    try std.testing.expectEqual(16, @offsetOf(ColumnDecl, "access"));

    try std.testing.expectEqual(32, @sizeOf(Column));
    try std.testing.expectEqual(8, @offsetOf(Column, "len"));
    try std.testing.expectEqual(16, @offsetOf(Column, "stride"));
    try std.testing.expectEqual(24, @offsetOf(Column, "dtype"));
    try std.testing.expectEqual(28, @offsetOf(Column, "width"));

    try std.testing.expectEqual(16, @sizeOf(Input));
    try std.testing.expectEqual(4, @offsetOf(Input, "mouse_y"));
    try std.testing.expectEqual(8, @offsetOf(Input, "buttons"));
    try std.testing.expectEqual(12, @offsetOf(Input, "mouse_in_window"));

    try std.testing.expectEqual(24, @sizeOf(Target));
    try std.testing.expectEqual(8, @offsetOf(Target, "width"));
    try std.testing.expectEqual(12, @offsetOf(Target, "height"));
    try std.testing.expectEqual(16, @offsetOf(Target, "pitch"));

    try std.testing.expectEqual(112, @sizeOf(Frame));
    try std.testing.expectEqual(8, @offsetOf(Frame, "step"));
    try std.testing.expectEqual(16, @offsetOf(Frame, "count"));
    try std.testing.expectEqual(24, @offsetOf(Frame, "columns"));
    try std.testing.expectEqual(32, @offsetOf(Frame, "column_count"));
    try std.testing.expectEqual(36, @offsetOf(Frame, "world_width"));
    try std.testing.expectEqual(40, @offsetOf(Frame, "world_height"));
    try std.testing.expectEqual(44, @offsetOf(Frame, "input"));
    try std.testing.expectEqual(64, @offsetOf(Frame, "target"));
    try std.testing.expectEqual(88, @offsetOf(Frame, "message"));
    try std.testing.expectEqual(96, @offsetOf(Frame, "message_cap"));
    try std.testing.expectEqual(104, @offsetOf(Frame, "message_len"));

    try std.testing.expectEqual(80, @sizeOf(Api));
    try std.testing.expectEqual(56, @offsetOf(Api, "state_version"));
    try std.testing.expectEqual(64, @offsetOf(Api, "save_state"));
    try std.testing.expectEqual(72, @offsetOf(Api, "load_state"));
    try std.testing.expectEqual(4, @offsetOf(Api, "api_size"));
    try std.testing.expectEqual(8, @offsetOf(Api, "name"));
    try std.testing.expectEqual(16, @offsetOf(Api, "build_id"));
    try std.testing.expectEqual(20, @offsetOf(Api, "kind"));
    try std.testing.expectEqual(24, @offsetOf(Api, "order"));
    try std.testing.expectEqual(28, @offsetOf(Api, "column_count"));
    try std.testing.expectEqual(32, @offsetOf(Api, "columns"));
    try std.testing.expectEqual(40, @offsetOf(Api, "run"));
    try std.testing.expectEqual(48, @offsetOf(Api, "shutdown"));
}

test "slice refuses a column of the wrong dtype" {
    var data = [_]f32{ 1, 2, 3 };
    var cols = [_]Column{.{ .ptr = @ptrCast(&data), .len = 3, .stride = 4, .dtype = .u32, .width = 1 }};
    const frame = Frame{
        .dt = 0, .step = 0, .count = 3, .columns = &cols, .column_count = 1,
        .world_width = 1, .world_height = 1,
        .input = .{ .mouse_x = 0, .mouse_y = 0, .buttons = 0, .mouse_in_window = 0 },
        .target = .{ .pixels = null, .width = 0, .height = 0, .pitch = 0 },
        .message = null, .message_cap = 0, .message_len = 0,
    };
    try std.testing.expectError(error.BadColumn, slice(&frame, 0, .f32));
    const ok_slice = try slice(&frame, 0, .u32);
    try std.testing.expectEqual(3, ok_slice.len);
}

/// Panic handler for systems: `pub const panic = sdk.panic;` in each system's root file.
/// A safety check that fails ("index out of bounds", "integer overflow", ...) writes its
/// message to stderr and aborts. The default handler pulls in std's I/O, formatting and
/// stack-trace machinery, which costs seconds of LLVM time on every safe-mode rebuild.
pub const panic = std.debug.FullPanic(systemPanic);

fn systemPanic(msg: []const u8, first_trace_addr: ?usize) noreturn {
    @branchHint(.cold);
    _ = first_trace_addr;
    writeStderr("zig system panic: ");
    writeStderr(msg);
    writeStderr("\n");
    @trap();
}

fn writeStderr(bytes: []const u8) void {
    switch (builtin.os.tag) {
        .linux => _ = std.os.linux.write(2, bytes.ptr, bytes.len),
        .macos => _ = std.c.write(2, bytes.ptr, bytes.len),
        else => {}, // Windows: the host still sees the crash; the message is lost.
    }
}
