"""Rebuilding systems in the background and swapping them in at a frame boundary."""
