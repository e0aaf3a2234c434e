"""Every figure in the README is the one in the results file named next to it (bench/figures.py
holds the rules); a figure edited by hand, a date or a machine missing, is caught."""

from __future__ import annotations

from pathlib import Path

from bench.figures import Figure, Results, blocks, check, figures
from game.cli import PROJECT_ROOT


def readme() -> str:
    return (PROJECT_ROOT / "README.md").read_text()


def test_every_readme_figure_is_in_the_results_file_named_next_to_it() -> None:
    assert check(readme(), PROJECT_ROOT) == []


def checked_figures(text: str) -> list[Figure]:
    results = Results(PROJECT_ROOT)
    found, _ = blocks(text)
    return [f for b in found for f in figures(b) if any(results.text(c) is not None for c in f.files)]


def edited(figure: Figure, known: set[str]) -> str:
    """`figure` as a hand edit would leave it: its last digit changed, to a number the file does not state."""
    head, last = figure.text[:-1], int(figure.text[-1])
    for step in range(1, 10):
        candidate = f"{head}{(last + step) % 10}"
        if candidate.lstrip("+-").replace(",", "") not in known:
            return candidate
    return f"{figure.text}7"


def test_any_figure_edited_by_hand_is_caught() -> None:
    """Each checked figure in turn, changed in a copy of the README, makes the check fail at
    its line: the check looks at every one of them, not at a handful."""
    text = readme()
    lines = text.splitlines(keepends=True)
    results = Results(PROJECT_ROOT)
    found = checked_figures(text)
    assert len(found) > 200, "the README's tables and measured paragraphs are checked"
    for figure in found:
        known = set().union(*(results.tokens(c) for c in figure.files))
        new = edited(figure, known)
        line = lines[figure.line - 1]
        assert line[figure.column : figure.column + len(figure.text)] == figure.text
        changed = [*lines]
        changed[figure.line - 1] = line[: figure.column] + new + line[figure.column + len(figure.text) :]
        problems = check("".join(changed), PROJECT_ROOT, results)
        assert f"README.md:{figure.line}: {new} is not in" in "\n".join(problems), (figure, new, problems)


def project(tmp_path: Path, readme_text: str, results: dict[str, str]) -> list[str]:
    (tmp_path / "bench" / "results").mkdir(parents=True)
    for name, text in results.items():
        (tmp_path / "bench" / "results" / name).write_text(text)
    return check(readme_text, tmp_path)


RUN = (
    "# A run (2026-01-02)\n\nMachine: cpu test, cores 2\n\n"
    "| what | p50 ms |\n|---|---:|\n| build | 141.5 |\n| fps | 60.5 |\n"
)


def test_what_counts_as_a_figure(tmp_path: Path) -> None:
    text = (
        "Built in 141.5 ms p50 (`bench/results/run.md`, 2026-01-02) at 100k entities and 1280x720, F5,\n"
        "`zig build 999.9 ms` in code, (target: 141.5 + 40 = 181.5) and at 60.5 FPS.\n"
        "\n"
        "Built in 141.6 ms (`bench/results/run.md`), and 60 FPS, +7 over, on 2026-01-03.\n"
    )
    assert project(tmp_path, text, {"run.md": RUN}) == [
        "README.md:4: the date 2026-01-03 is not the date of bench/results/run.md",
        "README.md:4: 141.6 is not in bench/results/run.md",
        "README.md:4: 60 is not in bench/results/run.md",
        "README.md:4: +7 is not in bench/results/run.md",
    ]


def test_a_region_checks_its_table_and_must_name_its_file(tmp_path: Path) -> None:
    text = (
        "Measured (`bench/results/run.md`):\n\n"
        "<!-- figures: bench/results/run.md -->\n"
        "| what | p50 ms | frames |\n|---|---:|---:|\n| build 12 | 141.5 | 7 |\n"
        "<!-- /figures -->\n\n"
        "<!-- figures: bench/results/run.md -->\n"
        "| what | p50 ms |\n|---|---:|\n| build | 141.5 |\n"
        "<!-- /figures -->\n\n"
        "| an uncited table | p50 ms |\n|---|---:|\n| build | 1.0 |\n\n"
        "<!-- figures: bench/results/run.md -->\nnever closed\n"
    )
    not_named = "is not named in its visible text (nor in the block just before it)"
    assert project(tmp_path, text, {"run.md": RUN}) == [
        "README.md:19: the figures region opened here is never closed",
        f"README.md:10: the region's bench/results/run.md {not_named}",
        f"README.md:20: the region's bench/results/run.md {not_named}",
        "README.md:6: 7 is not in bench/results/run.md",
        "README.md:15: a percentile with no results file named next to it "
        "(cite bench/results/X.md, or mark it <!-- figure: needs bench/results/X.md -->)",
    ]


def test_a_cited_file_names_its_machine_unless_marked_as_waiting_for_a_run(tmp_path: Path) -> None:
    no_machine = RUN.replace("Machine: cpu test, cores 2\n", "")
    text = "Built in 141.5 ms (`bench/results/run.md`) and `bench/results/gone.md`.\n"
    assert project(tmp_path, text, {"run.md": no_machine}) == [
        "README.md:1: bench/results/run.md does not say its machine and date",
        "README.md:1: cites bench/results/gone.md, which does not exist",
    ]
    waiting = (
        text + "<!-- figure: needs bench/results/run.md -->\n<!-- figure: needs bench/results/gone.md (not run) -->\n"
    )
    assert project(tmp_path / "2", waiting, {"run.md": no_machine}) == []
