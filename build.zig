//! Builds every `ecs_systems/*.zig` into its own shared library (adding a file adds a
//! system; `components.zig` becomes the `components` library, the world's schema), and
//! `zig build test` runs the SDK's and every system's unit tests.
//!
//!   zig build                      all systems, optimize=safe (bounds checks stay on)
//!   zig build -Doptimize=fast
//!   zig build -Dtarget=x86_64-windows
//!   zig build test
const std = @import("std");

const systems_dir = "ecs_systems";
const components_file = "components.zig";

pub fn build(b: *std.Build) void {
    const target = b.standardTargetOptions(.{});
    // Safe by default: a bad index in an edited system panics instead of corrupting the world.
    const optimize = b.option(std.builtin.Optimize, "optimize", "debug, safe (default), fast or small") orelse .safe;

    const sdk = b.createModule(.{
        .root_source_file = b.path(systems_dir ++ "/sdk/sdk.zig"),
        .target = target,
        .optimize = optimize,
    });
    // components.zig: every component and resource, imported by the SDK and every system.
    const components = b.createModule(.{
        .root_source_file = b.path(systems_dir ++ "/" ++ components_file),
        .target = target,
        .optimize = optimize,
        .imports = &.{.{ .name = "sdk", .module = sdk }},
    });
    sdk.addImport("components", components);

    // The configure step lists the folder, so adding or removing a file must re-run it.
    b.dependOnDirectoryContents(b.path(systems_dir));

    var libraries: std.ArrayList(*std.Build.Step.Compile) = .empty;
    var test_roots: std.ArrayList(*std.Build.Module) = .empty;
    test_roots.append(b.allocator, sdk) catch @panic("OOM");

    for (systemNames(b)) |name| {
        // The `components` library describes the schema; its root is the SDK's, not the
        // components file itself (which has no entry point of its own).
        const root_file = if (std.mem.eql(u8, name, "components"))
            systems_dir ++ "/sdk/schema_library.zig"
        else
            b.fmt("{s}/{s}.zig", .{ systems_dir, name });
        const root = b.createModule(.{
            .root_source_file = b.path(root_file),
            .target = target,
            .optimize = optimize,
            .imports = &.{ .{ .name = "sdk", .module = sdk }, .{ .name = "components", .module = components } },
            .strip = true,
        });
        libraries.append(b.allocator, b.addLibrary(.{
            .name = name,
            .linkage = .dynamic,
            .root_module = root,
        })) catch @panic("OOM");
        test_roots.append(b.allocator, root) catch @panic("OOM");
    }

    // Wiring last: install every library, and one test step over all roots.
    for (libraries.items) |lib| b.installArtifact(lib);
    const test_step = b.step("test", "Run the SDK's and every system's unit tests");
    for (test_roots.items) |root| {
        test_step.dependOn(&b.addRunArtifact(b.addTest(.{ .root_module = root })).step);
    }
}

/// Names of the `*.zig` files directly in `ecs_systems/`, sorted so builds are stable.
fn systemNames(b: *std.Build) []const []const u8 {
    const io = b.graph.io;
    var dir = b.root.openDir(io, systems_dir, .{ .iterate = true }) catch |err|
        std.debug.panic("cannot open {s}/: {t}", .{ systems_dir, err });
    defer dir.close(io);

    var names: std.ArrayList([]const u8) = .empty;
    var it = dir.iterate();
    while (it.next(io) catch |err| std.debug.panic("cannot list {s}/: {t}", .{ systems_dir, err })) |entry| {
        if (entry.kind != .file or !std.mem.endsWith(u8, entry.name, ".zig")) continue;
        const stem = entry.name[0 .. entry.name.len - ".zig".len];
        names.append(b.allocator, b.dupe(stem)) catch @panic("OOM");
    }
    std.mem.sort([]const u8, names.items, {}, lessThan);
    return names.items;
}

fn lessThan(_: void, a: []const u8, c: []const u8) bool {
    return std.mem.lessThan(u8, a, c);
}
