"""The game: pygame events and hotkeys, fixed simulation steps, drawing, the HUD.

Each frame: scripted keys are posted into pygame's event queue, events are handled (see
`game/controls.py` for every key), watch mode may ask for a reload, the reloader swaps in
a finished build (the frame boundary), whole fixed steps of 1/60 s run (one at normal
speed, none while paused), and the frame is drawn. Whole fixed steps keep runs
reproducible: the same flags give the same world, windowed or headless, paced or `--fast`.
A slow machine slows the simulation instead of skipping steps.
"""

from __future__ import annotations

import logging
import os
import time
from collections import deque
from collections.abc import Callable
from typing import Any

from game import quitting
from game.native import guard
from game.native.input import KEY_NUMBER
from game.options import Options

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

        from game.controls import Speed
        from game.hotreload.reloader import Reloader
        from game.hotreload.watcher import SourceWatcher
        from game.native.input import InputState
        from game.native.platform import return_big_buffers_to_the_os
        from game.pipeline import Pipeline
        from game.render.hud import Hud
        from game.render.images import load_image
        from game.render.renderer import Renderer
        from game.selection import Selection
        from game.spawner import MouseSpawner
        from game.tools.toolbox import Tools
        from game.world import registry
        from game.world.assets import AssetStore
        from game.world.history import History
        from game.world.scenes import SCENES
        from game.world.world import World

        self.options = options
        self.pygame = pygame
        return_big_buffers_to_the_os()
        pygame.display.init()
        pygame.font.init()
        self.screen = pygame.display.set_mode(options.size)
        # After SDL's init, so the guard passes SIGINT/SIGTERM on to the handlers before it
        # (game/quitting.py's when run from the command line; else Python's, and SDL's quit event).
        guard.install(options.step_timeout)
        pygame.display.set_caption("ECS sandbox: edit ecs_systems/*.zig, press F5 (F1: keys)")
        self.clock = pygame.time.Clock()

        registry.use_fresh_world()
        # No schema yet: the first reload loads the components library and migrates the
        # world from empty to components.zig; the scene (or the saved world) comes after.
        self.world = World(*options.size, options.seed)
        self.scenes = list(SCENES)
        self.scene = options.scene
        self.inputs = InputState()
        self.pipeline = Pipeline(self.world, self.inputs)
        esper.add_processor(MouseSpawner(self.world, self.inputs, self.pipeline.commands), priority=-MouseSpawner.order)
        self.history = History()
        self.autosave = options.autosave if options.autosave is not None else options.project / "saves" / "autosave.npz"
        self.reloader = Reloader(
            options.project,
            self.pipeline,
            options.optimize,
            canary=options.canary,
            history=self.history,
            autosave=self.autosave,
            tier=options.tier,
        )
        self.pipeline.on_fault = lambda fault: self.reloader.recovery.save_world()
        # Saving a file asks for a reload from the watcher's thread: no frame boundary to wait for.
        self.watcher = SourceWatcher(options.project / "ecs_systems", on_due=self.reloader.request)
        # The scene's asset files: saving one only asks; they are read at the frame boundary.
        self.assets = AssetStore(options.project / "assets", load_image)
        self.asset_watcher = SourceWatcher(self.assets.root, on_due=self.assets.request, suffixes=(".json", ".png"))
        if options.watching:
            self.watcher.start()
            self._watch_assets()
        self.speed = Speed()
        self.renderer = Renderer(options.size)
        self.hud = Hud()
        self.tools = Tools(self.world, self.pipeline)
        """F2 the entity inspector, F3 the tunables panel (game/tools/)."""
        self.hud.problems.append(self.assets.problems)
        self.keys = {name: pygame.key.key_code(name) for _, name in options.keys}
        self.script = options.keys
        self.frame_index = 0
        self.work_ms = 0.0
        self.paused = False
        self.single_steps = 0
        self.selection = Selection()
        self.replay: deque[bytes] = deque()
        self.running = True
        self.world_made = False
        """The scene is placed (or the world loaded): until then there is no world to save."""
        self.overlays: list[Callable[[Any], None]] = []
        """Drawn over the HUD each frame, before the flip (the tour's captions)."""
        self.actions = self._actions()

    def _actions(self) -> dict[int, Callable[[], None]]:
        pg = self.pygame
        actions: dict[int, Callable[[], None]] = {
            pg.K_ESCAPE: self.quit,
            pg.K_F1: self.hud.toggle_help,
            pg.K_F2: self.tools.inspector.toggle,
            pg.K_F3: self.tools.tunables.toggle,
            pg.K_h: self.hud.toggle,
            pg.K_F5: self.reload,
            pg.K_F6: self.reloader.flip_back,
            pg.K_w: self.toggle_watch,
            pg.K_t: self.cycle_tier,
            pg.K_SPACE: self.toggle_pause,
            pg.K_PERIOD: self.step_once,
            pg.K_MINUS: self.speed.slower,
            pg.K_EQUALS: self.speed.faster,
            pg.K_r: self.rewind,
            pg.K_F9: self.quick_save,
            pg.K_F10: self.quick_load,
            pg.K_TAB: self.next_scene,
            pg.K_BACKSPACE: lambda: self.hud.dismiss(self.reloader.errors),
            pg.K_F12: self.screenshot,
        }
        for i in range(1, 10):
            actions[getattr(pg, f"K_{i}")] = lambda i=i: self.select(i)  # type: ignore[misc]
        for key, step in ((pg.K_PAGEUP, -1), (pg.K_PAGEDOWN, 1), (pg.K_LEFTBRACKET, -1), (pg.K_RIGHTBRACKET, 1)):
            actions[key] = lambda step=step: self.move_selection(step)  # type: ignore[misc]
        actions[pg.K_0] = self.toggle_selected
        return actions

    def _spawn_scene(self) -> None:
        from game.world.scenes import SCENES

        n, (w, h) = self.options.entities, self.options.size
        scene = SCENES[self.scene](self.world.rng, n, w, h)
        scene.place(self.world)
        self.assets.use(scene.assets)

    def start(self) -> bool:
        """Builds and loads the systems (blocking, with progress); False if none could be loaded."""
        if self.reloader.builds.cold:
            log.info(
                "building systems with Zig: none is built yet in this project (an empty .zig-cache), so "
                "every system is compiled now; this first build takes longer, later starts reuse it"
            )
        else:
            log.info("building systems with Zig (only those whose sources changed)")
        started = time.perf_counter()
        self.reloader.request("startup")
        last_note = [started]

        def progress() -> None:
            now = time.perf_counter()
            if now - last_note[0] >= 5:
                last_note[0] = now
                log.info("still building... %.0f s", now - started)
            self._pump_while_loading(now - started)
            self._heed_signal()

        self.reloader.wait(on_wait=progress, stop=lambda: not self.running)
        if not self.running:
            return False  # quit during the start-up build: `close` cancels it
        if not self.world.schema:
            log.error("no components library was loaded (ecs_systems/components.zig); the world has no components")
            return False
        if self.options.load_world is not None:
            from game.world import snapshot

            self.replay = deque(snapshot.load(self.options.load_world, self.world))
            if self.replay:
                log.info(
                    "%s is an autosave: replaying its last %d recorded steps", self.options.load_world, len(self.replay)
                )
        else:
            self._spawn_scene()
        self.world_made = True
        log.info(
            "game running: %d entities, scene %s, seed %d, systems: %s%s",
            self.world.count,
            self.scene,
            self.options.seed,
            ", ".join(self.pipeline.slots) or "none",
            "; watching ecs_systems/ and assets/" if self.watcher.running else "",
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
        """One frame: input, reload at the boundary, whole fixed steps, draw."""
        pg = self.pygame
        start = time.perf_counter()
        while self.script and self.script[0][0] <= self.frame_index:
            _, name = self.script.pop(0)
            pg.event.post(pg.event.Event(pg.KEYDOWN, key=self.keys[name], mod=0, unicode="", scancode=0))
        for event in pg.event.get():
            self.handle(event)
        self._heed_signal()
        self.reloader.poll()
        self._apply_assets()
        steps = (0 if self.paused else self.speed.steps(self.frame_index)) + self.single_steps
        if not self.running:
            steps = 0  # quitting (Esc, the window closed, SIGTERM): no more system code runs
        self.single_steps = 0
        for _ in range(steps):
            before = self.world.step
            undone = self.reloader.step(DT, self.replay.popleft() if self.replay else None)
            if undone is not None:  # a new build was rolled back: its checkpoints are not this world's past
                self.history.forget_after(undone)
            if self.reloader.recovery.interrupted:  # SIGTERM/SIGINT ended a call: quit, run no more
                self.running = False
                break
            if self.world.step > before:
                self.history.record(self.world, self.pipeline.last_input, self.pipeline.epoch)
        self.draw()
        self.frame_index += 1
        self.work_ms = (time.perf_counter() - start) * 1000.0  # the frame's work, without the pacing wait
        self.clock.tick(0 if self.options.fast else FPS_CAP)

    def handle(self, event: Any) -> None:
        pg = self.pygame
        if event.type == pg.QUIT:
            self.quit()
        elif event.type == pg.KEYDOWN and self.tools.key(
            pg.key.name(event.key), bool(event.mod & pg.KMOD_SHIFT), event.unicode
        ):
            pass  # an open tool used it: not a hotkey, not the systems' input
        elif event.type == pg.MOUSEBUTTONDOWN and self.tools.click(event.button, *event.pos):
            pass
        elif event.type in (pg.KEYDOWN, pg.KEYUP):
            number = KEY_NUMBER.get(pg.key.name(event.key))
            if number is not None:
                self.inputs.key(number, event.type == pg.KEYDOWN)
            action = self.actions.get(event.key) if event.type == pg.KEYDOWN else None
            if action is not None:
                action()
        elif event.type == pg.MOUSEMOTION:
            x, y = event.pos
            self.inputs.update(mouse_x=x, mouse_y=y, in_window=True)
        elif event.type in (pg.MOUSEBUTTONDOWN, pg.MOUSEBUTTONUP) and 1 <= event.button <= 3:
            bit, held = 1 << (event.button - 1), self.inputs.buttons
            self.inputs.update(buttons=held | bit if event.type == pg.MOUSEBUTTONDOWN else held & ~bit)
        elif event.type == pg.WINDOWLEAVE:
            self.inputs.update(in_window=False, buttons=0)
        elif event.type == pg.WINDOWENTER:
            self.inputs.update(in_window=True)

    # --- actions (see game/controls.py) ----------------------------------------------

    def quit(self) -> None:
        self.running = False

    def _heed_signal(self) -> None:
        """Ctrl+C or SIGTERM (game/quitting.py) quits as Esc does."""
        signum = quitting.received()
        if signum is not None and self.running:
            log.info("%s: quitting", quitting.describe(signum))
            self.running = False

    def toggle_pause(self) -> None:
        self.paused = not self.paused
        log.info("paused" if self.paused else "resumed")

    def step_once(self) -> None:
        if self.paused:
            self.single_steps += 1

    def reload(self) -> None:
        """F5: the systems whose sources changed are rebuilt, the asset files that changed read."""
        self.assets.request()
        self.reloader.request("F5")

    def _watch_assets(self) -> None:
        if self.assets.root.is_dir():
            self.asset_watcher.start()

    def _apply_assets(self) -> None:
        """The scene's asset files into their resources, between steps: the files saved since
        the last frame are read again, and after a rewind, a load or a scene change the
        files' values are written back (assets are not world data: see game/world/assets.py)."""
        done = self.assets.apply(self.world)
        if done.written:
            self.pipeline.epoch += 1  # the steps' data changed: a replay across it is not exact
        for label in done.loaded:
            log.info("%s loaded", label)
        for error in done.failed:
            log.error("%s", error)
        for misuse in done.overwritten:
            log.warning("%s", misuse)
            self.hud.toast(misuse)
        if done.failed:
            files = "an asset file" if len(done.failed) == 1 else f"{len(done.failed)} asset files"
            self.hud.toast(f"{files} did not load: why is below")
        elif done.loaded:
            self.hud.toast("loaded " + ", ".join(done.loaded))

    def toggle_watch(self) -> None:
        if self.watcher.running:
            self.watcher.stop()
            self.asset_watcher.stop()
        else:
            self.watcher.start()
            self._watch_assets()
        self.hud.toast(f"watch mode {'on' if self.watcher.running else 'off'}")
        log.info("watch mode %s", "on" if self.watcher.running else "off")

    def cycle_tier(self) -> None:
        """T: auto -> tier 1 pinned -> tier 2 pinned -> auto; systems are rebuilt to match."""
        pin = {None: 1, 1: 2, 2: None}[self.reloader.pin]
        self.reloader.pin = pin
        said = "auto (tier 1, then tier 2)" if pin is None else f"pinned to tier {pin}"
        self.hud.toast(f"build tier: {said}")
        log.info("build tier %s", said)
        self.reloader.request(f"tier {said}")

    def select(self, number: int) -> None:
        """Number keys: select the system with this number (game/selection.py: numbers stay for
        the session); the same number again switches it off or on."""
        name = self.selection.numbered(number, list(self.pipeline.slots))
        if name is not None and self.selection.selected == name:
            self.toggle_selected()
        self.selection.selected = name or self.selection.selected

    def move_selection(self, step: int) -> None:
        """PgUp/PgDn, [ and ]: the selection moves up or down the HUD's list of systems."""
        self.selection.move(step, list(self.pipeline.slots))

    def toggle_selected(self) -> None:
        """0: switches the selected system off or on."""
        name = self.selection.selected
        if name is None or name not in self.pipeline.slots:
            return
        on = self.pipeline.toggle(name)
        self.hud.toast(f"{name} {'on' if on else 'off'}")
        log.info("%s switched %s", name, "on" if on else "off")

    def rewind(self) -> None:
        """R: back one second; that second's recorded input plays again, then live input resumes."""
        from game.world.schema import MigrationError

        self.reloader.end_probation()
        try:
            rewound = self.history.rewind(self.world)
        except MigrationError as exc:
            self.hud.toast(f"cannot rewind: {exc}")
            log.error("cannot rewind past the change of components.zig: %s", exc)
            return
        if rewound is None:
            self.hud.toast("nothing recorded yet")
            return
        step, inputs = rewound
        self.replay = deque(inputs)
        self.hud.toast(f"rewound to step {step}, replaying {len(inputs)} steps of input")
        log.info("rewound to step %d; replaying %d recorded steps of input", step, len(inputs))

    def quick_save(self) -> None:
        from game.world import snapshot

        path = self.options.project / "saves" / "quick.npz"
        try:
            snapshot.save(self.world, path)
        except OSError as exc:  # the previous quick save is left whole
            self.hud.toast(f"cannot save: {exc.strerror or exc}")
            log.error("quick-save to %s failed: %s", path, exc.strerror or exc)
            return
        self.hud.toast(f"saved {self.world.count:,} entities")
        log.info("quick-saved %d entities to %s", self.world.count, path)

    def quick_load(self) -> None:
        from game.world import snapshot

        path = self.options.project / "saves" / "quick.npz"
        try:
            replay = snapshot.load(path, self.world)
        except snapshot.WorldFileError as exc:
            self.hud.toast(f"cannot load: {exc}")
            log.error("quick-load: %s", exc)
            return
        self.reloader.end_probation()
        self.history.clear()
        self.replay = deque(replay)
        self.hud.toast(f"loaded step {self.world.step}")
        log.info("quick-loaded %s", path)

    def next_scene(self) -> None:
        self.scene = self.scenes[(self.scenes.index(self.scene) + 1) % len(self.scenes)]
        self.reloader.end_probation()
        self.history.clear()
        self.replay.clear()
        self.world.reset()
        self._spawn_scene()
        self.hud.toast(f"scene: {self.scene}")
        log.info("scene %s: %d entities", self.scene, self.world.count)

    def screenshot(self) -> None:
        folder = self.options.project / "screenshots"
        folder.mkdir(exist_ok=True)
        path = folder / f"sandbox-{time.strftime('%Y%m%d-%H%M%S')}-{self.frame_index}.png"
        self.pygame.image.save(self.screen, str(path))
        self.hud.toast(f"screenshot {path.name}")
        log.info("screenshot %s", path)

    # ---------------------------------------------------------------------------------

    def draw(self) -> None:
        from game.render.hud import HudState

        self.renderer.draw(self.pipeline, self.screen)
        state = HudState(
            self.clock.get_fps(),
            self.paused,
            self.world.step,
            self.world.count,
            self.speed.label(),
            self.watcher.running,
            self.scene,
            self.selection.selected,
            self.selection.sync(self.pipeline.slots),
        )
        self.hud.draw(self.screen, state, self.pipeline, self.reloader, time.perf_counter())
        self.tools.draw(self.screen)
        for overlay in self.overlays:
            overlay(self.screen)
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
        self.watcher.stop()
        self.asset_watcher.stop()
        self.reloader.close()
        recovery = self.reloader.recovery
        if (self.pipeline.torn or recovery.target is not None) and not recovery.restore_torn(DT):
            log.error("exit in the middle of a step, and no checkpoint to restore: the world is not saved")
        elif self.options.save_world is not None and not self.world_made:
            log.info("quit before the world was made: %s is left as it was", self.options.save_world)
        elif self.options.save_world is not None:
            try:
                snapshot.save(self.world, self.options.save_world)
                log.info("saved %d entities to %s", self.world.count, self.options.save_world)
            except OSError as exc:
                log.error("cannot save the world to %s: %s", self.options.save_world, exc.strerror or exc)
        self.pipeline.close()
        self.pygame.quit()


def run(options: Options) -> int:
    """Runs the game to the end; 0 on a normal exit, 2 when a headless run has no systems."""
    from game.world.snapshot import WorldFileError

    game = Game(options)
    try:
        try:
            started = game.start()
        except WorldFileError as exc:
            log.error("cannot load the world: %s", exc)
            return 2
        if not started and options.headless and game.running:
            log.error("no system could be built or loaded; see the errors above")
            return 2
        try:
            game.run()
        except KeyboardInterrupt:
            log.info("interrupted (Ctrl+C): closing")
    finally:
        game.close()
    log.info("exit after %d frames, %d entities", game.frame_index, game.world.count)
    return 0
