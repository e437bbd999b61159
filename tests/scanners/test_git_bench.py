"""The benchmark's repository generator builds the history it describes."""

from __future__ import annotations

from pathlib import Path

from bench.git_repo_gen import build_history, measure
from scanners.git import CheckOutcome, commit_info, open_repo, resolve


def test_the_generated_history_has_every_commit_and_change(tmp_path: Path) -> None:
    scratch, changes = build_history(tmp_path / "big", 300)
    assert scratch.git("rev-list", "--count", "main") == "300"
    assert len(changes) == 299
    repo = open_repo(scratch.path)
    last = changes[-1]
    info = commit_info(repo, resolve(repo, "main").sha or "")
    assert info.message.endswith(f"Fixes BENCH-{last.mark}")
    assert [f.path for f in info.files] == [last.path]


def test_the_benchmark_checks_claims_it_can_prove(tmp_path: Path) -> None:
    scratch, changes = build_history(tmp_path / "big", 200)
    figures = measure(scratch.path, changes, scratch, claims=5)
    assert sum(figures["outcomes"].values()) == 5
    assert set(figures["outcomes"]) <= {str(CheckOutcome.PASS), str(CheckOutcome.FAIL)}
    assert figures["core"]["mean_ms"] > 0
