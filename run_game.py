#!/usr/bin/env python3
"""Starts the sandbox. `python run_game.py --help` lists the flags."""

import sys

if __name__ == "__main__":
    try:
        from game.cli import main

        sys.exit(main())
    except KeyboardInterrupt:  # while importing, before the game listens for it, or a second Ctrl+C
        print("interrupted", file=sys.stderr)
        sys.exit(130)
