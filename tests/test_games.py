"""The two games, `arena` and `flock`, played headless through the real event loop, the real
compiler and the real libraries: the arena plays itself (attract mode), the same seed and
input give the same game, a reload mid-game keeps the world bit-identical, a behaviour
edit shows from the next step, and a component added by an edit arrives with its default."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pygame
import pytest

from bench.frames import copy_project
from game.app import Game
from game.options import PROJECT_ROOT
from tests.conftest import assert_consistent, assert_same, edit, headless, press, world_state

SIZE = (640, 360)
FRAMES = 420  # 7 s of game: the first wave is out and being shot at
RELOAD_AT = 240
LATER = 480


def arena(project: Path, **overrides: object) -> Game:
    options: dict[str, object] = {"scene": "arena", "size": SIZE}
    options.update(overrides)
    game = Game(headless(project, **options))
    assert game.start()
    return game


def count(game: Game, *components: str) -> int:
    return sum(t.count for t in game.world.query(*components))


def until_step(game: Game, step: int) -> None:
    while game.world.step < step:
        game.frame()


def f5(game: Game) -> None:
    """Presses F5 through the event queue and blocks until the build is swapped in."""
    press(game, pygame.K_F5)
    game.frame()
    game.reloader.wait()
    assert not game.reloader.building
    assert not game.reloader.failures, game.reloader.message


def problems(game: Game) -> dict[str, str]:
    """Every system's error or refused-command warning."""
    return {
        name: slot.warning or slot.error or ""
        for name, slot in game.pipeline.slots.items()
        if slot.warning or slot.error
    }


@dataclass
class Played:
    state: dict[str, np.ndarray]
    """The world at step LATER."""
    seen: set[str]
    """Every kind of entity that existed at some frame."""
    score: int
    arena: dict[str, float]


@pytest.fixture(scope="module")
def played(built_project: Path, tmp_path_factory: pytest.TempPathFactory) -> Played:
    """The arena run by its autopilot to step LATER, never reloaded."""
    project = copy_project(tmp_path_factory.mktemp("arena"), built_project)
    game = arena(project)
    seen: set[str] = set()
    try:
        while game.world.step < LATER:
            game.frame()
            for kind in ("Ship", "Asteroid", "Bullet", "Spark", "Hunter", "Pickup"):
                if count(game, kind):
                    seen.add(kind)
        assert problems(game) == {}
        assert_consistent(game)
        value = game.world.resource("Arena")[0]
        return Played(
            world_state(game),
            seen,
            int(game.world.resource("Score")["value"][0]),
            {n: float(value[n]) for n in value.dtype.names or ()},
        )
    finally:
        game.close()


def test_the_arena_plays_itself(played: Played) -> None:
    """Headless nobody touches a key: the autopilot flies, shoots asteroids (which split
    and throw sparks), and the waves come; nothing is refused along the way."""
    assert played.arena["state"] == 2  # playing
    assert played.arena["wave"] >= 1 and played.arena["kills"] >= 3
    assert played.score > 0
    assert {"Ship", "Asteroid", "Bullet", "Spark"} <= played.seen
    assert played.arena["idle"] >= 4  # the autopilot's threshold: nobody pressed a key


RECORDED = [
    (20, pygame.K_LEFT, True), (45, pygame.K_LEFT, False), (50, pygame.K_x, True), (51, pygame.K_UP, True),
    (90, pygame.K_UP, False), (140, pygame.K_x, False), (150, pygame.K_RIGHT, True), (170, pygame.K_RIGHT, False),
]  # fmt: skip


def play_recorded(
    project: Path, recorded: list[tuple[int, int, bool]], frames: int
) -> tuple[dict[str, np.ndarray], float]:
    """The world after `frames` frames of the arena with `recorded` keys, and the idle time."""
    game = arena(project)
    try:
        script = list(recorded)
        for i in range(frames):
            while script and script[0][0] == i:
                _, key, down = script.pop(0)
                kind = pygame.KEYDOWN if down else pygame.KEYUP
                pygame.event.post(pygame.event.Event(kind, key=key, mod=0, unicode="", scancode=0))
            game.frame()
        return world_state(game), float(game.world.resource("Arena")["idle"][0])
    finally:
        game.close()


def test_same_seed_and_input_give_the_same_game(project: Path) -> None:
    """The player's keys (turn, thrust, fire) recorded once and played twice: the same world,
    bit for bit; other keys give another game (so the comparison can fail)."""
    first, idle = play_recorded(project, RECORDED, 200)
    again, _ = play_recorded(project, RECORDED, 200)
    other, _ = play_recorded(project, RECORDED[:2], 200)
    assert idle < 4  # the player flew, not the autopilot
    assert_same(first, again)
    assert not all(np.array_equal(first[k], other[k]) for k in first if k in other)


def test_reload_of_unchanged_code_mid_game_is_bit_identical(project: Path, played: Played) -> None:
    """F5 while bullets fly and entities spawn and die every step, with the ship, the
    collisions and the grid rebuilt (their build ids bumped): the world at step LATER is
    the one of the run that never reloaded, ids and the grid included."""
    game = arena(project)
    try:
        until_step(game, RELOAD_AT)
        assert count(game, "Bullet") and count(game, "Spark") and count(game, "Asteroid")
        for name in ("ship", "collide", "grid"):
            edit(project / "ecs_systems" / f"{name}.zig", "build_id: u32 = 1;", "build_id: u32 = 2;")
        f5(game)
        assert {game.pipeline.slots[n].system.info.build_id for n in ("ship", "collide", "grid")} == {2}
        until_step(game, LATER)
        assert problems(game) == {}
        assert_same(world_state(game), played.state)
    finally:
        game.close()


def bullet_speeds(game: Game) -> dict[int, float]:
    """Each bullet's speed relative to the ship (what ship.zig adds to the ship's velocity)."""
    ship = next(t for t in game.world.query("Ship") if t.count)
    svx, svy = ship.column("Velocity.x")[0], ship.column("Velocity.y")[0]
    out = {}
    for t in game.world.query("Bullet"):
        ids = t.ids()
        vx, vy = t.column("Velocity.x")[: t.count], t.column("Velocity.y")[: t.count]
        for e, s in zip(ids.tolist(), np.hypot(vx - svx, vy - svy).tolist(), strict=True):
            out[e] = s
    return out


def test_a_behaviour_edit_shows_from_the_next_step_and_changes_nothing_else(project: Path) -> None:
    """Bullet speed 520 -> 900 in ship.zig, reloaded while paused: the reload itself leaves the
    world bit-identical; the first bullet fired after it flies at the new speed."""
    game = arena(project)
    try:
        until_step(game, RELOAD_AT)
        # Paused (not by Space: a key would wake the player and stop the autopilot), so the
        # swap lands with no step in between.
        game.toggle_pause()
        game.frame()
        before = world_state(game)
        old = bullet_speeds(game)
        edit(project / "ecs_systems" / "ship.zig", "const bullet_speed: f32 = 520;", "const bullet_speed: f32 = 900;")
        f5(game)
        assert_same(world_state(game), before)
        game.toggle_pause()
        for _ in range(120):
            game.frame()
            new = {e: s for e, s in bullet_speeds(game).items() if e not in old}
            if new:
                break
        assert new, "the autopilot fired no bullet in 2 s"
        # Straight after the step that fired them: no bounce yet, no change of the ship's velocity.
        assert all(abs(s - 900) < 1 for s in new.values()), new
        assert problems(game) == {}
    finally:
        game.close()


SHIELD_COMPONENT = """
/// Added by an edit: hit points of the ship's shield.
pub const Shield = struct { hp: i32 = 3 };
"""

SHIELD_SYSTEM = """//! Shield (added by an edit): every ship without a shield gets one.
const sdk = @import("sdk");
const c = @import("components");
pub const panic = sdk.panic;

pub const build_id: u32 = 1;

const Bare = sdk.Query(.{ .ship = .{ c.Ship, .read } }, .{ .without = .{c.Shield} });
const W = sdk.World(.{ .queries = .{ .bare = Bare } });

const api = sdk.system(W, .{ .name = "shield", .build_id = build_id, .order = 6, .run = run });

export fn plugin_entry() *const sdk.Api {
    return &api;
}

fn run(w: *W) !void {
    var ships = w.query(.bare);
    while (ships.next()) |t| for (t.entities) |e| w.add(e, c.Shield{});
}
"""


def test_a_component_added_by_an_edit_arrives_with_its_default_and_stays(project: Path) -> None:
    game = arena(project)
    try:
        until_step(game, 120)
        entities = count(game, "Asteroid") + count(game, "Bullet")
        systems = project / "ecs_systems"
        (systems / "components.zig").write_text((systems / "components.zig").read_text() + SHIELD_COMPONENT)
        (systems / "shield.zig").write_text(SHIELD_SYSTEM)
        f5(game)
        assert "Shield" in game.world.schema and "shield" in game.pipeline.slots
        for _ in range(3):
            game.frame()
        shielded = [t for t in game.world.query("Ship", "Shield") if t.count]
        assert shielded and shielded[0].column("Shield.hp")[0] == 3
        for _ in range(120):
            game.frame()
        assert count(game, "Ship", "Shield") == count(game, "Ship") == 1
        assert entities > 0 and problems(game) == {}
        assert_consistent(game)
    finally:
        game.close()


def test_the_flock_flocks_and_flees(project: Path) -> None:
    """3,000 boids: speeds stay within boids.zig's limits, everyone stays in the world, and
    with the mouse in the window the boids near it fly away from it."""
    game = Game(headless(project, scene="flock", entities=3000, size=SIZE))
    try:
        assert game.start()
        for _ in range(120):
            game.frame()
        game.inputs.update(mouse_x=320.0, mouse_y=180.0, in_window=True)
        for _ in range(20):
            game.frame()
        (t,) = [t for t in game.world.query("Boid") if t.count]
        x, y = t.column("Position.x")[: t.count], t.column("Position.y")[: t.count]
        vx, vy = t.column("Velocity.x")[: t.count], t.column("Velocity.y")[: t.count]
        speed = np.hypot(vx, vy)
        assert speed.min() >= 59.9 and speed.max() <= 150.1
        assert x.min() >= 0 and x.max() <= SIZE[0] and y.min() >= 0 and y.max() <= SIZE[1]
        dx, dy = x - 320, y - 180
        close = np.hypot(dx, dy) < 80
        assert close.sum() >= 3
        outward = vx[close] * dx[close] + vy[close] * dy[close] > 0
        assert outward.mean() > 0.8, outward.mean()  # nearly all of them fly away (a few are just arriving)
        hawk = game.world.resource("Predator")[0]
        assert (float(hawk["x"]), float(hawk["y"])) == (320.0, 180.0)
        assert problems(game) == {}
    finally:
        game.close()


def readme_system() -> str:
    """The Zig block of the README's "A game system, start to finish"."""
    text = (PROJECT_ROOT / "README.md").read_text()
    section = text[text.index("### A game system, start to finish") :]
    return section[section.index("```zig\n") + len("```zig\n") : section.index("\n```\n")] + "\n"


def test_the_readme_s_game_system_builds_and_plays(project: Path) -> None:
    """What a newcomer copies from the README works as it says: saved into the running arena
    and reloaded, bullets turn towards asteroids (some bullet's heading changes while it flies)."""
    game = arena(project)
    try:
        until_step(game, 200)
        (project / "ecs_systems" / "homing.zig").write_text(readme_system())
        f5(game)
        assert "homing" in game.pipeline.slots
        turned = 0
        for _ in range(120):
            before = bullets(game)
            game.frame()
            after = bullets(game)
            # Only bullets away from the walls: a bounce turns a bullet too.
            turned += sum(abs(after[e] - a) > 0.001 for e, a in before.items() if e in after)
        assert turned >= 10
        assert problems(game) == {}
    finally:
        game.close()


def bullets(game: Game) -> dict[int, float]:
    """The heading of each bullet more than 12 px from every wall."""
    out = {}
    w, h = SIZE
    for t in game.world.query("Bullet"):
        n = t.count
        x, y = t.column("Position.x")[:n], t.column("Position.y")[:n]
        inside = (x > 12) & (x < w - 12) & (y > 12) & (y < h - 12)
        heading = np.arctan2(t.column("Velocity.y")[:n], t.column("Velocity.x")[:n])
        out.update(zip(t.ids()[inside].tolist(), heading[inside].tolist(), strict=True))
    return out


def test_game_over_and_a_new_game_without_leaving_the_sandbox(project: Path) -> None:
    """The last life lost: game over (the ship gone); Enter starts a new game (a ship again,
    3 lives, score 0, wave 1 on its way); with nobody at the keys the autopilot does it."""
    game = arena(project)
    try:
        until_step(game, 150)
        arena_state = game.world.resource("Arena")
        arena_state["lives"] = 1
        (ship,) = [t for t in game.world.query("Ship") if t.count]
        x, y = float(ship.column("Position.x")[0]), float(ship.column("Position.y")[0])
        ship.column("Ship.safe")[0] = 0
        f32 = np.float32
        game.world.spawn(
            1,
            {
                "Position": {"x": np.array([x], f32), "y": np.array([y], f32)},
                "Velocity": None,
                "Heading": None,
                "Body": {"radius": np.array([38], f32), "layer": np.array([4], np.uint32)},
                "Asteroid": None,
            },
        )
        for _ in range(3):
            game.frame()
        assert int(arena_state["state"][0]) == 3 and count(game, "Ship") == 0  # game over
        assert int(game.world.resource("Score")["value"][0]) > 0 or int(arena_state["wave"][0]) >= 1
        for kind in (pygame.KEYDOWN, pygame.KEYUP):
            pygame.event.post(pygame.event.Event(kind, key=pygame.K_RETURN, mod=0, unicode="", scancode=0))
            game.frame()
        game.frame()
        assert int(arena_state["state"][0]) == 2 and int(arena_state["lives"][0]) == 3
        assert count(game, "Ship") == 1 and count(game, "Asteroid") == 0  # a clean arena
        assert int(game.world.resource("Score")["value"][0]) == 0
        # Nobody at the keys again: the autopilot plays, loses its lives... and starts over by itself.
        arena_state["lives"] = 0
        arena_state["state"] = 3
        arena_state["idle"] = 100
        for _ in range(int(4.5 * 60)):
            game.frame()
        assert int(arena_state["state"][0]) == 2 and count(game, "Ship") == 1
        assert problems(game) == {}
        assert_consistent(game)
    finally:
        game.close()


def test_the_tour_edits_live_catches_the_bug_and_puts_the_sources_back(project: Path) -> None:
    """`--tour`, frames back to back: each edit goes live with the world kept, the Shield
    arrives, the planted bug is caught, and every source is as it was at the end."""
    from game.tour import Tour

    sources = project / "ecs_systems"
    before = {p: p.read_bytes() for p in sources.rglob("*.zig")}
    tour = Tour(headless(project, scene="arena", size=SIZE))
    said: list[str] = []  # each beat's last caption
    shown: list[set[str]] = []  # every caption each beat showed
    play, describe = tour.play, tour.describe

    def play_and_note(beat: Any) -> None:
        shown.append(set())
        play(beat)
        said.append(tour.detail)

    def describe_and_note(*args: Any) -> str:
        shown[-1].add(text := describe(*args))
        return text

    tour.play = play_and_note  # type: ignore[method-assign]
    tour.describe = describe_and_note  # type: ignore[method-assign]
    assert tour.run() == 0
    assert {p: p.read_bytes() for p in sources.rglob("*.zig")} == before
    assert len(said) == 7, said
    assert said[1].startswith("T") and "World kept" in said[1], said[1]  # ship.zig live
    # The ship shows its Shield once the new system runs (at the beat's end it may be between
    # lives: a late build lands at another step of the same, deterministic game).
    assert any("Shield hp=3" in text for text in shown[2]), sorted(shown[2])[-5:]
    assert said[3].startswith(("CAUGHT: asteroids", "REFUSED")), said[3]
    assert "World kept" in said[3] or said[3].startswith("REFUSED")
