"""The API's request and response shapes (they are also its OpenAPI schema)."""

from __future__ import annotations

from datetime import date, datetime

from ninja import Schema
from pydantic import Field


class Problem(Schema):
    """Every error: ``detail`` says what was wrong and where, in words meant for a person."""

    detail: str


class ProjectOut(Schema):
    key: str
    name: str
    role: str = Field(description="The caller's role in the project.")
    open_by_severity: dict[str, int] = Field(
        description="Open, regressed and claimed findings per severity."
    )
    url: str


class FixCounts(Schema):
    claimed_fixed: int = Field(description="A person or a document says fixed; still open.")
    verified: int = Field(description="Evidence says fixed: a re-scan or a passing code check.")
    signed_off: int = Field(description="A reviewer approved the fix.")


class RecentCounts(FixCounts):
    new: int
    regressed: int


class SummaryOut(Schema):
    project: str
    open: int = Field(
        description="Open, regressed and claimed fixed findings (a claim is not proof)."
    )
    open_by_severity: dict[str, int]
    fixes: FixCounts = Field(description="Findings each word for 'fixed' holds now.")
    last_7_days: RecentCounts = Field(
        description="New and regressed findings, and the fixes that reached each word, in the "
        "last 7 days (a fix counts under the word it holds now)."
    )
    past_sla: int
    words: dict[str, str] = Field(description="What each word for 'fixed' means.")


class Counts(Schema):
    total: int
    new: int
    still_open: int
    fixed: int
    regressed: int
    suppressed: int


class ReportOut(Schema):
    id: int
    project: str
    kind: str
    filename: str
    format: str
    tool: str
    commit: str
    branch: str
    state: str = Field(description="queued, running, done or failed.")
    progress: int = Field(description="0-100 while the import runs.")
    error: str = Field(description="Why the import failed (state failed), else empty.")
    note: str
    counts: Counts | None = Field(
        description="The final counts, present once state is done; they never change after."
    )
    created_at: datetime
    finished_at: datetime | None
    status_url: str
    page_url: str


class ReportPage(Schema):
    results: list[ReportOut]
    next: str | None = Field(description="The next page's URL; null on the last page.")


class FindingOut(Schema):
    key: str
    number: int
    project: str
    title: str
    severity: str
    status: str
    tool: str
    rule: str
    cwe: str
    path: str
    start_line: int | None
    end_line: int | None
    fingerprint: str
    first_seen_at: datetime
    last_seen_at: datetime
    first_seen_commit: str
    last_seen_commit: str
    fixed_in_commit: str
    fixed_at: datetime | None
    sla_due: date | None
    assignee: str
    sprint: str
    phase: str
    url: str


class FindingPage(Schema):
    results: list[FindingOut]
    next: str | None = Field(description="The next page's URL; null on the last page.")


class EventOut(Schema):
    at: datetime
    action: str
    before: str
    after: str
    actor: str
    note: str
    report: int | None


class SightingOut(Schema):
    report: int
    commit: str
    path: str
    start_line: int | None
    end_line: int | None
    suppressed: bool


class ClaimOut(Schema):
    title: str
    status: str
    document: int = Field(description="The id of the document's report.")
    files: list
    commits: list
    evidence: str = Field(
        description="unverified, commit-linked, code-checked or scan-confirmed (git evidence)."
    )


class ReviewOut(Schema):
    at: datetime
    verdict: str
    reviewer: str
    comment: str
    evidence_level: str


class FindingDetail(FindingOut):
    message: str
    snippet: str
    status_reason: str
    details: dict = Field(
        description="What the scanner said of this result beyond the fields above "
        "(package and fix versions, baseline state, logical location...)."
    )
    # The detail replaces the list's rule id with what the scanner said of the rule: a change
    # of type pydantic accepts and the API schema documents, but a subclass may not make.
    rule: dict = Field(  # type: ignore[assignment]
        description="What the scanner said of the rule: name, help URI, tags, precision, "
        "security severity, CWEs (from the last report that described it)."
    )
    allowed_events: list[str] = Field(
        description="Transitions the caller may apply now (POST …/transition)."
    )
    events: list[EventOut]
    sightings: list[SightingOut]
    claims: list[ClaimOut]
    reviews: list[ReviewOut]


class TransitionIn(Schema):
    event: str = Field(
        max_length=40,
        description="claim, accept_risk, mark_false_positive, wont_fix, reopen or verify.",
    )
    reason: str = Field(
        default="",
        max_length=2000,
        description="Required for accept_risk, mark_false_positive and wont_fix.",
    )


class Liveness(Schema):
    status: str


class Readiness(Schema):
    status: str = Field(description="ready, or not_ready with the failing checks.")
    checks: dict[str, str]
