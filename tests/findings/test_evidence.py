"""Claimed fixes checked against real repositories: evidence levels, verification, regressions.

Every repository is built in the test's temporary folder with the git command line
(``bench.git_repo_gen.ScratchRepo``), linked through the linking service, and every claim is
checked by ``claim_verify`` as the verify command and the fetch task do.
"""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest
from django.db import DatabaseError, connection, transaction

from bench.git_repo_gen import ScratchRepo, numbered
from findings.lifecycle import Status
from findings.models import (
    AppendOnlyError,
    Check,
    Claim,
    ClaimEvidence,
    CommitLink,
    Event,
    Finding,
    Project,
)
from findings.services import (
    claim_verify,
    project_verify,
    repository_fetch,
    repository_link,
)
from tests.conftest import make_document, make_finding

pytestmark = pytest.mark.django_db

BEFORE = "    try:\n        return open(path).read()\n    except:\n        return None\n"
AFTER = "    try:\n        return open(path).read()\n    except OSError:\n        return None\n"
_titles = itertools.count(1)


def app_source(body: str) -> str:
    """app.py: ten numbered lines, then ``load`` at lines 11-15, then ten more lines."""
    return numbered(10) + "def load(path):\n" + body + numbered(10, prefix="tail")


@pytest.fixture
def roots(tmp_path: Path, settings) -> Path:
    """Repositories may be linked from the test's folder; clones go to its data folder."""
    settings.AUDITDASH_REPO_ROOTS = str(tmp_path)
    settings.DATA_DIR = tmp_path / "data"
    settings.DATA_DIR.mkdir()
    return tmp_path


@pytest.fixture
def scratch(roots: Path) -> ScratchRepo:
    repo = ScratchRepo(roots / "lily")
    repo.commit("Add the loader", {"app.py": app_source(BEFORE), "README": "lily\n"})
    return repo


@pytest.fixture
def project(db) -> Project:
    return Project.objects.create(key="LILY", name="Lily")


def make_claim(
    project: Project,
    *,
    commits: list[str] = (),
    files: list[dict] = ({"path": "app.py", "lines": [[13, 14]]},),
    before: list[str] = (BEFORE,),
    after: list[str] = (AFTER,),
    status: str = Claim.Status.FIXED,
    finding: Finding | None = None,
) -> Claim:
    """A document's claim of a fix, as a document import leaves it (finding claimed)."""
    title = f"Bare except in load #{next(_titles)}"
    report = make_document(project, text=title)
    finding = finding or make_finding(project, status=Status.CLAIMED, title=title)
    return Claim.objects.create(
        project=project,
        report=report,
        first_report=report,
        finding=finding,
        document_identity=f"doc {report.pk}",
        claim_key=title.lower(),
        key="F1",
        title=title,
        status=status,
        files=list(files),
        commits=list(commits),
        before=list(before),
        after=list(after),
    )


def checks_of(evidence: ClaimEvidence) -> dict[tuple[str, str], Check]:
    return {(c.name, c.path): c for c in evidence.checks}


def test_a_commit_that_fixes_the_claimed_lines_is_code_checked_and_verifies_the_finding(
    scratch: ScratchRepo, project: Project
) -> None:
    fix = scratch.commit("Catch only OSError in load", {"app.py": app_source(AFTER)})
    repository_link(project=project, target=str(scratch.path))
    claim = make_claim(project, commits=[fix[:7]])

    evidence = claim_verify(claim=claim)

    assert evidence.level == "code-checked"
    checks = checks_of(evidence)
    assert {c.result for c in checks.values() if c.name != "scan_confirms"} == {"pass"}
    assert checks[("commit_exists", "")].commit == fix
    assert checks[("diff_overlaps", "app.py")].side in ("old", "new", "both")
    assert checks[("before_absent_at_head", "app.py")].commit == fix  # the head is the fix
    finding = Finding.objects.get(pk=claim.finding_id)
    assert finding.status == Status.VERIFIED
    assert Event.objects.filter(finding=finding, action="verify", after="verified").exists()
    assert Event.objects.filter(finding=finding, action="evidence", after="code-checked").exists()


def test_a_commit_that_claims_a_fix_but_leaves_the_code_fails_and_the_finding_stays_claimed(
    scratch: ScratchRepo, project: Project
) -> None:
    fake = scratch.commit("Fix the loader (honest)", {"README": "lily, now fixed\n"})
    repository_link(project=project, target=str(scratch.path))
    claim = make_claim(project, commits=[fake])

    evidence = claim_verify(claim=claim)

    assert evidence.level == "commit-linked"
    checks = checks_of(evidence)
    assert checks[("touches_file", "app.py")].result == "fail"
    assert "does not change app.py" in checks[("touches_file", "app.py")].reason
    assert checks[("before_absent_at_commit", "app.py")].result == "fail"
    assert checks[("after_present_at_head", "app.py")].result == "fail"
    assert Finding.objects.get(pk=claim.finding_id).status == Status.CLAIMED


def test_a_commit_that_touches_other_lines_fails_the_overlap_check_naming_the_lines(
    scratch: ScratchRepo, project: Project
) -> None:
    moved = app_source(AFTER).replace("line 2\n", "line two\n")
    fix = scratch.commit("Tidy up", {"app.py": moved})
    repository_link(project=project, target=str(scratch.path))
    # Lines 6-7 are four lines from both changes (line 2 and line 13): beyond the drift a
    # document's own edit can cause.
    claim = make_claim(project, commits=[fix], files=[{"path": "app.py", "lines": [[6, 7]]}])

    evidence = claim_verify(claim=claim)

    overlap = checks_of(evidence)[("diff_overlaps", "app.py")]
    assert overlap.result == "fail"
    assert "6-7" in overlap.reason
    assert evidence.level == "commit-linked"
    assert Finding.objects.get(pk=claim.finding_id).status == Status.CLAIMED


def test_a_fix_in_a_file_renamed_later_is_followed_to_its_new_name_at_the_head(
    scratch: ScratchRepo, project: Project
) -> None:
    fix = scratch.commit("Catch only OSError", {"app.py": app_source(AFTER)})
    scratch.move("app.py", "lily/loader.py", "Move the loader into the package")
    repository_link(project=project, target=str(scratch.path))
    claim = make_claim(project, commits=[fix[:10]])

    evidence = claim_verify(claim=claim)

    checks = checks_of(evidence)
    assert checks[("before_absent_at_head", "app.py")].result == "pass"
    assert checks[("after_present_at_head", "app.py")].result == "pass"
    assert evidence.level == "code-checked"


def test_a_bare_file_name_is_checked_as_the_repository_path_it_means(
    roots: Path, project: Project
) -> None:
    repo = ScratchRepo(roots / "tracker")
    repo.commit("Add the loader", {"functions/lib/loader.py": app_source(BEFORE)})
    fix = repo.commit("Catch only OSError", {"functions/lib/loader.py": app_source(AFTER)})
    repository_link(project=project, target=str(repo.path))
    claim = make_claim(project, commits=[fix[:7]], files=[{"path": "loader.py", "lines": []}])

    evidence = claim_verify(claim=claim)

    checks = checks_of(evidence)
    named = checks[("file_resolved", "functions/lib/loader.py")]
    assert named.result == "pass" and named.reason.startswith(
        "loader.py is functions/lib/loader.py"
    )
    assert checks[("touches_file", "functions/lib/loader.py")].result == "pass"
    assert checks[("after_present_at_commit", "functions/lib/loader.py")].result == "pass"
    assert evidence.level == "code-checked"


def test_an_ambiguous_file_name_is_said_to_be_ambiguous_and_fails_nothing(
    roots: Path, project: Project
) -> None:
    repo = ScratchRepo(roots / "twins")
    repo.commit("Two loaders", {"a/app.py": app_source(BEFORE), "b/app.py": app_source(BEFORE)})
    fix = repo.commit("Docs", {"README": "twins\n"})
    repository_link(project=project, target=str(repo.path))
    claim = make_claim(project, commits=[fix[:7]], files=[{"path": "app.py", "lines": []}])

    evidence = claim_verify(claim=claim)

    named = checks_of(evidence)[("file_resolved", "app.py")]
    assert named.result == "cannot_check"
    assert named.reason.startswith("app.py is ambiguous (2 candidates: a/app.py, b/app.py)")
    assert "fail" not in {c.result for c in evidence.checks}
    code = [c for c in evidence.checks if c.name == "after_present_at_commit"]
    assert code and all("app.py is ambiguous (2 candidates" in c.reason for c in code)
    assert evidence.level == "commit-linked"


def test_a_claim_naming_no_file_says_so_and_lists_the_files_its_commit_changes(
    scratch: ScratchRepo, project: Project
) -> None:
    fix = scratch.commit("Catch only OSError", {"app.py": app_source(AFTER), "README": "x\n"})
    repository_link(project=project, target=str(scratch.path))
    claim = make_claim(project, commits=[fix[:7]], files=[])

    evidence = claim_verify(claim=claim)

    code = [c for c in evidence.checks if c.name == "after_present_at_commit"]
    assert code and code[0].result == "cannot_check"
    assert code[0].reason.startswith(
        f"no file named; 2 candidate paths (the files commit {fix[:12]} changes: README, app.py)"
    )


def test_a_file_deleted_after_the_fix_is_removed_at_head_and_stays_code_checked(
    scratch: ScratchRepo, project: Project
) -> None:
    fix = scratch.commit("Catch only OSError", {"app.py": app_source(AFTER)})
    scratch.move("app.py", "lily/loader.py", "Move the loader into the package")
    drop = scratch.commit("Drop the loader", {"lily/loader.py": None})
    repository_link(project=project, target=str(scratch.path))
    claim = make_claim(project, commits=[fix[:10]])

    evidence = claim_verify(claim=claim)

    head = checks_of(evidence)[("after_present_at_head", "app.py")]
    assert head.result == "cannot_check" and head.reason.startswith(
        f"removed at head: lily/loader.py was deleted by commit {drop[:12]}"
    )
    assert evidence.level == "code-checked"


def test_a_fix_dropped_by_a_force_push_is_not_on_the_branch_and_proves_nothing(
    scratch: ScratchRepo, project: Project
) -> None:
    fix = scratch.commit("Catch only OSError", {"app.py": app_source(AFTER)})
    scratch.git("reset", "-q", "--hard", "HEAD~1")
    scratch.commit("Rewrite the readme", {"README": "rewritten\n"})
    repository_link(project=project, target=str(scratch.path))
    claim = make_claim(project, commits=[fix[:8]])

    evidence = claim_verify(claim=claim)

    on_branch = checks_of(evidence)[("on_branch", "")]
    assert on_branch.result == "fail" and "force-push" in on_branch.reason
    assert evidence.level == "unverified"
    assert Finding.objects.get(pk=claim.finding_id).status == Status.CLAIMED


def test_a_fix_then_a_revert_regresses_the_finding_naming_the_revert_commit(
    scratch: ScratchRepo, project: Project
) -> None:
    fix = scratch.commit("Catch only OSError", {"app.py": app_source(AFTER)})
    repository_link(project=project, target=str(scratch.path))
    claim = make_claim(project, commits=[fix[:7]])
    assert claim_verify(claim=claim).level == "code-checked"
    scratch.commit("Unrelated change", {"README": "more\n"})
    revert = scratch.commit("Revert the loader change", {"app.py": app_source(BEFORE)})

    summary = repository_fetch(project=project)

    finding = Finding.objects.get(pk=claim.finding_id)
    assert summary.regressed == [finding.key]
    assert finding.status == Status.REGRESSED
    event = Event.objects.filter(finding=finding, action="seen").latest("id")
    assert event.before == Status.VERIFIED and event.after == Status.REGRESSED
    assert revert[:12] in event.note and "Revert the loader change" in event.note
    assert ClaimEvidence.objects.get(claim=claim).level == "commit-linked"


def test_a_signed_off_fix_whose_code_comes_back_regresses_on_verify(
    scratch: ScratchRepo, project: Project
) -> None:
    fix = scratch.commit("Catch only OSError", {"app.py": app_source(AFTER)})
    back = scratch.commit("Restore the old loader", {"app.py": app_source(BEFORE)})
    repository_link(project=project, target=str(scratch.path))
    finding = make_finding(project, status=Status.SIGNED_OFF)
    claim = make_claim(project, commits=[fix], finding=finding)

    project_verify(project=project)

    finding.refresh_from_db()
    assert finding.status == Status.REGRESSED
    note = Event.objects.filter(finding=finding, action="seen").latest("id").note
    assert back[:12] in note
    assert ClaimEvidence.objects.get(claim=claim).level == "commit-linked"


def test_an_ambiguous_short_hash_cannot_be_checked_and_lists_every_candidate(
    scratch: ScratchRepo, project: Project
) -> None:
    first, second = scratch.twin_commits(digits=4)
    repository_link(project=project, target=str(scratch.path))
    claim = make_claim(project, commits=[first[:4]])

    evidence = claim_verify(claim=claim)

    exists = checks_of(evidence)[("commit_exists", "")]
    assert exists.result == "cannot_check"
    assert first[:12] in exists.reason and second[:12] in exists.reason
    assert evidence.level == "unverified"
    assert all(c.result != "pass" for c in evidence.checks)


def test_a_hash_that_matches_no_commit_fails_and_nothing_else_passes(
    scratch: ScratchRepo, project: Project
) -> None:
    repository_link(project=project, target=str(scratch.path))
    claim = make_claim(project, commits=["deadbee"])

    evidence = claim_verify(claim=claim)

    exists = checks_of(evidence)[("commit_exists", "")]
    assert exists.result == "fail" and "no commit matches deadbee" in exists.reason
    assert evidence.level == "unverified"
    assert Finding.objects.get(pk=claim.finding_id).status == Status.CLAIMED


def test_without_a_linked_repository_every_check_says_it_cannot_run(project: Project) -> None:
    claim = make_claim(project, commits=["e4121ef"])

    evidence = claim_verify(claim=claim)

    (only,) = evidence.checks
    assert only.result == "cannot_check" and "no linked repository" in only.reason
    assert evidence.level == "unverified"


def test_a_linked_repository_that_vanished_is_said_in_words_without_its_server_path(
    scratch: ScratchRepo, project: Project, roots: Path
) -> None:
    fix = scratch.commit("Catch only OSError in load", {"app.py": app_source(AFTER)})
    repository_link(project=project, target=str(scratch.path))
    scratch.path.rename(roots / "moved-away")
    claim = make_claim(project, commits=[fix])

    evidence = claim_verify(claim=claim)

    reasons = {check.reason for check in evidence.checks}
    assert reasons == {"the folder of the linked repository no longer exists on the server"}
    assert evidence.level == "unverified"


def test_commit_messages_citing_keys_link_commits_and_claim_open_findings(
    scratch: ScratchRepo, project: Project
) -> None:
    bare = make_finding(project, title="Bare except")
    other = make_finding(project, title="Slow query")
    Finding.objects.filter(pk__in=[bare.pk, other.pk]).update(
        status_changed_at="2020-01-01T00:00:00Z"
    )
    fix = scratch.commit(
        f"Catch only OSError\n\nFixes {bare.key}, refs {other.key} and LILY-999",
        {"app.py": app_source(AFTER)},
    )
    scratch.commit(f"{bare.key} mentioned without a verb", {"README": "x\n"})

    repository_link(project=project, target=str(scratch.path))

    links = {(link.finding_id, link.verb) for link in CommitLink.objects.all()}
    assert links == {(bare.pk, "fixes"), (other.pk, "refs")}
    assert CommitLink.objects.get(finding=bare).commit.sha == fix
    bare.refresh_from_db()
    other.refresh_from_db()
    assert bare.status == Status.CLAIMED and other.status == Status.OPEN
    assert Event.objects.filter(finding=other, action="commit_linked").count() == 1
    claim_event = Event.objects.get(finding=bare, action="claim")
    assert fix[:7] in claim_event.note


def test_a_claim_without_a_hash_is_checked_against_the_commit_whose_message_closes_it(
    scratch: ScratchRepo, project: Project
) -> None:
    finding = make_finding(project, status=Status.CLAIMED)
    fix = scratch.commit(f"Fixes {finding.key}", {"app.py": app_source(AFTER)})
    repository_link(project=project, target=str(scratch.path))
    claim = make_claim(project, finding=finding)

    evidence = claim_verify(claim=claim)

    cites = checks_of(evidence)[("commit_cites_finding", "")]
    assert cites.result == "pass" and cites.commit == fix
    assert evidence.level == "code-checked"


def test_a_later_scan_that_no_longer_reports_the_finding_makes_the_claim_scan_confirmed(
    scratch: ScratchRepo, project: Project
) -> None:
    fix = scratch.commit("Catch only OSError", {"app.py": app_source(AFTER)})
    later = scratch.commit("Docs", {"README": "docs\n"})
    repository_link(project=project, target=str(scratch.path))
    claim = make_claim(project, commits=[fix])
    # What the scan merge leaves when a bandit report of `later` no longer has the finding.
    Finding.objects.filter(pk=claim.finding_id).update(
        status=Status.VERIFIED, fixed_in_commit=later
    )

    evidence = claim_verify(claim=claim)

    scan = checks_of(evidence)[("scan_confirms", "")]
    assert scan.result == "pass" and later[:12] in scan.reason
    assert evidence.level == "scan-confirmed"


def test_a_scan_after_the_fix_that_still_reports_the_finding_fails_the_scan_check(
    scratch: ScratchRepo, project: Project
) -> None:
    fix = scratch.commit("Catch only OSError", {"app.py": app_source(AFTER)})
    repository_link(project=project, target=str(scratch.path))
    claim = make_claim(project, commits=[fix])
    Finding.objects.filter(pk=claim.finding_id).update(last_seen_commit=fix)

    evidence = claim_verify(claim=claim)

    scan = checks_of(evidence)[("scan_confirms", "")]
    assert scan.result == "fail" and "still reports" in scan.reason
    assert evidence.level == "code-checked"


def test_checks_are_kept_forever_and_each_run_adds_its_own(
    scratch: ScratchRepo, project: Project
) -> None:
    fix = scratch.commit("Catch only OSError", {"app.py": app_source(AFTER)})
    repository_link(project=project, target=str(scratch.path))
    claim = make_claim(project, commits=[fix])
    first = claim_verify(claim=claim)
    second = claim_verify(claim=claim)

    assert first.run != second.run
    assert Check.objects.filter(claim=claim).count() == 2 * len(list(second.checks))
    check = Check.objects.filter(claim=claim).first()
    with pytest.raises(AppendOnlyError):
        check.save()
    with pytest.raises(AppendOnlyError):
        Check.objects.filter(claim=claim).delete()
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM findings_check")
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE findings_check SET result = 'pass'")


def test_a_claim_that_is_neither_a_fix_nor_open_is_refused(project: Project) -> None:
    claim = make_claim(project, status=Claim.Status.RECOMMENDED)

    with pytest.raises(ValueError, match="not that something was fixed"):
        claim_verify(claim=claim)
