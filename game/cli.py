"""Command line: parses the flags into `Options` and starts the game (or the seed demo)."""

from __future__ import annotations

import argparse
import logging
import re
import sys
from pathlib import Path

from game.options import PROJECT_ROOT as PROJECT_ROOT
from game.options import Options

KEY_NAMES = {"SPACE": "space", "ESC": "escape", "ESCAPE": "escape"}
SCRIPTABLE = re.compile(r"^(f([1-9]|1[0-2])|space|escape|[a-z0-9])$")


def parse_keys(text: str) -> list[tuple[int, str]]:
    """`F5@360,SPACE@10` -> [(10, 'space'), (360, 'f5')]. Raises ValueError on a bad item."""
    out = []
    for item in filter(None, (part.strip() for part in text.split(","))):
        name, sep, frame = item.partition("@")
        if not sep or not frame.isdigit():
            raise ValueError(f"{item!r}: expected KEY@FRAME, e.g. F5@360")
        key = KEY_NAMES.get(name.upper(), name.lower())
        if not SCRIPTABLE.match(key):
            raise ValueError(f"{item!r}: unknown key {name!r}; use F1-F12, SPACE, ESC, a letter or a digit")
        out.append((int(frame), key))
    return sorted(out)


def parse_size(text: str) -> tuple[int, int]:
    w, sep, h = text.lower().partition("x")
    if not sep or not (w.isdigit() and h.isdigit()) or int(w) < 64 or int(h) < 64:
        raise ValueError(f"{text!r}: expected WIDTHxHEIGHT, at least 64x64")
    return int(w), int(h)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="run_game.py", description="Live-coding ECS sandbox: Zig systems, hot-reloaded with F5."
    )
    p.add_argument("--headless", action="store_true", help="no window (SDL dummy driver); same loop, paced at 60 FPS")
    p.add_argument("--frames", type=int, metavar="N", help="exit after N frames")
    p.add_argument("--fast", action="store_true", help="run frames back to back instead of at 60 FPS")
    p.add_argument(
        "--entities", type=int, default=Options.entities, metavar="N", help="entities at start (default %(default)s)"
    )
    p.add_argument("--seed", type=int, default=Options.seed, metavar="S", help="random seed (default %(default)s)")
    p.add_argument("--keys", default="", metavar="KEY@FRAME,...", help="scripted key presses, e.g. F5@360,SPACE@10")
    p.add_argument("--save-world", type=Path, metavar="PATH", help="write every column and id to an .npz at exit")
    p.add_argument("--load-world", type=Path, metavar="PATH", help="start from a world saved with --save-world")
    p.add_argument("--size", default="1280x720", metavar="WxH", help="world and window size (default %(default)s)")
    p.add_argument(
        "--watch",
        action="store_true",
        help="rebuild and reload when a .zig file under ecs_systems/ is saved (W toggles)",
    )
    p.add_argument(
        "--scene",
        default="drift",
        choices=["drift", "galaxy", "fountain", "rain"],
        help="starting scene (Tab cycles; default %(default)s)",
    )
    p.add_argument(
        "--no-canary", action="store_true", help="swap new builds in without first running them in a separate process"
    )
    p.add_argument(
        "--demo", action="store_true", help="run the seed experiment: plugin_a/plugin_b, bump BuildId, rebuild, reload"
    )
    p.add_argument("--cycles", type=int, default=3, metavar="N", help="--demo: reload cycles (default %(default)s)")
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
        help="Zig optimize mode (default safe: bounds checks on)",
    )
    return p


def parse(argv: list[str]) -> Options:
    return _options(build_parser(), build_parser().parse_args(argv))


def _options(parser: argparse.ArgumentParser, ns: argparse.Namespace) -> Options:
    try:
        keys = parse_keys(ns.keys)
        size = parse_size(ns.size)
    except ValueError as exc:
        parser.error(str(exc))
    if ns.frames is not None and ns.frames < 0:
        parser.error("--frames must be >= 0")
    if ns.entities < 0:
        parser.error("--entities must be >= 0")
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
        project=ns.project.resolve(),
        optimize=ns.optimize,
        canary=not ns.no_canary,
        watch=ns.watch,
        scene=ns.scene,
    )


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s.%(msecs)03d %(message)s", datefmt="%H:%M:%S", stream=sys.stderr
    )
    args = sys.argv[1:] if argv is None else argv
    if args[:1] == ["new-system"]:
        from game import newsystem

        project = Path(args[args.index("--project") + 1]).resolve() if "--project" in args else PROJECT_ROOT
        return newsystem.main(project, [a for a in args[1:] if a != "--project" and Path(a).resolve() != project])
    parser = build_parser()
    ns = parser.parse_args(args)
    if ns.demo:
        if ns.cycles < 1:
            parser.error("--cycles must be >= 1")
        from game import demo

        return demo.run(ns.project.resolve(), ns.cycles, [p.resolve() for p in ns.libraries])
    if ns.libraries:
        parser.error("library paths are for --demo")
    options = _options(parser, ns)
    from game.app import run  # pygame is imported only once the flags are known to be good

    return run(options)
