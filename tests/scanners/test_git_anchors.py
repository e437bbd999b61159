"""Placing a document and a fix in history: text file versions, commits near a date, and
the pickaxe, each bounded."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bench.git_repo_gen import EPOCH, ScratchRepo
from scanners.git import open_repo
from scanners.git.anchors import newest_touching, pickaxe, read_blobs, text_versions


@pytest.fixture
def scratch(tmp_path: Path) -> ScratchRepo:
    return ScratchRepo(tmp_path / "repo")


def test_every_version_of_a_text_file_is_listed_oldest_first_and_readable(
    scratch: ScratchRepo,
) -> None:
    first = scratch.commit("Notes", {"docs/NOTES.MD": "one\n", "app.py": "x = 1\n"})
    second = scratch.commit("More notes", {"docs/NOTES.MD": "one\ntwo\n"})
    repo = open_repo(scratch.path)

    versions = text_versions(repo, "HEAD")

    assert [(v.sha, v.path, v.size) for v in versions] == [
        (first, "docs/NOTES.MD", 4),
        (second, "docs/NOTES.MD", 8),
    ]
    contents = read_blobs(repo, [v.blob for v in versions] + ["0" * 40])
    assert sorted(contents.values()) == [b"one\n", b"one\ntwo\n"]


def test_the_newest_commit_in_a_date_window_touching_a_path_is_found(
    scratch: ScratchRepo,
) -> None:
    inside = scratch.commit("Fix", {"lib/app.py": "x = 2\n"}, when=EPOCH + 86400)
    scratch.commit("Docs", {"README": "r\n"}, when=EPOCH + 2 * 86400)
    scratch.commit("Later fix", {"lib/app.py": "x = 3\n"}, when=EPOCH + 40 * 86400)
    repo = open_repo(scratch.path)
    end = datetime.fromtimestamp(EPOCH + 3 * 86400, tz=UTC)

    found = newest_touching(
        repo, "HEAD", [":(glob)**/app.py"], since=end - timedelta(days=30), before=end
    )

    assert found == inside
    assert newest_touching(repo, "HEAD", [":(glob)**/other.py"], since=end, before=end) is None


def test_the_pickaxe_lists_the_commits_that_changed_a_line_in_the_paths_newest_first(
    scratch: ScratchRepo,
) -> None:
    added = scratch.commit("Add", {"a.py": "timeout = 30\n", "b.py": "timeout = 30\n"})
    scratch.commit("Unrelated", {"a.py": "timeout = 30\nretries = 3\n"})
    removed = scratch.commit("Remove", {"a.py": "retries = 3\n"})
    repo = open_repo(scratch.path)

    assert pickaxe(repo, "timeout = 30", "HEAD", [":(literal)a.py"]) == [removed, added]
    assert pickaxe(repo, "timeout = 30", "HEAD", [":(literal)a.py"], limit=1) == [removed]
    assert pickaxe(repo, "timeout = 30", added, [":(literal)b.py"]) == [added]
