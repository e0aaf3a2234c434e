"""MouseSpawner: the Python processor that turns a held left button into new entities.

It spawns through the pipeline's command buffer, like any system: the entities appear at
the end of the step, with ids handed out in the same order on every run."""

from __future__ import annotations

import esper

from game.native.input import InputState
from game.world import spawn
from game.world.commands import Commands
from game.world.world import World

LEFT_BUTTON = 1


class MouseSpawner(esper.Processor):
    """While the left button is held in the window, spawns `rate` entities a step at the mouse."""

    order = 0

    def __init__(self, world: World, inputs: InputState, commands: Commands, rate: int = 100) -> None:
        self.world = world
        self.inputs = inputs
        self.commands = commands
        self.rate = rate

    def process(self, dt: float) -> None:
        inputs = self.inputs.struct  # this step's input as published (or replayed), not the live one
        if inputs.mouse_in_window and inputs.buttons & LEFT_BUTTON:
            self.commands.spawn(self.rate, spawn.burst(self.world.rng, self.rate, inputs.mouse_x, inputs.mouse_y))
