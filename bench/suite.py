"""The test suite's size and time on this machine: `python -m bench.suite [--record] [-- PYTEST_ARGS]`.

Runs the whole suite once, as the README's test command does (`python -m pytest` in this
checkout), with a JUnit XML report, and writes `suite.md` and `suite.json`: tests passed,
skipped and failed, the wall time, and each test file's time and share of it (a test's time
includes its setup: a session fixture counts in the first test that uses it). The Zig caches'
sizes before the run are recorded too: the README quotes a warm cache, so run the suite once
before. It takes the suite's time (about ten minutes here) and both cores: run it on a quiet
machine; the tests never run it.

Writes to bench/out/, or to bench/results/ (the files the README cites) with `--record`.
"""

from __future__ import annotations

import argparse
import datetime
import os
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

from bench.output import add_record_flag, header, write

ROOT = Path(__file__).resolve().parent.parent


def folder_mib(path: Path) -> float:
    """The size of every file under `path`, in MiB (0 if it does not exist)."""
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file()) / 2**20 if path.exists() else 0.0


def test_file(classname: str) -> str:
    """The test file a JUnit classname (`tests.hotreload.test_tiers.TestX`) comes from."""
    parts = classname.split(".")
    for end in range(len(parts), 0, -1):
        candidate = Path(*parts[:end]).with_suffix(".py")
        if (ROOT / candidate).is_file():
            return candidate.as_posix()
    return classname


def summary(report: Path) -> dict[str, Any]:
    """Counts and times per test file from a pytest JUnit XML report."""
    files: dict[str, dict[str, float]] = {}
    counts = {"passed": 0, "skipped": 0, "failed": 0}
    for case in ET.parse(report).getroot().iter("testcase"):
        outcome = (
            "failed"
            if case.find("failure") is not None or case.find("error") is not None
            else "skipped"
            if case.find("skipped") is not None
            else "passed"
        )
        counts[outcome] += 1
        entry = files.setdefault(test_file(case.get("classname", "")), {"tests": 0, "seconds": 0.0})
        entry["tests"] += 1
        entry["seconds"] += float(case.get("time", 0))
    return {**counts, "files": dict(sorted(files.items(), key=lambda kv: -kv[1]["seconds"]))}


def run(pytest_args: list[str]) -> dict[str, Any]:
    global_cache = Path(os.environ.get("ZIG_GLOBAL_CACHE_DIR", Path.home() / ".cache" / "zig"))
    caches = {"global_mib": folder_mib(global_cache), "local_mib": folder_mib(ROOT / ".zig-cache")}
    with tempfile.TemporaryDirectory(prefix="bench-suite-") as tmp:
        report = Path(tmp) / "junit.xml"
        started = time.perf_counter()
        done = subprocess.run(
            [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", f"--junitxml={report}", *pytest_args],
            cwd=ROOT,
            check=False,
        )
        seconds = time.perf_counter() - started
        found = summary(report) if report.is_file() else {"passed": 0, "skipped": 0, "failed": 0, "files": {}}
    return {"seconds": seconds, "exit_code": done.returncode, "caches_before": caches, "args": pytest_args, **found}


def markdown(r: dict[str, Any]) -> str:
    total = sum(f["seconds"] for f in r["files"].values()) or 1.0
    command = " ".join(["python -m pytest", *r["args"]])
    caches = r["caches_before"]
    tests = r["passed"] + r["skipped"] + r["failed"]
    lines = [
        *header("Test suite", r),
        f"`{command}` in this checkout: {tests} tests, {r['passed']} passed, {r['skipped']} skipped, "
        f"{r['failed']} failed (exit code {r['exit_code']}) in {r['seconds']:.1f} s ({r['seconds'] / 60:.1f} "
        f"minutes). Zig caches before the run: global {caches['global_mib']:.1f} MiB, "
        f"local {caches['local_mib']:.1f} MiB.",
        "",
        "| test file | tests | seconds | share of the tests' time |",
        "|---|---:|---:|---:|",
    ]
    for name, f in r["files"].items():
        lines.append(f"| {name} | {f['tests']:.0f} | {f['seconds']:.1f} | {100 * f['seconds'] / total:.0f}% |")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.suite", description=__doc__.splitlines()[0])
    add_record_flag(parser)
    parser.add_argument("pytest_args", nargs="*", help="after --: passed to pytest (a subset is not the suite)")
    args = parser.parse_args()
    from bench.__main__ import machine

    results = {"date": datetime.date.today().isoformat(), "machine": machine(), **run(args.pytest_args)}
    write("suite", results, markdown(results), args.record)


if __name__ == "__main__":
    main()
