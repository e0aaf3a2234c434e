"""Benchmarks, kept apart from the tests: `python -m bench [--quick]`."""
