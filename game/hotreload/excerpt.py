"""A source line and a caret under a compiler's column, laid out in the cells of a monospace grid.

Zig names a column in bytes of UTF-8, counted from 1, and counts a tab as one byte (its own
error output prints each tab as one space). A screen shows characters, not bytes: a tab
reaches the next tab stop, an East Asian wide or fullwidth character takes two cells, a
combining mark none. `lay_out` turns (line, byte column) into the text to show and the cell
of the caret, so the caret sits under the character the compiler names, in a terminal (the
log) and in the overlay, which draws every character at `cell * advance`. A line wider than
the space given keeps a window around the column, with an ellipsis on each cut side.
"""

from __future__ import annotations

import unicodedata

TAB_STOP = 4
"""Cells between tab stops: zig fmt indents by 4."""
ELLIPSIS = "…"

Cluster = tuple[str, int]
"""A character with the combining marks that follow it, and the cells it takes (0, 1 or 2)."""


def char_cells(ch: str) -> int:
    """Cells one character takes: 0 for combining marks and format characters (a zero-width
    joiner), 2 for East Asian wide and fullwidth, 1 for the rest (ambiguous ones included)."""
    if unicodedata.combining(ch) or unicodedata.category(ch) in ("Mn", "Me", "Cf"):
        return 0
    return 2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1


def clusters(text: str) -> list[Cluster]:
    """`text` as clusters on the grid, tabs expanded to spaces up to the next tab stop."""
    out: list[Cluster] = []
    cell = 0
    for ch in text:
        if ch == "\t":
            pad = TAB_STOP - cell % TAB_STOP
            out.append((" " * pad, pad))
            cell += pad
            continue
        width = char_cells(ch)
        if width == 0 and out:
            out[-1] = (out[-1][0] + ch, out[-1][1])
        else:
            out.append((ch, width))
            cell += width
    return out


def cells(text: str) -> int:
    """Cells `text` takes on the grid."""
    return sum(width for _, width in clusters(text))


def caret_cell(line: str, byte_column: int) -> int:
    """The cell (from 0) where the character at UTF-8 byte `byte_column` (from 1) of `line`
    starts: a column inside a character is that character's, a combining mark's is the
    character it sits on, one past the end (or further) is the cell after the line (where
    a missing `;` goes)."""
    return _locate(line, byte_column)[0]


def _locate(line: str, byte_column: int) -> tuple[int, int]:
    """(the caret's cell, the cells of the character there: 1 past the end)."""
    cell = at = base = base_width = 0
    for ch in line:
        size = len(ch.encode("utf-8"))
        step = TAB_STOP - cell % TAB_STOP if ch == "\t" else char_cells(ch)
        if step:
            base, base_width = cell, step
        if at + size >= byte_column:
            return base, max(base_width, 1)
        cell += step
        at += size
    return cell, 1


def lay_out(line: str, byte_column: int, width: int | None = None) -> tuple[str, int]:
    """(the line as the grid shows it, the caret's cell in it). With `width` (cells, at least
    8) a longer line is cut to a window around the caret, "…" where it was cut; the caret
    stays under its character. Raises ValueError for a width under 8."""
    if width is not None and width < 8:
        raise ValueError(f"an excerpt needs at least 8 cells, got {width}")
    laid = clusters(line.rstrip())
    caret, caret_width = _locate(line, byte_column)
    total = sum(w for _, w in laid)
    if width is None or max(total, caret + 1) <= width:
        return "".join(text for text, _ in laid), caret
    if caret + caret_width <= width - 1:  # near the start: cut the end only
        start, end = 0, width - 1
    elif caret >= total - (width - 1) + (caret >= total):  # near the end: cut the start only
        start, end = max(total, caret + 1) - (width - 1), total
    else:
        start = caret - (width - 2) // 2
        end = start + width - 2
    body = _window(laid, start, end)
    head = ELLIPSIS if start > 0 else ""
    tail = ELLIPSIS if end < total else ""
    return head + body + tail, caret - start + len(head)


def _window(laid: list[Cluster], start: int, end: int) -> str:
    """The cells [start, end) of a laid-out line; a wide character cut in half becomes spaces."""
    out: list[str] = []
    cell = 0
    for text, width in laid:
        lo, hi = max(cell, start), min(cell + width, end)
        if lo < hi or (width == 0 and start <= cell < end):
            out.append(text if (lo, hi) == (cell, cell + width) else " " * (hi - lo))
        cell += width
    return "".join(out)


def fit(text: str, width: int) -> str:
    """`text` cut to `width` cells, ending in "…" when it was cut."""
    laid = clusters(text)
    if sum(w for _, w in laid) <= width:
        return "".join(t for t, _ in laid)
    return _window(laid, 0, width - 1) + ELLIPSIS
