//! The ABI contract between the Python host and every library, and the SDK systems use.
//!
//! Mirrored on the Python side by `game/native/abi.py`; a test on each side pins every
//! size and offset below, so the two cannot drift apart silently.
//!
//! Model
//!   Components and resources are declared once, as plain Zig structs, in
//!   `ecs_systems/components.zig` (field types: f32, f64, i32, u32, u8, i64, u64,
//!   `sdk.Entity`, or `[N]` arrays of them; a struct with no fields is a tag; a struct
//!   with `pub const resource = true;` is a resource, a named singleton). Every library is
//!   compiled against that file and describes it in its `Api` (`schema`), so the host
//!   learns the layouts from the same declarations. The `components` library (kind
//!   `.schema`) is the world's source of truth; a system's schema must agree with the world
//!   on every field it knows.
//!   The host stores entities in tables, one per component set (archetype), each a set of
//!   dense numpy columns, one per field. A system declares queries (`sdk.Query`): the host
//!   hands it, per query, every table that matches, and the SDK iterates them.
//!
//! Entry point
//!   Every library exports `plugin_entry() -> *const Api` (C calling convention). The
//!   returned struct and everything it points to is static: it stays valid until the
//!   host unloads the library.
//!
//! Call order (host side)
//!   1. dlopen a versioned copy of the library, call `plugin_entry` once.
//!   2. Check `abi_version`, `api_size` and every ABI struct's size (`layout`), then the
//!      schema and every query against the world's component layouts (by name).
//!   3. Call `run(frame)` once per simulation step (or per drawn frame for `.render`).
//!      Commands written during the step are applied at its end, system by system in
//!      pipeline order.
//!   4. On reload: the old build's `save_state` (if any) writes its private state into a
//!      host buffer; the new build's `load_state` (if any) gets it with the old
//!      `state_version`. Then the old build's `shutdown()`. The old library stays loaded
//!      as the "last good" build until the next reload.
//!   5. Before unloading (quit, or a later reload): `shutdown()` once, then dlclose.
//!
//! Memory ownership
//!   The host owns all entity data, every query view, the input and the command buffer.
//!   Pointers in a `Frame` are valid for one `run` call only; a system must not keep them.
//!   `Frame.message` is a host buffer a system may write a short UTF-8 message into.
//!
//! Status codes (fixed numbers; the host turns them into readable errors)
//!   0 ok, 1 failed (see message), 2 bad_columns (a view is missing or of the wrong
//!   shape), 3 bad_target (the render target is missing or of the wrong format).
const std = @import("std");
const builtin = @import("builtin");
const components = @import("components");

/// Drawing for `.render` systems: lines, circles, shapes, text (`sdk.draw.Canvas`).
pub const draw = @import("draw.zig");
/// A spatial grid kept in a resource, filled by the `grid` system, read by any system.
pub const grid = @import("grid.zig");

pub const abi_version: u32 = 2;

pub const DType = enum(u32) { f32 = 1, f64 = 2, i32 = 3, u32 = 4, u8 = 5, i64 = 6, u64 = 7, entity = 8 };
pub const Access = enum(u32) { read = 1, write = 2, read_write = 3, with = 4, without = 5 };
pub const Kind = enum(u32) {
    /// Runs once per fixed simulation step, in ascending `order`.
    simulation = 0,
    /// Runs once per drawn frame, drawing into `Frame.target`.
    render = 1,
    /// Not part of the game loop: the seed experiment's plugins (`--demo`).
    demo = 2,
    /// The `components` library: only a schema, no code that runs.
    schema = 3,
};
pub const Status = enum(i32) { ok = 0, failed = 1, bad_columns = 2, bad_target = 3 };

/// An entity id: `index | generation << 32`. `.none` (0) is no entity. A despawned
/// entity's index is reused with a new generation, so an old id never names a new entity.
pub const Entity = enum(u64) {
    none = 0,
    _,

    pub fn index(self: Entity) u32 {
        return @truncate(@backingInt(self));
    }
    pub fn generation(self: Entity) u32 {
        return @truncate(@backingInt(self) >> 32);
    }
};

// --- declarations (static, in the library) --------------------------------------------

/// One field of a component as compiled: `offset` is its place in the component's
/// payload (the bytes a spawn, an add or a resource carries). `default` is an f64: an
/// integer default above 2^53 arrives rounded.
pub const FieldDecl = extern struct {
    name: [*:0]const u8,
    dtype: DType,
    width: u32,
    offset: u32,
    _reserved: u32 = 0,
    default: f64,
};

pub const ComponentDecl = extern struct {
    name: [*:0]const u8,
    fields: [*]const FieldDecl,
    field_count: u32,
    /// Bytes of one payload (`Payload(T)`).
    size: u32,
    is_resource: u32,
    _reserved: u32 = 0,
};

/// One term of a query: `component` indexes the library's own `schema`.
pub const TermDecl = extern struct {
    component: u32,
    access: Access,
};

pub const QueryDecl = extern struct {
    name: [*:0]const u8,
    terms: [*]const TermDecl,
    term_count: u32,
    _reserved: u32 = 0,
};

/// A named constant a system exposes (`.tunables` of `sdk.World`, read with `w.tune`):
/// the window changes its value live, without a rebuild, within `min..max` in steps of
/// `step`. The host keeps the value: across reloads (until the source's `default`
/// changes: then the source wins) and in saved worlds.
pub const TunableDecl = extern struct {
    name: [*:0]const u8,
    default: f32,
    min: f32,
    max: f32,
    step: f32,
};

/// What a system writes in `.tunables`: `.thrust = sdk.Tunable{ .default = 240, .min = 0,
/// .max = 1000 }` (`step` defaults to a hundredth of the range).
pub const Tunable = struct {
    default: f32,
    min: f32,
    max: f32,
    step: ?f32 = null,
};

/// Sizes of every ABI struct as the library was compiled: the handshake checks them all.
pub const Layout = extern struct {
    frame: u32 = @sizeOf(Frame),
    input: u32 = @sizeOf(Input),
    table_view: u32 = @sizeOf(TableView),
    query_view: u32 = @sizeOf(QueryView),
    command: u32 = @sizeOf(Command),
    commands: u32 = @sizeOf(Commands),
    component_decl: u32 = @sizeOf(ComponentDecl),
    field_decl: u32 = @sizeOf(FieldDecl),
    query_decl: u32 = @sizeOf(QueryDecl),
    target: u32 = @sizeOf(Target),
    entity_index: u32 = @sizeOf(EntityIndex),
    tunable_decl: u32 = @sizeOf(TunableDecl),
};

// --- per call (host memory) ------------------------------------------------------------

/// One matching table: `count` rows; `columns` has one pointer per field of every data
/// term of the query, in declaration order.
pub const TableView = extern struct {
    count: *const u64,
    entities: [*]const Entity,
    columns: [*]const [*]u8,
};

pub const QueryView = extern struct {
    tables: [*]const TableView,
    table_count: u32,
    column_count: u32,
};

pub const Key = enum(u8) {
    // 0-25: letters, 26-35: digits, then the rest. Fixed numbers (the host maps to them).
    a,
    b,
    c,
    d,
    e,
    f,
    g,
    h,
    i,
    j,
    k,
    l,
    m,
    n,
    o,
    p,
    q,
    r,
    s,
    t,
    u,
    v,
    w,
    x,
    y,
    z,
    @"0",
    @"1",
    @"2",
    @"3",
    @"4",
    @"5",
    @"6",
    @"7",
    @"8",
    @"9",
    space,
    enter,
    escape,
    tab,
    backspace,
    left,
    right,
    up,
    down,
    left_shift,
    right_shift,
    left_ctrl,
    right_ctrl,
    left_alt,
    right_alt,
    _,
};

pub const Mouse = enum(u5) { left = 0, middle = 1, right = 2 };

/// The input of this step. `pressed`/`released` are edges since the previous step.
pub const Input = extern struct {
    mouse_x: f32,
    mouse_y: f32,
    buttons: u32,
    buttons_pressed: u32,
    buttons_released: u32,
    /// 0 when the pointer is outside the window (always 0 headless).
    mouse_in_window: u32,
    keys_held: [4]u64,
    keys_pressed: [4]u64,
    keys_released: [4]u64,

    fn bit(set: [4]u64, key: Key) bool {
        const k: u8 = @backingInt(key);
        return set[k >> 6] >> @intCast(k & 63) & 1 != 0;
    }
    pub fn held(self: *const Input, key: Key) bool {
        return bit(self.keys_held, key);
    }
    pub fn pressed(self: *const Input, key: Key) bool {
        return bit(self.keys_pressed, key);
    }
    pub fn released(self: *const Input, key: Key) bool {
        return bit(self.keys_released, key);
    }
    pub fn button(self: *const Input, b: Mouse) bool {
        return self.buttons >> @backingInt(b) & 1 != 0;
    }
    pub fn clicked(self: *const Input, b: Mouse) bool {
        return self.buttons_pressed >> @backingInt(b) & 1 != 0;
    }
    /// Whether any key is held, or went down since the last step.
    pub fn anyKey(self: *const Input) bool {
        for (self.keys_held, self.keys_pressed) |h, p| if (h | p != 0) return true;
        return false;
    }
};

pub const Op = enum(u32) { spawn = 1, despawn = 2, add = 3, remove = 4 };

/// One buffered command. spawn: `mask` = the component set (bits index the library's
/// schema), payloads in ascending schema order at `data_offset`. despawn: `entity`.
/// add: `component`, `entity`, payload at `data_offset`. remove: `component`, `entity`.
pub const Command = extern struct {
    op: Op,
    component: u32,
    entity: Entity,
    mask: u64,
    data_offset: u64,
};

/// The system's command buffer for this step (host memory). When full, commands are
/// counted in `dropped` and the host reports them.
pub const Commands = extern struct {
    records: [*]Command,
    cap: u64,
    len: u64,
    data: [*]u8,
    data_cap: u64,
    data_len: u64,
    dropped: u64,
};

/// The pixels a `.render` system draws into: 32-bit 0x00RRGGBB, `pitch` bytes a row.
pub const Target = extern struct {
    pixels: ?[*]u8,
    width: u32,
    height: u32,
    pitch: u32,
    _reserved: u32 = 0,
};

/// The host's entity index, read-only: `alive` checks an id against it.
pub const EntityIndex = extern struct {
    /// Generation of each index.
    generations: [*]const u32,
    /// Table of each index; negative when the index is free (its entity despawned).
    tables: [*]const i32,
    len: u64,
};

pub const Frame = extern struct {
    dt: f32,
    _reserved: u32 = 0,
    /// Index of this simulation step since the world began.
    step: u64,
    world_width: f32,
    world_height: f32,
    queries: [*]const QueryView,
    query_count: u32,
    resource_count: u32,
    /// One pointer per declared resource: its payload, read and written in place.
    resources: [*]const [*]u8,
    input: *const Input,
    commands: *Commands,
    target: Target,
    message: ?[*]u8,
    message_cap: u64,
    /// Set by the system: bytes written to `message`.
    message_len: u64,
    entities: EntityIndex,
    /// The current values of the system's tunables, in declaration order (host memory).
    tunables: [*]const f32,
    tunable_count: u32,
    _reserved2: u32 = 0,
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
    schema_count: u32,
    schema: [*]const ComponentDecl,
    query_count: u32,
    resource_count: u32,
    queries: [*]const QueryDecl,
    /// Resources the system uses (`component` indexes `schema`; access read or write).
    resources: [*]const TermDecl,
    run: ?RunFn,
    shutdown: ?ShutdownFn,
    /// Version of the bytes `save_state` writes; passed to the next build's `load_state`.
    state_version: u32 = 0,
    _reserved: u32 = 0,
    /// Optional: carried across a reload (old build's save, then new build's load).
    save_state: ?SaveStateFn = null,
    load_state: ?LoadStateFn = null,
    layout: Layout = .{},
    tunable_count: u32 = 0,
    _reserved2: u32 = 0,
    tunables: [*]const TunableDecl = &[_]TunableDecl{},
};

// --- the schema, from components.zig ----------------------------------------------------

pub const max_components = 64;

fn isComponentDecl(comptime name: []const u8) bool {
    const T = @field(components, name);
    if (@TypeOf(T) != type) return false;
    return @typeInfo(T) == .@"struct" and !@typeInfo(T).@"struct".is_tuple;
}

/// Every component and resource type of `components.zig`, in declaration order.
pub const schema_types: []const type = blk: {
    var list: []const type = &.{};
    for (@typeInfo(components).@"struct".decl_names) |name| {
        if (isComponentDecl(name)) list = list ++ .{@field(components, name)};
    }
    if (list.len > max_components) @compileError("components.zig declares more than 64 components and resources");
    break :blk list;
};

const schema_names: []const [:0]const u8 = blk: {
    var list: []const [:0]const u8 = &.{};
    for (@typeInfo(components).@"struct".decl_names) |name| {
        if (isComponentDecl(name)) list = list ++ .{name};
    }
    break :blk list;
};

/// Index of `T` in the schema, or a compile error naming it.
pub fn componentId(comptime T: type) u32 {
    inline for (schema_types, 0..) |S, i| {
        if (S == T) return i;
    }
    @compileError("type " ++ @typeName(T) ++ " is not declared in components.zig");
}

pub fn isResource(comptime T: type) bool {
    return @hasDecl(T, "resource") and T.resource;
}

fn fieldDType(comptime T: type, comptime where: []const u8) struct { DType, u32, type } {
    return switch (@typeInfo(T)) {
        .array => |a| blk: {
            const inner = fieldDType(a.child, where);
            if (inner[1] != 1) @compileError(where ++ ": nested arrays are not supported");
            break :blk .{ inner[0], a.len, inner[2] };
        },
        else => if (T == f32) .{ .f32, 1, T } else if (T == f64) .{ .f64, 1, T } else if (T == i32) .{ .i32, 1, T } else if (T == u32) .{ .u32, 1, T } else if (T == u8) .{ .u8, 1, T } else if (T == i64) .{ .i64, 1, T } else if (T == u64) .{ .u64, 1, T } else if (T == Entity) .{ .entity, 1, T } else @compileError(where ++ ": type " ++ @typeName(T) ++ " is not a component field type (f32, f64, i32, u32, u8, i64, u64, sdk.Entity, or arrays of them)"),
    };
}

/// The C layout of a component's payload: the same fields, in order, `extern`.
pub fn Payload(comptime T: type) type {
    const info = @typeInfo(T).@"struct";
    var attrs: [info.field_names.len]std.builtin.Type.Struct.FieldAttributes = undefined;
    for (&attrs) |*a| a.* = .{};
    return @Struct(.@"extern", null, info.field_names, info.field_types, &attrs);
}

fn defaultOf(comptime T: type, comptime i: usize) f64 {
    const info = @typeInfo(T).@"struct";
    const F = info.field_types[i];
    const E = switch (@typeInfo(F)) {
        .array => |a| a.child,
        else => F,
    };
    // The first element only: loading a whole array default (the grid's are 262,144
    // elements) cost every system's build 10 ms.
    const ptr = info.field_attrs[i].default_value_ptr orelse return 0;
    const first = @as(*const E, @ptrCast(@alignCast(ptr))).*;
    if (E == Entity) return @floatFromInt(@backingInt(first));
    return switch (@typeInfo(E)) {
        .float => @floatCast(first),
        .int => @floatFromInt(first),
        else => 0,
    };
}

fn fieldDecls(comptime T: type, comptime name: []const u8) []const FieldDecl {
    const info = @typeInfo(T).@"struct";
    const P = Payload(T);
    var out: [info.field_names.len]FieldDecl = undefined;
    for (info.field_names, info.field_types, 0..) |fname, F, i| {
        const d = fieldDType(F, name ++ "." ++ fname);
        out[i] = .{ .name = fname, .dtype = d[0], .width = d[1], .offset = @offsetOf(P, fname), .default = defaultOf(T, i) };
    }
    const final = out;
    return &final;
}

/// What every library tells the host about components.zig.
pub const schema: []const ComponentDecl = blk: {
    var out: [schema_types.len]ComponentDecl = undefined;
    for (schema_types, schema_names, 0..) |T, name, i| {
        const fields = fieldDecls(T, name);
        out[i] = .{
            .name = name,
            .fields = fields.ptr,
            .field_count = fields.len,
            .size = if (fields.len == 0) 0 else @sizeOf(Payload(T)),
            .is_resource = @intFromBool(isResource(T)),
        };
    }
    const final = out;
    break :blk &final;
};

// --- queries ---------------------------------------------------------------------------

/// A query: `terms` is a struct literal whose fields name components,
/// `.{ .pos = .{ c.Position, .read_write }, .vel = .{ c.Velocity, .read } }`;
/// `filters` may have `.with = .{ c.Player }` and `.without = .{ c.Frozen }`.
/// Tags (components with no fields) belong in `with`.
pub fn Query(comptime terms: anytype, comptime filters: anytype) type {
    const names = @typeInfo(@TypeOf(terms)).@"struct".field_names;
    return struct {
        pub const term_names = names;
        pub const Types: [names.len]type = blk: {
            var out: [names.len]type = undefined;
            for (names, 0..) |n, i| {
                const T = @field(terms, n)[0];
                _ = componentId(T);
                if (isResource(T)) @compileError("query term ." ++ n ++ ": " ++ @typeName(T) ++ " is a resource; declare it in .resources");
                if (@typeInfo(T).@"struct".field_names.len == 0) @compileError("query term ." ++ n ++ ": " ++ @typeName(T) ++ " is a tag; put it in .with");
                out[i] = T;
            }
            break :blk out;
        };
        pub const accesses: [names.len]Access = blk: {
            var out: [names.len]Access = undefined;
            for (names, 0..) |n, i| out[i] = @field(terms, n)[1];
            break :blk out;
        };
        pub const decls: []const TermDecl = blk: {
            var out: []const TermDecl = &.{};
            for (names, 0..) |n, i| {
                const a = accesses[i];
                if (a != .read and a != .write and a != .read_write) @compileError("query term ." ++ n ++ ": access must be .read, .write or .read_write");
                out = out ++ .{TermDecl{ .component = componentId(Types[i]), .access = a }};
            }
            if (@hasField(@TypeOf(filters), "with")) {
                for (filters.with) |T| out = out ++ .{TermDecl{ .component = componentId(T), .access = .with }};
            }
            if (@hasField(@TypeOf(filters), "without")) {
                for (filters.without) |T| out = out ++ .{TermDecl{ .component = componentId(T), .access = .without }};
            }
            break :blk out;
        };
        pub const column_count: u32 = blk: {
            var n: u32 = 0;
            for (Types) |T| n += @typeInfo(T).@"struct".field_names.len;
            break :blk n;
        };

        fn Cols(comptime T: type, comptime writable: bool) type {
            const info = @typeInfo(T).@"struct";
            var types: [info.field_names.len]type = undefined;
            for (info.field_types, 0..) |F, i| types[i] = if (writable) []F else []const F;
            var attrs: [info.field_names.len]std.builtin.Type.Struct.FieldAttributes = undefined;
            for (&attrs) |*a| a.* = .{};
            return @Struct(.auto, null, info.field_names, &types, &attrs);
        }

        /// One matching table: `t.<term>.<field>` is a slice of `t.len` values;
        /// `t.entities` holds each row's entity.
        pub const Table = blk: {
            var tnames: [names.len + 2][]const u8 = undefined;
            var types: [names.len + 2]type = undefined;
            for (names, 0..) |n, i| {
                tnames[i] = n;
                types[i] = Cols(Types[i], accesses[i] != .read);
            }
            tnames[names.len] = "entities";
            types[names.len] = []const Entity;
            tnames[names.len + 1] = "len";
            types[names.len + 1] = usize;
            var attrs: [names.len + 2]std.builtin.Type.Struct.FieldAttributes = undefined;
            for (&attrs) |*a| a.* = .{};
            break :blk @Struct(.auto, null, &tnames, &types, &attrs);
        };

        pub const Iterator = struct {
            view: *const QueryView,
            next_table: u32 = 0,

            /// The next non-empty matching table, or null after the last.
            pub fn next(it: *Iterator) ?Table {
                while (it.next_table < it.view.table_count) {
                    const tv = it.view.tables[it.next_table];
                    it.next_table += 1;
                    const len: usize = @intCast(tv.count.*);
                    if (len == 0) continue;
                    var t: Table = undefined;
                    t.len = len;
                    t.entities = tv.entities[0..len];
                    var col: usize = 0;
                    inline for (names, 0..) |n, i| {
                        const T = Types[i];
                        const info = @typeInfo(T).@"struct";
                        inline for (info.field_names, info.field_types) |fname, F| {
                            const p: [*]F = @ptrCast(@alignCast(tv.columns[col]));
                            @field(@field(t, n), fname) = p[0..len];
                            col += 1;
                        }
                    }
                    return t;
                }
                return null;
            }

            /// Rows over every matching table.
            pub fn count(it: *const Iterator) usize {
                var n: usize = 0;
                for (it.view.tables[0..it.view.table_count]) |tv| n += @intCast(tv.count.*);
                return n;
            }
        };
    };
}

// --- the system's view of the world ---------------------------------------------------

/// What `run` gets: `spec.queries` is a struct literal of `sdk.Query` types by name,
/// `spec.resources` one of `.{ T, .read }` / `.{ T, .write }` by name.
pub fn World(comptime spec: anytype) type {
    const S = @TypeOf(spec);
    const QueriesT = if (@hasField(S, "queries")) @TypeOf(spec.queries) else @TypeOf(.{});
    const ResourcesT = if (@hasField(S, "resources")) @TypeOf(spec.resources) else @TypeOf(.{});
    const TunablesT = if (@hasField(S, "tunables")) @TypeOf(spec.tunables) else @TypeOf(.{});
    const query_names = @typeInfo(QueriesT).@"struct".field_names;
    const resource_names = @typeInfo(ResourcesT).@"struct".field_names;
    const tunable_names = @typeInfo(TunablesT).@"struct".field_names;
    return struct {
        const Self = @This();
        frame: *Frame,
        dt: f32,
        input: *const Input,

        pub const QueryName = std.meta.FieldEnum(QueriesT);
        pub const ResourceName = std.meta.FieldEnum(ResourcesT);
        pub const TunableName = std.meta.FieldEnum(TunablesT);

        pub const tunable_decls: []const TunableDecl = blk: {
            var out: [tunable_names.len]TunableDecl = undefined;
            for (tunable_names, 0..) |n, i| {
                const t: Tunable = @field(spec.tunables, n);
                if (!(t.min <= t.default and t.default <= t.max))
                    @compileError("tunable ." ++ n ++ ": needs min <= default <= max");
                const increment = t.step orelse (t.max - t.min) / 100;
                if (!(increment > 0)) @compileError("tunable ." ++ n ++ ": needs a step > 0 (min < max)");
                out[i] = .{ .name = n, .default = t.default, .min = t.min, .max = t.max, .step = increment };
            }
            const final = out;
            break :blk &final;
        };

        pub const query_decls: []const QueryDecl = blk: {
            var out: [query_names.len]QueryDecl = undefined;
            for (query_names, 0..) |n, i| {
                const Q = @field(spec.queries, n);
                out[i] = .{ .name = n, .terms = Q.decls.ptr, .term_count = Q.decls.len };
            }
            const final = out;
            break :blk &final;
        };
        pub const resource_decls: []const TermDecl = blk: {
            var out: [resource_names.len]TermDecl = undefined;
            for (resource_names, 0..) |n, i| {
                const R = @field(spec.resources, n);
                if (!isResource(R[0])) @compileError("resource ." ++ n ++ ": " ++ @typeName(R[0]) ++ " has no `pub const resource = true;`");
                out[i] = .{ .component = componentId(R[0]), .access = R[1] };
            }
            const final = out;
            break :blk &final;
        };

        pub fn init(frame: *Frame) Self {
            return .{ .frame = frame, .dt = frame.dt, .input = frame.input };
        }

        fn QueryType(comptime q: QueryName) type {
            return @field(spec.queries, @tagName(q));
        }

        /// The tables matching query `q`, one at a time.
        pub fn query(w: *const Self, comptime q: QueryName) QueryType(q).Iterator {
            return .{ .view = &w.frame.queries[@backingInt(q)] };
        }

        fn ResourceType(comptime r: ResourceName) type {
            return @field(spec.resources, @tagName(r))[0];
        }

        /// Resource `r` in place (write through the pointer if declared `.write`).
        pub fn resource(w: *const Self, comptime r: ResourceName) *align(1) Payload(ResourceType(r)) {
            return @ptrCast(w.frame.resources[@backingInt(r)]);
        }

        /// The current value of tunable `t` (its default when the host passes none).
        pub fn tune(w: *const Self, comptime t: TunableName) f32 {
            const i = @backingInt(t);
            return if (i < w.frame.tunable_count) w.frame.tunables[i] else tunable_decls[i].default;
        }

        /// Whether `e` is a live entity now (as of the start of this step: commands of
        /// this step have not applied yet). A reference to a despawned entity is never
        /// alive again: its index comes back with another generation.
        pub fn alive(w: *const Self, e: Entity) bool {
            const v = w.frame.entities;
            const i = e.index();
            return i != 0 and i < v.len and v.generations[i] == e.generation() and v.tables[i] >= 0;
        }

        pub fn step(w: *const Self) u64 {
            return w.frame.step;
        }
        pub fn width(w: *const Self) f32 {
            return w.frame.world_width;
        }
        pub fn height(w: *const Self) f32 {
            return w.frame.world_height;
        }

        /// Appends a record (and room for its payload); null when the buffer is full: the
        /// command is counted in `dropped`, which the host reports, and it doubles the
        /// buffer for the next step.
        fn push(w: *Self, cmd: Command, payload_len: usize) ?u64 {
            const c = w.frame.commands;
            if (c.len >= c.cap or c.data_len + payload_len > c.data_cap) {
                c.dropped += 1;
                return null;
            }
            var rec = cmd;
            rec.data_offset = c.data_len;
            c.records[c.len] = rec;
            c.len += 1;
            const offset = c.data_len;
            c.data_len += (payload_len + 7) & ~@as(u64, 7);
            return offset;
        }

        fn write(w: *Self, offset: u64, comptime T: type, value: T) void {
            const P = Payload(T);
            var p: P = undefined;
            inline for (@typeInfo(T).@"struct".field_names) |n| @field(p, n) = @field(value, n);
            const dst = w.frame.commands.data[@intCast(offset)..][0..@sizeOf(P)];
            @memcpy(dst, std.mem.asBytes(&p));
        }

        /// Spawns an entity with the components in `values` (a tuple of component values,
        /// `.{ c.Position{ .x = 1 }, c.Velocity{}, c.Player{} }`) at the end of this step.
        /// Its id is not known before then (see the README).
        pub fn spawn(w: *Self, values: anytype) void {
            const V = @TypeOf(values);
            const fields = @typeInfo(V).@"struct".field_types;
            comptime var mask: u64 = 0;
            comptime var size: usize = 0;
            comptime var order: [fields.len]usize = undefined;
            comptime {
                @setEvalBranchQuota(20_000 + 2 * schema_types.len * schema_types.len * fields.len);
                for (fields) |T| {
                    const id = componentId(T);
                    if (isResource(T)) @compileError(@typeName(T) ++ " is a resource, not a component");
                    if (mask & (@as(u64, 1) << id) != 0) @compileError("spawn names " ++ @typeName(T) ++ " twice");
                    mask |= @as(u64, 1) << id;
                }
                // payloads go in ascending schema order
                var n: usize = 0;
                for (0..schema_types.len) |id| {
                    for (fields, 0..) |T, i| {
                        if (componentId(T) == id) {
                            order[n] = i;
                            n += 1;
                            if (@typeInfo(T).@"struct".field_names.len != 0) size += (@sizeOf(Payload(T)) + 7) & ~@as(usize, 7);
                        }
                    }
                }
            }
            var offset = w.push(.{ .op = .spawn, .component = 0, .entity = .none, .mask = mask, .data_offset = 0 }, size) orelse return;
            inline for (order) |i| {
                const T = fields[i];
                if (@typeInfo(T).@"struct".field_names.len != 0) {
                    w.write(offset, T, values[i]);
                    offset += (@sizeOf(Payload(T)) + 7) & ~@as(u64, 7);
                }
            }
        }

        /// Despawns `e` at the end of this step.
        pub fn despawn(w: *Self, e: Entity) void {
            _ = w.push(.{ .op = .despawn, .component = 0, .entity = e, .mask = 0, .data_offset = 0 }, 0);
        }

        /// Adds component `value` to `e` at the end of this step.
        pub fn add(w: *Self, e: Entity, value: anytype) void {
            const T = @TypeOf(value);
            const size = if (@typeInfo(T).@"struct".field_names.len == 0) 0 else @sizeOf(Payload(T));
            const offset = w.push(.{ .op = .add, .component = componentId(T), .entity = e, .mask = 0, .data_offset = 0 }, size) orelse return;
            if (size != 0) w.write(offset, T, value);
        }

        /// Removes component `T` from `e` at the end of this step.
        pub fn remove(w: *Self, e: Entity, comptime T: type) void {
            _ = w.push(.{ .op = .remove, .component = componentId(T), .entity = e, .mask = 0, .data_offset = 0 }, 0);
        }

        /// The pixels of a `.render` system, or error.BadTarget.
        pub fn target(w: *const Self) error{BadTarget}!Target {
            const t = w.frame.target;
            if (t.pixels == null or t.pitch < t.width * 4) return error.BadTarget;
            return t;
        }

        /// Sets the message the host shows when `run` fails.
        pub fn say(w: *Self, comptime fmt: []const u8, args: anytype) void {
            _ = report(w.frame, .ok, fmt, args);
        }
    };
}

/// Builds the `Api` of a system whose `run` takes `*W` (a `sdk.World(...)` type) and
/// returns `!void`: an error becomes status `failed` (`bad_target` for error.BadTarget)
/// with the error's name as the message (unless the system set one with `w.say`).
pub fn system(comptime W: type, comptime spec: anytype) Api {
    const S = @TypeOf(spec);
    const Wrap = struct {
        fn run(frame: *Frame) callconv(.c) i32 {
            var w = W.init(frame);
            spec.run(&w) catch |err| {
                const any: anyerror = err;
                const status: Status = if (any == error.BadTarget) .bad_target else .failed;
                if (frame.message_len == 0) return report(frame, status, "{s}", .{@errorName(err)});
                return @backingInt(status);
            };
            return ok;
        }
    };
    return .{
        .name = spec.name.ptr,
        .build_id = spec.build_id,
        .kind = if (@hasField(S, "kind")) spec.kind else .simulation,
        .order = if (@hasField(S, "order")) spec.order else 0,
        .schema_count = schema.len,
        .schema = schema.ptr,
        .query_count = W.query_decls.len,
        .queries = W.query_decls.ptr,
        .resource_count = W.resource_decls.len,
        .resources = W.resource_decls.ptr,
        .run = Wrap.run,
        .shutdown = if (@hasField(S, "shutdown")) spec.shutdown else noShutdown,
        .state_version = if (@hasField(S, "state_version")) spec.state_version else 0,
        .save_state = if (@hasField(S, "save_state")) spec.save_state else null,
        .load_state = if (@hasField(S, "load_state")) spec.load_state else null,
        .tunable_count = W.tunable_decls.len,
        .tunables = W.tunable_decls.ptr,
    };
}

/// The `Api` of a library with no code that runs: the components schema itself, or a
/// `.demo` plugin (which gives its own `run`).
pub fn bare(comptime spec: struct { name: [:0]const u8, build_id: u32, kind: Kind, run: ?RunFn = null }) Api {
    return .{
        .name = spec.name.ptr,
        .build_id = spec.build_id,
        .kind = spec.kind,
        .schema_count = schema.len,
        .schema = schema.ptr,
        .query_count = 0,
        .queries = &[_]QueryDecl{},
        .resource_count = 0,
        .resources = &[_]TermDecl{},
        .run = spec.run,
        .shutdown = noShutdown,
    };
}

fn noShutdown() callconv(.c) void {}

/// Writes a message for the host (truncated to the host's buffer) and returns `status`.
pub fn report(frame: *Frame, status: Status, comptime fmt: []const u8, args: anytype) i32 {
    if (frame.message) |buf| {
        const cap: usize = @intCast(frame.message_cap);
        const written = std.fmt.bufPrint(buf[0..cap], fmt, args) catch buf[0..cap];
        frame.message_len = written.len;
    }
    return @backingInt(status);
}

pub const ok: i32 = @backingInt(Status.ok);

/// A small seeded generator for systems (splitmix64): keep its state in a resource
/// (`c.Rng`) so it is saved, rewound and replayed with the world.
pub fn nextRandom(state: *align(1) u64) u64 {
    state.* +%= 0x9E3779B97F4A7C15;
    var z = state.*;
    z = (z ^ (z >> 30)) *% 0xBF58476D1CE4E5B9;
    z = (z ^ (z >> 27)) *% 0x94D049BB133111EB;
    return z ^ (z >> 31);
}

/// A float in [0, 1) from `nextRandom`.
pub fn randomFloat(state: *align(1) u64) f32 {
    return @as(f32, @floatFromInt(nextRandom(state) >> 40)) / @as(f32, 1 << 24);
}

/// A float in [lo, hi) from `nextRandom`.
pub fn randomRange(state: *align(1) u64, lo: f32, hi: f32) f32 {
    return lo + (hi - lo) * randomFloat(state);
}

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
    const expect = std.testing.expectEqual;
    try expect(32, @sizeOf(FieldDecl));
    try expect(8, @offsetOf(FieldDecl, "dtype"));
    try expect(12, @offsetOf(FieldDecl, "width"));
    try expect(16, @offsetOf(FieldDecl, "offset"));
    try expect(24, @offsetOf(FieldDecl, "default"));

    try expect(32, @sizeOf(ComponentDecl));
    try expect(8, @offsetOf(ComponentDecl, "fields"));
    try expect(16, @offsetOf(ComponentDecl, "field_count"));
    try expect(20, @offsetOf(ComponentDecl, "size"));
    try expect(24, @offsetOf(ComponentDecl, "is_resource"));

    try expect(8, @sizeOf(TermDecl));
    try expect(24, @sizeOf(QueryDecl));
    try expect(8, @offsetOf(QueryDecl, "terms"));
    try expect(16, @offsetOf(QueryDecl, "term_count"));

    try expect(24, @sizeOf(TableView));
    try expect(8, @offsetOf(TableView, "entities"));
    try expect(16, @offsetOf(TableView, "columns"));
    try expect(16, @sizeOf(QueryView));
    try expect(8, @offsetOf(QueryView, "table_count"));
    try expect(12, @offsetOf(QueryView, "column_count"));

    try expect(120, @sizeOf(Input));
    try expect(8, @offsetOf(Input, "buttons"));
    try expect(20, @offsetOf(Input, "mouse_in_window"));
    try expect(24, @offsetOf(Input, "keys_held"));
    try expect(56, @offsetOf(Input, "keys_pressed"));
    try expect(88, @offsetOf(Input, "keys_released"));

    try expect(32, @sizeOf(Command));
    try expect(8, @offsetOf(Command, "entity"));
    try expect(16, @offsetOf(Command, "mask"));
    try expect(24, @offsetOf(Command, "data_offset"));
    try expect(56, @sizeOf(Commands));
    try expect(16, @offsetOf(Commands, "len"));
    try expect(48, @offsetOf(Commands, "dropped"));

    try expect(24, @sizeOf(Target));

    try expect(152, @sizeOf(Frame));
    try expect(136, @offsetOf(Frame, "tunables"));
    try expect(144, @offsetOf(Frame, "tunable_count"));
    try expect(24, @sizeOf(TunableDecl));
    try expect(8, @offsetOf(TunableDecl, "default"));
    try expect(20, @offsetOf(TunableDecl, "step"));
    try expect(112, @offsetOf(Frame, "entities"));
    try expect(24, @sizeOf(EntityIndex));
    try expect(8, @offsetOf(EntityIndex, "tables"));
    try expect(16, @offsetOf(EntityIndex, "len"));
    try expect(8, @offsetOf(Frame, "step"));
    try expect(16, @offsetOf(Frame, "world_width"));
    try expect(24, @offsetOf(Frame, "queries"));
    try expect(32, @offsetOf(Frame, "query_count"));
    try expect(36, @offsetOf(Frame, "resource_count"));
    try expect(40, @offsetOf(Frame, "resources"));
    try expect(48, @offsetOf(Frame, "input"));
    try expect(56, @offsetOf(Frame, "commands"));
    try expect(64, @offsetOf(Frame, "target"));
    try expect(88, @offsetOf(Frame, "message"));
    try expect(96, @offsetOf(Frame, "message_cap"));
    try expect(104, @offsetOf(Frame, "message_len"));

    try expect(48, @sizeOf(Layout));
    try expect(168, @sizeOf(Api));
    try expect(152, @offsetOf(Api, "tunable_count"));
    try expect(160, @offsetOf(Api, "tunables"));
    try expect(4, @offsetOf(Api, "api_size"));
    try expect(8, @offsetOf(Api, "name"));
    try expect(16, @offsetOf(Api, "build_id"));
    try expect(20, @offsetOf(Api, "kind"));
    try expect(24, @offsetOf(Api, "order"));
    try expect(28, @offsetOf(Api, "schema_count"));
    try expect(32, @offsetOf(Api, "schema"));
    try expect(40, @offsetOf(Api, "query_count"));
    try expect(44, @offsetOf(Api, "resource_count"));
    try expect(48, @offsetOf(Api, "queries"));
    try expect(56, @offsetOf(Api, "resources"));
    try expect(64, @offsetOf(Api, "run"));
    try expect(72, @offsetOf(Api, "shutdown"));
    try expect(80, @offsetOf(Api, "state_version"));
    try expect(88, @offsetOf(Api, "save_state"));
    try expect(96, @offsetOf(Api, "load_state"));
    try expect(104, @offsetOf(Api, "layout"));
}

test "the SDK's drawing and grid modules are tested with it" {
    _ = draw;
    _ = grid;
}

test "the schema describes components.zig" {
    try std.testing.expect(schema.len == schema_types.len);
    for (schema) |c| try std.testing.expect(c.field_count == 0 or c.size > 0);
}

/// Panic handler for systems: `pub const panic = sdk.panic;` in each system's root file.
/// A safety check that fails ("index out of bounds", "integer overflow", ...) writes its
/// message to stderr, keeps it for the host, and traps; the host's guard catches the trap,
/// sets the build aside and keeps the game running. The default handler pulls in std's I/O, formatting and
/// stack-trace machinery, which costs seconds of LLVM time on every safe-mode rebuild.
pub const panic = std.debug.FullPanic(systemPanic);

/// The last panic's message, read by the host after its guarded call catches the trap
/// (game/native/guard.py names the fault with it). Only the panicking thread writes it.
export var sdk_panic_message: [256]u8 = undefined;
export var sdk_panic_length: u32 = 0;
/// Where the panic happened: the return address into the code whose safety check failed
/// (or that called `@panic`). The host turns it into file:line (game/hotreload/panics.py).
export var sdk_panic_address: usize = 0;

fn systemPanic(msg: []const u8, first_trace_addr: ?usize) noreturn {
    @branchHint(.cold);
    sdk_panic_address = first_trace_addr orelse @returnAddress();
    const n = @min(msg.len, sdk_panic_message.len);
    @memcpy(sdk_panic_message[0..n], msg[0..n]);
    sdk_panic_length = @intCast(n);
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
