"""Proving claimed fixes: each check passes, fails or says it cannot check, and why."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.git_repo_gen import ScratchRepo
from scanners.git import (
    CheckKind,
    CheckOutcome,
    Claim,
    ClaimedFile,
    open_repo,
    verify_claim,
)

PATH = "backend/tasks/publish_tasks.py"
LEAKY = """\
from backend.db import get_db


def publish(task_id):
    db = next(get_db())
    post = db.get(Post, task_id)
    post.publish()
    return post.id
"""
FIXED = """\
from backend.db import SessionLocal


def publish(task_id):
    db = SessionLocal()
    try:
        post = db.get(Post, task_id)
        post.publish()
        return post.id
    finally:
        db.close()  # Guaranteed cleanup
"""
BEFORE = "db = next(get_db())"
AFTER = """
db = SessionLocal()
try:
    # ... task logic
finally:
    db.close()  # Guaranteed cleanup
"""

PASS, FAIL, CANNOT = CheckOutcome.PASS, CheckOutcome.FAIL, CheckOutcome.CANNOT_CHECK


@pytest.fixture
def scratch(tmp_path: Path) -> ScratchRepo:
    repo = ScratchRepo(tmp_path / "lily")
    repo.commit("Start", {PATH: LEAKY, "README.md": "Lily\n"})
    return repo


def _claim(sha: str, *, ranges=((5, 11),), path: str = PATH, before=BEFORE, after=AFTER) -> Claim:
    return Claim(sha, (ClaimedFile(path, tuple(ranges), before, after),))


def _outcomes(verdict) -> dict[str, CheckOutcome]:
    return {str(c.kind): c.outcome for c in verdict.checks}


def test_a_real_fix_passes_every_check(scratch: ScratchRepo) -> None:
    fix = scratch.commit("Fix session leak\n\nFixes LILY-1", {PATH: FIXED})
    scratch.commit("Later work", {"README.md": "Lily AI\n"})
    verdict = verify_claim(scratch.path, _claim(fix[:7]), branch="main")
    assert verdict.outcome is PASS, [c.reason for c in verdict.checks]
    assert verdict.sha == fix and set(_outcomes(verdict)) == {str(k) for k in CheckKind}
    overlap = verdict.of(CheckKind.DIFF_OVERLAPS, PATH)
    assert overlap.detail["side"] in ("new", "both")


def test_a_claim_numbered_on_the_old_side_passes_and_says_so(scratch: ScratchRepo) -> None:
    # The import and blank lines go, so the fixed line moves from 7 (parent) to 4 (commit).
    text = LEAKY.split("\n", 3)[3].replace("post.publish()", "post.publish(safe=True)")
    fix = scratch.commit("Fix", {PATH: text})
    claim = _claim(fix, ranges=[(7, 7)], before="post.publish()", after="post.publish(safe=True)")
    verdict = verify_claim(scratch.path, claim, branch="main")
    check = verdict.of(CheckKind.DIFF_OVERLAPS, PATH)
    assert check.outcome is PASS and check.detail["side"] == "old"
    assert "lines 7 meet the old side (before)" in check.reason


def test_a_commit_that_claims_a_fix_but_leaves_the_code_fails(scratch: ScratchRepo) -> None:
    cosmetic = scratch.commit("Fix session leak (honest)", {PATH: LEAKY + "\n# TODO close db\n"})
    verdict = verify_claim(scratch.path, _claim(cosmetic, ranges=[(9, 9)]), branch="main")
    outcomes = _outcomes(verdict)
    assert outcomes["touches_file"] is PASS and outcomes["diff_overlaps"] is PASS
    assert outcomes["before_absent_at_commit"] is FAIL
    assert outcomes["after_present_at_commit"] is FAIL
    assert verdict.outcome is FAIL
    assert (
        "BEFORE code is still present at commit"
        in verdict.of(CheckKind.BEFORE_ABSENT_AT_COMMIT, PATH).reason
    )


def test_a_fix_at_other_lines_fails_the_overlap_and_names_them(scratch: ScratchRepo) -> None:
    fix = scratch.commit("Fix", {PATH: FIXED})
    verdict = verify_claim(scratch.path, _claim(fix, ranges=[(5, 6), (40, 45)]), branch="main")
    check = verdict.of(CheckKind.DIFF_OVERLAPS, PATH)
    assert check.outcome is FAIL and "does not touch lines 40-45" in check.reason
    assert [r["claimed"] for r in check.detail["ranges"]] == ["5-6", "40-45"]


def test_a_commit_that_does_not_touch_the_claimed_file_fails(scratch: ScratchRepo) -> None:
    other = scratch.commit("Docs", {"README.md": "Lily docs\n"})
    verdict = verify_claim(scratch.path, _claim(other), branch="main")
    assert verdict.of(CheckKind.TOUCHES_FILE, PATH).outcome is FAIL
    assert verdict.of(CheckKind.DIFF_OVERLAPS, PATH).outcome is FAIL
    assert "does not change" in verdict.of(CheckKind.TOUCHES_FILE, PATH).reason


def test_a_reverted_fix_passes_at_the_commit_and_fails_at_the_head(scratch: ScratchRepo) -> None:
    fix = scratch.commit("Fix", {PATH: FIXED})
    scratch.git("revert", "--no-edit", fix, env={"GIT_COMMITTER_DATE": "1700009999 +0000"})
    outcomes = _outcomes(verify_claim(scratch.path, _claim(fix), branch="main"))
    assert outcomes["before_absent_at_commit"] is PASS
    assert outcomes["after_present_at_commit"] is PASS
    assert outcomes["before_absent_at_head"] is FAIL
    assert outcomes["after_present_at_head"] is FAIL


def test_a_fix_dropped_by_a_force_push_is_not_on_the_branch(scratch: ScratchRepo) -> None:
    base = scratch.head()
    fix = scratch.commit("Fix", {PATH: FIXED})
    scratch.git("reset", "-q", "--hard", base)
    scratch.commit("Something else", {"README.md": "rewritten\n"})
    verdict = verify_claim(scratch.path, _claim(fix), branch="main")
    on_branch = verdict.of(CheckKind.ON_BRANCH)
    assert on_branch.outcome is FAIL and "force-push" in on_branch.reason
    assert verdict.of(CheckKind.AFTER_PRESENT_AT_COMMIT, PATH).outcome is PASS
    assert verdict.of(CheckKind.AFTER_PRESENT_AT_HEAD, PATH).outcome is FAIL


def test_a_file_renamed_after_the_fix_is_followed_to_the_head(scratch: ScratchRepo) -> None:
    fix = scratch.commit("Fix", {PATH: FIXED})
    scratch.move(PATH, "backend/jobs/publish.py", "Move tasks to jobs")
    verdict = verify_claim(scratch.path, _claim(fix), branch="main")
    assert verdict.outcome is PASS, [c.reason for c in verdict.checks]


def test_a_file_moved_twice_after_the_fix_is_followed_and_named_at_the_head(
    scratch: ScratchRepo,
) -> None:
    fix = scratch.commit("Fix", {PATH: FIXED})
    scratch.commit("Unrelated work", {"README.md": "Lily AI\n", "docs/a.md": "A\n"})
    scratch.move(PATH, "backend/jobs/publish.py", "Move tasks to jobs")
    scratch.commit("More work", {"docs/a.md": "B\n"})
    scratch.move("backend/jobs/publish.py", "worker/publish.py", "Split the worker out")
    verdict = verify_claim(scratch.path, _claim(fix), branch="main")
    assert verdict.outcome is PASS, [c.reason for c in verdict.checks]
    head = verdict.of(CheckKind.AFTER_PRESENT_AT_HEAD, PATH)
    assert "in worker/publish.py, renamed after the fix" in head.reason


def test_a_file_moved_on_a_merged_branch_is_followed_through_the_merge(
    scratch: ScratchRepo,
) -> None:
    fix = scratch.commit("Fix", {PATH: FIXED})
    scratch.git("checkout", "-q", "-b", "move")
    scratch.move(PATH, "worker/publish.py", "Move the task to the worker")
    scratch.git("checkout", "-q", "main")
    scratch.commit("Docs meanwhile", {"README.md": "Lily docs\n"})
    scratch.merge("move", "Merge the worker move")
    verdict = verify_claim(scratch.path, _claim(fix), branch="main")
    assert verdict.outcome is PASS, [c.reason for c in verdict.checks]
    assert "in worker/publish.py" in verdict.of(CheckKind.AFTER_PRESENT_AT_HEAD, PATH).reason


def test_a_file_deleted_after_the_fix_is_removed_at_head_not_failed(
    scratch: ScratchRepo,
) -> None:
    fix = scratch.commit("Fix", {PATH: FIXED})
    scratch.move(PATH, "backend/jobs/publish.py", "Move tasks to jobs")
    drop = scratch.commit("Drop the task", {"backend/jobs/publish.py": None})
    verdict = verify_claim(scratch.path, _claim(fix), branch="main")
    for kind in (CheckKind.AFTER_PRESENT_AT_HEAD, CheckKind.BEFORE_ABSENT_AT_HEAD):
        head = verdict.of(kind, PATH)
        assert head.outcome is CANNOT and head.reason == (
            f"removed at head: backend/jobs/publish.py was deleted by commit {drop[:12]} "
            "after the fix"
        )
        assert head.detail["removed_by"] == drop
    assert verdict.of(CheckKind.AFTER_PRESENT_AT_COMMIT, PATH).outcome is PASS
    assert FAIL not in {c.outcome for c in verdict.checks}


def test_a_missing_commit_fails_and_nothing_else_is_guessed(scratch: ScratchRepo) -> None:
    verdict = verify_claim(scratch.path, _claim("e4121ef"), branch="main")
    assert verdict.of(CheckKind.COMMIT_EXISTS).outcome is FAIL
    assert "no commit matches e4121ef" in verdict.of(CheckKind.COMMIT_EXISTS).reason
    rest = [c for c in verdict.checks if c.kind is not CheckKind.COMMIT_EXISTS]
    assert rest and all(c.outcome is CANNOT for c in rest)


def test_an_ambiguous_commit_cannot_be_checked_and_lists_candidates(scratch: ScratchRepo) -> None:
    first, second = scratch.twin_commits()
    verdict = verify_claim(scratch.path, _claim(first[:4]), branch="main")
    check = verdict.of(CheckKind.COMMIT_EXISTS)
    assert check.outcome is CANNOT and sorted(check.detail["candidates"]) == sorted([first, second])
    assert verdict.outcome is CANNOT


def test_without_a_usable_repository_every_check_says_it_cannot_run(tmp_path: Path) -> None:
    claim = _claim("e4121ef")
    for repo, why in [
        (None, "no linked repository"),
        (tmp_path / "gone", "repository is unavailable"),
    ]:
        verdict = verify_claim(repo, claim)
        assert verdict.outcome is CANNOT
        assert len(verdict.checks) == 8 and all(why in c.reason for c in verdict.checks)


def test_a_git_call_that_times_out_cannot_be_checked(scratch: ScratchRepo) -> None:
    verdict = verify_claim(scratch.path, _claim(scratch.head()), timeout=0.0001)
    assert verdict.outcome is CANNOT
    assert all("timed out" in c.reason for c in verdict.checks)


def test_only_what_the_claim_states_is_checked(scratch: ScratchRepo) -> None:
    fix = scratch.commit("Fix", {PATH: FIXED})
    repo = open_repo(scratch.path)
    verdict = verify_claim(repo, Claim(fix, (ClaimedFile(PATH),)), branch="main")
    assert [str(c.kind) for c in verdict.checks] == ["commit_exists", "on_branch", "touches_file"]
    assert verdict.outcome is PASS


def test_a_binary_file_cannot_have_its_lines_checked(scratch: ScratchRepo) -> None:
    (scratch.path / "logo.png").write_bytes(b"\x89PNG\0\0\x01")
    logo = scratch.commit("Logo")
    verdict = verify_claim(scratch.path, _claim(logo, path="logo.png", before="", after=""))
    assert verdict.of(CheckKind.DIFF_OVERLAPS, "logo.png").outcome is CANNOT


def test_code_checks_carry_the_score_and_the_span_they_found(scratch: ScratchRepo) -> None:
    fix = scratch.commit("Fix", {PATH: FIXED})
    verdict = verify_claim(scratch.path, _claim(fix), branch="main")
    after = verdict.of(CheckKind.AFTER_PRESENT_AT_COMMIT, PATH)
    assert after.outcome is PASS
    assert after.reason.endswith("found at lines 5–11 (score 1.00)")
    assert after.detail["score"] == 1.0 and after.detail["span"]["start"] == 5
    assert after.detail["span"]["text"].endswith("db.close()  # Guaranteed cleanup")
    gone = verdict.of(CheckKind.BEFORE_ABSENT_AT_COMMIT, PATH)
    assert gone.outcome is PASS and "closest span" in gone.reason
    assert gone.detail["score"] < 0.8


def test_a_before_block_the_parent_never_had_proves_nothing(scratch: ScratchRepo) -> None:
    fix = scratch.commit("Fix", {PATH: FIXED})
    claim = _claim(fix, before="conn = pool.acquire()\nconn.execute(query)\nreturn conn.rows")
    verdict = verify_claim(scratch.path, claim, branch="main")
    for kind in (CheckKind.BEFORE_ABSENT_AT_COMMIT, CheckKind.BEFORE_ABSENT_AT_HEAD):
        check = verdict.of(kind, PATH)
        assert check.outcome is CANNOT
        assert check.reason.startswith(
            f"the BEFORE code is not in {PATH} at the fix's parent either (closest 0."
        )
        assert check.reason.endswith("so its absence proves nothing")
        assert check.detail["at"] == "parent" and check.detail["score"] < 0.8
    assert verdict.of(CheckKind.AFTER_PRESENT_AT_COMMIT, PATH).outcome is PASS


def test_claimed_lines_a_few_lines_off_pass_as_near_and_show_the_hunk(scratch: ScratchRepo) -> None:
    fix = scratch.commit("Fix", {PATH: LEAKY.replace("post.publish()", "post.publish(safe=True)")})
    # The change is at line 7 on both sides; the document says 9-10 (its own edit moved them).
    verdict = verify_claim(scratch.path, _claim(fix, ranges=[(9, 10)]), branch="main")
    check = verdict.of(CheckKind.DIFF_OVERLAPS, PATH)
    assert check.outcome is PASS and "near both sides: 2 lines off" in check.reason
    (met,) = check.detail["ranges"]
    assert met["off"] == 2 and check.detail["drift"] == 3
    assert met["hunk"] == "@@ -7,1 +7,1 @@\n-    post.publish()\n+    post.publish(safe=True)"
    far = verify_claim(scratch.path, _claim(fix, ranges=[(12, 14)]), branch="main")
    assert far.of(CheckKind.DIFF_OVERLAPS, PATH).outcome is FAIL


def test_an_approximate_line_gets_a_wider_tolerance_and_says_so(scratch: ScratchRepo) -> None:
    fix = scratch.commit("Fix", {PATH: LEAKY.replace("post.publish()", "post.publish(safe=True)")})
    exact = ClaimedFile(PATH, ((15, 15),), BEFORE, AFTER)
    rough = ClaimedFile(PATH, ((15, 15),), BEFORE, AFTER, approximate=((15, 15),))
    assert (
        verify_claim(scratch.path, Claim(fix, (exact,))).of(CheckKind.DIFF_OVERLAPS, PATH).outcome
        is FAIL
    )
    check = verify_claim(scratch.path, Claim(fix, (rough,))).of(CheckKind.DIFF_OVERLAPS, PATH)
    assert check.outcome is PASS and "lines ~15 are near both sides: 8 lines off" in check.reason
    assert check.detail["ranges"][0]["approximate"] is True


def test_a_before_block_whose_code_is_all_in_the_after_block_is_not_checked_alone(
    scratch: ScratchRepo,
) -> None:
    fix = scratch.commit("Fix", {PATH: FIXED})
    # Without its comment the BEFORE block is one line the AFTER block keeps.
    before = "db = SessionLocal()  # ❌ never closed"
    verdict = verify_claim(scratch.path, _claim(fix, before=before), branch="main")
    kinds = {c.kind for c in verdict.checks}
    assert CheckKind.BEFORE_ABSENT_AT_COMMIT not in kinds
    after = verdict.of(CheckKind.AFTER_PRESENT_AT_COMMIT, PATH)
    assert after.outcome is PASS and after.detail["before_within_after"] is True
    assert after.reason.endswith("is part of the AFTER code, so it is not checked on its own")
