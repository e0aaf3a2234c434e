"""A short soak in the suite (the 500-cycle one is `python -m bench.soak`, results in bench/results/)."""

from __future__ import annotations

import logging
import sys
from pathlib import Path

import pygame
import pytest

from bench.soak import MALLINFO, growth, soak, usage
from game.app import Game
from tests.conftest import assert_consistent, edit, headless, press

SETTLED = 15
"""Reloads before the measured ones: what the first reloads allocate once (the canary's
worker among it; malloc's bytes in use rise by a few hundred bytes a reload, less and less,
for about 25 reloads in a fresh process) is not growth."""


@pytest.mark.skipif(sys.platform != "linux", reason="reads /proc")
@pytest.mark.skipif(MALLINFO is None, reason="malloc's figures need glibc")
def test_reload_cycles_leak_nothing(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """40 reloads; from the 15th on, per reload (`bench.soak.trend`: a buffer or a dict that
    grows once does not count, a leak does): malloc's bytes in use grow by less than 2 KiB
    (a list of 7 KiB kept each reload, from Python or from C, measured 7.5 KiB), Python's
    tracked objects by less than half an object (one kept: 1.0), big buffers not at all and
    resident memory by less than 64 KiB; files, threads and mapped files end where they were.

    The rewind history (40 MiB here, filled by the warm-up frames) and the reloader's list
    of past reloads (2 kept, 200 in the game) are bounded by design but would still be
    growing: at the game's sizes they grew 0.6 MiB and 18 KiB a reload over these 40."""
    monkeypatch.setattr(logging.getLogger("sandbox"), "propagate", False)  # pytest keeps every record it sees
    result = soak(project, cycles=40, entities=2000, warmup_frames=400, history_budget=40 << 20, outcomes_kept=2)
    assert result["reloads_logged"] == 40
    assert result["final_build_id"] == 41
    series: dict[str, list[float]] = result["series"]  # type: ignore[assignment]
    per_reload = growth(series, SETTLED - 1)
    assert per_reload["heap_bytes"] < 2 << 10, per_reload
    assert per_reload["objects"] < 0.5, per_reload
    assert per_reload["mmapped_bytes"] <= 0, per_reload
    assert per_reload["rss_mib"] * 1024 < 64, per_reload  # KiB: a library or a world copy kept is more
    for name in ("fds", "threads", "mapped_files", "mapped_copies", "copies_on_disk"):
        settled, last = series[name][SETTLED - 1 : SETTLED + 4], series[name][-5:]
        assert min(last) <= min(settled), (name, settled, last)  # a thread or fd in passing is not kept
    assert series["mapped_copies"][-1] == series["copies_on_disk"][-1]  # live + last good per system, no more


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
