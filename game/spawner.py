"""MouseSpawner: the Python processor that turns a held left button into new entities."""

from __future__ import annotations

import esper

from game.native.system import InputState
from game.world import spawn
from game.world.world import World

LEFT_BUTTON = 1


class MouseSpawner(esper.Processor):
    """While the left button is held in the window, spawns `rate` entities a step at the mouse."""

    order = 0

    def __init__(self, world: World, inputs: InputState, rate: int = 100) -> None:
        self.world = world
        self.inputs = inputs
        self.rate = rate

    def process(self, dt: float) -> None:
        inputs = self.inputs
        if inputs.in_window and inputs.buttons & LEFT_BUTTON:
            self.world.spawn(self.rate, spawn.burst(self.world.rng, self.rate, inputs.mouse_x, inputs.mouse_y))
