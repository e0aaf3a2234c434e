"""Command line: parses the flags into `Options` and starts the game (or the seed demo).

Every flag is checked here, before anything starts: a number outside its bound, a world
file that is not there, a save path that could not be written at exit, each is one
argparse error line (exit status 2) instead of a failure minutes later.
"""

from __future__ import annotations

import argparse
import logging
import math
import os
import re
import sys
import textwrap
from pathlib import Path

from game import newsystem
from game.options import PROJECT_ROOT as PROJECT_ROOT
from game.options import Options
from game.world.scenes import SCENES
from game.world.snapshot import memory_bound
from game.world.state import MAX_SEED, MAX_SIZE, MIN_SIZE
from game.world.world import DEFAULT_MAX_ENTITIES

KEY_NAMES = {"SPACE": "space", "ESC": "escape", "ESCAPE": "escape"}
SCRIPTABLE = re.compile(r"^(f([1-9]|1[0-2])|space|escape|[a-z0-9])$")
MAX_FRAMES = 1_000_000_000  # about 190 days at 60 FPS
MAX_CYCLES = 1000  # --demo: each cycle is a rebuild, a second or more
STEP_TIMEOUT = (0.05, 600.0)  # seconds: a few frames at least, ten minutes at most
# Peak memory per entity: 110 bytes were measured at 1 and 2 million (tables, entity index,
# rewind checkpoints); F5 adds a probation checkpoint and the canary's copy of the world.
BYTES_PER_ENTITY = 256


def parse_keys(text: str) -> list[tuple[int, str]]:
    """`F5@360,SPACE@10` -> [(10, 'space'), (360, 'f5')]. Raises ValueError on a bad item."""
    out = []
    for item in filter(None, (part.strip() for part in text.split(","))):
        name, sep, frame = item.partition("@")
        if not sep or not re.fullmatch(r"[0-9]{1,10}", frame) or int(frame) > MAX_FRAMES:
            raise ValueError(f"{_shown(item)}: expected KEY@FRAME with FRAME 0..{MAX_FRAMES:,}, e.g. F5@360")
        key = KEY_NAMES.get(name.upper(), name.lower())
        if not SCRIPTABLE.match(key):
            raise ValueError(f"{_shown(item)}: unknown key {_shown(name)}; use F1-F12, SPACE, ESC, a letter or a digit")
        out.append((int(frame), key))
    return sorted(out)


def parse_size(text: str) -> tuple[int, int]:
    """`1280x720` -> (1280, 720). Raises ValueError outside MIN_SIZE..MAX_SIZE each way."""
    match = re.fullmatch(r"([0-9]{1,6})x([0-9]{1,6})", text.lower())
    if not match or not all(MIN_SIZE <= int(v) <= MAX_SIZE for v in match.groups()):
        raise ValueError(
            f"{_shown(text)}: expected WIDTHxHEIGHT, at least {MIN_SIZE}x{MIN_SIZE} and at most {MAX_SIZE}x{MAX_SIZE}"
        )
    return int(match[1]), int(match[2])


def _shown(text: str, limit: int = 20) -> str:
    """`text` quoted (repr: control characters escaped) and cut after `limit` characters."""
    return repr(text if len(text) <= limit else text[:limit] + "...")


def entity_bound() -> tuple[int, str]:
    """The most entities --entities accepts, and why: the world's own bound, or fewer where
    half of this machine's memory holds fewer at BYTES_PER_ENTITY bytes each."""
    fits = memory_bound() // BYTES_PER_ENTITY
    if fits < DEFAULT_MAX_ENTITIES:
        return fits, f"what half of this machine's memory holds at about {BYTES_PER_ENTITY} bytes an entity"
    return DEFAULT_MAX_ENTITIES, "the world's bound, DEFAULT_MAX_ENTITIES"


def unwritable(path: Path) -> str | None:
    """Why a file could not be saved at `path` (atomically: a temporary file in the same
    folder, renamed), or None. A folder that does not exist yet is made when saving."""
    try:
        if path.is_dir():
            return f"is a directory; give a file name, e.g. {path / 'world.npz'}"
        if path.exists() and not path.is_file():
            return "exists and is not a regular file"
        folder = path.absolute().parent
        while not folder.exists():
            folder = folder.parent
        if not folder.is_dir():
            return f"{folder} is not a directory"
        if not os.access(folder, os.W_OK | os.X_OK):
            return f"cannot write in {folder}"
    except (OSError, ValueError) as exc:
        return getattr(exc, "strerror", None) or str(exc)
    return None


def unreadable(path: Path) -> str | None:
    """Why `path` is not a file that can be read, or None."""
    try:
        if not path.exists():
            return "no such file"
        if path.is_dir():
            return "is a directory, not a world file"
        if not path.is_file():
            return "is not a regular file"
        if not os.access(path, os.R_OK):
            return "cannot be read (permission denied)"
    except (OSError, ValueError) as exc:
        return getattr(exc, "strerror", None) or str(exc)
    return None


COMMANDS = f"commands:\n  {newsystem.USAGE.removeprefix('usage: ')}\n" + textwrap.fill(
    newsystem.WHAT, 88, initial_indent=" " * 4, subsequent_indent=" " * 4
)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="run_game.py",
        description="Live-coding ECS sandbox: Zig systems, hot-reloaded with F5.",
        epilog=COMMANDS,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--headless", action="store_true", help="no window (SDL dummy driver); same loop, paced at 60 FPS")
    p.add_argument("--frames", type=int, metavar="N", help=f"exit after N frames (at most {MAX_FRAMES:,})")
    p.add_argument("--fast", action="store_true", help="run frames back to back instead of at 60 FPS")
    p.add_argument(
        "--entities",
        type=int,
        default=Options.entities,
        metavar="N",
        help="entities at start: particles, or boids in flock (the arena ignores it; default %(default)s)",
    )
    p.add_argument(
        "--seed", type=int, default=Options.seed, metavar="S", help="random seed, 0..2**63-1 (default %(default)s)"
    )
    p.add_argument("--keys", default="", metavar="KEY@FRAME,...", help="scripted key presses, e.g. F5@360,SPACE@10")
    p.add_argument(
        "--save-world",
        type=Path,
        metavar="PATH",
        help="write every column and id to an .npz at exit (checked at start: its folder must be writable)",
    )
    p.add_argument(
        "--autosave",
        type=Path,
        metavar="PATH",
        help="where the game saves the world for recovery (default: saves/autosave.npz in the project)",
    )
    p.add_argument(
        "--step-timeout",
        type=float,
        default=Options.step_timeout,
        metavar="SECONDS",
        help=f"longest one system's call may take before it is stopped, {STEP_TIMEOUT[0]}..{STEP_TIMEOUT[1]:g} "
        "(default %(default)s)",
    )
    p.add_argument("--load-world", type=Path, metavar="PATH", help="start from a world saved with --save-world")
    p.add_argument(
        "--size",
        default="1280x720",
        metavar="WxH",
        help=f"world and window size, {MIN_SIZE}..{MAX_SIZE} each way (default %(default)s)",
    )
    p.add_argument(
        "--watch",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="watch mode: rebuild and reload when a .zig file under ecs_systems/ is saved (W toggles); "
        "on by default with a window, off by default headless",
    )
    p.add_argument(
        "--scene",
        default="drift",
        choices=list(SCENES),
        help="starting scene: particles (drift, galaxy, fountain, rain) or a game (arena, flock);"
        " Tab cycles; default %(default)s",
    )
    p.add_argument(
        "--no-canary", action="store_true", help="swap new builds in without first running them in a separate process"
    )
    p.add_argument(
        "--tour",
        action="store_true",
        help="a minute that demos the sandbox by itself: plays the arena, edits systems live, restores them",
    )
    p.add_argument(
        "--capture", type=Path, default=None, metavar="FILE.gif", help="--tour: record it as an animation (Pillow)"
    )
    p.add_argument(
        "--demo", action="store_true", help="run the seed experiment: plugin_a/plugin_b, bump BuildId, rebuild, reload"
    )
    p.add_argument(
        "--cycles",
        type=int,
        default=3,
        metavar="N",
        help=f"--demo: reload cycles, 1..{MAX_CYCLES} (default %(default)s)",
    )
    p.add_argument(
        "libraries",
        nargs="*",
        type=Path,
        metavar="LIBRARY",
        help="--demo: plugin_a and plugin_b libraries (default: the built ones)",
    )
    p.add_argument("--project", type=Path, default=PROJECT_ROOT, help=argparse.SUPPRESS)
    p.add_argument(
        "--optimize",
        default="safe",
        choices=["debug", "safe", "fast", "small"],
        help="Zig optimize mode of tier 2, the systems' final build (default safe: bounds checks on)",
    )
    p.add_argument(
        "--tier",
        default="auto",
        choices=["auto", "1", "2"],
        help="auto (default): an edit goes live at tier 1 (debug, built fastest), then tier 2 replaces it; "
        "1 or 2: every build at that tier (the T key cycles these)",
    )
    return p


def parse(argv: list[str]) -> Options:
    """Options from the flags in `argv`. Raises SystemExit (status 2, a usage line) for a bad flag."""
    parser = build_parser()
    return _options(parser, parser.parse_args(argv))


def _options(parser: argparse.ArgumentParser, ns: argparse.Namespace) -> Options:
    try:
        keys = parse_keys(ns.keys)
        size = parse_size(ns.size)
    except ValueError as exc:
        parser.error(str(exc))
    if ns.frames is not None:
        _bounded(parser, "--frames", ns.frames, 0, MAX_FRAMES)
    most, why = entity_bound()
    _bounded(parser, "--entities", ns.entities, 0, most, why)
    _bounded(parser, "--seed", ns.seed, 0, MAX_SEED, "what world files store")
    if not math.isfinite(ns.step_timeout) or not STEP_TIMEOUT[0] <= ns.step_timeout <= STEP_TIMEOUT[1]:
        parser.error(f"--step-timeout {ns.step_timeout}: expected {STEP_TIMEOUT[0]}..{STEP_TIMEOUT[1]:g} seconds")
    for flag, path in (("--save-world", ns.save_world), ("--autosave", ns.autosave)):
        problem = unwritable(path) if path is not None else None
        if problem is not None:
            parser.error(f"{flag} {path}: {problem}")
    problem = unreadable(ns.load_world) if ns.load_world is not None else None
    if problem is not None:
        parser.error(f"--load-world {ns.load_world}: {problem}")
    return Options(
        headless=ns.headless,
        frames=ns.frames,
        fast=ns.fast,
        entities=ns.entities,
        seed=ns.seed,
        keys=keys,
        save_world=ns.save_world,
        load_world=ns.load_world,
        size=size,
        project=_project(parser, ns),
        optimize=ns.optimize,
        canary=not ns.no_canary,
        watch=ns.watch,
        scene=ns.scene,
        step_timeout=ns.step_timeout,
        autosave=ns.autosave,
        tier=None if ns.tier == "auto" else int(ns.tier),
    )


def _bounded(parser: argparse.ArgumentParser, flag: str, value: int, low: int, high: int, why: str = "") -> None:
    """Exits with a usage error unless low <= value <= high."""
    if not low <= value <= high:
        because = f" ({why})" if why else ""
        parser.error(f"{flag} {value}: expected {low:,}..{high:,}{because}")


def _project(parser: argparse.ArgumentParser, ns: argparse.Namespace) -> Path:
    project: Path = ns.project.resolve()
    if not (project / "ecs_systems").is_dir():
        parser.error(f"--project {ns.project}: no ecs_systems/ folder there")
    return project


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s.%(msecs)03d %(message)s", datefmt="%H:%M:%S", stream=sys.stderr
    )
    args = sys.argv[1:] if argv is None else argv
    if args[:1] == ["new-system"]:
        project = Path(args[args.index("--project") + 1]).resolve() if "--project" in args else PROJECT_ROOT
        return newsystem.main(project, [a for a in args[1:] if a != "--project" and Path(a).resolve() != project])
    parser = build_parser()
    ns = parser.parse_args(args)
    if ns.demo:
        _bounded(parser, "--cycles", ns.cycles, 1, MAX_CYCLES)
        from game import demo

        return demo.run(_project(parser, ns), ns.cycles, [p.resolve() for p in ns.libraries])
    if ns.libraries:
        parser.error("library paths are for --demo")
    options = _options(parser, ns)
    if ns.capture is not None and not ns.tour:
        parser.error("--capture is for --tour")
    from game import quitting

    with quitting.listening():  # before SDL's init (see game/quitting.py)
        if ns.tour:
            from game import tour

            code = tour.run(options, ns.capture)
        else:
            from game.app import run  # pygame is imported only once the flags are known to be good

            code = run(options)
    return quitting.exit_status(code)
