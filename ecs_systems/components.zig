//! Every component and resource of the world, declared once. Systems import this file
//! (`const c = @import("components");`), and the host learns the same layouts from it
//! (the `components` library built from it describes them), so there is no second copy.
//!
//! A component is a struct of fields (f32, f64, i32, u32, u8, i64, u64, sdk.Entity, or
//! `[N]` arrays of them), each with a default; a struct with no fields is a tag. A struct
//! with `pub const resource = true;` is a resource: one value for the whole world.
//! Defaults reach the host as f64: an integer default above 2^53 is rounded.
//!
//! Editing this file and pressing F5 migrates the world by name: a new component or
//! resource, a new field (every entity that has the component gets its default) and a
//! wider field (f32 -> f64, [2] -> [3]) are applied; a narrower field, a changed type or a
//! removed field that entities still hold are refused, and nothing is lost.
const sdk = @import("sdk");

pub const Position = struct { x: f32 = 0, y: f32 = 0 };
pub const Velocity = struct { x: f32 = 0, y: f32 = 0 };
/// 0x00RRGGBB.
pub const Color = struct { rgb: u32 = 0x3050FF };
pub const Health = struct { hp: i32 = 100 };
/// Seconds left; the lifetime system despawns the entity at 0.
pub const Lifetime = struct { seconds: f32 = 5 };
pub const Team = struct { id: u32 = 0 };
/// Another entity this one refers to (`.none`: nobody).
pub const Target = struct { entity: sdk.Entity = .none };
/// Tags.
pub const Player = struct {};
pub const Frozen = struct {};

/// Resources.
pub const Score = struct {
    value: i64 = 0,
    pub const resource = true;
};
/// Constants the systems read; edit them live from Python (`world.resource("Tunables")`).
pub const Tunables = struct {
    attract: f32 = 90_000,
    idle_attract: f32 = 12_000,
    max_speed: f32 = 600,
    pub const resource = true;
};
/// A seeded generator for systems (`sdk.nextRandom(&rng.state)`): saved, rewound and
/// replayed with the world, so random systems stay reproducible.
pub const Rng = struct {
    state: u64 = 0x2545F4914F6CD800, // exact as an f64 (see above)
    pub const resource = true;
};
