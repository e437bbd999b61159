"""Every write to the domain goes through this package: ``<noun>_<verb>`` functions, each
atomic and each appending Events. Modules: ``projects``, ``reports``, ``counts`` (what an
import did), ``scan`` (a package: the bulk merge of a scanner report), ``ingest`` (a package:
importing a report, over the pure ``scanners`` library), ``findings`` (hand-made
transitions), ``documents`` (remediation documents: claims, links, planning and health;
helped by ``document_matching`` and ``document_planning``), ``reviews`` (sign-off with
separation of duties), ``members`` (per-project roles), ``planning`` (sprints; a finding's
sprint, phase, assignee), ``repositories`` (linking a git repository, reading its commits),
``fetching`` (fetching it, then looking for regressions), ``evidence`` (checks of claimed
fixes, evidence levels, regressions; helped by ``evidence_checks``) and ``tokens`` (API
tokens for CI and scripts).
"""

from findings.services.documents import (
    DocumentCounts,
    LinkError,
    claim_link_confirm,
    claim_link_undo,
    document_record,
)
from findings.services.evidence import (
    claim_verify,
    evidence_summary,
    project_verify,
    regressions_check,
)
from findings.services.fetching import FetchSummary, repository_fetch
from findings.services.findings import (
    TransitionError,
    finding_evidence,
    finding_transition,
    verify_refusal,
)
from findings.services.members import membership_remove, membership_set
from findings.services.planning import (
    Adoption,
    PlanningError,
    finding_plan,
    sprint_adopt,
    sprint_create,
)
from findings.services.projects import (
    ProjectKeyError,
    project_get_or_create,
    project_remember_root,
    status_count_move,
    status_counts_refresh,
)
from findings.services.reports import (
    CLAIMED,
    ReportHeartbeat,
    report_beat,
    report_claim,
    report_create_queued,
    report_fail,
    report_fail_if_stale,
    report_fail_stale,
    report_finish,
    report_lost_queued,
    report_mark_sent,
    report_set_progress,
)
from findings.services.repositories import (
    RepositoryError,
    repository_link,
    repository_sync_commits,
)
from findings.services.reviews import (
    ReviewError,
    SeparationOfDutiesError,
    decision_check,
    fix_authors,
    may_decide,
    review_record,
    review_verify,
)
from findings.services.scan import ScanContext, ScanCounts, ScanMerge, ScanStage
from findings.services.tokens import (
    IssuedToken,
    TokenError,
    TokenGrant,
    token_authenticate,
    token_create,
    token_revoke,
)

__all__ = [
    "Adoption",
    "CLAIMED",
    "DocumentCounts",
    "FetchSummary",
    "IssuedToken",
    "LinkError",
    "PlanningError",
    "ProjectKeyError",
    "ReportHeartbeat",
    "RepositoryError",
    "ReviewError",
    "ScanContext",
    "ScanCounts",
    "ScanMerge",
    "ScanStage",
    "SeparationOfDutiesError",
    "TokenError",
    "TokenGrant",
    "TransitionError",
    "claim_link_confirm",
    "claim_link_undo",
    "claim_verify",
    "document_record",
    "evidence_summary",
    "finding_plan",
    "finding_transition",
    "membership_remove",
    "membership_set",
    "fix_authors",
    "project_get_or_create",
    "project_remember_root",
    "project_verify",
    "regressions_check",
    "report_beat",
    "report_claim",
    "report_create_queued",
    "report_fail",
    "report_fail_if_stale",
    "report_fail_stale",
    "report_finish",
    "report_lost_queued",
    "report_mark_sent",
    "report_set_progress",
    "repository_fetch",
    "repository_link",
    "repository_sync_commits",
    "sprint_adopt",
    "sprint_create",
    "review_record",
    "review_verify",
    "may_decide",
    "decision_check",
    "finding_evidence",
    "verify_refusal",
    "status_count_move",
    "status_counts_refresh",
    "token_authenticate",
    "token_create",
    "token_revoke",
]
