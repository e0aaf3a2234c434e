"""A short soak in the suite (the 500-cycle one is `python -m bench.soak`, results in bench/results/)."""

from __future__ import annotations

import sys
from pathlib import Path

import pygame
import pytest

from bench.soak import soak, usage
from game.app import Game
from tests.conftest import assert_consistent, edit, headless, press


@pytest.mark.skipif(sys.platform != "linux", reason="reads /proc")
def test_reload_cycles_do_not_grow_fds_mappings_or_copies(project: Path) -> None:
    """Files, mappings and copies stay the same from the first reloads on; memory over the
    last 20 of 40 reloads. (Measured alone: +6 MiB over 60. Inside a long test session,
    before the game fixed glibc's mmap threshold, the heap fragmented by 38 MiB over 30 reloads
    of multi-MiB world copies.)"""
    result = soak(project, cycles=40, entities=2000)
    samples = result["samples"]
    assert result["reloads_logged"] == 40
    assert result["final_build_id"] == 41
    after_ten, last = samples[1], samples[-1]  # type: ignore[index]
    assert last["fds"] <= after_ten["fds"]
    assert last["mapped_copies"] == after_ten["mapped_copies"]  # live + last-good per system, no more
    assert last["copies_on_disk"] == after_ten["copies_on_disk"]
    settled = samples[-6]  # type: ignore[index]  # reload 20 (samples every 4 reloads)
    assert last["rss_mib"] - settled["rss_mib"] < 16  # type: ignore[index]


@pytest.mark.skipif(sys.platform != "linux", reason="reads /proc")
def test_schema_reload_cycles_do_not_grow_fds_mappings_or_copies(project: Path) -> None:
    """Each cycle edits components.zig: the schema library and every system are swapped (and
    checkpointed for probation); the world keeps every entity."""
    game = Game(headless(project))
    source = project / "ecs_systems" / "components.zig"
    samples = []
    try:
        assert game.start()
        count = game.world.count
        systems = len(game.pipeline.slots)
        for cycle in range(4):
            edit(source, f"id: u32 = {cycle}", f"id: u32 = {cycle + 1}")  # Team's default: every library changes
            press(game, pygame.K_F5)
            game.frame()
            while game.reloader.building:
                game.frame()
            outcome = game.reloader.round[0]
            assert outcome is not None and not outcome.refused and outcome.schema_library is not None
            assert len(outcome.ready) == len(game.pipeline.slots)
            for _ in range(35):  # past probation: the schema library before it is closed
                game.frame()
            assert game.reloader.probation is None
            samples.append(usage(project))
        assert game.world.schema["Team"].field("id").default == 4
        assert game.world.count == count
        assert_consistent(game)
    finally:
        game.close()
    second, last = samples[1], samples[-1]
    assert last.fds <= second.fds
    assert last.mapped_copies == second.mapped_copies == 1 + 2 * systems  # components, live + last good per system
    assert last.copies_on_disk == second.copies_on_disk == 1 + 2 * systems


@pytest.mark.skipif(sys.platform != "linux", reason="reads /proc")
def test_reloads_with_random_faults_lose_nothing_and_leak_nothing() -> None:
    """A short run of bench/fault_soak.py (200 cycles there): every kind of fault, early and
    late, in every entry point; the world equals a faultless run, and nothing grows."""
    from bench.fault_soak import run

    result = run(cycles=30, seed=2)
    assert result["world_equals_faultless_run"]
    assert result["consistency_problems"] == []
    assert result["orphans_after_close"] == []
    assert result["faults_caught"] >= 5
    tenth, last = result["samples"][1], result["samples"][-1]
    assert last["fds"] - last["fault_fds"] <= tenth["fds"] - tenth["fault_fds"]
    assert last["threads"] == tenth["threads"]
    assert last["mapped_copies"] <= tenth["mapped_copies"] + 1  # live + last good (+ a set-aside one)
    assert last["copies_on_disk"] <= tenth["copies_on_disk"] + 1
    # A stack overflow keeps the 8 MiB it touched; the world copies a recovery keeps (the
    # last completed step, a leased checkpoint) are each 8 MiB bigger with the spatial grid.
    assert last["rss_mib"] - tenth["rss_mib"] < 40
