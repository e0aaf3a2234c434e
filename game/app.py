"""The game: pygame events and hotkeys, one fixed simulation step a frame, drawing, the HUD.

Each frame: scripted keys are posted into pygame's event queue, events are handled (F5,
Space, Esc, mouse), the reloader swaps in a finished build (the frame boundary), one
fixed step of 1/60 s runs unless paused, and the frame is drawn. Stepping exactly once a
frame keeps runs reproducible: the same flags give the same world, windowed or headless,
paced or `--fast`. A slow machine slows the simulation instead of skipping steps.
"""

from __future__ import annotations

import logging
import os
import time

from game.cli import Options

log = logging.getLogger("sandbox")

DT = 1.0 / 60.0
FPS_CAP = 60


class Game:
    """Everything one run of the sandbox owns. `start()` before frames, `close()` after."""

    def __init__(self, options: Options) -> None:
        if options.headless:
            os.environ["SDL_VIDEODRIVER"] = "dummy"
            os.environ["SDL_AUDIODRIVER"] = "dummy"
        os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")
        import esper
        import pygame

        from game.hotreload.reloader import Reloader
        from game.native.system import InputState
        from game.pipeline import Pipeline
        from game.render.hud import Hud
        from game.render.renderer import Renderer
        from game.spawner import MouseSpawner
        from game.world import registry, snapshot, spawn
        from game.world.world import World

        self.options = options
        self.pygame = pygame
        pygame.display.init()
        pygame.font.init()
        self.screen = pygame.display.set_mode(options.size)
        pygame.display.set_caption("ECS sandbox: edit ecs_systems/*.zig, press F5")
        self.clock = pygame.time.Clock()

        registry.use_fresh_world()
        width, height = options.size
        self.world = World(width, height, options.seed)
        if options.load_world is not None:
            snapshot.load(options.load_world, self.world)
        else:
            self.world.spawn(options.entities, spawn.scatter(self.world.rng, options.entities, width, height))
        self.inputs = InputState()
        self.pipeline = Pipeline(self.world, self.inputs)
        esper.add_processor(MouseSpawner(self.world, self.inputs), priority=-MouseSpawner.order)
        self.reloader = Reloader(options.project, self.pipeline, options.optimize, canary=options.canary)
        self.renderer = Renderer(options.size)
        self.hud = Hud()
        self.keys = {name: pygame.key.key_code(name) for _, name in options.keys}
        self.script = options.keys
        self.frame_index = 0
        self.work_ms = 0.0
        self.paused = False
        self.running = True

    def start(self) -> bool:
        """Builds and loads the systems (blocking, with progress); False if none could be loaded."""
        log.info("building systems with Zig (the first build on a fresh machine takes about a minute)")
        started = time.perf_counter()
        self.reloader.request("startup")
        last_note = [started]

        def progress() -> None:
            now = time.perf_counter()
            if now - last_note[0] >= 5:
                last_note[0] = now
                log.info("still building... %.0f s", now - started)
            self._pump_while_loading(now - started)

        self.reloader.wait(on_wait=progress)
        names = ", ".join(self.pipeline.slots) or "none"
        log.info(
            "game running: %d entities, seed %d, systems: %s",
            self.world.count, self.options.seed, names,
        )
        return bool(self.pipeline.slots)

    def _pump_while_loading(self, elapsed: float) -> None:
        pg = self.pygame
        for event in pg.event.get():
            if event.type == pg.QUIT or (event.type == pg.KEYDOWN and event.key == pg.K_ESCAPE):
                self.running = False
        self.screen.fill((0, 0, 0))
        text = self.hud.font.render(f"building Zig systems... {elapsed:.0f} s", True, (255, 210, 90))
        self.screen.blit(text, (20, 20))
        pg.display.flip()

    def frame(self) -> None:
        """One frame: input, reload at the boundary, one fixed step, draw."""
        pg = self.pygame
        start = time.perf_counter()
        while self.script and self.script[0][0] <= self.frame_index:
            _, name = self.script.pop(0)
            pg.event.post(pg.event.Event(pg.KEYDOWN, key=self.keys[name], mod=0, unicode="", scancode=0))
        for event in pg.event.get():
            self.handle(event)
        self.reloader.poll()
        if not self.paused:
            self.reloader.step(DT)
        self.draw()
        self.frame_index += 1
        self.work_ms = (time.perf_counter() - start) * 1000.0  # the frame's work, without the pacing wait
        self.clock.tick(0 if self.options.fast else FPS_CAP)

    def handle(self, event: object) -> None:
        pg = self.pygame
        etype = event.type  # type: ignore[attr-defined]
        if etype == pg.QUIT:
            self.running = False
        elif etype == pg.KEYDOWN:
            key = event.key  # type: ignore[attr-defined]
            if key == pg.K_ESCAPE:
                self.running = False
            elif key == pg.K_F5:
                self.reloader.request("F5")
            elif key == pg.K_F6:
                self.reloader.flip_back()
            elif key == pg.K_SPACE:
                self.paused = not self.paused
                log.info("paused" if self.paused else "resumed")
        elif etype == pg.MOUSEMOTION:
            x, y = event.pos  # type: ignore[attr-defined]
            self.inputs.update(mouse_x=x, mouse_y=y, in_window=True)
        elif etype in (pg.MOUSEBUTTONDOWN, pg.MOUSEBUTTONUP):
            button = event.button  # type: ignore[attr-defined]
            if 1 <= button <= 3:
                bit = 1 << (button - 1)
                held = self.inputs.buttons
                self.inputs.update(buttons=held | bit if etype == pg.MOUSEBUTTONDOWN else held & ~bit)
        elif etype == pg.WINDOWLEAVE:
            self.inputs.update(in_window=False, buttons=0)
        elif etype == pg.WINDOWENTER:
            self.inputs.update(in_window=True)

    def draw(self) -> None:
        from game.render.hud import HudState

        self.renderer.draw(self.pipeline, self.screen)
        state = HudState(self.clock.get_fps(), self.paused, self.world.step, self.world.count)
        self.hud.draw(self.screen, state, self.pipeline, self.reloader, time.perf_counter())
        self.pygame.display.flip()

    def run(self) -> None:
        frames = self.options.frames
        while self.running and (frames is None or self.frame_index < frames):
            self.frame()

    def close(self) -> None:
        """Cancels a running build, saves the world if asked, unloads systems, closes pygame."""
        from game.world import snapshot

        if self.reloader.building:
            log.info("exit: cancelling the build in progress")
        self.reloader.close()
        if self.options.save_world is not None:
            snapshot.save(self.world, self.options.save_world)
            log.info("saved %d entities to %s", self.world.count, self.options.save_world)
        self.pipeline.close()
        self.pygame.quit()


def run(options: Options) -> int:
    """Runs the game to the end; 0 on a normal exit, 2 when a headless run has no systems."""
    from game.world.snapshot import WorldFileError

    try:
        game = Game(options)
    except WorldFileError as exc:
        log.error("cannot load the world: %s", exc)
        return 2
    try:
        if not game.start() and options.headless:
            log.error("no system could be built or loaded; see the errors above")
            return 2
        game.run()
    finally:
        game.close()
    log.info("exit after %d frames, %d entities", game.frame_index, game.world.count)
    return 0
