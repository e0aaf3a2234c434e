"""A short soak in the suite (the 500-cycle one is `python -m bench.soak`, results in bench/results/)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from bench.soak import soak


@pytest.mark.skipif(sys.platform != "linux", reason="reads /proc")
def test_reload_cycles_do_not_grow_fds_mappings_or_copies(project: Path) -> None:
    result = soak(project, cycles=40, entities=2000)
    samples = result["samples"]
    assert result["reloads_logged"] == 40
    assert result["final_build_id"] == 41
    after_ten, last = samples[1], samples[-1]  # type: ignore[index]
    assert last["fds"] <= after_ten["fds"]
    assert last["mapped_copies"] == after_ten["mapped_copies"]  # live + last-good per system, no more
    assert last["copies_on_disk"] == after_ten["copies_on_disk"]
    assert last["rss_mib"] - after_ten["rss_mib"] < 16  # measured: +0.7 MiB over 500 cycles (bench/results/soak.md)
