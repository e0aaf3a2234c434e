"""Selection: numbers that stay for the session, and a cursor that reaches every system."""

from __future__ import annotations

from game.selection import Selection

FIRST = ["pilot", "autopilot", "ship", "attractor", "movement", "bounds"]


def test_systems_are_numbered_in_order_and_a_new_one_takes_the_next_number() -> None:
    s = Selection()
    assert s.sync(FIRST) == {name: i for i, name in enumerate(FIRST, start=1)}
    later = ["pilot", "autopilot", "ship", "attractor", "gravity", "movement", "bounds"]  # inserted mid-list
    numbers = s.sync(later)
    assert numbers["gravity"] == 7 and all(numbers[n] == i for i, n in enumerate(FIRST, start=1))
    assert s.numbered(5, later) == "movement" and s.numbered(7, later) == "gravity"


def test_a_removed_system_keeps_its_number_and_no_number_is_given_twice() -> None:
    s = Selection()
    s.sync(FIRST)
    without = [n for n in FIRST if n != "ship"]
    assert s.numbered(3, without) is None  # ship's number: not reused while ship is gone
    s.sync([*without, "gravity"])
    assert s.sync([*FIRST, "gravity"]) == {**{n: i for i, n in enumerate(FIRST, start=1)}, "gravity": 7}
    assert s.numbered(3, FIRST) == "ship" and s.numbered(0, FIRST) is None and s.numbered(99, FIRST) is None


def test_the_cursor_walks_the_list_both_ways_and_wraps() -> None:
    s = Selection()
    down = [s.move(1, FIRST) for _ in range(len(FIRST) + 1)]
    assert down == [*FIRST, FIRST[0]]
    s.selected = None
    up = [s.move(-1, FIRST) for _ in range(len(FIRST) + 1)]
    assert up == [*reversed(FIRST), FIRST[-1]]


def test_the_cursor_survives_its_system_going_away_and_an_empty_list() -> None:
    s = Selection()
    s.selected = "ship"
    assert s.move(1, ["pilot", "bounds"]) == "pilot"
    s.selected = "ship"
    assert s.move(-1, ["pilot", "bounds"]) == "bounds"
    assert s.move(1, []) is None and s.selected == "bounds"
