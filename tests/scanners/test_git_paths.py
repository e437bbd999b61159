"""A document's file names read as repository paths, the way a reviewer would read them."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.git_repo_gen import ScratchRepo
from scanners.git import NameMatch, open_repo, resolve_name


@pytest.fixture
def scratch(tmp_path: Path) -> ScratchRepo:
    repo = ScratchRepo(tmp_path / "tracker")
    repo.commit(
        "Start",
        {
            "functions/lib/tracker_email.py": "send = 1\n",
            "bot/data/market.py": "PRICES = {}\n",
            "bot/data/__init__.py": "",
            "backend/server.js": "listen(80)\n",
            "frontend/server.js": "serve()\n",
            "a/config.py": "A = 1\n",
            "b/config.py": "B = 1\n",
            "c/config.py": "C = 1\n",
        },
    )
    return repo


def test_a_bare_file_name_is_the_only_file_of_that_name(scratch: ScratchRepo) -> None:
    found = resolve_name(open_repo(scratch.path), "tracker_email.py", scratch.head())
    assert found.path == "functions/lib/tracker_email.py" and found.match is NameMatch.SUFFIX
    assert "the only file ending in tracker_email.py" in found.reason


def test_a_partial_path_is_matched_by_its_suffix(scratch: ScratchRepo) -> None:
    found = resolve_name(open_repo(scratch.path), "`lib/tracker_email.py`", scratch.head())
    assert found.path == "functions/lib/tracker_email.py"


def test_a_dotted_module_name_is_its_python_file(scratch: ScratchRepo) -> None:
    repo = open_repo(scratch.path)
    assert resolve_name(repo, "bot.data.market", scratch.head()).path == "bot/data/market.py"
    assert resolve_name(repo, "bot.data", scratch.head()).path == "bot/data/__init__.py"
    assert resolve_name(repo, "bot.data.prices", scratch.head()).match is NameMatch.MISSING


def test_a_file_name_with_dots_is_read_as_written_before_as_a_module(scratch: ScratchRepo) -> None:
    scratch.commit("A module named like a file", {"server/js.py": "X = 1\n"})
    found = resolve_name(open_repo(scratch.path), "server.js", scratch.head())
    assert found.match is NameMatch.AMBIGUOUS
    assert found.candidates == ("backend/server.js", "frontend/server.js")


def test_a_deployment_prefix_is_dropped_by_the_longest_matching_suffix(
    scratch: ScratchRepo,
) -> None:
    found = resolve_name(open_repo(scratch.path), "/var/www/app/backend/server.js", scratch.head())
    assert found.path == "backend/server.js"
    assert "ending in backend/server.js" in found.reason


def test_several_candidates_are_settled_by_the_file_the_fix_changes(scratch: ScratchRepo) -> None:
    fix = scratch.commit("Fix config", {"b/config.py": "B = 2\n"})
    found = resolve_name(open_repo(scratch.path), "config.py", fix, touched=["b/config.py"])
    assert found.path == "b/config.py" and found.match is NameMatch.TOUCHED
    assert "of 3 candidates" in found.reason and "the one commit" in found.reason


def test_an_ambiguous_name_lists_its_candidates_and_picks_none(scratch: ScratchRepo) -> None:
    found = resolve_name(open_repo(scratch.path), "config.py", scratch.head())
    assert found.path is None and found.match is NameMatch.AMBIGUOUS
    assert found.candidates == ("a/config.py", "b/config.py", "c/config.py")
    assert found.reason.startswith("config.py is ambiguous (3 candidates: a/config.py")


def test_an_exact_path_wins_over_longer_paths_that_end_with_it(scratch: ScratchRepo) -> None:
    scratch.commit("Root config", {"config.py": "ROOT = 1\n"})
    found = resolve_name(open_repo(scratch.path), "./config.py", scratch.head())
    assert found.path == "config.py" and found.match is NameMatch.EXACT
