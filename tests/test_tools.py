"""The window tools through the real loop: the tunables panel (F3) and the entity inspector
(F2), with real Zig systems, keys and clicks posted into pygame's event queue."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pygame
import pytest

from bench.frames import copy_project
from game.app import Game
from game.world import snapshot
from tests.conftest import edit, headless

BOIDS = "ecs_systems/boids.zig"
MAX_SPEED_DEFAULT = "max_speed: f32 = 150 };"


def key(name: str, shift: bool = False, text: str = "") -> None:
    mod = pygame.KMOD_LSHIFT if shift else 0
    event = pygame.event.Event(pygame.KEYDOWN, key=pygame.key.key_code(name), mod=mod, unicode=text, scancode=0)
    pygame.event.post(event)


def click(x: float, y: float) -> None:
    pos = (round(x), round(y))
    pygame.event.post(pygame.event.Event(pygame.MOUSEBUTTONDOWN, button=1, pos=pos))
    pygame.event.post(pygame.event.Event(pygame.MOUSEBUTTONUP, button=1, pos=pos))


@pytest.fixture
def game(project: Path, request: pytest.FixtureRequest) -> Iterator[Game]:
    scene = getattr(request, "param", "flock")
    g = Game(headless(project, scene=scene, entities=3000, size=(640, 480)))
    try:
        assert g.start()
        yield g
    finally:
        g.close()


def boid_speeds(game: Game) -> np.ndarray:
    speeds = [
        np.hypot(t.column("Velocity.x")[: t.count], t.column("Velocity.y")[: t.count])
        for t in game.world.query("Velocity", "Boid")
    ]
    return np.concatenate(speeds)


def choose(game: Game, system: str, name: str) -> None:
    """Moves the panel's cursor to `system.name` with Down presses."""
    panel = game.tools.tunables
    for _ in range(len(panel.entries())):
        chosen = panel.chosen()
        assert chosen is not None
        if (chosen.system, chosen.spec.name) == (system, name):
            return
        key("down")
        game.frame()
    raise AssertionError(f"{system}.{name} is not in the panel: {[(e.system, e.spec.name) for e in panel.entries()]}")


def test_a_tunable_changes_live_survives_a_reload_and_a_saved_world_and_yields_to_a_new_default(
    game: Game, project: Path, tmp_path: Path
) -> None:
    panel = game.tools.tunables
    key("f3")
    game.frame()
    assert panel.open
    names = {(e.system, e.spec.name) for e in panel.entries()}
    assert {("boids", "max_speed"), ("boids", "cohesion"), ("ship", "thrust_accel")} <= names
    game.frame()
    assert boid_speeds(game).max() > 100  # the source's top speed, 150
    choose(game, "boids", "max_speed")
    for _ in range(4):
        key("left", shift=True)  # 10 steps of 5 each: 150 -> 60, the bottom of the range
    game.frame()
    assert game.world.tunables.get("boids", "max_speed") == 60
    for _ in range(5):
        game.frame()
    assert boid_speeds(game).max() <= 60.01  # no rebuild: the next steps read the new value
    assert any(text.startswith(" *max_speed") for text, _ in panel.lines())

    # An edit elsewhere in the file: the new build keeps the tweaked value.
    edit(project / BOIDS, "pub const build_id: u32 = 1;", "pub const build_id: u32 = 2;")
    game.reloader.request("F5")
    game.reloader.wait()
    assert game.pipeline.slots["boids"].system.info.build_id == 2
    assert game.world.tunables.get("boids", "max_speed") == 60
    assert float(game.pipeline.slots["boids"].system.tunables[3]) == 60

    # A saved world carries it (checked last: a second game closing ends pygame for both).
    saved = tmp_path / "world.npz"
    snapshot.save(game.world, saved)
    # (Its own copy of the project: two games of one process must not share `.hot/`'s copies.)
    elsewhere = copy_project(tmp_path / "other", project)

    # Writing a new default into the source: the source wins.
    edit(project / BOIDS, MAX_SPEED_DEFAULT, "max_speed: f32 = 200 };")
    game.reloader.request("F5")
    game.reloader.wait()
    assert game.world.tunables.get("boids", "max_speed") == 200
    key("left")
    game.frame()
    assert game.world.tunables.get("boids", "max_speed") == 195
    assert any(text.startswith(" *max_speed") for text, _ in panel.lines())
    key("home")  # back to the source's default
    game.frame()
    assert game.world.tunables.get("boids", "max_speed") == 200
    assert not any(text.startswith(" *max_speed") for text, _ in panel.lines())

    other = Game(headless(elsewhere, scene="flock", entities=10, size=(640, 480), load_world=saved))
    try:
        assert other.start()
        assert other.world.tunables.get("boids", "max_speed") == 60
        other.frame()
        assert boid_speeds(other).max() <= 60.01
    finally:
        other.close()


def test_a_click_on_a_bar_sets_the_value_under_the_pointer_and_arrows_stay_with_the_panel(game: Game) -> None:
    panel = game.tools.tunables
    key("f3")
    game.frame()  # drawn once: the bars have places
    assert panel._bars
    bx, by, bw, bh = panel._bars[0]
    first = panel.entries()[0]
    click(bx + bw - 1, by + bh // 2)
    game.frame()
    assert game.world.tunables.get(first.system, first.spec.name) == first.spec.clamp(first.spec.max)
    # While the panel is open, the arrows are its own: the ship's systems never see them.
    key("up")
    game.frame()
    assert not any(game.inputs.struct.keys_held)
    key("f3")
    key("up")
    game.frame()
    assert any(game.inputs.struct.keys_held)


@pytest.mark.parametrize("game", ["drift"], indirect=True)
def test_the_inspector_shows_edits_and_follows_an_entity_through_pause_step_and_rewind(game: Game) -> None:
    inspector = game.tools.inspector
    for _ in range(70):  # past the first rewind checkpoint
        game.frame()
    key("space")  # paused: nothing moves unless stepped
    key("f2")
    game.frame()
    table = next(iter(game.world.query("Position", "Velocity")))
    target = int(table.ids()[5])
    x, y = (float(table.column(f"Position.{a}")[5]) for a in "xy")
    count = game.world.count
    click(x, y)
    game.frame()
    assert inspector.entity == target, (inspector.entity, target)
    assert game.world.count == count  # the click picked; it spawned nothing
    text = "\n".join(line for line, _ in inspector.lines())
    assert f"entity {target & 0xFFFFFFFF}v{target >> 32}" in text
    assert "Position" in text and "Velocity" in text and f"{x:.6g}" in text

    # Edit Position.x in place: choose the row, Enter, type, Enter.
    rows = inspector.rows()
    index = next(i for i, r in enumerate(rows) if (r.component, r.field) == ("Position", "x"))
    for _ in range(index):
        key("down")
    key("return")
    for ch in "123.5":
        key(ch, text=ch)
    key("return")
    game.frame()
    assert float(game.world.get(target, "Position")["x"]) == 123.5
    assert "123.5" in "\n".join(line for line, _ in inspector.lines())

    # Pinned, live while stepping: the shown value is the world's after the step.
    key("p")
    key(".")
    game.frame()
    assert inspector.pinned and inspector.open
    moved = float(game.world.get(target, "Position")["x"])
    assert f"{moved:.6g}" in "\n".join(line for line, _ in inspector.lines())
    # Rewind: back a second, the entity as it was then (the edit undone with it).
    key("r")
    game.frame()
    back = float(game.world.get(target, "Position")["x"])
    assert back != moved and f"{back:.6g}" in "\n".join(line for line, _ in inspector.lines())
    # Closed but pinned: the marker still follows it.
    key("f2")
    game.frame()
    assert not inspector.open and inspector.marker() is not None


@pytest.mark.parametrize("game", ["drift"], indirect=True)
def test_the_inspector_cycles_through_every_entity_and_says_when_one_is_gone(game: Game) -> None:
    inspector = game.tools.inspector
    key("f2")
    key("page down")
    game.frame()
    first = inspector.entity
    assert first is not None
    seen = {first}
    for _ in range(4):
        key("page down")
        game.frame()
        seen.add(inspector.entity or 0)
    assert len(seen) == 5
    key("page up")
    game.frame()
    game.world.despawn([inspector.entity])
    assert "not alive at this step" in "\n".join(line for line, _ in inspector.lines())


def test_the_readme_capture_shows_both_tools_on_a_pinned_boid(project: Path, tmp_path: Path) -> None:
    from game.capture import tools

    (path,) = tools(tmp_path, project)
    pygame.display.init()  # the capture's game closed pygame
    pixels = pygame.surfarray.array3d(pygame.image.load(str(path)))  # [x, y, rgb]
    marker = np.all(pixels == (255, 230, 80), axis=2)
    assert marker.sum() > 40  # the ring and cross hairs on the pinned boid
    xs, ys = np.nonzero(marker)
    assert xs.max() - xs.min() < 60 and ys.max() - ys.min() < 60  # one marker, in one place
    width = pixels.shape[0]
    # The panels' dark blue backing at the right, the inspector's above the tunables'.
    for rows in (slice(14, 40), slice(300, 330)):
        backing = pixels[width - 40 : width - 12, rows].reshape(-1, 3).astype(int)
        assert np.median(backing[:, 2]) > np.median(backing[:, 0]) + 10, rows


TOUCHY = """const sdk = @import("sdk");
const c = @import("components");
pub const panic = sdk.panic;

const W = sdk.World(.{
    .queries = .{ .q = sdk.Query(.{ .pos = .{ c.Position, .read } }, .{}) },
    .tunables = .{ .reach = sdk.Tunable{ .default = 1, .min = 0, .max = 10, .step = 1 } },
});
const api = sdk.system(W, .{ .name = "touchy", .build_id = BUILD, .order = 50, .run = run });

export fn plugin_entry() *const sdk.Api {
    return &api;
}

var sink: u8 = 0;

fn run(w: *W) !void {
    const table = [_]u8{ 1, 2, 3, 4 };
    const reach: usize = @intFromFloat(w.tune(.reach));
    sink = if (BUILD == 1) table[0] else table[reach + 2]; // build 2: reach 2 is past the end
}
"""


def test_the_canary_runs_a_new_build_with_the_games_tunable_values(project: Path) -> None:
    path = project / "ecs_systems" / "touchy.zig"
    path.write_text(TOUCHY.replace("BUILD", "1"))
    g = Game(headless(project, entities=200))
    try:
        assert g.start()
        g.pipeline.tune("touchy", "reach", 2)
        g.frame()
        path.write_text(TOUCHY.replace("BUILD", "2"))  # fine at the default, 1; not at the game's 2
        g.reloader.request("F5")
        g.reloader.wait()
        said = g.reloader.message
        assert "canary caught touchy: panic in run: index out of bounds: index 4, len 4" in said, said
        assert "ecs_systems/touchy.zig:" in said and "table[reach + 2]" in said, said
        assert g.pipeline.slots["touchy"].system.info.build_id == 1
    finally:
        g.close()
