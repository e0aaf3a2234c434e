"""Selection: which system the selection keys act on, and each system's number for the session.

A system is numbered the first time it is seen loaded, in the HUD's order (the run order),
and keeps that number for the session: a system added later takes the next number, one
unloaded keeps its number for when it comes back, and no number is ever given twice. So the
key that selects a system never changes under the user's hands. Number keys reach 1-9; the
cursor (PageUp/PageDown, [ and ]) walks the HUD's list and reaches every system.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence


class Selection:
    """The selected system (None: none) and the session's numbers. Pure: takes the loaded
    systems' names in the HUD's order, never the pipeline."""

    def __init__(self) -> None:
        self.selected: str | None = None
        self._numbers: dict[str, int] = {}

    def sync(self, names: Iterable[str]) -> dict[str, int]:
        """Numbers every name not seen before, in order, after the highest number given; returns
        every number given this session (name -> number)."""
        for name in names:
            if name not in self._numbers:
                self._numbers[name] = len(self._numbers) + 1
        return self._numbers

    def numbered(self, number: int, names: Sequence[str]) -> str | None:
        """The loaded system with `number`, or None (no such number, or its system is not loaded)."""
        self.sync(names)
        return next((name for name in names if self._numbers[name] == number), None)

    def move(self, step: int, names: Sequence[str]) -> str | None:
        """Moves the selection `step` places down the list (up when negative), wrapping around;
        from nothing (or a system no longer loaded) down starts at the first, up at the last.
        Returns the selected name, None when no system is loaded."""
        self.sync(names)
        if not names:
            return None
        if self.selected in names:
            self.selected = names[(names.index(self.selected) + step) % len(names)]
        else:
            self.selected = names[0] if step > 0 else names[-1]
        return self.selected
