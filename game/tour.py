"""`run_game.py --tour`: about a minute that shows what the sandbox is for, by itself.

It plays the arena (the autopilot flies), then edits real systems under `ecs_systems/` the
way a person would, by saving files that watch mode picks up: a behaviour change (faster
bullets, a quicker gun), a new component and a new system (`Shield`), a deliberate bug
(caught, the world kept), its fix, and a rewind. Captions say what happens, from what the
reloader and the world report. Every source it touched is put back at the end, even after
an error or Ctrl+C. `--capture FILE.gif` records it (the README's main animation).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from game.app import FPS_CAP, Game
from game.options import Options

log = logging.getLogger("sandbox")

CAPTURE_SIZE = (560, 315)
"""The animation's frame: every 6th frame of the game (10 a second), scaled down."""

SHIP_SPEED = ("const bullet_speed: f32 = 520;", "const bullet_speed: f32 = 1100;")
SHIP_RELOAD = ("const reload: f32 = 0.2;", "const reload: f32 = 0.08;")
ROCK_BUG = (
    "                arena.explode(w, rng, x, y, 0, 0, 3, 0xB0A090);",
    "                const chips = [_]u32{ 0, 2, 4 }; // one per size... 1, 2, 3?\n"
    "                arena.explode(w, rng, x, y, 0, 0, chips[t.rock.size[i]], 0xB0A090);",
)
SHIELD_COMPONENT = """
/// Added by the tour: the ship's shield.
pub const Shield = struct { hp: i32 = 3 };
"""
SHIELD_SYSTEM = """//! Shield (written by the tour): every ship gets a shield, which glows round it.
const std = @import("std");
const sdk = @import("sdk");
const c = @import("components");
pub const panic = sdk.panic;

pub const build_id: u32 = 1;

const Bare = sdk.Query(.{ .ship = .{ c.Ship, .read } }, .{ .without = .{c.Shield} });
const Shielded = sdk.Query(.{ .pos = .{ c.Position, .read }, .shield = .{ c.Shield, .read } }, .{});
const W = sdk.World(.{ .queries = .{ .bare = Bare, .shielded = Shielded } });

const api = sdk.system(W, .{ .name = "shield", .build_id = build_id, .order = 6, .run = run });

export fn plugin_entry() *const sdk.Api {
    return &api;
}

fn run(w: *W) !void {
    var bare = w.query(.bare);
    while (bare.next()) |t| for (t.entities) |e| w.add(e, c.Shield{});
    if (w.step() % 4 != 0) return;
    var shielded = w.query(.shielded);
    while (shielded.next()) |t| {
        for (t.pos.x, t.pos.y) |x, y| {
            for (0..12) |k| {
                const a = @as(f32, @floatFromInt(k)) * std.math.tau / 12 + @as(f32, @floatFromInt(w.step())) * 0.05;
                const at = c.Position{ .x = x + @cos(a) * 22, .y = y + @sin(a) * 22 };
                w.spawn(.{ at, c.Velocity{}, c.Spark{ .rgb = 0x4090FF }, c.Lifetime{ .seconds = 0.12 } });
            }
        }
    }
}
"""


@dataclass
class Beat:
    """One part of the tour: `act` at its start, then at least `seconds` of play; with
    `reload`, also until the reload the act caused has gone in (or was refused); with
    `caught`, also until a fault was caught or a build refused (at most a minute)."""

    title: str
    seconds: float
    act: Callable[[Tour], None] | None = None
    reload: bool = False
    caught: bool = False


class Tour:
    def __init__(self, options: Options, capture: Path | None = None) -> None:
        self.game = Game(options)
        self.systems = options.project / "ecs_systems"
        self.originals: dict[Path, str | None] = {}
        self.capture = capture
        self.pictures: list[bytes] = []
        self.title = ""
        self.detail = ""
        self.game.overlays.append(self.draw_caption)

    # --- editing, as a person would: write the file, let watch mode see the save -------------

    def edit(self, name: str, *changes: str) -> None:
        """Replaces each `old` of the (old, new, old, new, ...) pairs in `name`, one save."""
        path = self.systems / name
        text = path.read_text()
        self.originals.setdefault(path, text)
        for old, new in zip(changes[::2], changes[1::2], strict=True):
            if old not in text:
                raise RuntimeError(f"the tour expected {old!r} in {path}; was the file edited?")
            text = text.replace(old, new, 1)
        path.write_text(text)

    def append(self, *files: tuple[str, str]) -> None:
        """Appends text to each (name, text) file (a new file when there is none)."""
        for name, text in files:
            path = self.systems / name
            before = path.read_text() if path.exists() else None
            self.originals.setdefault(path, before)
            path.write_text((before or "") + text)

    def restore(self, *names: str) -> None:
        for path in [self.systems / n for n in names] if names else list(self.originals):
            if path not in self.originals:
                continue
            original = self.originals.pop(path)
            if original is None:
                path.unlink(missing_ok=True)
            else:
                path.write_text(original)

    # --- the script -----------------------------------------------------------------------

    def beats(self) -> list[Beat]:
        return [
            Beat("ARENA: every line of gameplay is a Zig system. Nobody is at the keys: the autopilot plays", 7),
            Beat(
                "EDIT ship.zig: bullet_speed 520 -> 1100, reload 0.2 -> 0.08 s. Saved; watch mode rebuilds it",
                9,
                lambda t: t.edit("ship.zig", *SHIP_SPEED, *SHIP_RELOAD),
                reload=True,
            ),
            Beat(
                "NEW COMPONENT: Shield {hp} in components.zig, and a new system shield.zig gives the ship one",
                9,
                lambda t: t.append(("components.zig", SHIELD_COMPONENT), ("shield.zig", SHIELD_SYSTEM)),
                reload=True,
            ),
            Beat(
                "A BUG in asteroids.zig: chips[size] with size 3 of 3, when a big rock is hit",
                9,
                lambda t: t.edit("asteroids.zig", *ROCK_BUG),
                reload=True,
                caught=True,
            ),
            Beat("FIX: asteroids.zig as it was. Saved", 6, lambda t: t.restore("asteroids.zig"), reload=True),
            Beat("R: REWIND one second; the recorded input of that second plays again", 5, lambda t: t.rewind()),
            Beat("The world never restarted. Sources are put back as they were", 4, lambda t: t.finish()),
        ]

    def rewind(self) -> None:
        self.game.rewind()

    def finish(self) -> None:
        """Watch mode off first: putting the sources back is not an edit to reload (it would
        remove Shield, which the ship holds: refused, as it should be)."""
        self.game.watcher.stop()
        self.restore()

    def run(self) -> int:
        game = self.game
        try:
            if not game.start():
                return 2
            game.watcher.start()
            for beat in self.beats():
                if not game.running:
                    break
                self.play(beat)
        finally:
            self.restore()
            game.close()
        if self.capture is not None:
            self.save_capture()
        return 0

    def play(self, beat: Beat) -> None:
        game = self.game
        self.title, self.detail = beat.title, ""
        outcomes = len(game.reloader.outcomes)
        faults = len(game.pipeline.faults)
        started = time.perf_counter()
        if beat.act is not None:
            beat.act(self)
        frames = int(beat.seconds * FPS_CAP)
        waited = 0
        done_at: int | None = None
        while game.running:
            self.frame()
            waited += 1
            reloaded = len(game.reloader.outcomes) > outcomes and game.reloader.settled
            self.detail = self.describe(outcomes, faults, reloaded)
            caught = len(game.pipeline.faults) > faults or self.detail.startswith("REFUSED")
            if done_at is None and (not beat.reload or reloaded) and (not beat.caught or caught):
                done_at = waited
            # A reload that lands late (a slow machine's build) is still shown for a second:
            # its first steps run, and the caption says what they did.
            shown = done_at is not None and waited - done_at >= min(FPS_CAP, frames)
            if waited >= frames and (shown or time.perf_counter() - started > 60):
                break

    def describe(self, outcomes: int, faults: int, reloaded: bool) -> str:
        """What the game reports since the beat began, in a line."""
        game = self.game
        world = game.world
        arena = world.resource("Arena")[0]
        score = int(world.resource("Score")["value"][0])
        kept = f"{world.count:,} entities, score {score:,}, wave {int(arena['wave'])}"
        if len(game.pipeline.faults) > faults:
            fault = game.pipeline.faults[-1]
            return f"CAUGHT: {fault.name}: {str(fault.fault)[:70]}. World kept: {kept}"
        new = list(game.reloader.outcomes)[outcomes:]
        if not new:
            return f"step {world.step:,}: {kept}" + ("  (building...)" if game.reloader.building else "")
        last = new[-1]
        if last.failed or last.refused:
            return f"REFUSED, the last good build runs on: {last.message[:90]}"
        if not last.ready and last.schema_library is None:
            return f"nothing to rebuild: the build running is already of this source; world kept: {kept}"
        shield = [t for t in world.query("Ship", "Shield") if t.count] if "Shield" in world.schema else []
        extra = f"; the ship has Shield hp={int(shield[0].column('Shield.hp')[0])}" if shield else ""
        ms = {k: round(v * 1000) for k, v in (("build", last.build_seconds), ("canary", last.canary_seconds))}
        first = last.first_step_seconds
        took = f", live {first * 1000:.0f} ms after the save" if first else ""
        canary = f"canary ok ({ms['canary']} ms), " if game.options.canary else ""
        return f"T{last.tier}: built in {ms['build']} ms, {canary}swapped{took}. World kept: {kept}{extra}"

    # --- frames, captions, capture ------------------------------------------------------------

    def frame(self) -> None:
        self.game.frame()
        if self.capture is not None and self.game.frame_index % 6 == 0:
            import pygame

            small = pygame.transform.smoothscale(self.game.screen, CAPTURE_SIZE)
            self.pictures.append(pygame.image.tobytes(small, "RGB"))

    def draw_caption(self, screen: Any) -> None:
        import pygame

        font = self.game.hud.font
        w, h = screen.get_size()
        box = pygame.Surface((w, 58), pygame.SRCALPHA)
        box.fill((0, 0, 0, 190))
        screen.blit(box, (0, h - 58))
        screen.blit(font.render(self.title, True, (255, 220, 110)), (14, h - 52))
        screen.blit(font.render(self.detail, True, (160, 240, 170)), (14, h - 28))

    def save_capture(self) -> None:
        assert self.capture is not None
        try:
            from PIL import Image
        except ImportError:
            log.error("Pillow is not installed: no animation (pip install -e '.[capture]')")
            return
        pics = [Image.frombytes("RGB", CAPTURE_SIZE, raw).quantize(colors=64) for raw in self.pictures]
        self.capture.parent.mkdir(parents=True, exist_ok=True)
        pics[0].save(self.capture, save_all=True, append_images=pics[1:], duration=100, loop=0, optimize=True)
        log.info("tour: wrote %s (%d frames, %d KiB)", self.capture, len(pics), self.capture.stat().st_size // 1024)


def run(options: Options, capture: Path | None = None) -> int:
    options.scene = "arena"
    return Tour(options, capture).run()
