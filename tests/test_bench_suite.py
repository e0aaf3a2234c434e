"""bench.suite reads a real pytest run's report, and writes what the README's figure check asks of
a results file (the suite itself is only run by hand: it takes the suite's time)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from bench.figures import check
from bench.suite import markdown, summary

TESTS = """
import pytest

def test_passes():
    pass

def test_fails():
    assert False

@pytest.mark.skip(reason="here")
def test_skipped():
    pass
"""


def test_a_pytest_report_becomes_counts_per_file_and_a_results_file_the_check_accepts(tmp_path: Path) -> None:
    (tmp_path / "test_sample.py").write_text(TESTS)
    report = tmp_path / "junit.xml"
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", f"--junitxml={report}", "test_sample.py"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 1, done.stdout
    found = summary(report)
    assert (found["passed"], found["skipped"], found["failed"]) == (1, 1, 1)
    assert list(found["files"]) == ["test_sample"]  # not a file under the project: the classname as given
    assert found["files"]["test_sample"]["tests"] == 3

    run = {
        "date": "2026-01-02",
        "machine": {"cpu": "test", "cores": 2},
        "args": [],
        "seconds": 588.8,
        "exit_code": 1,
        "caches_before": {"global_mib": 73.7, "local_mib": 417.7},
        **found,
    }
    (tmp_path / "bench" / "results").mkdir(parents=True)
    (tmp_path / "bench" / "results" / "suite.md").write_text(markdown(run))
    cited = "The suite: 1 passed, 1 skipped in 588.8 s (`bench/results/suite.md`, 2026-01-02).\n"
    assert check(cited, tmp_path) == []
    assert check(cited.replace("588.8", "570.0"), tmp_path) == ["README.md:1: 570.0 is not in bench/results/suite.md"]
