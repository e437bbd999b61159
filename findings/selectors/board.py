"""The status board's reads: its filters, columns of cards, counts and choices.

Every function issues a fixed number of queries whatever the number of rows it returns, and
every list follows an index so that the first cards cost the same at a million findings as at
a hundred. Counts come from the status summary (``StatusCount``) whenever the filters allow,
else they are counted up to a cap and shown as "500+". Cards have the one shape of
:mod:`findings.selectors.cards`.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from django.core.exceptions import EmptyResultSet
from django.db import connection
from django.db.models import Q, QuerySet, Sum, Value
from django.db.models.functions import StrIndex, Upper
from django.db.models.lookups import GreaterThan

from findings.lifecycle import TRIAGED, Status
from findings.models import (
    Finding,
    HealthArea,
    Phase,
    Project,
    RoadmapItem,
    RuleTitle,
    Severity,
    Sprint,
    StatusCount,
)
from findings.selectors.cards import CARD_FIELDS, add_evidence, add_scan_words, cards
from findings.selectors.health import area_finding_ids

BOARD_COLUMNS = [Status.OPEN, Status.REGRESSED, Status.CLAIMED, Status.VERIFIED, Status.SIGNED_OFF]
"""The lifecycle, left to right; regressed sits next to open because it is open work again."""

TRIAGED_COLUMNS = [status for status in Status if status in TRIAGED]
"""The triage ends, behind the board's toggle, in the lifecycle's order."""

COLUMN_CAP = 500
"""Filtered column counts stop here ("500+"): counting further costs without informing."""


TEXT_PAIRS_CAP = 1000
"""Beyond this many matching (rule, title) pairs the text filter reads findings' own texts."""


@dataclass(frozen=True)
class TextMatch:
    """What a text filter matched in :class:`RuleTitle`, as exact values to read findings by.

    A finding matches when its rule id is in ``rules`` (the rule id holds the words), or its
    rule id is in ``title_rules`` and its title in ``titles`` (only the title holds them).
    That product is exact: any finding with such a title has its own pair recorded, so its
    rule is among ``title_rules``.
    """

    rules: tuple[str, ...] = ()
    title_rules: tuple[str, ...] = ()
    titles: tuple[str, ...] = ()
    too_many: bool = False

    @classmethod
    def of(cls, project: Project, q: str) -> TextMatch:
        known = RuleTitle.objects.filter(project=project)
        rules = _rules_matching(project, q)
        if rules is None:
            found = list(
                known.filter(rule_id__icontains=q).values_list("rule_id", flat=True)[
                    : TEXT_PAIRS_CAP + 1
                ]
            )
            if len(found) > TEXT_PAIRS_CAP:  # the list may be cut short: read findings
                return cls(too_many=True)
            rules = set(found)
        if len(rules) > TEXT_PAIRS_CAP:
            return cls(too_many=True)
        # Rows, not distinct values, are capped: the scan then stops at the cap for a common
        # word instead of reading every title a project has (thousands per rule when a tool
        # titles findings by their message). Past the cap the findings' own texts are read.
        pairs = list(
            known.filter(title__icontains=q)
            .exclude(rule_id__in=rules)
            .values_list("rule_id", "title")[: TEXT_PAIRS_CAP + 1]
        )
        if len(pairs) > TEXT_PAIRS_CAP:
            return cls(too_many=True)
        return cls(
            rules=tuple(sorted(rules)),
            title_rules=tuple(sorted({rule for rule, _ in pairs})),
            titles=tuple(sorted({title for _, title in pairs})),
        )

    def condition(self, q: str) -> Q:
        if self.too_many:
            # The words are common (over TEXT_PAIRS_CAP titles hold them), so a board column
            # should walk its index and filter. ``strpos(...) > 0`` rather than ILIKE: the
            # planner prices an unanchored LIKE as matching almost nothing and would read
            # and sort the whole column instead (half a second at a million findings).
            words = Upper(Value(q))
            return Q(_found(Upper("title"), words)) | Q(_found(Upper("rule_id"), words))
        return Q(rule_id__in=self.rules) | Q(rule_id__in=self.title_rules, title__in=self.titles)


def _found(text, words) -> GreaterThan:
    return GreaterThan(StrIndex(text, words), 0)


RULES_CAP = 5000
"""A project with more distinct rule ids than this has its rule ids searched by SQL."""

_RULES_SQL = """
WITH RECURSIVE rules(rule_id) AS (
    SELECT MIN(rule_id) FROM findings_ruletitle WHERE project_id = %s
    UNION ALL
    SELECT (SELECT MIN(rule_id) FROM findings_ruletitle
            WHERE project_id = %s AND rule_id > rules.rule_id)
    FROM rules WHERE rules.rule_id IS NOT NULL
)
SELECT rule_id FROM rules WHERE rule_id IS NOT NULL LIMIT %s
"""


def _rules_matching(project: Project, q: str) -> set[str] | None:
    """The project's rule ids that contain ``q`` (any case), or None when it has too many
    rules to list. Read one rule at a time along the rule-title index (a project has
    hundreds of rules, but may have a million titles), then matched here."""
    with connection.cursor() as cursor:
        cursor.execute(_RULES_SQL, [project.pk, project.pk, RULES_CAP + 1])
        rules = [row[0] for row in cursor.fetchall()]
    if len(rules) > RULES_CAP:
        return None
    words = q.upper()
    return {rule for rule in rules if words in rule.upper()}


@dataclass(frozen=True)
class BoardFilter:
    """The board's filters, as kept in the URL. Ids are those of the project's own rows."""

    severity: str = ""
    tool: str = ""
    path: str = ""
    q: str = ""
    phase: int | None = None
    sprint: int | None = None
    area: int | None = None
    only_ids: tuple[int, ...] | None = None
    """Set by :func:`resolve`: the findings the phase and area filters allow."""
    text: TextMatch | None = None
    """Set by :func:`resolve`: what the words ``q`` match among the project's rule titles."""

    @property
    def narrowed(self) -> bool:
        """Whether the filters go beyond what the status summary can count."""
        return bool(
            self.tool or self.path or self.q or self.phase or self.sprint or self.area is not None
        )


@dataclass
class Column:
    status: Status
    cards: list[dict]
    count: int
    capped: bool
    after: str = ""
    moves: list[dict] = field(default_factory=list)
    """Set by the board view: the moves its cards offer the user looking at it."""

    @property
    def label(self) -> str:
        return self.status.label

    @property
    def more(self) -> bool:
        return bool(self.after)


def filtered_findings(project: Project, filters: BoardFilter) -> QuerySet[Finding]:
    """A project's findings narrowed by the board's filters (any status)."""
    qs = Finding.objects.filter(project=project)
    if filters.severity:
        qs = qs.filter(severity=Severity.from_name(filters.severity))
    if filters.tool:
        qs = qs.filter(tool=filters.tool)
    if filters.path:
        qs = qs.filter(path__startswith=filters.path)
    filters = resolve(project, filters)
    if filters.q:
        assert filters.text is not None  # resolve() looked the words up
        qs = qs.filter(filters.text.condition(filters.q))
    if filters.sprint:
        qs = qs.filter(sprint_id=filters.sprint)
    if filters.only_ids is not None:
        qs = qs.filter(pk__in=filters.only_ids)
    return qs


def resolve(project: Project, filters: BoardFilter) -> BoardFilter:
    """``filters`` with the words looked up and the phase and area filters turned into the
    finding ids they allow.

    Resolve once per page and pass the result on: each column then reuses the answers
    instead of reading the rule titles, the roadmap and the claims again.
    """
    if filters.q and filters.text is None:
        filters = replace(filters, text=TextMatch.of(project, filters.q))
    if filters.only_ids is not None or not (filters.phase or filters.area is not None):
        return filters
    allowed: set[int] | None = None
    if filters.phase:
        allowed = set(phase_finding_ids(project=project, phase_id=filters.phase))
    if filters.area is not None:
        in_area = set(area_finding_ids(project=project, area_id=filters.area))
        allowed = in_area if allowed is None else allowed & in_area
    return replace(filters, only_ids=tuple(sorted(allowed or ())))


def phase_finding_ids(*, project: Project, phase_id: int) -> list[int]:
    """Ids of the findings planned into a phase or linked to one of its roadmap items.

    Read as two index lookups and handed to the column queries as a list: an OR across the
    item join would make every column scan the project's findings.
    """
    planned = Finding.objects.filter(project=project, phase_id=phase_id).values_list(
        "pk", flat=True
    )
    linked = RoadmapItem.findings.through.objects.filter(
        roadmapitem__phase_id=phase_id, roadmapitem__phase__project=project
    ).values_list("finding_id", flat=True)
    return sorted(set(planned) | set(linked))


def _cursor(after: str) -> tuple[int, int] | None:
    """The (severity, number) of the last card shown, from ``"<severity>-<number>"``."""
    try:
        severity, number = (int(part) for part in after.split("-", 1))
    except ValueError:
        return None
    return severity, number


def _column_rows(qs: QuerySet[Finding], after: str, limit: int) -> list[dict]:
    """Up to ``limit`` cards in column order (worst, then newest), after the cursor.

    After a cursor, the rest of its severity and the worse-numbered severities are read as
    two index ranges: one OR across them would make PostgreSQL filter instead of seek.
    """
    ordered = qs.order_by("severity", "-number").values(*CARD_FIELDS)
    cursor = _cursor(after)
    if cursor is None:
        return list(ordered[:limit])
    severity, number = cursor
    rows = list(ordered.filter(severity=severity, number__lt=number)[:limit])
    if len(rows) < limit:
        rows += list(ordered.filter(severity__gt=severity)[: limit - len(rows)])
    return rows


def _capped_count(qs: QuerySet[Finding], *, text: bool) -> int:
    """How many findings a filtered column holds, counted up to ``COLUMN_CAP + 1`` ids.

    With a text filter they are taken in column order: the LIMIT under that ORDER BY lets
    PostgreSQL, which knows from its statistics how common each rule id is, walk the column's
    index and stop early for a common rule, and read the rule index for a rare one.
    """
    return _capped(qs, text=text).count()


def _capped(qs: QuerySet[Finding], *, text: bool) -> QuerySet[Finding, Any]:
    ordered = qs.order_by("severity", "-number") if text else qs.order_by()
    # Severity rather than the id: every column the filters read is in ``finding_filter``,
    # so PostgreSQL counts from the index alone (an index-only scan) without the table.
    return ordered.values("severity")[: COLUMN_CAP + 1]


def board_column(
    *,
    project: Project,
    status: str,
    filters: BoardFilter,
    after: str = "",
    size: int = 12,
    with_evidence: bool = True,
) -> Column:
    """One column of the board: its first ``size`` cards (after a cursor) and its count."""
    qs = filtered_findings(project, filters).filter(status=status)
    rows = _column_rows(qs, after, size + 1)
    column_cards = cards(rows[:size], project)
    if with_evidence:
        add_evidence(column_cards)
        add_scan_words(column_cards, project)
    cursor = (
        f"{column_cards[-1]['severity']}-{column_cards[-1]['number']}" if len(rows) > size else ""
    )
    if filters.narrowed:
        count = _capped_count(qs, text=bool(filters.q))
    else:
        summary = StatusCount.objects.filter(project=project, status=status)
        if filters.severity:
            summary = summary.filter(severity=Severity.from_name(filters.severity))
        count = summary.aggregate(n=Sum("n"))["n"] or 0
    capped = count > COLUMN_CAP
    return Column(Status(status), column_cards, min(count, COLUMN_CAP), capped, cursor)


def board_columns(
    *, project: Project, filters: BoardFilter, triaged: bool = False, size: int = 12
) -> list[Column]:
    """The board's columns in lifecycle order; the triage ends too when ``triaged``.

    Four queries for any number of columns (their first cards, their counts, the assignees,
    the evidence; two more for evidence links and the text filter's words), where asking
    :func:`board_column` once per column would cost three or four each.
    """
    statuses = BOARD_COLUMNS + (TRIAGED_COLUMNS if triaged else [])
    filters = resolve(project, filters)
    qs = filtered_findings(project, filters)
    rows = _first_rows(qs, statuses, size + 1)
    counts = _column_counts(project, qs, statuses, filters)
    shown = cards([row for status in statuses for row in rows[status][:size]], project)
    add_evidence(shown)
    add_scan_words(shown, project)
    columns = []
    for status in statuses:
        column_cards = rows[status][:size]
        cursor = (
            f"{column_cards[-1]['severity']}-{column_cards[-1]['number']}"
            if len(rows[status]) > size
            else ""
        )
        count = counts[status]
        columns.append(
            Column(Status(status), column_cards, min(count, COLUMN_CAP), count > COLUMN_CAP, cursor)
        )
    return columns


def _first_rows(qs: QuerySet[Finding], statuses: list[Status], limit: int) -> dict[str, list]:
    """The first ``limit`` rows of each status's column, in column order: one query (a UNION
    ALL of one index range per status) where the database allows it, else one per status."""
    parts = [
        qs.filter(status=status).order_by("severity", "-number").values(*CARD_FIELDS)[:limit]
        for status in statuses
    ]
    if not connection.features.supports_slicing_ordering_in_compound:
        return {status: list(part) for status, part in zip(statuses, parts, strict=True)}
    found: dict[str, list] = {status: [] for status in statuses}
    for row in parts[0].union(*parts[1:], all=True):
        found[row["status"]].append(row)
    for column in found.values():
        column.sort(key=lambda row: (row["severity"], -row["number"]))
    return found


def _column_counts(
    project: Project, qs: QuerySet[Finding], statuses: list[Status], filters: BoardFilter
) -> dict[str, int]:
    """How many findings each column holds, in one query: from the status summary when the
    filters allow, else each counted up to ``COLUMN_CAP + 1`` (see :func:`_capped_count`)."""
    if not filters.narrowed:
        summary = StatusCount.objects.filter(project=project, status__in=statuses)
        if filters.severity:
            summary = summary.filter(severity=Severity.from_name(filters.severity))
        totals = dict(
            summary.order_by().values("status").annotate(n=Sum("n")).values_list("status", "n")
        )
        return {status: totals.get(status) or 0 for status in statuses}
    counts: dict[str, int] = {status: 0 for status in statuses}
    pieces: list[str] = []
    params: list[Any] = []
    for index, status in enumerate(statuses):
        try:
            sql, part_params = _capped(
                qs.filter(status=status), text=bool(filters.q)
            ).query.sql_with_params()
        except EmptyResultSet:  # the filters allow no finding at all (an empty phase)
            continue
        # The ORM's own SQL with its parameters kept apart, and an integer: nothing from input.
        pieces.append(f"SELECT {index}, COUNT(*) FROM ({sql}) AS capped_{index}")  # noqa: S608
        params.extend(part_params)
    if pieces:
        with connection.cursor() as cursor:
            cursor.execute(" UNION ALL ".join(pieces), params)
            counts.update((statuses[index], n) for index, n in cursor.fetchall())
    return counts


def board_choices(*, project: Project) -> dict:
    """What the board's filter form offers: tools, phases, sprints and health areas."""
    return {
        "tools": project_tools(project=project),
        "phases": list(
            Phase.objects.filter(project=project).order_by("order", "id").values("id", "name")
        ),
        "sprints": list(
            Sprint.objects.filter(project=project).order_by("start", "id").values("id", "name")
        ),
        "areas": list(HealthArea.objects.filter(project=project).values("id", "name")),
    }


# A loose index scan: one index probe per distinct tool, where DISTINCT would read every row
# (a project's rule titles are few, unless a tool titles findings by their message).
_TOOLS_SQL = """
WITH RECURSIVE tools(tool) AS (
    SELECT MIN(tool) FROM findings_ruletitle WHERE project_id = %s
    UNION ALL
    SELECT (SELECT MIN(tool) FROM findings_ruletitle WHERE project_id = %s AND tool > tools.tool)
    FROM tools WHERE tools.tool IS NOT NULL
)
SELECT tool FROM tools WHERE tool IS NOT NULL
"""


def project_tools(*, project: Project) -> list[str]:
    """The tools that reported a project's findings, in order, from its rule titles."""
    with connection.cursor() as cursor:
        cursor.execute(_TOOLS_SQL, [project.pk, project.pk])
        return [row[0] for row in cursor.fetchall()]


def status_matrix(*, project: Project) -> dict:
    """Counts by severity x status, for the board's header table, and ``triaged``: how many
    findings sit behind the triage toggle (one read of the status summary for both)."""
    cells = {
        (row["severity"], row["status"]): row["n"]
        for row in StatusCount.objects.filter(project=project, n__gt=0).values(
            "severity", "status", "n"
        )
    }
    statuses = [s for s in Status if any(cells.get((sev.value, s.value)) for sev in Severity)]
    statuses = statuses or [Status.OPEN]
    return {
        "statuses": statuses,
        "rows": [
            {
                "severity": sev.label,
                "cells": [cells.get((sev.value, s.value), 0) for s in statuses],
                "total": sum(cells.get((sev.value, s.value), 0) for s in Status),
            }
            for sev in Severity
        ],
        "totals": [sum(cells.get((sev.value, s.value), 0) for sev in Severity) for s in statuses],
        "total": sum(cells.values()),
        "triaged": sum(n for (_, status), n in cells.items() if status in TRIAGED),
    }
