"""`python run_game.py new-system NAME`: writes ecs_systems/NAME.zig from the template."""

from __future__ import annotations

import re
import sys
import textwrap
from pathlib import Path

TEMPLATE = Path(__file__).resolve().parent.parent / "assets" / "system_template.zig"
NAME = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
USAGE = "usage: run_game.py new-system NAME"
WHAT = (
    "writes ecs_systems/NAME.zig, a new system, from assets/system_template.zig; it builds and "
    "joins the running game at once in watch mode (on in a window), else on the next F5"
)


def create(project: Path, name: str) -> Path:
    """Writes the new system's source; raises ValueError for a bad or taken name."""
    if not NAME.match(name) or name in ("sdk", "test", "build", "components"):
        raise ValueError(f"{name!r}: use lower_snake_case letters, digits and _, starting with a letter")
    path = project / "ecs_systems" / f"{name}.zig"
    if path.exists():
        raise ValueError(f"{path} already exists")
    path.write_text(TEMPLATE.read_text().replace("NAME", name))
    return path


def main(project: Path, argv: list[str]) -> int:
    if argv in (["-h"], ["--help"]):
        print(f"{USAGE}\n\n{textwrap.fill(WHAT, 88)}")
        return 0
    if len(argv) != 1:
        print(USAGE, file=sys.stderr)
        return 2
    try:
        path = create(project, argv[0])
    except ValueError as exc:
        print(f"new-system: {exc}", file=sys.stderr)
        return 2
    print(f"wrote {path}: it builds and joins the running game at once in watch mode, else on the next F5")
    return 0
