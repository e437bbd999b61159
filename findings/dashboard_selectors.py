"""The reads of the dashboard pages: the status board, health panels, the overview.

Every function issues a fixed number of queries whatever the number of rows it returns, and
every list follows an index so that the first cards cost the same at a million findings as at
a hundred. Counts come from the status summary (``StatusCount``) whenever the filters allow,
else they are counted up to a cap and shown as "500+".
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.core.exceptions import ImproperlyConfigured
from django.db import connection
from django.db.models import Count, Q, QuerySet, Sum, Value
from django.db.models.functions import StrIndex, Upper
from django.db.models.lookups import GreaterThan
from django.urls import reverse
from django.utils import timezone

from findings import dashboard_health as health
from findings.dashboard_review import evidence_levels
from findings.lifecycle import OPEN_LIKE, TRIAGED, Status
from findings.models import (
    Claim,
    Event,
    EvidenceLevel,
    Finding,
    FindingLink,
    HealthArea,
    HealthReading,
    Phase,
    Project,
    Report,
    RoadmapItem,
    RuleTitle,
    Severity,
    Sprint,
    StatusCount,
)

BOARD_COLUMNS = [Status.OPEN, Status.REGRESSED, Status.CLAIMED, Status.VERIFIED, Status.SIGNED_OFF]
"""The lifecycle, left to right; regressed sits next to open because it is open work again."""

TRIAGED_COLUMNS = [Status.ACCEPTED_RISK, Status.FALSE_POSITIVE, Status.WONT_FIX, Status.SUPPRESSED]

COLUMN_CAP = 500
"""Filtered column counts stop here ("500+"): counting further costs without informing."""

_CARD_FIELDS = (
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
    "project_id",
    "assignee_id",
)


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

    @property
    def label(self) -> str:
        return self.status.label

    @property
    def more(self) -> bool:
        return bool(self.after)


def _short(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _card(row: dict, key: str, now: datetime, base: str) -> dict:
    # Cards are many per page: their text is cut here, not by template filters, which cost
    # more than the queries at a hundred cards.
    row["key"] = f"{key}-{row['number']}"
    row["url"] = f"{base}{row['number']}/"
    row["title_short"] = _short(row["title"], 110)
    row["path_short"] = _short(row["path"] or "(no file)", 60)
    row["severity_name"] = Severity(row["severity"]).label
    row["age_days"] = max(0, (now - row["first_seen_at"]).days)
    row["evidence"] = EvidenceLevel.UNVERIFIED.value
    return row


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
    ordered = qs.order_by("severity", "-number").values(*_CARD_FIELDS)
    cursor = _cursor(after)
    if cursor is None:
        return list(ordered[:limit])
    severity, number = cursor
    rows = list(ordered.filter(severity=severity, number__lt=number)[:limit])
    if len(rows) < limit:
        rows += list(ordered.filter(severity__gt=severity)[: limit - len(rows)])
    return rows


def _capped(qs: QuerySet[Finding], *, text: bool) -> QuerySet[Finding]:
    """The first ``COLUMN_CAP + 1`` ids of a filtered column, to count.

    With a text filter they are taken in column order: the LIMIT under that ORDER BY lets
    PostgreSQL, which knows from its statistics how common each rule id is, walk the column's
    index and stop early for a common rule, and read the rule index for a rare one.
    """
    ordered = qs.order_by("severity", "-number") if text else qs.order_by()
    return ordered.values("pk")[: COLUMN_CAP + 1]


def _add_evidence(cards: list[dict]) -> None:
    """Each card's checked evidence level, in one query for all of them."""
    levels = evidence_levels(card["pk"] for card in cards)
    for card in cards:
        card["evidence"] = levels.get(card["pk"], card["evidence"])


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
    now = timezone.now()
    # One reverse for the column; each card's link is that prefix and its number.
    base = reverse("findings:detail", args=[project.key, 1])[: -len("1/")]
    cards = [_card(row, project.key, now, base) for row in rows[:size]]
    add_assignees(cards)
    if with_evidence:
        _add_evidence(cards)
    cursor = f"{cards[-1]['severity']}-{cards[-1]['number']}" if len(rows) > size else ""
    if filters.narrowed:
        count = _capped(qs, text=bool(filters.q)).count()
    else:
        summary = StatusCount.objects.filter(project=project, status=status)
        if filters.severity:
            summary = summary.filter(severity=Severity.from_name(filters.severity))
        count = summary.aggregate(n=Sum("n"))["n"] or 0
    capped = count > COLUMN_CAP
    return Column(Status(status), cards, min(count, COLUMN_CAP), capped, cursor)


def board_columns(
    *, project: Project, filters: BoardFilter, triaged: bool = False, size: int = 12
) -> list[Column]:
    """The board's columns in lifecycle order; the triage ends too when ``triaged``."""
    statuses = BOARD_COLUMNS + (TRIAGED_COLUMNS if triaged else [])
    filters = resolve(project, filters)
    columns = [
        board_column(
            project=project, status=status, filters=filters, size=size, with_evidence=False
        )
        for status in statuses
    ]
    _add_evidence([card for column in columns for card in column.cards])
    return columns


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


def triaged_count(*, project: Project) -> int:
    """How many findings sit behind the triage toggle (from the status summary)."""
    summary = StatusCount.objects.filter(project=project, status__in=TRIAGED)
    return summary.aggregate(n=Sum("n"))["n"] or 0


# --- health ---------------------------------------------------------------------------------


def _claim_rows(projects) -> list[dict]:
    """Live claims with the text that ties them to areas and the findings they speak for."""
    claims = list(
        Claim.objects.filter(project__in=projects, dropped=False).values(
            "id",
            "project_id",
            "title",
            "problem",
            "impact",
            "fix",
            "section",
            "files",
            "finding_id",
            "finding__status",
            "finding__severity",
        )
    )
    linked = defaultdict(list)
    for link in FindingLink.objects.filter(
        claim__project__in=projects, claim__dropped=False, state=FindingLink.State.CONFIRMED
    ).values("claim_id", "finding_id", "finding__status", "finding__severity"):
        linked[link["claim_id"]].append(link)
    rows = []
    for claim in claims:
        text = " ".join(
            [claim["title"], claim["problem"], claim["impact"], claim["fix"]]
            + [str(part) for part in claim["section"] or []]
            + [str(ref.get("path") or "") for ref in claim["files"] or []]
        )
        findings = [(claim["finding_id"], claim["finding__status"], claim["finding__severity"])]
        findings += [
            (link["finding_id"], link["finding__status"], link["finding__severity"])
            for link in linked[claim["id"]]
        ]
        rows.append(
            {"project_id": claim["project_id"], "words": health.words(text), "findings": findings}
        )
    return rows


def area_finding_ids(*, project: Project, area_id: int) -> list[int]:
    """Ids of the findings that belong to one health area (see ``dashboard_health``)."""
    area = HealthArea.objects.filter(project=project, pk=area_id).first()
    if area is None:
        return []
    vocabulary = health.area_words(area.name)
    return sorted(
        {
            finding_id
            for row in _claim_rows([project.pk])
            if health.belongs(row["words"], vocabulary)
            for finding_id, _, _ in row["findings"]
        }
    )


@dataclass
class HealthPanel:
    area: HealthArea
    declared: str | None
    declared_raw: str
    declared_on: date | None
    implied: str
    open_by_severity: dict[str, int]
    trend: list[tuple[date | None, str]] = field(default_factory=list)

    @property
    def disagrees(self) -> bool:
        return health.disagrees(self.declared, self.implied)

    @property
    def open_summary(self) -> str:
        """Open findings tied to the area, as "2 critical, 1 high open", or a "none" sentence."""
        parts = [f"{n} {name}" for name, n in self.open_by_severity.items() if n]
        return f"{', '.join(parts)} open" if parts else "no open findings tied to it"

    @property
    def trend_levels(self) -> list[int]:
        """The declared trend as numbers, healthy (0) to at risk (2); unknown readings left out."""
        return [
            level
            for _, status in self.trend
            if (level := health.declared_level(status)) is not None
        ]


def health_panels(*, projects) -> dict[int, list[HealthPanel]]:
    """Per project id, one panel per health area: declared vs implied status and the trend.

    Three queries whatever the number of areas, readings and claims.
    """
    areas = list(HealthArea.objects.filter(project__in=projects).order_by("project_id", "name"))
    readings = defaultdict(list)
    for reading in (
        HealthReading.objects.filter(area__in=areas)
        .order_by("date", "id")
        .values("area_id", "status", "raw", "date")
    ):
        readings[reading["area_id"]].append(reading)
    claims = _claim_rows(projects) if areas else []
    panels: dict[int, list[HealthPanel]] = defaultdict(list)
    for area in areas:
        vocabulary = health.area_words(area.name)
        seen: dict[int, int] = {}
        for row in claims:
            if row["project_id"] == area.project_id and health.belongs(row["words"], vocabulary):
                for finding_id, status, severity in row["findings"]:
                    if status in OPEN_LIKE:
                        seen[finding_id] = severity
        by_severity = {sev.label: 0 for sev in Severity}
        for severity in seen.values():
            by_severity[Severity(severity).label] += 1
        history = readings[area.pk]
        latest = history[-1] if history else None
        panels[area.project_id].append(
            HealthPanel(
                area=area,
                declared=latest["status"] if latest else None,
                declared_raw=latest["raw"] if latest else "",
                declared_on=latest["date"] if latest else None,
                implied=health.implied_status(seen.values()),
                open_by_severity=by_severity,
                trend=[(reading["date"], reading["status"]) for reading in history],
            )
        )
    return dict(panels)


# --- overview -------------------------------------------------------------------------------

DEFAULT_SLA_DAYS = "critical=7,high=30,medium=90,low=180"


def sla_days() -> dict[int, int]:
    """Days an open finding may stay open, per severity, from ``AUDITDASH_SLA_DAYS``.

    The setting reads ``"critical=7,high=30,medium=90,low=180"``; a severity it leaves out has
    no SLA. Raises ImproperlyConfigured naming the setting and the bad part otherwise.
    """
    raw = str(getattr(settings, "AUDITDASH_SLA_DAYS", DEFAULT_SLA_DAYS) or "")
    days: dict[int, int] = {}
    for part in filter(None, (piece.strip() for piece in raw.split(","))):
        name, _, value = part.partition("=")
        try:
            days[Severity.from_name(name.strip().lower())] = int(value)
        except (KeyError, ValueError):
            raise ImproperlyConfigured(
                f"AUDITDASH_SLA_DAYS: {part!r} is not <severity>=<days> "
                f"(severities: {', '.join(Severity.labels)})"
            ) from None
        if days[Severity.from_name(name.strip().lower())] < 0:
            raise ImproperlyConfigured(f"AUDITDASH_SLA_DAYS: {part!r} has negative days")
    return days


def sla_breaches(*, projects, now: datetime | None = None) -> dict[int, dict[str, int]]:
    """Per project id, open-like findings older than their severity's SLA, by severity.

    Counting them reads every open finding (a second at a million), so the answer is cached
    per hour until the projects change: a new import or audit-log entry changes the key.
    """
    now = now or timezone.now()
    ids = sorted(Project.objects.filter(pk__in=projects).values_list("pk", flat=True))
    latest_event = Event.objects.filter(project__in=ids).order_by("-id").values("id")[:1]
    latest_report = Report.objects.filter(project__in=ids).order_by("-id").values("id")[:1]
    key = "auditdash:sla:{}:{}:{}:{}:{}".format(
        hash(tuple(ids)),
        latest_event[0]["id"] if latest_event else 0,
        latest_report[0]["id"] if latest_report else 0,
        now.strftime("%Y%m%d%H"),
        getattr(settings, "AUDITDASH_SLA_DAYS", DEFAULT_SLA_DAYS),
    )
    cached = cache.get(key)
    if cached is None:
        cached = _sla_breaches(ids, now)
        cache.set(key, cached, 3600)
    return cached


def _sla_breaches(ids: list[int], now: datetime) -> dict[int, dict[str, int]]:
    limits = sla_days()
    if not limits:
        return {}
    late = Q()
    for severity, days in limits.items():
        late |= Q(severity=severity, first_seen_at__lt=now - timedelta(days=days))
    result: dict[int, dict[str, int]] = defaultdict(dict)
    for row in (
        Finding.objects.filter(project__in=ids, status__in=OPEN_LIKE)
        .filter(late)
        .values("project_id", "severity")
        .annotate(n=Count("pk"))
        .order_by()
    ):
        result[row["project_id"]][Severity(row["severity"]).label] = row["n"]
    return dict(result)


def recent_changes(*, projects, days: int = 7, now: datetime | None = None) -> dict[int, dict]:
    """Per project id, new, fixed and regressed findings of the last ``days`` days.

    From the counts finished imports recorded, plus hand-made sign-offs from the audit log;
    both tables are small next to the findings.
    """
    since = (now or timezone.now()) - timedelta(days=days)
    result: dict[int, dict] = defaultdict(
        lambda: {"new": 0, "fixed": 0, "regressed": 0, "signed_off": 0}
    )
    for row in (
        Report.objects.filter(project__in=projects, state=Report.State.DONE, finished_at__gte=since)
        .values("project_id")
        .annotate(new=Sum("new"), fixed=Sum("fixed"), regressed=Sum("regressed"))
        .order_by()
    ):
        result[row["project_id"]].update(
            new=row["new"] or 0, fixed=row["fixed"] or 0, regressed=row["regressed"] or 0
        )
    for row in (
        Event.objects.filter(project__in=projects, action="sign_off", created_at__gte=since)
        .values("project_id")
        .annotate(n=Count("pk"))
        .order_by()
    ):
        result[row["project_id"]]["signed_off"] = row["n"]
    return dict(result)
