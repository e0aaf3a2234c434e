//! The `components` library: no code that runs, only the schema of components.zig (every
//! library carries it; this one is the world's source of truth).
const sdk = @import("sdk");
pub const panic = sdk.panic;

const api = sdk.bare(.{ .name = "components", .build_id = 1, .kind = .schema });

export fn plugin_entry() *const sdk.Api {
    return &api;
}
