"""Machine evidence for claimed fixes: Checks, evidence levels, verification and regressions.

:func:`claim_verify` checks one claim that says "fixed" (or "partially fixed") against the
project's linked repository with the git engine (:func:`scanners.git.verify_claim`) and
stores what it found: one append-only :class:`~findings.models.Check` per check, all of one
run, and the claim's :class:`~findings.models.ClaimEvidence` (level and run).

Each claim is checked against one fix commit, decided once and stored as a ``fix_commit``
check with the reason it was chosen:

1. the first commit the claim cites that resolves and is on the branch (every cited commit
   still gets its ``commit_exists`` / ``on_branch`` checks; an ambiguous or missing hash is
   never guessed);
2. else the newest commit whose message closes the claim's finding ("Fixes LILY-42"),
   preferring one that touches a claimed file;
3. else the document's *anchor* (a ``document_anchor`` check says how it was found: the
   ``ingest --commit``, a committed file with the document's normalised text, a commit the
   document names, or a commit near its date touching its files; see
   :mod:`findings.services.evidence_commits`) when it touches one of the claim's files;
4. else the newest commit in a window before the anchor (or the document's date) that brought
   in the claim's AFTER code -- or, quoting only BEFORE code, took it out -- found by a
   path-limited pickaxe search (``git log -S``) on its most distinctive line;
5. else none: every check cannot run and says exactly why ("no commit is cited, none closes
   X, the anchor 1a2b3c does not touch a.py, and no commit ... brought in the AFTER code").

Every other check (touches_file, diff_overlaps, the code checks) runs against that commit
only: no check picks a commit of its own.

Claims the document calls open (``identified``) are checked too, for a hint only: the anchor,
and ``before_gone_at_anchor`` ("already fixed?") when their BEFORE code is gone at the anchor
from every claimed file that exists there. They stay ``unverified`` and move nothing.

Evidence levels (``EvidenceLevel``), each implying the one before:

* ``unverified``: no commit of the branch could be tied to the claim;
* ``commit-linked``: a commit is tied to it and is in the branch's history;
* ``code-checked``: the claim names at least one file and every check passed: the commit
  touches each file, its diff meets the claimed lines, BEFORE code is gone and AFTER code
  present at the commit and at the branch head; and at least one line or code check passed
  (touching the file alone proves nothing about the code). A check that could not run
  blocks it, except a head check of a file deleted after the fix ("removed at head") or of
  AFTER code edited after it, the BEFORE code not back ("changed at head"); the
  anchor and the "already fixed?" hint inform and never block;
* ``scan-confirmed``: code-checked, and every scanner finding the claim speaks for (its
  own finding or confirmed links) is reported fixed by a scan of a commit at or after the
  fix (``Finding.fixed_in_commit``).

A claim of ``fixed`` that reaches code-checked moves its claimed findings to ``verified``
(lifecycle VERIFY). When the BEFORE code of a verified or signed-off fix is found again at
the branch head, the findings become ``regressed`` (lifecycle SEEN) with the commit that
brought the code back in the Event's note.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from findings import lifecycle
from findings.lifecycle import Status
from findings.models import (
    Check,
    Claim,
    ClaimEvidence,
    Event,
    EvidenceLevel,
    Finding,
    FindingLink,
    Project,
)
from findings.services.document_matching import DOCUMENT_TOOL
from findings.services.evidence_checks import (
    VerifyContext,
    claim_checks,
    open_checks,
    verify_context,
)
from findings.services.evidence_rows import CODE_KINDS, INFO_CHECKS, SCAN_CHECK, K, Row
from findings.services.findings import finding_transition
from scanners import git

FIX_STATUSES = (Claim.Status.FIXED, Claim.Status.PARTIALLY_FIXED)
OPEN_STATUSES = (Claim.Status.IDENTIFIED,)
"""Claims the document calls open: checked only for an "already fixed?" hint."""
REGRESSION_SEARCH = 500
"""How many commits after a fix are searched for the one that brought its BEFORE code back."""


def claim_verify(
    *, claim: Claim, context: VerifyContext | None = None, actor=None
) -> ClaimEvidence:
    """Check ``claim`` against the linked repository, store the Checks and the evidence
    level, and move its findings (VERIFY when code-checked, SEEN when a verified fix's BEFORE
    code is back at the head). An open claim gets its document's anchor and, maybe, an
    "already fixed?" hint, stays unverified and moves nothing. Other claims (recommended)
    are not checked: ValueError."""
    if claim.status not in FIX_STATUSES + OPEN_STATUSES:
        raise ValueError(f"claim {claim.pk} says {claim.status!r}, not that something was fixed")
    # Claims of a run share the git answers: the context's handle carries the run's cache.
    context = context or verify_context(claim.project)
    findings = _claim_findings(claim)
    if claim.status in OPEN_STATUSES:
        rows = open_checks(claim, context)
        return _record(claim, findings, rows, EvidenceLevel.UNVERIFIED, [], context, actor)
    rows, fixes = claim_checks(claim, context)
    scan_rows = scan_checks(findings, fixes, context) if fixes else []
    level = _level(rows, scan_rows, fixes)
    rows += scan_rows
    return _record(claim, findings, rows, level, fixes, context, actor)


def project_verify(*, project: Project, actor=None) -> list[ClaimEvidence]:
    """Verify every live claim of a fix, and every open claim, in ``project`` (document
    order), one run each."""
    context = verify_context(project)
    claims = (
        Claim.objects.filter(
            project=project, dropped=False, status__in=FIX_STATUSES + OPEN_STATUSES
        )
        .select_related("project", "report", "report__document", "finding__project")
        .order_by("report_id", "line", "id")
    )
    return [claim_verify(claim=claim, context=context, actor=actor) for claim in claims]


def regressions_check(*, project: Project) -> list[str]:
    """Re-verify the claims behind verified or signed-off findings of ``project``; returns
    the keys of findings that regressed."""
    context = verify_context(project)
    fixed = [Status.VERIFIED, Status.SIGNED_OFF]
    confirmed = Q(links__state=FindingLink.State.CONFIRMED, links__finding__status__in=fixed)
    claims = (
        Claim.objects.filter(project=project, dropped=False, status__in=FIX_STATUSES)
        .filter(Q(finding__status__in=fixed) | confirmed)
        .exclude(before=[])
        .distinct()
        .select_related("project", "report", "report__document", "finding__project")
    )
    regressed: list[str] = []
    for claim in claims:
        before = {f.pk for f in _claim_findings(claim) if f.status == Status.REGRESSED}
        claim_verify(claim=claim, context=context)
        for finding in _claim_findings(claim):
            if finding.status == Status.REGRESSED and finding.pk not in before:
                regressed.append(finding.key)
    return regressed


def evidence_summary(evidence: ClaimEvidence) -> dict:
    """The verify command's record of one claim: finding, document, claim title, evidence
    level and checks (result spelled pass / fail / cannot-check)."""
    claim = evidence.claim
    document = getattr(claim.report, "document", None)
    return {
        "finding": claim.finding.key,
        "document": (document.title if document else "") or claim.report.filename,
        "claim_title": claim.title,
        "evidence": evidence.level,
        "checks": [
            {
                "name": check.name,
                "result": check.result.replace("_", "-"),
                "reason": check.reason,
                "commit": check.commit,
                **({"path": check.path} if check.path else {}),
                **({"side": check.side} if check.side else {}),
            }
            for check in evidence.checks
        ],
    }


def _level(rows: list[Row], scan_rows: list[Row], fixes: list[str]) -> str:
    if not fixes or any(
        r.name in ("commit_exists", "on_branch") and r.result != "pass" for r in rows
    ):
        return EvidenceLevel.UNVERIFIED
    files = [r for r in rows if r.name == K.TOUCHES_FILE]
    # A file deleted after the fix is a fact about the head, not a doubt about the fix; where
    # the document sits in the history is context, not a check of the fix.
    blocking = [
        r
        for r in rows
        if not (r.detail.get("removed_at_head") or r.detail.get("changed_at_head"))
        and r.name not in INFO_CHECKS
    ]
    if not files or any(r.result != Check.Result.PASS for r in blocking):
        return EvidenceLevel.COMMIT_LINKED
    # Touching the file proves only that the commit changed it: code-checked needs a claimed
    # line or a piece of claimed code found where it should be.
    proofs = (K.DIFF_OVERLAPS, *CODE_KINDS)
    if not any(r.name in proofs and r.result == Check.Result.PASS for r in rows):
        return EvidenceLevel.COMMIT_LINKED
    if scan_rows and all(r.result == Check.Result.PASS for r in scan_rows):
        return EvidenceLevel.SCAN_CONFIRMED
    return EvidenceLevel.CODE_CHECKED


# --- writing ----------------------------------------------------------------------------------


def _record(
    claim: Claim,
    findings: list[Finding],
    rows: list[Row],
    level: str,
    fixes: list[str],
    ctx: VerifyContext,
    actor,
) -> ClaimEvidence:
    run = uuid.uuid4()
    now = timezone.now()
    with transaction.atomic():
        Check.objects.bulk_create(
            [
                Check(
                    project_id=claim.project_id,
                    finding_id=claim.finding_id,
                    claim=claim,
                    run=run,
                    name=str(row.name)[:40],
                    path=row.path[:1000],
                    result=str(row.result),
                    reason=row.reason,
                    commit=row.commit or "",
                    side=row.side,
                    detail=row.detail,
                    created_at=now,
                )
                for row in rows
            ]
        )
        previous = ClaimEvidence.objects.filter(claim=claim).first()
        evidence, _ = ClaimEvidence.objects.update_or_create(
            claim=claim,
            defaults={
                "level": level,
                "run": run,
                "commit": fixes[0] if fixes else "",
                "head_sha": ctx.head_sha or "",
                "checked_at": now,
            },
        )
        old = previous.level if previous else EvidenceLevel.UNVERIFIED
        if old != level or previous is None:
            failed = sum(r.result == Check.Result.FAIL for r in rows)
            blocked = sum(r.result == Check.Result.CANNOT_CHECK for r in rows)
            Event.objects.create(
                project_id=claim.project_id,
                finding_id=claim.finding_id,
                actor=actor,
                action="evidence",
                before=old,
                after=level,
                note=f"claim “{claim.title}”: {len(rows)} checks, {failed} failed, "
                f"{blocked} could not run"[:2000],
                created_at=now,
            )
        _regress(claim, findings, rows, ctx, actor)
        if claim.status == Claim.Status.FIXED and EvidenceLevel.rank(level) >= EvidenceLevel.rank(
            EvidenceLevel.CODE_CHECKED
        ):
            for finding in findings:
                if finding.status == Status.CLAIMED:
                    finding_transition(
                        finding=finding,
                        event=lifecycle.Event.VERIFY,
                        actor=actor,
                        reason=f"claim “{claim.title}” is {level} at {fixes[0][:12]}",
                    )
    evidence.claim = claim
    return evidence


def _regress(
    claim: Claim, findings: list[Finding], rows: list[Row], ctx: VerifyContext, actor
) -> None:
    """SEEN for verified or signed-off findings whose BEFORE code is back at the head."""
    fixed = [f for f in findings if f.status in (Status.VERIFIED, Status.SIGNED_OFF)]
    if not fixed or ctx.head_sha is None:
        return
    gone = {
        (r.path, r.detail.get("block")): r.commit
        for r in rows
        if r.name == K.BEFORE_ABSENT_AT_COMMIT and r.result == Check.Result.PASS
    }
    back = [
        r
        for r in rows
        if r.name == K.BEFORE_ABSENT_AT_HEAD
        and r.result == Check.Result.FAIL
        and (r.path, r.detail.get("block")) in gone
    ]
    if not back:
        return
    row = back[0]
    fix = gone[(row.path, row.detail.get("block"))]
    before = claim.code_pairs[row.detail["block"] - 1][0]
    culprit = _reintroduced_by(ctx, ctx.head_sha, fix, row.path, before)
    where = (
        f"brought back by {culprit.sha[:12]} “{culprit.summary}”"
        if culprit
        else f"somewhere after {fix[:12]}"
    )
    for finding in fixed:
        finding_transition(
            finding=finding,
            event=lifecycle.Event.SEEN,
            actor=actor,
            reason=f"the BEFORE code of claim “{claim.title}” is back in {row.path} at the head "
            f"of {ctx.branch} ({ctx.head_sha[:12]}), {where}",
        )


@dataclass(frozen=True)
class _Culprit:
    sha: str
    summary: str


def _reintroduced_by(
    ctx: VerifyContext, head: str, fix: str, path: str, before: str
) -> _Culprit | None:
    """The first commit after ``fix`` up to ``head`` where ``before`` is in the file again."""
    try:
        head_path = git.path_at(ctx.repo, path, known_at=fix, target=head) or path
        _, out = git.git_read(
            ctx.repo,
            ["rev-list", "--reverse", f"--max-count={REGRESSION_SEARCH}", "--topo-order"]
            + [f"^{fix}", head, "--", head_path, path],
            what="listing the commits after the fix",
        )
        for sha in out.decode("ascii").split():
            text = git.file_at(ctx.repo, sha, head_path, follow_from=fix)
            if text is not None and git.code_presence(text, before):
                info = git.commit_info(ctx.repo, sha)
                return _Culprit(sha, info.summary)
    except git.GitError:
        return None
    return None


# --- scans ------------------------------------------------------------------------------------


def scan_checks(findings: list[Finding], fixes: list[str], ctx: VerifyContext) -> list[Row]:
    rows: list[Row] = []
    for finding in findings:
        if finding.tool == DOCUMENT_TOOL:
            continue
        rows.append(_scan_row(finding, fixes, ctx))
    return rows


def _scan_row(finding: Finding, fixes: list[str], ctx: VerifyContext) -> Row:
    def after_fix(commit: str) -> bool:
        try:
            return any(git.is_ancestor(ctx.repo, fix, commit) for fix in fixes)
        except git.GitError:
            return False

    key = finding.key
    if finding.fixed_in_commit and finding.status not in lifecycle.OPEN_LIKE - {Status.CLAIMED}:
        if after_fix(finding.fixed_in_commit):
            return Row(
                SCAN_CHECK,
                Check.Result.PASS,
                f"the {finding.tool} scan of {finding.fixed_in_commit[:12]} (at or after the fix) "
                f"no longer reports {key}",
                commit=finding.fixed_in_commit,
            )
    if finding.status in lifecycle.OPEN_LIKE and finding.last_seen_commit:
        if after_fix(finding.last_seen_commit):
            return Row(
                SCAN_CHECK,
                Check.Result.FAIL,
                f"the {finding.tool} scan of {finding.last_seen_commit[:12]} (at or after the "
                f"fix) still reports {key}",
                commit=finding.last_seen_commit,
            )
    return Row(
        SCAN_CHECK,
        Check.Result.CANNOT_CHECK,
        f"no {finding.tool} scan of a commit at or after the fix has been imported for {key}",
    )


# --- small helpers ----------------------------------------------------------------------------


def _claim_findings(claim: Claim) -> list[Finding]:
    """The claim's own finding and the findings of its confirmed links, as stored now."""
    ids = [claim.finding_id] + list(
        FindingLink.objects.filter(claim=claim, state=FindingLink.State.CONFIRMED).values_list(
            "finding_id", flat=True
        )
    )
    by_id = {f.pk: f for f in Finding.objects.filter(pk__in=ids).select_related("project")}
    return [by_id[i] for i in dict.fromkeys(ids) if i in by_id]
