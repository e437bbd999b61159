"""Lines through history: the diff at claimed lines (old or new numbering), line history
across renames, blame shares, and file contents at a commit."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.git_repo_gen import ScratchRepo, numbered
from scanners.documents.fields import line_list, line_refs
from scanners.git import (
    GitError,
    Hunk,
    Side,
    blame,
    diff_hunks,
    file_at,
    line_history,
    open_repo,
    overlap,
    path_at,
)


def _lines(*items: str) -> str:
    return "".join(f"{item}\n" for item in items)


@pytest.fixture
def scratch(tmp_path: Path) -> ScratchRepo:
    return ScratchRepo(tmp_path / "repo")


def test_a_modification_shows_both_sides_of_the_changed_lines(scratch: ScratchRepo) -> None:
    scratch.commit("Start", {"app.py": numbered(20)})
    text = numbered(20).replace("line 5\nline 6\n", "fixed 5\n")
    sha = scratch.commit("Fix", {"app.py": text, "other.py": "x\n"})
    diff = diff_hunks(open_repo(scratch.path), sha[:7], "app.py")
    assert diff is not None and diff.change == "M" and not diff.binary
    assert diff.hunks == (Hunk(5, 2, 5, 1, ("line 5", "line 6"), ("fixed 5",)),)


def test_a_commit_that_does_not_touch_the_file_has_no_diff_for_it(scratch: ScratchRepo) -> None:
    scratch.commit("Start", {"app.py": numbered(5), "b.py": "b\n"})
    sha = scratch.commit("Elsewhere", {"b.py": "c\n"})
    assert diff_hunks(open_repo(scratch.path), sha, "app.py") is None


def test_claimed_lines_may_use_old_or_new_numbering_and_the_side_is_named(
    scratch: ScratchRepo,
) -> None:
    scratch.commit("Start", {"app.py": numbered(40)})
    # Ten lines inserted at the top shift everything; line 30 is then rewritten.
    lines = [f"header {i}" for i in range(1, 11)] + numbered(40).splitlines()
    lines[39] = "fixed 30"
    sha = scratch.commit("Fix", {"app.py": _lines(*lines)})
    hunks = diff_hunks(open_repo(scratch.path), sha, "app.py").hunks
    assert overlap(hunks, [(30, 30)]).side is Side.OLD  # the document numbered the parent
    assert overlap(hunks, [(40, 40)]).side is Side.NEW  # the document numbered the commit
    assert overlap(hunks, [(1, 3)]).side is Side.BOTH  # insertion point and new header lines
    result = overlap(hunks, [(30, 30), (15, 18)])
    assert result.side is Side.OLD and not result.all_matched
    assert [str(r) for r in result.unmatched] == ["15-18"]
    assert "lines 30 meet the old side (before)" in result.describe()
    assert overlap(hunks, [(20, 25)]).side is Side.NEITHER


def test_a_pure_insertion_or_deletion_meets_adjacent_claimed_lines() -> None:
    inserted_after_10 = [Hunk(10, 0, 11, 3)]
    assert overlap(inserted_after_10, [(10, 10)]).matches[0].old
    assert overlap(inserted_after_10, [(11, 12)]).matches[0].old
    assert not overlap(inserted_after_10, [(12, 14)]).matches[0].old
    deleted_after_new_7 = [Hunk(8, 2, 7, 0)]
    assert overlap(deleted_after_new_7, [(8, 8)]).side is Side.BOTH
    assert overlap(deleted_after_new_7, [(3, 5)]).side is Side.NEITHER


def test_invalid_claimed_ranges_are_refused() -> None:
    for bad in [(0, 3), (5, 4)]:
        with pytest.raises(GitError, match=f"line range {bad[0]}-{bad[1]} is invalid"):
            overlap([], [bad])


def test_a_root_commit_diffs_against_the_empty_tree(scratch: ScratchRepo) -> None:
    sha = scratch.commit("Start", {"app.py": numbered(3)})
    diff = diff_hunks(open_repo(scratch.path), sha, "app.py")
    assert diff.change == "A" and diff.hunks == (
        Hunk(0, 0, 1, 3, (), ("line 1", "line 2", "line 3")),
    )
    assert overlap(diff.hunks, [(2, 2)]).side is Side.NEW


def test_a_merge_diffs_against_its_first_parent(scratch: ScratchRepo) -> None:
    scratch.commit("Start", {"app.py": numbered(10)})
    scratch.git("checkout", "-q", "-b", "fix")
    scratch.commit("Fix on a branch", {"app.py": numbered(10).replace("line 4\n", "fixed 4\n")})
    scratch.git("checkout", "-q", "main")
    merge = scratch.merge("fix", "Merge the fix")
    diff = diff_hunks(open_repo(scratch.path), merge, "app.py")
    assert diff.hunks == (Hunk(4, 1, 4, 1, ("line 4",), ("fixed 4",)),)


def test_a_renamed_file_is_found_by_its_old_or_new_name(scratch: ScratchRepo) -> None:
    scratch.commit("Start", {"old/app.py": numbered(30)})
    scratch.git("mv", "old/app.py", "app.py")
    scratch.write("app.py", numbered(30).replace("line 12\n", "fixed 12\n"))
    sha = scratch.commit("Move and fix")
    repo = open_repo(scratch.path)
    for name in ("old/app.py", "app.py"):
        diff = diff_hunks(repo, sha, name)
        assert (diff.change, diff.old_path, diff.path) == ("R", "old/app.py", "app.py")
        assert diff.hunks == (Hunk(12, 1, 12, 1, ("line 12",), ("fixed 12",)),)


def test_a_binary_change_is_marked_and_has_no_hunks(scratch: ScratchRepo) -> None:
    scratch.commit("Start", {"a.py": "x\n"})
    (scratch.path / "logo.png").write_bytes(b"\x89PNG\0\0\x01")
    scratch.git("add", "-A")
    sha = scratch.commit("Logo")
    diff = diff_hunks(open_repo(scratch.path), sha, "logo.png")
    assert diff.binary and diff.hunks == ()


def test_line_history_follows_the_lines_through_a_rename_newest_first(
    scratch: ScratchRepo,
) -> None:
    created = scratch.commit("Start", {"src/util.py": numbered(10)})
    edited = scratch.commit("Edit", {"src/util.py": numbered(10).replace("line 5\n", "edit 5\n")})
    scratch.commit(
        "Unrelated", {"src/util.py": numbered(10).replace("line 5\n", "edit 5\n") + "tail\n"}
    )
    moved = scratch.move("src/util.py", "lib/util.py", "Move")
    text = (scratch.path / "lib/util.py").read_text().replace("edit 5\n", "again 5\n")
    again = scratch.commit("Edit again", {"lib/util.py": text})
    repo = open_repo(scratch.path)
    history = line_history(repo, "lib/util.py", 5, 5)
    assert [(c.sha, c.path) for c in history] == [
        (again, "lib/util.py"),
        (edited, "src/util.py"),
        (created, "src/util.py"),
    ]
    assert moved not in [c.sha for c in history]
    since = line_history(repo, "lib/util.py", 5, 5, since=edited)
    assert [c.sha for c in since] == [again]
    assert [c.sha for c in line_history(repo, "src/util.py", 5, 5, until=edited)] == [
        edited,
        created,
    ]


def test_line_history_of_missing_lines_says_what_is_wrong(scratch: ScratchRepo) -> None:
    scratch.commit("Start", {"a.py": numbered(3)})
    repo = open_repo(scratch.path)
    with pytest.raises(GitError, match="has only 3 lines"):
        line_history(repo, "a.py", 5, 6)
    with pytest.raises(GitError, match="no path"):
        line_history(repo, "b.py", 1, 1)
    with pytest.raises(GitError, match="no path src/<img src=x>/a b.py in commit .* not in the"):
        line_history(repo, "src/<img src=x>/a b.py", 1, 1)


def test_blame_counts_lines_per_author_for_an_owner_suggestion(scratch: ScratchRepo) -> None:
    scratch.commit("Start", {"a.py": numbered(10)}, author=("Ada", "ada@example.com"))
    text = numbered(10).replace("line 3\nline 4\n", "bob 3\nbob 4\n")
    scratch.commit("Bob", {"a.py": text}, author=("Bob", "bob@example.com"))
    text = text.replace("line 5\n", "cy 5\n")
    cy = scratch.commit("Cy", {"a.py": text}, author=("Cy", "cy@example.com"))
    # Whitespace-only edits do not steal ownership.
    scratch.commit(
        "Reindent",
        {"a.py": text.replace("bob 3\n", "  bob 3\n")},
        author=("Dee", "dee@example.com"),
    )
    shares = blame(open_repo(scratch.path), "a.py", 2, 6, "HEAD")
    assert [(s.author_name, s.author_email, s.lines) for s in shares] == [
        ("Ada", "ada@example.com", 2),
        ("Bob", "bob@example.com", 2),
        ("Cy", "cy@example.com", 1),
    ]
    assert shares[2].commits == (cy,)


def test_file_contents_at_a_commit_or_none_when_absent(scratch: ScratchRepo) -> None:
    first = scratch.commit("Start", {"a.py": "one\n"})
    second = scratch.commit("Delete", {"a.py": None, "b.py": "two\n"})
    repo = open_repo(scratch.path)
    assert file_at(repo, first, "a.py") == "one\n"
    assert file_at(repo, second, "a.py") is None
    assert file_at(repo, first, "b.py") is None
    assert file_at(repo, first, "") is None


def test_file_contents_follow_a_rename_in_either_direction(scratch: ScratchRepo) -> None:
    before = scratch.commit("Start", {"old.py": numbered(5)})
    moved = scratch.move("old.py", "new.py", "Rename")
    later = scratch.commit("Edit", {"new.py": numbered(6)})
    repo = open_repo(scratch.path)
    assert file_at(repo, before, "new.py") is None
    assert file_at(repo, before, "new.py", follow_from=later) == numbered(5)
    assert file_at(repo, later, "old.py", follow_from=before) == numbered(6)
    assert path_at(repo, "old.py", known_at=before, target=moved) == "new.py"
    assert path_at(repo, "new.py", known_at=later, target=before) == "old.py"


def test_a_file_deleted_later_has_no_name_at_the_head(scratch: ScratchRepo) -> None:
    fixed = scratch.commit("Fix", {"a.py": "fixed\n", "keep.py": "k\n"})
    scratch.commit("Delete", {"a.py": None})
    repo = open_repo(scratch.path)
    assert path_at(repo, "a.py", known_at=fixed, target="HEAD") is None
    assert file_at(repo, "HEAD", "a.py", follow_from=fixed) is None


def test_drift_lets_a_range_near_a_hunk_meet_it_on_the_nearer_side_only(
    scratch: ScratchRepo,
) -> None:
    scratch.commit("Start", {"app.py": numbered(40)})
    # Five lines inserted at the top, then line 30 (35 after) rewritten.
    lines = [f"header {i}" for i in range(1, 6)] + numbered(40).splitlines()
    lines[34] = "fixed 30"
    sha = scratch.commit("Fix", {"app.py": _lines(*lines)})
    hunks = diff_hunks(open_repo(scratch.path), sha, "app.py").hunks
    assert overlap(hunks, [(27, 28)]).side is Side.NEITHER  # no drift unless asked
    near = overlap(hunks, [(27, 28)], drift=3)
    (match,) = near.matches
    assert near.all_matched and match.old and not match.new and match.off == 2
    assert near.describe() == "lines 27-28 are near the old side (before): 2 lines off"
    assert (
        match.hunk is not None and match.hunk.excerpt() == "@@ -30,1 +35,1 @@\n-line 30\n+fixed 30"
    )
    assert overlap(hunks, [(20, 22)], drift=3).side is Side.NEITHER
    rough = overlap(hunks, [(20, 22)], drift=3, approximate=[(20, 22)])
    assert rough.all_matched and rough.describe().startswith("lines ~20-22 are near")


def test_a_hunk_excerpt_is_bounded() -> None:
    hunk = Hunk(1, 20, 1, 0, tuple(f"old {i}" for i in range(20)), ())
    text = hunk.excerpt(limit=5)
    assert text.splitlines()[0] == "@@ -1,20 +1,0 @@"
    assert text.splitlines()[1:] == [
        "-old 0",
        "-old 1",
        "-old 2",
        "-old 3",
        "-old 4",
        "… 15 more changed lines",
    ]


def test_a_size_such_as_20_lines_is_not_a_claimed_line(scratch: ScratchRepo) -> None:
    scratch.commit("Start", {"app.py": numbered(40)})
    text = numbered(40).replace("line 7\n", "fixed 7\n")
    sha = scratch.commit("Fix", {"app.py": text})
    # "~20 lines" measures the change; only line 7 is a place in the file.
    assert line_refs("the loop (lines 7, ~20 lines)") == [(7, 7)]
    assert line_list("~20 lines") == [] and line_list("7 (~20 lines)") == [(7, 7)]
    hunks = diff_hunks(open_repo(scratch.path), sha, "app.py").hunks
    assert overlap(hunks, line_refs("the loop (lines 7, ~20 lines)"), drift=3).all_matched
    assert not overlap(hunks, [(20, 20)], drift=3).all_matched  # what the old parse claimed
