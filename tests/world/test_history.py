"""Record and rewind: checkpoints plus every step's input; replaying the input reproduces the world."""

from __future__ import annotations

import esper
import numpy as np
import pytest

from game.native.input import KEY_NUMBER, InputState
from game.pipeline import Pipeline
from game.world.commands import Commands
from game.world.history import History
from game.world.registry import component_type
from game.world.schema import DType, MigrationError, component
from game.world.world import World
from tests.conftest import assert_consistent, assert_same, small_schema, world_state

DT = 1 / 60


class Sandbox(esper.Processor):
    """A Python system driven only by the step's published input and the world's RNG:
    left button spawns at the mouse, every step moves everything, key A despawns the
    oldest players (found through esper), key F freezes the newest movers."""

    def __init__(self, world: World, inputs: InputState, commands: Commands) -> None:
        self.world = world
        self.inputs = inputs
        self.commands = commands

    def process(self, dt: float) -> None:
        s = self.inputs.struct
        rng = self.world.rng
        if s.mouse_in_window and s.buttons & 1:
            n = 3
            self.commands.spawn(
                n,
                {
                    "Position": {"x": s.mouse_x + rng.normal(0, 2, n), "y": s.mouse_y + rng.normal(0, 2, n)},
                    "Velocity": {"x": rng.uniform(-50, 50, n), "y": rng.uniform(-50, 50, n)},
                    "Player": None,
                },
            )
        for table in self.world.query("Position", "Velocity", without=("Frozen",)):
            table.column("Position.x")[:] += table.column("Velocity.x") * np.float32(dt)
            table.column("Position.y")[:] += table.column("Velocity.y") * np.float32(dt)
        a, f = KEY_NUMBER["a"], KEY_NUMBER["f"]
        if s.keys_pressed[a // 64] >> (a % 64) & 1:
            players = sorted(e for e, _ in esper.get_component(component_type("Player")))
            self.commands.despawn(players[:2])
        if s.keys_pressed[f // 64] >> (f % 64) & 1:
            movers = sorted(e for e, _ in esper.get_components(component_type("Velocity"), component_type("Player")))
            self.commands.add(movers[-1:], "Frozen")


def setup(world: World) -> tuple[Pipeline, InputState]:
    inputs = InputState()
    pipeline = Pipeline(world, inputs)
    esper.add_processor(Sandbox(world, inputs, pipeline.commands))
    return pipeline, inputs


def play(inputs: InputState, step: int) -> None:
    """The live input of `step`: the mouse wanders, the button and keys come and go."""
    inputs.update(mouse_x=100 + step, mouse_y=50 + (step * 7) % 90, in_window=True, buttons=1 if step % 9 < 5 else 0)
    if step % 25 == 3:
        inputs.key(KEY_NUMBER["a"], True)
    if step % 25 == 4:
        inputs.key(KEY_NUMBER["a"], False)
    if step % 17 == 8:
        inputs.key(KEY_NUMBER["f"], True)
        inputs.key(KEY_NUMBER["f"], False)


def make_world() -> World:
    world = World(320, 240, seed=4, schema=small_schema())
    world.spawn(20, {"Position": {"x": world.rng.uniform(0, 320, 20)}, "Velocity": {"y": np.full(20, 10.0)}})
    return world


def run(world: World, pipeline: Pipeline, inputs: InputState, history: History, steps: range) -> dict[int, dict]:
    """Plays `steps` live, recording; returns the world's state after each step."""
    states = {}
    for step in steps:
        play(inputs, step)
        pipeline.step(DT)
        history.record(world, pipeline.last_input)
        states[world.step] = world_state(world)
    return states


def test_rewind_restores_a_checkpoint_and_hands_back_the_input_to_replay() -> None:
    world = make_world()
    pipeline, inputs = setup(world)
    history = History(seconds=5.0, min_interval=10)
    states = run(world, pipeline, inputs, history, range(120))
    assert world.step == 120 and world.count > 100
    assert len(history) == 13  # one after the first step (the recovery's starting point), then every 10
    final = world_state(world)
    rng_state = world.rng.bit_generator.state

    rewound = history.rewind(world, seconds=1.0)
    assert rewound is not None
    step, replay = rewound
    assert step == 60 and world.step == 60
    assert_same(world_state(world), states[60])
    assert_consistent(world)
    assert len(replay) == 60 and all(len(r) == 120 for r in replay)
    assert len(history) == 7  # the checkpoints after step 60 are gone

    for recorded in replay:
        pipeline.step(DT, recorded_input=recorded)
        assert_same(world_state(world), states[world.step])
    assert world.step == 120
    assert_same(world_state(world), final)
    assert world.rng.bit_generator.state == rng_state
    assert_consistent(world)


def test_a_live_run_after_a_rewind_records_on_from_there() -> None:
    world = make_world()
    pipeline, inputs = setup(world)
    history = History(seconds=5.0, min_interval=10)
    run(world, pipeline, inputs, history, range(80))
    rewound = history.rewind(world, seconds=0.5)
    assert rewound is not None and rewound[0] == 50
    # different input from here on: a different future, recorded in place of the old one
    states = run(world, pipeline, inputs, history, range(500, 540))
    assert world.step == 90
    rewound = history.rewind(world, seconds=0.25)
    assert rewound is not None
    step, replay = rewound
    assert step == 70 and len(replay) == 20
    for recorded in replay:
        pipeline.step(DT, recorded_input=recorded)
    assert_same(world_state(world), states[90])


def test_rewinding_further_than_recorded_goes_to_the_oldest_checkpoint() -> None:
    world = make_world()
    pipeline, inputs = setup(world)
    history = History(seconds=1.0, min_interval=10)
    states = run(world, pipeline, inputs, history, range(200))
    rewound = history.rewind(world, seconds=30)
    assert rewound is not None
    step, replay = rewound
    assert step == 140  # only the last second's checkpoints are kept
    assert_same(world_state(world), states[140])
    assert len(replay) == 60
    assert len(history) == 1


def test_nothing_recorded_is_nothing_to_rewind() -> None:
    world = make_world()
    history = History()
    assert history.rewind(world) is None
    pipeline, inputs = setup(world)
    run(world, pipeline, inputs, history, range(5))  # the first step's checkpoint: rewinds to step 1
    rewound = history.rewind(world)
    assert rewound is not None and rewound[0] == 1 and len(rewound[1]) == 4
    history.clear()
    assert len(history) == 0


def test_a_small_budget_spaces_the_checkpoints_out() -> None:
    world = make_world()
    world.spawn(20_000, {"Position": None, "Velocity": None})
    pipeline, inputs = setup(world)
    history = History(seconds=5.0, budget=2 << 20, min_interval=10)  # room for a few checkpoints
    run(world, pipeline, inputs, history, range(100))
    assert history.interval > 10
    assert sum(c.nbytes for c in history._ring) <= 2 << 20


def test_a_rewind_across_a_schema_change_comes_back_migrated() -> None:
    world = make_world()
    pipeline, inputs = setup(world)
    history = History(seconds=5.0, min_interval=10)
    states = run(world, pipeline, inputs, history, range(30))
    wider = {s.name: s for s in small_schema()}
    wider["Position"] = component("Position", x=DType.F32, y=DType.F32, z=(DType.F32, 1, 7.0))
    world.migrate(wider)
    run(world, pipeline, inputs, history, range(30, 40))
    rewound = history.rewind(world, seconds=0.2)
    assert rewound is not None and rewound[0] == 20
    assert world.schema == wider
    for table in world.query("Position"):
        assert table.column("Position.z").tolist() == [7.0] * table.count
    xs = {k: v for k, v in states[20].items() if k.endswith("Position.x")}
    assert xs and all(np.array_equal(world_state(world)[k], v) for k, v in xs.items())
    assert_consistent(world)


def test_a_rewind_that_would_lose_data_is_refused_and_changes_nothing() -> None:
    world = make_world()
    pipeline, inputs = setup(world)
    history = History(seconds=5.0, min_interval=10)
    run(world, pipeline, inputs, history, range(30))
    players = [int(e) for t in world.query("Player") for e in t.ids()]
    world.despawn(players)
    world.migrate({n: s for n, s in world.schema.items() if n != "Player"})  # nobody holds it now
    before = world_state(world)
    with pytest.raises(MigrationError, match=r"rewind to step 20: removes Player, which entities still have"):
        history.rewind(world, seconds=0.1)
    assert_same(world_state(world), before)
    assert len(history) == 4  # steps 1, 10, 20, 30
    assert_consistent(world)
