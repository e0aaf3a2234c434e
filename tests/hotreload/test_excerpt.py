"""The caret's cell for a compiler's byte column: tabs, multi-byte UTF-8, wide characters, long lines."""

from __future__ import annotations

import pytest

from game.hotreload.excerpt import ELLIPSIS, caret_cell, cells, clusters, fit, lay_out
from game.hotreload.zigbuild import CompileError


def byte_column(line: str, char_index: int) -> int:
    """Zig's column (bytes of UTF-8, from 1) of the character at `char_index`."""
    return len(line[:char_index].encode("utf-8")) + 1


def shown_at(text: str, cell: int) -> str:
    """The characters drawn at `cell` of a laid-out line ("" past its end)."""
    at = 0
    for chars, width in clusters(text):
        if at == cell:
            return chars
        at += width
    return ""


def test_ascii_caret_is_column_minus_one() -> None:
    line = "    integrate(t.pos.y, t.vel.y, w.dt)"
    assert lay_out(line, 5) == (line, 4)
    assert CompileError("m.zig", 1, 5, "expected ';'", line).excerpt() == [line, "    ^"]


def test_a_tab_is_expanded_the_same_in_the_line_and_in_the_caret() -> None:
    line = "\tconst x: i32 = s;\t// tab\there"
    for index, ch in enumerate(line):
        text, caret = lay_out(line, byte_column(line, index))
        assert "\t" not in text
        assert shown_at(text, caret).startswith(ch if ch != "\t" else " "), (index, ch)
    assert lay_out(line, 2) == ("    const x: i32 = s;   // tab  here", 4)  # stops every 4 cells
    assert caret_cell("ab\tc", 4) == 4 and caret_cell("abcd\te", 6) == 8


def test_multi_byte_utf8_columns_count_bytes() -> None:
    line = 'const s = "héllo"; const x: i32 = s;'
    index = line.rindex("s;")
    column = byte_column(line, index)
    assert column == index + 2  # é is two bytes: Zig's column is one more than the character count
    text, caret = lay_out(line, column)
    assert caret == index and text[caret] == "s"
    assert caret_cell(line, byte_column(line, line.index("é")) + 1) == line.index("é")  # inside é: é's cell


def test_wide_characters_take_two_cells() -> None:
    line = 'const s = "日本ｘ"; const x: i32 = s;'  # two CJK ideographs and a fullwidth x
    index = line.rindex("s;")
    text, caret = lay_out(line, byte_column(line, index))
    assert caret == index + 3 and shown_at(text, caret) == "s"
    assert cells("日本ｘ") == 6 and cells("é") == 1
    assert caret_cell(line, byte_column(line, line.index("本"))) == line.index("本") + 1


def test_a_combining_mark_takes_no_cell_and_belongs_to_its_character() -> None:
    line = "e\u0301 = x;"  # e with a combining acute, as two code points
    assert clusters(line)[0] == ("e\u0301", 1)
    assert lay_out(line, 2)[1] == 0  # the mark's column: its letter's cell
    assert lay_out(line, byte_column(line, line.index("x")))[1] == 4


def test_past_the_end_is_the_cell_after_the_line() -> None:
    line = "    const x = 1"
    assert lay_out(line, len(line) + 1) == (line, len(line))
    assert lay_out(line + "   ", len(line) + 9)[1] == len(line) + 3  # clamped to the line's bytes


@pytest.mark.parametrize("width", [8, 9, 20, 41])
def test_a_long_line_keeps_a_window_with_the_caret_under_its_character(width: int) -> None:
    line = "\t" + "abcdefghij" * 4 + 'é "日本" ' + "klmnopqrst" * 5 + ";"
    for index, ch in enumerate(line):
        text, caret = lay_out(line, byte_column(line, index), width)
        assert cells(text) <= width, (index, text)
        assert 0 <= caret < width
        assert shown_at(text, caret).startswith(ch if ch != "\t" else " "), (index, ch, text, caret)
        cut_start = caret_cell(line, byte_column(line, index)) + cells(ch) > width - 1  # else: room before "…"
        assert text.startswith(ELLIPSIS) == cut_start
    text, caret = lay_out(line, len(line.encode()) + 1, width)  # a missing `;` after the end
    assert caret == width - 1 and text.startswith(ELLIPSIS) and not text.endswith(ELLIPSIS)
    text, caret = lay_out(line, 1, width)
    assert caret == 0 and text.endswith(ELLIPSIS) and cells(text) == width


def test_short_lines_are_not_cut_and_width_must_hold_a_window() -> None:
    assert lay_out("const x = 1;", 7, 12) == ("const x = 1;", 6)
    with pytest.raises(ValueError, match="at least 8 cells"):
        lay_out("const x = 1;", 7, 7)


def test_fit_cuts_to_cells_with_an_ellipsis() -> None:
    assert fit("short", 10) == "short"
    assert fit("abcdefghijkl", 8) == "abcdefg" + ELLIPSIS
    assert fit("ab日本cd", 4) == "ab " + ELLIPSIS  # half of 日 does not fit: a space
    assert cells(fit("x" * 300, 170)) == 170
