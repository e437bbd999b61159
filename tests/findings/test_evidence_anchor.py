"""Where a document sits in the history, and the one commit each claim is checked against.

Issue 14, causes 1, 3 and 7: a document is anchored by ``ingest --commit``, else by a
committed file with its text (even re-saved with another encoding or line endings), else by
the commits it names, else by its date; a claim's fix commit is decided once (cited, closing,
the anchor when it touches the claim's files, else the commit that brought in its AFTER
code) and every check runs against it; an open claim whose BEFORE code is already gone at
the anchor says "already fixed?" and moves nothing. Each repository is built in the test.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from io import StringIO

import pytest
from django.core.management import call_command

from bench.git_repo_gen import EPOCH, ScratchRepo
from findings.lifecycle import Status
from findings.models import Check, Claim, ClaimEvidence, Document, Finding, Project, Report
from findings.services import claim_verify, repository_link
from tests.conftest import make_document, make_finding
from tests.findings.test_evidence import (  # noqa: F401 - fixtures
    AFTER,
    BEFORE,
    app_source,
    project,
    roots,
    scratch,
)

pytestmark = pytest.mark.django_db

HANDOFF = (
    "# Remediation handoff\n\n"
    "Status: ✅ done — the loader no longer hides ‘every’ error.\n\n"
    "## F1 Bare except in load\n\nFixed in app.py: catch only OSError.\n"
)


def document(
    project: Project,  # noqa: F811
    *,
    text: str = HANDOFF,
    commit: str = "",
    day: date | None = None,
    commits: tuple[str, ...] = (),
) -> Report:
    """A document report as an import leaves it: ``commit`` as given with --commit."""
    report = make_document(project, text=text, commit=commit, day=day, commits=commits)
    Document.objects.filter(report=report).update(identity=f"handoff {report.pk}")
    return report


def claim_of(
    report: Report,
    *,
    status: str = Claim.Status.FIXED,
    before: str = BEFORE,
    after: str = AFTER,
    files: tuple[dict, ...] = ({"path": "app.py", "lines": []},),
) -> Claim:
    """A claim of ``report`` that cites no commit, with its own claimed (or open) finding."""
    finding_status = Status.CLAIMED if status == Claim.Status.FIXED else Status.OPEN
    finding = make_finding(report.project, status=finding_status, title="Bare except in load")
    return Claim.objects.create(
        project=report.project,
        report=report,
        first_report=report,
        finding=finding,
        document_identity=f"handoff {report.pk}",
        claim_key=f"bare except {report.pk}",
        key="F1",
        title="Bare except in load",
        status=status,
        files=list(files),
        before=[before] if before else [],
        after=[after] if after else [],
    )


def checks(evidence: ClaimEvidence) -> dict[str, Check]:
    return {check.name: check for check in evidence.checks}


def day_of(stamp: int) -> date:
    return datetime.fromtimestamp(stamp, tz=UTC).date()


# --- cause 1: anchoring the document ----------------------------------------------------------


def test_a_document_ingested_with_a_commit_is_anchored_there_and_that_commit_is_the_fix(
    scratch: ScratchRepo,  # noqa: F811
    project: Project,  # noqa: F811
) -> None:
    fix = scratch.commit("Catch only OSError", {"app.py": app_source(AFTER)})
    scratch.commit("Docs", {"README": "later\n"})
    repository_link(project=project, target=str(scratch.path))
    claim = claim_of(document(project, commit=fix[:9]))

    evidence = claim_verify(claim=claim)

    found = checks(evidence)
    anchor = found["document_anchor"]
    assert anchor.result == "pass" and anchor.commit == fix
    assert anchor.reason == f"anchored to {fix[:12]} given with --commit"
    assert found["fix_commit"].commit == fix
    assert "the document's anchor" in found["fix_commit"].reason
    assert "touches app.py" in found["fix_commit"].reason
    assert found["touches_file"].commit == fix
    assert evidence.level == "code-checked"


def test_a_re_encoded_copy_of_the_document_is_anchored_to_the_commit_that_added_it(
    scratch: ScratchRepo,  # noqa: F811
    project: Project,  # noqa: F811
) -> None:
    fix = scratch.commit("Catch only OSError", {"app.py": app_source(AFTER)})
    # Committed as a tool left it: UTF-8 read as cp1252 and saved again, with CRLF endings.
    mangled = HANDOFF.encode("utf-8").decode("cp1252").replace("\n", "\r\n")
    (scratch.path / "docs").mkdir()
    (scratch.path / "docs" / "handoff.md").write_bytes(mangled.encode("utf-8"))
    added = scratch.commit("Add the handoff")
    scratch.commit("Unrelated", {"README": "more\n"})
    repository_link(project=project, target=str(scratch.path))
    claim = claim_of(document(project))

    evidence = claim_verify(claim=claim)

    found = checks(evidence)
    anchor = found["document_anchor"]
    assert anchor.result == "pass" and anchor.commit == added
    assert anchor.reason == (
        f"the document was added in {added[:12]} as docs/handoff.md "
        "(text matches after repairing encoding)"
    )
    assert anchor.detail["how"] == "text"
    # The anchor touches no claimed file: the fix is the commit that brought in AFTER.
    assert found["fix_commit"].commit == fix
    assert evidence.level == "code-checked"


def test_a_document_naming_a_commit_is_anchored_to_it(
    scratch: ScratchRepo,  # noqa: F811
    project: Project,  # noqa: F811
) -> None:
    early = scratch.commit("Tidy the readme", {"README": "tidy\n"})
    fix = scratch.commit("Catch only OSError", {"app.py": app_source(AFTER)})
    repository_link(project=project, target=str(scratch.path))
    claim = claim_of(document(project, commits=(early[:7], fix[:8], "0badc0de")))

    evidence = claim_verify(claim=claim)

    found = checks(evidence)
    anchor = found["document_anchor"]
    assert anchor.commit == fix and anchor.detail["how"] == "named"
    assert anchor.reason == f"anchored to {fix[:12]}, the newest commit the document names"
    assert found["fix_commit"].commit == fix
    assert evidence.level == "code-checked"


def test_a_dated_document_is_anchored_to_the_commit_near_its_date_touching_its_files(
    scratch: ScratchRepo,  # noqa: F811
    project: Project,  # noqa: F811
) -> None:
    fix = scratch.commit("Catch only OSError", {"app.py": app_source(AFTER)}, when=EPOCH + 86400)
    scratch.commit("Docs a month later", {"README": "x\n"}, when=EPOCH + 40 * 86400)
    later = scratch.commit(
        "Rework", {"app.py": app_source(AFTER) + "# more\n"}, when=EPOCH + 50 * 86400
    )
    repository_link(project=project, target=str(scratch.path))
    claim = claim_of(document(project, day=day_of(EPOCH + 86400)))

    evidence = claim_verify(claim=claim)

    found = checks(evidence)
    anchor = found["document_anchor"]
    assert anchor.commit == fix != later and anchor.detail["how"] == "date"
    assert anchor.reason.startswith(f"anchored to {fix[:12]}, the newest commit up to the document")
    assert found["fix_commit"].commit == fix
    assert evidence.level == "code-checked"


# --- cause 3: one fix commit per claim --------------------------------------------------------


def test_an_older_commit_touching_the_file_no_longer_passes_for_the_fix(
    scratch: ScratchRepo,  # noqa: F811
    project: Project,  # noqa: F811
) -> None:
    # An unrelated edit of app.py, then the document's commit that fixes nothing.
    scratch.commit("Rename a line", {"app.py": app_source(BEFORE).replace("line 2\n", "two\n")})
    anchor = scratch.commit("Write the handoff", {"docs/notes.md": "notes\n"})
    repository_link(project=project, target=str(scratch.path))
    claim = claim_of(document(project, commit=anchor))

    evidence = claim_verify(claim=claim)

    found = checks(evidence)
    fix = found["fix_commit"]
    assert fix.result == "cannot_check" and fix.commit == ""
    assert fix.reason.startswith(
        f"no commit is cited, none closes {claim.finding.key}, the anchor {anchor[:12]} does not "
        "touch app.py, and no commit in the 180 days up to"
    )
    assert fix.reason.endswith("brought in the AFTER code")
    touches = found["touches_file"]
    assert touches.result == "cannot_check" and touches.commit == ""
    assert touches.reason == f"there is no fix commit to check: {fix.reason}"
    code = [c for c in evidence.checks if c.name.startswith(("before_", "after_"))]
    unread = [c for c in code if c.name != "after_present_at_commit"]
    assert unread and {c.result for c in unread} == {"cannot_check"}
    # Read at the document's own commit, the fix it describes is not there.
    at_anchor = found["after_present_at_commit"]
    assert at_anchor.result == "fail" and at_anchor.commit == anchor
    assert "but the BEFORE code fits those lines as well or better" in at_anchor.reason
    assert evidence.level == "unverified"
    assert Finding.objects.get(pk=claim.finding_id).status == Status.CLAIMED


def test_the_commit_that_brought_in_the_after_code_is_the_fix_of_an_uncited_claim(
    scratch: ScratchRepo,  # noqa: F811
    project: Project,  # noqa: F811
) -> None:
    fix = scratch.commit("Catch only OSError", {"app.py": app_source(AFTER)})
    # Later edits of the same file, none of them the fix, then the document.
    scratch.commit("Tail", {"app.py": app_source(AFTER).replace("tail 3\n", "tail three\n")})
    scratch.commit("Head", {"app.py": app_source(AFTER).replace("line 1\n", "line one\n")})
    anchor = scratch.commit("Write the handoff", {"docs/notes.md": "notes\n"})
    repository_link(project=project, target=str(scratch.path))
    claim = claim_of(document(project, commit=anchor))

    evidence = claim_verify(claim=claim)

    found = checks(evidence)
    chosen = found["fix_commit"]
    assert chosen.result == "pass" and chosen.commit == fix
    assert f"{fix[:12]} is the newest commit before it where it brought in the AFTER code" in (
        chosen.reason
    )
    assert "except OSError:" in chosen.reason
    every = [c for c in evidence.checks if c.name in ("touches_file", "before_absent_at_commit")]
    assert every and {c.commit for c in every} == {fix}
    assert evidence.level == "code-checked"


def test_touching_the_file_alone_is_commit_linked_not_code_checked(
    scratch: ScratchRepo,  # noqa: F811
    project: Project,  # noqa: F811
) -> None:
    fix = scratch.commit("Catch only OSError", {"app.py": app_source(AFTER)})
    repository_link(project=project, target=str(scratch.path))
    claim = claim_of(document(project, commit=fix), before="", after="")

    evidence = claim_verify(claim=claim)

    assert checks(evidence)["touches_file"].result == "pass"
    assert evidence.level == "commit-linked"
    assert Finding.objects.get(pk=claim.finding_id).status == Status.CLAIMED


# --- cause 7: open claims ---------------------------------------------------------------------


def test_an_open_claim_whose_before_code_is_gone_at_the_anchor_asks_already_fixed(
    scratch: ScratchRepo,  # noqa: F811
    project: Project,  # noqa: F811
) -> None:
    fix = scratch.commit("Catch only OSError", {"app.py": app_source(AFTER)})
    anchor = scratch.commit("Write the handoff", {"docs/notes.md": "notes\n"})
    repository_link(project=project, target=str(scratch.path))
    claim = claim_of(document(project, commit=anchor), status=Claim.Status.IDENTIFIED)
    still = claim_of(
        document(project, commit=fix, text="other"),
        status=Claim.Status.IDENTIFIED,
        before=AFTER,
        after="",
    )

    out = StringIO()
    call_command("verify", "--project", project.key, "--json", stdout=out)

    results = {r["finding"]: r for r in json.loads(out.getvalue())}
    hinted = {c["name"]: c for c in results[claim.finding.key]["checks"]}
    gone = hinted["before_gone_at_anchor"]
    assert gone["reason"] == (
        f"already fixed? the BEFORE code is not in app.py at {anchor[:12]}, the document's "
        "anchor, though the document calls this identified"
    )
    assert results[claim.finding.key]["evidence"] == "unverified"
    assert "before_gone_at_anchor" not in {c["name"] for c in results[still.finding.key]["checks"]}
    for finding in Finding.objects.filter(pk__in=[claim.finding_id, still.finding_id]):
        assert finding.status == Status.OPEN
    assert ClaimEvidence.objects.get(claim=claim).level == "unverified"


def test_a_claim_quoting_only_before_code_is_tied_to_the_commit_that_took_it_out(
    scratch: ScratchRepo,  # noqa: F811
    project: Project,  # noqa: F811
) -> None:
    leaked = 'SECRET_KEY = "dev-secret-do-not-ship"\n'
    scratch.commit("Settings", {"settings.py": "DEBUG = False\n" + leaked})
    fix = scratch.commit("Read the key from the environment", {"settings.py": "DEBUG = False\n"})
    scratch.commit("More settings", {"settings.py": "DEBUG = False\nTIMEOUT = 5\n"})
    anchor = scratch.commit("Write the handoff", {"docs/notes.md": "notes\n"})
    repository_link(project=project, target=str(scratch.path))
    claim = claim_of(
        document(project, commit=anchor),
        before=leaked,
        after="",
        files=({"path": "settings.py", "lines": []},),
    )

    evidence = claim_verify(claim=claim)

    chosen = checks(evidence)["fix_commit"]
    assert chosen.commit == fix and "took out the BEFORE code" in chosen.reason
    assert checks(evidence)["before_absent_at_commit"].result == "pass"
    assert evidence.level == "code-checked"


# --- what a careful reviewer makes of real documents ------------------------------------------


def test_commits_the_document_names_that_are_not_in_the_history_fail_its_uncited_claims(
    scratch: ScratchRepo,  # noqa: F811
    project: Project,  # noqa: F811
) -> None:
    # "Commit: 2ed2dd4" in the header, but the repository is a fresh import without it.
    fix = scratch.commit("Import the project", {"app.py": app_source(AFTER)})
    repository_link(project=project, target=str(scratch.path))
    claim = claim_of(document(project, commit=fix, commits=("2ed2dd4",)))

    evidence = claim_verify(claim=claim)

    exists = [c for c in evidence.checks if c.name == "commit_exists"]
    assert [c.result for c in exists] == ["fail"]
    assert exists[0].reason == (
        "the document names 2ed2dd4 as a commit of its fixes; no such commit in the repository"
    )
    assert evidence.level == "unverified"
    # A document whose named commit exists is not doubted.
    other = claim_of(document(project, text=HANDOFF + "\n", commit=fix, commits=(fix[:8],)))
    assert not [c for c in claim_verify(claim=other).checks if c.name == "commit_exists"]


def test_a_quoted_terminal_session_is_said_and_not_looked_for_in_the_claimed_file(
    scratch: ScratchRepo,  # noqa: F811
    project: Project,  # noqa: F811
) -> None:
    fix = scratch.commit("Catch only OSError", {"app.py": app_source(AFTER)})
    repository_link(project=project, target=str(scratch.path))
    claim = claim_of(document(project, commit=fix))
    claim.before += ["# BEFORE: this crashed\n$ python app.py missing.txt\n# Result: crash"]
    claim.after += ["# AFTER: handled\n$ python app.py missing.txt\n# Result: None"]
    # The same attack shown before and after the fix: no change to look for.
    claim.before += ['<iframe src="https://x.test"></iframe>\n<!-- Result: page loads -->']
    claim.after += ['<iframe src="https://x.test"></iframe>\n<!-- Result: refused -->']
    claim.save()

    evidence = claim_verify(claim=claim)

    found = checks(evidence)
    assert found["code_not_checked"].result == "cannot_check"
    assert found["code_not_checked"].reason == (
        "2 quoted block(s) are terminal sessions (commands at a $ prompt) or plain text, not "
        "code of a file; 1 BEFORE/AFTER pair(s) show the same code on both sides: not looked "
        "for in the claimed files"
    )
    assert not [c for c in evidence.checks if c.result == "fail"]
    assert evidence.level == "code-checked"


def test_after_code_edited_after_the_fix_is_changed_at_head_but_a_revert_still_fails(
    scratch: ScratchRepo,  # noqa: F811
    project: Project,  # noqa: F811
) -> None:
    guarded = (
        "    if not os.path.exists(path):\n        logger.warning('no file %s', path)\n"
        "        return None\n    with open(path) as handle:\n        return handle.read()\n"
    )
    fix = scratch.commit("Check the file first", {"app.py": app_source(guarded)})
    rewritten = "    return Path(path).read_text() if Path(path).is_file() else None\n"
    scratch.commit("Use pathlib", {"app.py": app_source(rewritten)})
    repository_link(project=project, target=str(scratch.path))
    claim = claim_of(document(project, commit=fix), before="", after=guarded)

    evidence = claim_verify(claim=claim)

    head = checks(evidence)["after_present_at_head"]
    assert head.result == "cannot_check" and head.detail["changed_at_head"]
    assert head.reason.startswith("changed at head: the AFTER code was present at the fix")
    assert evidence.level == "code-checked"

    undo = scratch.commit(
        f'Revert "Check the file first"\n\nThis reverts commit {fix}.',
        {"app.py": app_source(BEFORE)},
    )
    evidence = claim_verify(claim=claim)

    head = checks(evidence)["after_present_at_head"]
    assert head.result == "fail" and head.detail["reverted_by"] == undo
    assert head.reason.endswith(f"commit {undo[:12]} reverts the fix")
    assert evidence.level == "commit-linked"


def test_a_fix_described_but_absent_at_the_documents_own_commit_fails_there(
    scratch: ScratchRepo,  # noqa: F811
    project: Project,  # noqa: F811
) -> None:
    # The document's commit changes only other files: no fix commit can be found for the
    # claim, but its file exists at the document's moment and lacks the AFTER code.
    moment = scratch.commit("Docs and settings", {"settings.py": "DEBUG = False\n"})
    repository_link(project=project, target=str(scratch.path))
    guard = "    if not os.path.exists(path):\n        return None\n    return open(path).read()\n"
    claim = claim_of(document(project, commit=moment), before="", after=guard)

    evidence = claim_verify(claim=claim)

    after = checks(evidence)["after_present_at_commit"]
    assert after.result == "fail" and after.commit == moment and after.detail["at"] == "anchor"
    assert after.reason.startswith(
        f"the AFTER code is not present in app.py at {moment[:12]}, the document's anchor: "
        "closest span"
    )
    assert evidence.level == "unverified"
    # The same claim with code that is there: supported, and still nothing to move.
    present = claim_of(document(project, text=HANDOFF + "\n", commit=moment), before="")
    found = checks(claim_verify(claim=present))["after_present_at_commit"]
    assert found.result == "pass" and found.detail["at"] == "anchor"


def test_a_file_the_anchor_does_not_change_is_not_a_failure_when_the_claim_cites_no_commit(
    scratch: ScratchRepo,  # noqa: F811
    project: Project,  # noqa: F811
) -> None:
    scratch.commit("Add settings", {"settings.py": "DEBUG = True\nTIMEOUT = 5\n"})
    moment = scratch.commit("Catch only OSError", {"app.py": app_source(AFTER)})
    repository_link(project=project, target=str(scratch.path))
    files = ({"path": "app.py", "lines": []}, {"path": "settings.py", "lines": [[2, 2]]})
    claim = claim_of(document(project, commit=moment), files=files)

    evidence = claim_verify(claim=claim)

    rows = {(c.name, c.path): c for c in evidence.checks}
    assert rows[("touches_file", "app.py")].result == "pass"
    untouched = rows[("touches_file", "settings.py")]
    assert untouched.result == "cannot_check" and untouched.detail["beside_anchor"]
    assert "this part may be fixed earlier" in untouched.reason
    assert rows[("diff_overlaps", "settings.py")].result == "cannot_check"
    assert not [c for c in evidence.checks if c.result == "fail"]
    # A commit the claim cites is held to every file it names.
    cited = claim_of(document(project, text=HANDOFF + "\n", commit=moment), files=files)
    cited.commits = [moment]
    cited.save()
    rows = {(c.name, c.path): c for c in claim_verify(claim=cited).checks}
    assert rows[("touches_file", "settings.py")].result == "fail"


def test_a_commit_the_claim_names_as_the_cause_of_the_bug_is_not_its_fix(
    scratch: ScratchRepo,  # noqa: F811
    project: Project,  # noqa: F811
) -> None:
    cause = scratch.commit("Refactor the loader", {"app.py": app_source(BEFORE) + "# moved\n"})
    fix = scratch.commit("Catch only OSError", {"app.py": app_source(AFTER)})
    repository_link(project=project, target=str(scratch.path))
    claim = claim_of(document(project, commit=fix))
    claim.commits = [cause[:8]]
    claim.problem = f"The refactoring in commit {cause[:8]} made load swallow every error"
    claim.save()

    evidence = claim_verify(claim=claim)

    found = checks(evidence)
    assert found["commit_exists"].result == "pass" and found["commit_exists"].commit == cause
    assert found["fix_commit"].commit == fix
    assert found["fix_commit"].reason.startswith(
        f"no commit is cited as the fix ({cause[:8]}: named in the problem, as its cause)"
    )
    assert evidence.level == "code-checked"
