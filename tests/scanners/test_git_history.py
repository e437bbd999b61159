"""Reading history: hashes resolve or are reported, commit facts, incremental reads,
ordering out-of-order reports, and finding keys cited in messages."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from bench.git_repo_gen import EPOCH, ScratchRepo, numbered, object_id
from scanners.git import (
    Citation,
    GitError,
    ResolveOutcome,
    cited_keys,
    commit_info,
    iter_commits,
    open_repo,
    order_commits,
    resolve,
)


@pytest.fixture
def scratch(tmp_path: Path) -> ScratchRepo:
    return ScratchRepo(tmp_path / "repo")


def test_full_short_and_named_references_resolve_to_the_commit(scratch: ScratchRepo) -> None:
    first = scratch.commit("Start", {"app.py": numbered(3)})
    scratch.git("tag", "-a", "v1.0", "-m", "Release")
    second = scratch.commit("More", {"app.py": numbered(4)})
    repo = open_repo(scratch.path)
    for ref, sha in [
        (first, first),
        (first[:7], first),
        (first[:4].upper(), first),
        ("main", second),
        ("HEAD~1", first),
        ("v1.0", first),
    ]:
        found = resolve(repo, ref)
        assert (found.outcome, found.sha) == (ResolveOutcome.FOUND, sha), ref


def test_a_missing_hash_is_reported_not_guessed(scratch: ScratchRepo) -> None:
    scratch.commit("Start", {"app.py": numbered(3)})
    repo = open_repo(scratch.path)
    for ref in ["e4121ef", "0" * 40, "no-such-branch"]:
        found = resolve(repo, ref)
        assert found.outcome is ResolveOutcome.MISSING and found.sha is None
        assert ref in found.reason


def test_an_ambiguous_short_hash_lists_every_candidate(scratch: ScratchRepo) -> None:
    scratch.commit("Start", {"app.py": numbered(3)})
    first, second = scratch.twin_commits()
    repo = open_repo(scratch.path)
    found = resolve(repo, first[:4])
    assert found.outcome is ResolveOutcome.AMBIGUOUS and found.sha is None
    assert found.candidates == tuple(sorted([first, second]))
    assert "cite a longer hash" in found.reason and first[:12] in found.reason
    longer = next(n for n in range(5, 41) if first[:n] != second[:n])
    assert resolve(repo, first[:longer]).sha == first


def test_a_blob_sharing_the_prefix_does_not_make_a_commit_ambiguous(scratch: ScratchRepo) -> None:
    sha = scratch.commit("Start", {"app.py": numbered(3)})
    text = next(
        f"blob {n}\n"
        for n in range(1_000_000)
        if object_id("blob", f"blob {n}\n".encode())[:4] == sha[:4]
    )
    scratch.git("hash-object", "-w", "--stdin", input=text)
    assert resolve(open_repo(scratch.path), sha[:4]).sha == sha


def test_references_that_look_like_options_are_refused(scratch: ScratchRepo) -> None:
    scratch.commit("Start", {"app.py": numbered(3)})
    repo = open_repo(scratch.path)
    for ref in ["--output=/tmp/x", "-n1", "main..HEAD", "a b", ""]:
        with pytest.raises(GitError, match="not a commit hash or a plain ref name"):
            resolve(repo, ref)


def test_commit_facts_include_authors_aware_dates_parents_and_renamed_files(
    scratch: ScratchRepo,
) -> None:
    root = scratch.commit("Start", {"old.py": numbered(30), "gone.txt": "x\n"})
    scratch.git("mv", "old.py", "new.py")
    scratch.write("new.py", numbered(31))
    scratch.git("rm", "-q", "gone.txt")
    scratch.write("added.md", "# hi\n")
    renamed = scratch.commit(
        "Rename the module\n\nFixes LILY-4", author=("Émile Zola", "emile@example.com")
    )
    repo = open_repo(scratch.path)
    info = commit_info(repo, renamed[:8])
    assert (info.sha, info.short_sha, info.parents) == (renamed, renamed[:7], (root,))
    assert (info.author_name, info.author_email) == ("Émile Zola", "emile@example.com")
    assert info.authored_at == datetime.fromtimestamp(scratch.clock, UTC)
    assert info.committed_at.tzinfo is not None
    assert (info.summary, info.message) == (
        "Rename the module",
        "Rename the module\n\nFixes LILY-4",
    )
    files = {f.path: (f.change, f.old_path) for f in info.files}
    assert files == {"new.py": ("R", "old.py"), "gone.txt": ("D", None), "added.md": ("A", None)}
    root_info = commit_info(repo, root)
    assert root_info.parents == () and {f.path for f in root_info.files} == {"old.py", "gone.txt"}


def test_a_merge_lists_the_files_it_brought_in_against_its_first_parent(
    scratch: ScratchRepo,
) -> None:
    scratch.commit("Start", {"a.py": numbered(5), "b.py": numbered(5)})
    scratch.git("checkout", "-q", "-b", "feature")
    scratch.commit("Feature work", {"b.py": numbered(6)})
    scratch.git("checkout", "-q", "main")
    scratch.commit("Mainline work", {"a.py": numbered(6)})
    merge = scratch.merge("feature", "Merge feature")
    info = commit_info(open_repo(scratch.path), merge)
    assert info.is_merge and len(info.parents) == 2
    assert [(f.change, f.path) for f in info.files] == [("M", "b.py")]


def test_commits_are_read_incrementally_oldest_first(scratch: ScratchRepo) -> None:
    shas = [scratch.commit(f"Change {n}", {"app.py": numbered(n + 1)}) for n in range(5)]
    repo = open_repo(scratch.path)
    assert [c.sha for c in iter_commits(repo, branch="main")] == shas
    assert [c.sha for c in iter_commits(repo, branch="main", since_sha=shas[2])] == shas[3:]
    assert list(iter_commits(repo, branch="main", since_sha=shas[-1])) == []


def test_after_a_force_push_the_rewritten_commits_are_new(scratch: ScratchRepo) -> None:
    base = scratch.commit("Start", {"app.py": numbered(2)})
    seen = scratch.commit("Published then withdrawn", {"app.py": numbered(3)})
    scratch.git("reset", "-q", "--hard", base)
    replacement = scratch.commit("Replacement", {"app.py": numbered(4)})
    repo = open_repo(scratch.path)
    assert [c.sha for c in iter_commits(repo, branch="main", since_sha=seen)] == [replacement]


def test_reading_from_an_unknown_branch_names_it(scratch: ScratchRepo) -> None:
    scratch.commit("Start", {"app.py": numbered(2)})
    with pytest.raises(GitError, match="no branch, tag or commit release"):
        list(iter_commits(open_repo(scratch.path), branch="release"))


def test_reports_are_ordered_by_ancestry_before_date(scratch: ScratchRepo) -> None:
    base = scratch.commit("Start", {"a.py": numbered(2)}, when=EPOCH)
    # A child dated before its parent (a skewed clock): ancestry still puts it after.
    parent = scratch.commit("Dated late", {"a.py": numbered(3)}, when=EPOCH + 10_000)
    child = scratch.commit("Dated early", {"a.py": numbered(4)}, when=EPOCH - 20_000)
    scratch.git("checkout", "-q", "-b", "side", base)
    side = scratch.commit("Side branch", {"b.py": numbered(2)}, when=EPOCH + 20_000)
    repo = open_repo(scratch.path)
    ordered = order_commits(repo, [side[:9], child, parent, "deadbee", base, base])
    assert ordered.shas == (base, parent, child, side)
    assert [u.ref for u in ordered.unknown] == ["deadbee"]


def test_unrelated_reports_fall_back_to_commit_date(scratch: ScratchRepo) -> None:
    base = scratch.commit("Start", {"a.py": numbered(2)})
    scratch.git("checkout", "-q", "-b", "one")
    one = scratch.commit("One", {"a.py": numbered(3)}, when=scratch.clock + 500)
    scratch.git("checkout", "-q", "-b", "two", base)
    two = scratch.commit("Two", {"b.py": numbered(3)}, when=scratch.clock - 400)
    assert order_commits(open_repo(scratch.path), [one, two]).shas == (two, one)


def test_commit_messages_cite_this_projects_keys_with_their_verbs() -> None:
    message = (
        "Fixes LILY-42\n\nfixed LILY-3, LILY-4 and lily-5; refs LILY-7.\n"
        "Closes: LILY-9 LILY-010\nresolved OTHER-1, see LILYX-2 and XLILY-3\n"
        "LILY-99 is still open. Fix LILY-42 again."
    )
    assert cited_keys(message, "LILY") == [
        ("fixes", "LILY-42"),
        ("fixes", "LILY-3"),
        ("fixes", "LILY-4"),
        ("fixes", "LILY-5"),
        ("refs", "LILY-7"),
        ("closes", "LILY-9"),
        ("closes", "LILY-10"),
    ]
    assert Citation("refs", "LILY-7").closes is False
    assert Citation("closes", "LILY-9").closes is True


def test_an_invalid_project_key_is_refused() -> None:
    with pytest.raises(GitError, match="project key 'li ly' is not valid"):
        cited_keys("Fixes LILY-1", "li ly")


def test_commit_dates_keep_the_recorded_offset(scratch: ScratchRepo) -> None:
    scratch.write("a.py", "x\n")
    scratch.git("add", "-A")
    dates = {"GIT_AUTHOR_DATE": "1700000000 +0530", "GIT_COMMITTER_DATE": "1700000000 -0200"}
    scratch.git("commit", "-q", "-m", "Offset", env=dates)
    info = commit_info(open_repo(scratch.path), "HEAD")
    assert info.authored_at.utcoffset() == timedelta(hours=5, minutes=30)
    assert info.committed_at.tzinfo == timezone(timedelta(hours=-2))
    assert info.authored_at == info.committed_at
