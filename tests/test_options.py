"""Watch mode's default: on in a window (SDL's dummy driver), off headless, and `watch`
decides when given (a save reloading in a window without a flag: tests/test_controls.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from game.app import Game
from game.options import Options
from tests.conftest import headless


def test_watching_follows_the_window_unless_asked() -> None:
    assert Options().watching and not Options(headless=True).watching
    assert not Options(watch=False).watching and Options(headless=True, watch=True).watching


@pytest.mark.parametrize(
    ("window", "watch", "watching"), [(True, None, True), (True, False, False), (False, None, False)]
)
def test_the_game_starts_watching_as_the_options_say(
    built_project: Path, window: bool, watch: bool | None, watching: bool
) -> None:
    g = Game(headless(built_project, headless=not window, watch=watch))
    try:
        assert g.watcher.running is watching
    finally:
        g.close()
