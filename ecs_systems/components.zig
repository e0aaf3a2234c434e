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

// --- the games: `arena` and `flock` ----------------------------------------------------
// Their entities have no `Color`: the particle systems (attractor, colorize, render) leave
// them alone, and each game draws its own with its render system.

/// A round body in the spatial grid (`Grid`, filled by the `grid` system). `layer` is one
/// of the `layer_*` bits below: what kind of thing it is, for whoever looks it up.
pub const Body = struct { radius: f32 = 4, layer: u32 = 0 };
pub const layer_ship: u32 = 1;
pub const layer_bullet: u32 = 2;
pub const layer_asteroid: u32 = 4;
pub const layer_hunter: u32 = 8;
pub const layer_pickup: u32 = 16;
pub const layer_boid: u32 = 32;

/// Facing (radians) and turning speed (radians per second).
pub const Heading = struct { angle: f32 = 0, spin: f32 = 0 };
/// What flies a ship this step: set from the keys (`pilot`) or by the `autopilot`.
/// `turn` and `thrust` in -1..1, `fire` 0 or 1.
pub const Control = struct { turn: f32 = 0, thrust: f32 = 0, fire: u32 = 0 };
/// The player's ship: seconds of safety left (after a respawn), seconds until the gun is
/// ready, seconds of rapid fire left, and extra bullets per shot (pickups).
pub const Ship = struct { safe: f32 = 2, cooldown: f32 = 0, rapid: f32 = 0, spread: u32 = 0 };
/// `size` 3 (big) to 1 (small): a hit that destroys one splits it into two of `size - 1`.
/// `hp`: hits it takes before it breaks. `seed` shapes its outline.
pub const Asteroid = struct { size: u32 = 3, hp: i32 = 3, seed: u32 = 0 };
/// An enemy that chases the ship (from wave 2); `hp`: hits it takes.
pub const Hunter = struct { hp: i32 = 2 };
pub const Bullet = struct { damage: i32 = 1 };
/// Dropped by what the player destroys: 0 extra life, 1 rapid fire, 2 spread shot.
pub const Pickup = struct { kind: u32 = 0 };
/// Damage taken this step: added by `collide`, applied and removed by the victim's system.
pub const Hit = struct { damage: i32 = 1 };
/// Explosion debris and engine flame: drawn fading as its `Lifetime` runs out.
pub const Spark = struct { rgb: u32 = 0xFFFFFF };
/// A bird of the flock (with Position, Velocity, Body).
pub const Boid = struct {};

/// The arena game. `state`: 0 not playing (another scene), 1 start a new game, 2 playing,
/// 3 game over. `idle`: seconds since the player last touched a key: after a few the
/// autopilot flies (and it flies from the start: nobody has touched a key yet).
/// The score is the `Score` resource.
pub const Arena = struct {
    state: u32 = 0,
    lives: i32 = 3,
    wave: u32 = 0,
    /// Seconds in the current state.
    timer: f32 = 0,
    idle: f32 = 1_000,
    /// Things destroyed, for the record.
    kills: u32 = 0,
    pub const resource = true;
};

/// The flock's predator: the mouse, or (with no mouse in the window) a hawk that circles
/// on its own. The `boids` system moves it and the flock flees it.
pub const Predator = struct {
    x: f32 = -1_000,
    y: f32 = -1_000,
    pub const resource = true;
};

/// Room for 262,144 bodies over up to 65,536 cells (8 MiB). See `sdk/grid.zig`.
pub const Grid = sdk.grid.Grid(1 << 18, 1 << 16);

// --- assets: resources the host fills from files under `assets/` ----------------------
// A scene names the files it uses (game/world/scenes.py, `Scene.assets`); the host reads
// each into its resource at the start, and again whenever the file is saved (watch mode, or
// F5). A file that does not load keeps the values the resource had, and the HUD says why.
// The formats are in the README ("Assets") and game/world/assets.py.

/// The arena's waves, from `assets/arena/waves.json`: wave n (from 1) is row n - 1, and
/// after the last row the last row again. `count` 0: no table loaded (waves.zig has its own).
pub const Waves = struct {
    /// Rows in the table.
    count: u32 = 0,
    /// Seconds between clearing a wave and the next one.
    breather: f32 = 1.5,
    rocks: [max_waves]u32 = @splat(0),
    hunters: [max_waves]u32 = @splat(0),
    /// Each rock's speed: random between these, in pixels per second.
    min_speed: [max_waves]f32 = @splat(0),
    max_speed: [max_waves]f32 = @splat(0),
    pub const resource = true;
};
pub const max_waves = 64;

/// The flock's colours round the compass, from `assets/flock/palette.png` (its top row of
/// pixels, left to right: boids flying left first, then turning clockwise on screen).
/// `count` 0: none loaded (flock_draw has its own).
pub const Palette = struct {
    count: u32 = 0,
    rgb: [256]u32 = @splat(0),
    pub const resource = true;
};

/// The player's ship, from `assets/arena/ship.png`, nose pointing right: arena_draw turns
/// it with the ship's heading. `width` 0: none loaded (the outline is drawn instead).
pub const ShipSprite = sdk.draw.Sprite(64 * 64);
