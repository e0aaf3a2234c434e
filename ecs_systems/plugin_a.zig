//! The seed experiment's plugin_a: `run` writes a banner with its name and `BuildId` into
//! the buffer the host passes (`Frame.message`, pointer and capacity). `--demo` bumps
//! `BuildId` in plugin_a's source, rebuilds, reloads and runs it again.
const std = @import("std");
const sdk = @import("sdk");
pub const panic = sdk.panic;

pub const BuildId: u32 = 1;

// A demo plugin reads no components: `bare` gives it the schema and its own C `run`.
const api = sdk.bare(.{ .name = "plugin_a", .build_id = BuildId, .kind = .demo, .run = run });

export fn plugin_entry() *const sdk.Api {
    return &api;
}

fn run(frame: *sdk.Frame) callconv(.c) i32 {
    _ = sdk.report(frame, .ok, "plugin_a: hello from BuildId {d}", .{BuildId});
    return sdk.ok;
}

test "the banner names the plugin and its BuildId" {
    var buf: [64]u8 = undefined;
    // run only touches the message fields; the rest (input, commands, ...) stays unset.
    var frame: sdk.Frame = undefined;
    frame.message = &buf;
    frame.message_cap = buf.len;
    frame.message_len = 0;
    try std.testing.expectEqual(sdk.ok, run(&frame));
    var expected: [64]u8 = undefined;
    const want = try std.fmt.bufPrint(&expected, "plugin_a: hello from BuildId {d}", .{BuildId});
    try std.testing.expectEqualStrings(want, buf[0..@intCast(frame.message_len)]);
}
