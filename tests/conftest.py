"""Shared fixtures: the real Zig build (once per session), project copies, a fresh esper world.

Tests never edit the repository's sources: every build runs in a temporary copy.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
os.environ.setdefault("SDL_AUDIODRIVER", "dummy")
os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")

import pygame

from bench.frames import copy_project
from game.cli import PROJECT_ROOT, Options
from game.hotreload.builds import Builds
from game.hotreload.zigbuild import ZigBuild
from game.native.platform import built_libraries
from game.world import registry

REFERENCE_FRAMES = 60


@pytest.fixture(scope="session")
def built_project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the repository's Zig sources, built once by the real compiler."""
    root = copy_project(tmp_path_factory.mktemp("built"), PROJECT_ROOT, with_build=False)
    result = ZigBuild(root).run(timeout=600)
    assert result.ok, result.output
    builds = Builds(root)
    built = builds.build(builds.names(), 2)  # the game's own builds: copies start without compiling
    assert all(r.ok for r in built.values()), [r.output for r in built.values() if not r.ok]
    return root


@pytest.fixture
def project(built_project: Path, tmp_path: Path) -> Path:
    """A private, already-built copy of the project that a test may edit and rebuild."""
    return copy_project(tmp_path / "project", built_project)


@pytest.fixture
def libs(built_project: Path) -> dict[str, Path]:
    return built_libraries(built_project / "zig-out")


@pytest.fixture(autouse=True)
def fresh_esper() -> Iterator[None]:
    """esper keeps its worlds in module globals: every test starts from an empty one."""
    registry.use_fresh_world()
    yield
    registry.use_fresh_world()


@pytest.fixture(scope="session")
def reference(built_project: Path) -> dict[str, np.ndarray]:
    from game.app import Game

    """The world after REFERENCE_FRAMES frames of the unedited systems (what the old code alone makes)."""
    game = Game(headless(built_project))
    try:
        assert game.start()
        for _ in range(REFERENCE_FRAMES):
            game.frame()
        return world_state(game)
    finally:
        game.close()


def headless(project: Path, **overrides: object) -> Options:
    base: dict[str, object] = {
        "headless": True,
        "fast": True,
        "entities": 2000,
        "size": (320, 240),
        "project": project,
    }
    base.update(overrides)
    return Options(**base)  # type: ignore[arg-type]


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new, 1))


def press(game: object, key: int) -> None:
    pygame.event.post(pygame.event.Event(pygame.KEYDOWN, key=key, mod=0, unicode="", scancode=0))


def world_state(game_or_world: Any) -> dict[str, np.ndarray]:
    """Every table column, every id, the entity index and the resources, plus the step and
    the schema: two worlds with equal states are bit-identical."""
    from game.world import state

    world = getattr(game_or_world, "world", game_or_world)
    captured = state.capture(world)
    arrays = dict(captured.arrays)
    arrays["meta.step"] = np.array(captured.meta["step"])
    arrays["meta.tables"] = np.array(repr(captured.meta["tables"]))
    arrays["meta.schema"] = np.array(repr(captured.meta["schema"]))
    return arrays


def assert_same(a: dict[str, np.ndarray], b: dict[str, np.ndarray]) -> None:
    assert a.keys() == b.keys()
    for name in a:
        np.testing.assert_array_equal(a[name], b[name], err_msg=name)


def assert_consistent(game_or_world: Any) -> None:
    """esper, the tables, the entity index and the table counts agree."""
    from game.world import audit

    world = getattr(game_or_world, "world", game_or_world)
    assert audit.problems(world) == []


def small_schema(**changes: Any) -> list[Any]:
    """A hand-written schema for unit tests that need no compiler (the real one is components.zig),
    with components replaced by name (or removed: None)."""
    from game.world.schema import DType, component

    specs = [
        component("Position", x=DType.F32, y=DType.F32),
        component("Velocity", x=DType.F32, y=DType.F32),
        component("Color", rgb=(DType.U32, 1, float(0x3050FF))),
        component("Health", hp=(DType.I32, 1, 100.0)),
        component("Target", entity=DType.ENTITY),
        component("Player"),
        component("Frozen"),
        component("Score", resource=True, value=DType.I64),
    ]
    by_name = {s.name: s for s in specs}
    for name, spec in changes.items():
        if spec is None:
            del by_name[name]
        else:
            by_name[name] = spec
    return list(by_name.values())
