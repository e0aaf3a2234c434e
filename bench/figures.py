"""The README's figures against the results files they cite: `python -m bench.figures`.

Every figure in README.md comes from a results file named next to it (`bench/results/X.md`,
which says on which machine and on which date it was measured). This checks what can be
checked mechanically, and `tests/test_readme_figures.py` runs it:

- A **block** of the README (a paragraph, a list item, a table, a heading; fenced code is
  skipped) that names `bench/results/X.md` is checked against X.
- A **region**, `<!-- figures: bench/results/X.md ... -->` to `<!-- /figures -->` (each marker
  on a line of its own), checks every block between the markers against those files: for a
  table or a section whose citation sits in its opening paragraph. Each file of the marker
  must be named in the region's visible text too, or in the block just before the region.
- A **figure** is a number stated as a measurement: one with a decimal point, one followed by
  a unit (`ms`, `s`, `µs`, `MiB`, `%`, `x`, `FPS`, ... or a count: `tests`, `steps`, ...,
  also across a range: `63-64 MiB`, `6 and 35 ms`), a signed one (`+71`), or any number in a
  table cell but the row's first. Not figures: numbers in code spans, in names (`p50`, `F5`,
  `x86_64`, `100k`, `1M`, `1280x720`), in a target's clause (`(target: floor + 40 = 181)`).
- Each figure must appear in one of its block's files as the same token: the same digits,
  the same rounding (thousands separators aside). A date in a checked block must be the date
  of one of its files.
- Each cited file must exist and have a `Machine:` line and a date, unless a TODO marker
  `<!-- figure: needs bench/results/X.md -->` in the README says it is waiting for a run.
- A percentile (`p50`, `p95`, `p99`) in a block that cites no file is a measurement with no
  file next to it, unless the block carries such a TODO marker.

What this cannot see: a figure in a block that cites no file and names no percentile, and a
figure changed to another number that the cited file happens to contain.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

CITATION = re.compile(r"bench/results/[\w.-]+\.md")
REGION_OPEN = re.compile(r"^<!-- figures: ((?:bench/results/[\w.-]+\.md\s*)+)-->$")
REGION_CLOSE = "<!-- /figures -->"
NEEDS = re.compile(r"<!-- figure: needs (bench/results/[\w.-]+\.md)\b[^>]*-->")
COMMENT = re.compile(r"<!--.*?-->", re.S)
CODE_SPAN = re.compile(r"`[^`]*`")
DATE = re.compile(r"\b\d{4}-\d{2}-\d{2}\b")
TARGET = re.compile(r"\btargets?\b[^|()]*?(?=[|()]|\.\s|\.$|$)", re.S)
PERCENTILE = re.compile(r"\bp(?:50|95|99)\b")
NUMBER = re.compile(r"(?<![\w./^])[+-]?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)*")
UNITS = (
    r"ms|s|µs|μs|us|ns|MiB|KiB|GiB|MB|GB|KB|%|FPS|min|minutes|seconds"
    r"|tests|steps|faults|reloads|builds|frames|cycles|libraries|systems|p50|p95|p99"
)
UNIT_AFTER = re.compile(rf"\s*(?:(?:-|\u2013|to|and|or|/|,)\s*[+-]?\d[\d,]*(?:\.\d+)?\s*)*(?:{UNITS})(?![\w])")
GLUED = re.compile(rf"(?:{UNITS}|x)(?![\w])")


@dataclass
class Figure:
    line: int  # 1-based line of the README
    column: int  # 0-based
    text: str  # as written, sign and separators included
    files: tuple[str, ...]

    @property
    def value(self) -> str:
        return self.text.lstrip("+-").replace(",", "")


@dataclass
class Block:
    first_line: int
    lines: list[str]
    files: tuple[str, ...] = ()  # the region's
    region: int = 0  # the line of the region's opening marker, 0 outside regions

    @property
    def text(self) -> str:
        return "\n".join(self.lines)

    def visible(self) -> str:
        return COMMENT.sub(lambda m: " " * len(m.group()), self.text)

    def cites(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys((*self.files, *CITATION.findall(self.visible()))))


def _blank(text: str, pattern: re.Pattern[str]) -> str:
    """`text` with every match of `pattern` turned into spaces (newlines kept), so that
    offsets still point into the README."""
    return pattern.sub(lambda m: re.sub(r"[^\n]", " ", m.group()), text)


def numbers(text: str) -> Iterator[tuple[int, str]]:
    """(offset, token) of every number in `text` that is not part of a name or a version."""
    for m in NUMBER.finditer(text):
        token = m.group()
        end = m.start() + len(token)
        if token.count(".") > 1:
            continue  # a version: 3.11.7
        after = text[end : end + 1]
        if (after.isalpha() or after == "_") and not GLUED.match(text, end):
            continue  # a name: 100k, 1M, x86_64, 1280x720, 6th
        yield m.start(), token


def tokens(text: str) -> set[str]:
    """Every number a results file states, as `Figure.value` compares it."""
    text = DATE.sub(" ", text)
    return {token.lstrip("+-").replace(",", "") for _, token in numbers(text)}


def file_date(text: str) -> str | None:
    head = "\n".join(text.splitlines()[:5])
    found = DATE.search(head)
    return found.group() if found else None


def blocks(readme: str) -> tuple[list[Block], list[str]]:
    """The README's blocks outside fenced code, and the problems of its region markers."""
    found: list[Block] = []
    problems: list[str] = []
    region: tuple[str, ...] = ()
    region_line = 0
    current: Block | None = None
    fenced = False

    def close() -> None:
        nonlocal current
        if current is not None:
            found.append(current)
        current = None

    for number, line in enumerate(readme.splitlines(), 1):
        stripped = line.strip()
        if stripped.startswith("```"):
            close()
            fenced = not fenced
            continue
        if fenced:
            continue
        opened = REGION_OPEN.match(stripped)
        if opened or stripped == REGION_CLOSE:
            close()
            if opened and region:
                problems.append(f"README.md:{number}: a figures region opens inside the one of line {region_line}")
            if not opened and not region:
                problems.append(f"README.md:{number}: {REGION_CLOSE} closes no region")
            region, region_line = (tuple(opened.group(1).split()), number) if opened else ((), 0)
            continue
        if "<!-- figures" in line or "<!-- /figures" in line:
            problems.append(f"README.md:{number}: a figures marker must be alone on its line, exactly as documented")
        if not stripped:
            close()
            continue
        table = stripped.startswith("|")
        starts = (
            stripped.startswith("#")
            or re.match(r"(?:[-*+]|\d+\.)\s", stripped) is not None
            or (current is not None and table != current.lines[-1].strip().startswith("|"))
        )
        if current is None or starts or current.lines[-1].strip().startswith("#"):
            close()
            current = Block(number, [], region, region_line)
        current.lines.append(line)
    close()
    if region:
        problems.append(f"README.md:{region_line}: the figures region opened here is never closed")
    return found, problems


def figures(block: Block) -> Iterator[Figure]:
    """The figures of a block (module docstring: what counts as one)."""
    text = _blank(block.text, COMMENT)
    text = _blank(text, CODE_SPAN)
    text = _blank(text, DATE)
    text = _blank(text, TARGET)
    files = block.cites()
    starts = [0]
    for line in block.lines:
        starts.append(starts[-1] + len(line) + 1)
    for offset, token in numbers(text):
        row = max(i for i, s in enumerate(starts) if s <= offset)
        column = offset - starts[row]
        line = text[starts[row] : starts[row + 1] - 1] if row + 1 < len(starts) else text[starts[row] :]
        in_cell = line.lstrip().startswith("|") and line[:column].count("|") >= 2
        end = offset + len(token)
        if (
            in_cell
            or "." in token
            or token[0] in "+-"
            or UNIT_AFTER.match(text, end) is not None
            or GLUED.match(text, end) is not None
        ):
            yield Figure(block.first_line + row, column, token, files)


@dataclass
class Results:
    """The results files, read once each."""

    root: Path
    texts: dict[str, str | None] = field(default_factory=dict)
    numbers: dict[str, set[str]] = field(default_factory=dict)

    def text(self, cited: str) -> str | None:
        """The file's text, None if it does not exist."""
        if cited not in self.texts:
            path = self.root / cited
            self.texts[cited] = path.read_text() if path.is_file() else None
        return self.texts[cited]

    def tokens(self, cited: str) -> set[str]:
        """The numbers the file states (none if it does not exist)."""
        if cited not in self.numbers:
            self.numbers[cited] = tokens(self.text(cited) or "")
        return self.numbers[cited]


def check(readme: str, root: Path, results: Results | None = None) -> list[str]:
    """Every problem with the README's figures, as `README.md:LINE: message` lines; none if
    each figure is in the results file it cites (module docstring: the rules). The results
    files are read from `root` (`bench/results/X.md`), or from `results` if given."""
    found, problems = blocks(readme)
    waiting = set(NEEDS.findall(readme))
    results = results or Results(root)
    header_checked: set[str] = set()
    for files, members in _regions(found):
        before = [b for b in found if b.first_line < members[0].first_line][-1:]
        visible = "\n".join(b.visible() for b in [*before, *members])
        problems += [
            f"README.md:{members[0].first_line}: the region's {name} is not named in its visible text "
            "(nor in the block just before it)"
            for name in files
            if name not in visible
        ]
    for block in found:
        cited = block.cites()
        if not cited:
            if PERCENTILE.search(_blank(block.visible(), CODE_SPAN)) and not NEEDS.search(block.text):
                problems.append(
                    f"README.md:{block.first_line}: a percentile with no results file named next to it "
                    "(cite bench/results/X.md, or mark it <!-- figure: needs bench/results/X.md -->)"
                )
            continue
        texts = {c: results.text(c) for c in cited}
        for c, text in texts.items():
            if c in header_checked:
                continue
            header_checked.add(c)
            if c in waiting:
                continue
            if text is None:
                problems.append(f"README.md:{block.first_line}: cites {c}, which does not exist")
            elif not re.search(r"^Machine: \S", text, re.M) or file_date(text) is None:
                problems.append(f"README.md:{block.first_line}: {c} does not say its machine and date")
        present = {c: t for c, t in texts.items() if t is not None}
        if not present:
            continue
        known = set().union(*(results.tokens(c) for c in present))
        dates = {file_date(t) for t in present.values()}
        for offset_line, date in _dates(block):
            if date not in dates:
                problems.append(f"README.md:{offset_line}: the date {date} is not the date of {', '.join(present)}")
        for figure in figures(block):
            if figure.value not in known:
                problems.append(f"README.md:{figure.line}: {figure.text} is not in {', '.join(present)}")
    return problems


def _regions(found: list[Block]) -> Iterator[tuple[tuple[str, ...], list[Block]]]:
    members: list[Block] = []
    for block in [*found, Block(0, [])]:
        if members and block.region != members[0].region:
            yield members[0].files, members
            members = []
        if block.region:
            members.append(block)


def _dates(block: Block) -> Iterator[tuple[int, str]]:
    for row, line in enumerate(block.visible().split("\n")):
        for m in DATE.finditer(line):
            yield block.first_line + row, m.group()


def main() -> None:
    root = Path(__file__).resolve().parent.parent
    problems = check((root / "README.md").read_text(), root)
    print("\n".join(problems) or "every README figure is in the results file it cites")
    sys.exit(1 if problems else 0)


if __name__ == "__main__":
    main()
