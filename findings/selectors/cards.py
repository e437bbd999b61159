"""The one shape of a finding in a list: the board's cards, the sprint backlog's rows and the
review queue's items are read as ``values(*CARD_FIELDS)`` and finished by :func:`cards`.

A finding's evidence level (:func:`fix_evidence`) is the strongest of: the level the git
evidence checks gave any live claim about it (``ClaimEvidence``, through the claim's own
finding or a confirmed link, :func:`evidence_levels`), and ``scan-confirmed`` when a scan no
longer reports it (``fixed_in_report_id``); ``unverified`` when neither. Every page, report
and the API read it from here, so a finding has one evidence level everywhere.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from django.contrib.auth import get_user_model
from django.db.models import Max, Q
from django.urls import reverse
from django.utils import timezone

from findings import lifecycle
from findings.models import (
    ClaimEvidence,
    Event,
    EvidenceLevel,
    FindingLink,
    Project,
    Report,
    ReportScope,
    ScanChange,
    Severity,
)

CARD_FIELDS = (
    "pk",
    "number",
    "title",
    "severity",
    "status",
    "path",
    "start_line",
    "tool",
    "rule_id",
    "first_seen_at",
    "status_changed_at",
    "sprint_id",
    "phase_id",
    "assignee_id",
    "fixed_in_report_id",
    "scan_change",
    "last_seen_at",
    "last_seen_report_id",
    "category",
    "branch",
)
"""What every list of findings reads of each one (narrow columns: the lists walk an index)."""


def _short(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def cards(rows: list[dict], project: Project, *, now: datetime | None = None) -> list[dict]:
    """``rows`` (read as ``values(*CARD_FIELDS)``) finished as cards, in place and returned.

    Each gains ``key``, ``url``, ``title_short``, ``path_short``, ``severity_name``,
    ``age_days``, ``evidence`` (``unverified`` until :func:`add_evidence`) and ``assignee``
    (its ``assignee_id`` is dropped). One query for the assignees, none without any.
    """
    now = now or timezone.now()
    # One reverse for all the cards; each card's link is that prefix and its number.
    base = reverse("findings:detail", args=[project.key, 1])[: -len("1/")]
    for row in rows:
        # Cards are many per page: their text is cut here, not by template filters, which
        # cost more than the queries at a hundred cards.
        row["key"] = f"{project.key}-{row['number']}"
        row["url"] = f"{base}{row['number']}/"
        row["title_short"] = _short(row["title"], 110)
        row["path_short"] = _short(row["path"] or "(no file)", 60)
        row["severity_name"] = Severity(row["severity"]).label
        row["age_days"] = max(0, (now - row["first_seen_at"]).days)
        row["evidence"] = scan_level(row)
    add_assignees(rows)
    return rows


def add_assignees(rows: list[dict]) -> None:
    """Each row's ``assignee`` username (from its ``assignee_id``), one query for all rows.

    Read apart from the rows on purpose: with a join to the users table, PostgreSQL whose
    statistics lag a large import (it then expects a handful of rows per status) hash-joins
    the whole column and sorts it, seconds at 500,000 findings, instead of walking the
    column's index to the first cards.
    """
    ids = {row["assignee_id"] for row in rows if row.get("assignee_id")}
    names = (
        dict(get_user_model().objects.filter(pk__in=ids).values_list("pk", "username"))
        if ids
        else {}
    )
    for row in rows:
        row["assignee"] = names.get(row.pop("assignee_id", None), "")


def add_evidence(cards: list[dict]) -> None:
    """Each card's evidence level (:func:`fix_evidence`), in two queries for all of them."""
    levels = fix_evidence(cards)
    for card in cards:
        card["evidence"] = levels[card["pk"]]


def scan_level(row: dict) -> str:
    """``scan-confirmed`` when a scan no longer reports the finding, else ``unverified``."""
    if row.get("fixed_in_report_id"):
        return EvidenceLevel.SCAN_CONFIRMED.value
    return EvidenceLevel.UNVERIFIED.value


def fix_evidence(rows: Iterable[dict]) -> dict[int, str]:
    """The evidence level of each finding in ``rows`` (dicts with ``pk`` and
    ``fixed_in_report_id``): the stronger of its claims' checked level and a re-scan's."""
    rows = list(rows)
    checked = evidence_levels(row["pk"] for row in rows)
    return {
        row["pk"]: strongest(scan_level(row), checked.get(row["pk"], EvidenceLevel.UNVERIFIED))
        for row in rows
    }


def strongest(*levels: str) -> str:
    """The strongest of evidence ``levels``."""
    return max(levels, key=EvidenceLevel.rank)


def evidence_levels(finding_ids: Iterable[int]) -> dict[int, str]:
    """The strongest checked evidence level of each finding's live claims (absent: none).

    Two queries, whatever the number of findings.
    """
    ids = list(finding_ids)
    if not ids:
        return {}
    levels: dict[int, str] = {}
    own = ClaimEvidence.objects.filter(claim__finding_id__in=ids, claim__dropped=False)
    linked = FindingLink.objects.filter(
        finding_id__in=ids,
        state=FindingLink.State.CONFIRMED,
        claim__dropped=False,
        claim__verification__isnull=False,
    )
    # Two plain lookups: one OR across the claim and link joins would scan both tables.
    pairs = list(own.values_list("claim__finding_id", "level")) + list(
        linked.values_list("finding_id", "claim__verification__level")
    )
    for finding_id, level in pairs:
        levels[finding_id] = strongest(level, levels.get(finding_id, EvidenceLevel.UNVERIFIED))
    return levels


_SEEN_WORDS = frozenset({ScanChange.MOVED, ScanChange.EDITED})
_GONE_WORDS = frozenset({ScanChange.REMOVED, ScanChange.CHANGED, ScanChange.UNSCANNED})


Newest = tuple[datetime, int]
"""A scope's newest finished scan: when its code was current, and its report's id."""


def scan_words(
    status: str,
    scan_change: str,
    last_seen: tuple[datetime | None, int | None],
    newest: Newest | None,
    told: str = "",
) -> str:
    """What the scans say of a finding, in a manager's words ("" when nothing to add):
    moved or still present (changed) for a live one (``told``, when given: what its event
    said, "moved from a/b.py to c/b.py in 1a2b3c"), how a scan-fixed one went (code
    removed, code changed, no longer scanned), and "not seen since" for a live one whose
    last sighting (``last_seen``: when, which report) is older than the newest scan of its
    scope (a partial scan that did not cover it)."""
    if status == lifecycle.Status.VERIFIED and scan_change in _GONE_WORDS:
        return ScanChange(scan_change).label
    if status not in lifecycle.OPEN_LIKE:
        return ""
    seen_at, seen_report = last_seen
    if seen_at and newest and (seen_at, seen_report or 0) < newest:
        return f"not seen since {seen_at:%Y-%m-%d} (partial scan)"
    if scan_change in _SEEN_WORDS:
        return told or ScanChange(scan_change).label
    return ""


def scan_events(finding_ids: Iterable[int], changes: Iterable[str]) -> dict[int, str]:
    """The note of each finding's newest scan event among ``changes`` (moved, edited: the
    event says from where to where); one query, none without findings."""
    ids = list(finding_ids)
    if not ids:
        return {}
    rows = (
        Event.objects.filter(finding_id__in=ids, action__in=list(changes))
        .order_by("finding_id", "-created_at", "-id")
        .values_list("finding_id", "note")
    )
    notes: dict[int, str] = {}
    for finding_id, note in rows:
        notes.setdefault(finding_id, note)
    return notes


def scope_scanned_at(project: Project) -> dict[tuple[str, str, str], Newest]:
    """The newest finished scan of each (tool, category, branch) of ``project``: two
    queries over the few scopes (when, then which report at that time; arrival breaks a
    tie, as in the merge)."""
    done = ReportScope.objects.filter(project=project, report__state=Report.State.DONE)
    times = done.values_list("tool", "category", "branch").annotate(newest=Max("order_at"))
    if not times:
        return {}
    at_newest = Q()
    for tool, category, branch, when in times:
        at_newest |= Q(tool=tool, category=category, branch=branch, order_at=when)
    rows = (
        done.filter(at_newest)
        .values_list("tool", "category", "branch", "order_at")
        .annotate(report=Max("report_id"))
    )
    return {(t, c, b): (when, report) for t, c, b, when, report in rows}


def add_scan_words(cards: list[dict], project: Project) -> None:
    """Each card's ``scan_words`` (see :func:`scan_words`); one query, none without cards."""
    if not cards:
        return
    newest = scope_scanned_at(project)
    # A card has room for where a finding moved; an edit's old and new lines are for its page.
    moved = scan_events(
        (card["pk"] for card in cards if card["scan_change"] == ScanChange.MOVED),
        [ScanChange.MOVED],
    )
    for card in cards:
        scope = (card["tool"], card["category"], card["branch"])
        card["scan_words"] = scan_words(
            card["status"],
            card["scan_change"],
            (card["last_seen_at"], card["last_seen_report_id"]),
            newest.get(scope),
            moved.get(card["pk"], ""),
        )
