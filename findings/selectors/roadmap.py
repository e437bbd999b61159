"""The roadmap's reads: documents' phases with their windows, progress and lateness, the
timeline that draws them, and the sprints documents propose to the sprint planner.

A fixed number of queries whatever the rows shown. The arithmetic (windows, item levels,
tallies, lateness) is :mod:`findings.rules.planning`; the timeline's geometry is
:mod:`findings.rules.charts`.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date

from django.db.models import Count, Prefetch
from django.utils import timezone

from findings.lifecycle import OPEN_LIKE
from findings.models import Document, Finding, Phase, Project, RoadmapItem, Sprint
from findings.rules import charts
from findings.rules import planning as plan

# Progress bars are drawn this wide (SVG units); the page scales them.
BAR_WIDTH = 240


@dataclass
class ItemRow:
    item: RoadmapItem
    level: str
    findings: list[Finding]


@dataclass
class PhaseRow:
    """One phase with its window, each item's level and the tallies of items and findings."""

    phase: Phase
    window: plan.Window | None
    items: list[ItemRow]
    items_tally: plan.Tally
    findings_tally: plan.Tally
    late: bool

    @property
    def tally(self) -> plan.Tally:
        """What the progress bar shows: the items, or the findings when it has no items."""
        return self.items_tally if self.items else self.findings_tally

    @property
    def segments(self) -> list[tuple[str, int, float, float]]:
        return self.tally.segments(BAR_WIDTH)

    @property
    def open_items(self) -> int:
        return self.items_tally.open

    @property
    def due(self) -> date | None:
        return self.window.end if self.window else None


@dataclass
class DocumentPlan:
    """A document's phases, in its order; ``document`` is its newest version."""

    identity: str
    document: Document | None
    report_id: int
    title: str
    date: date
    phases: list[PhaseRow] = field(default_factory=list)

    @property
    def tally(self) -> plan.Tally:
        return sum((row.tally for row in self.phases), plan.Tally())

    @property
    def late(self) -> int:
        return sum(1 for row in self.phases if row.late)


@dataclass
class Roadmap:
    documents: list[DocumentPlan]
    timeline: charts.Timeline | None
    unplanned: list[Document]
    today: date


def _phases(project: Project, kinds: Iterable[str] | None = None) -> list[Phase]:
    """The project's phases with their document, items and the items' findings (3 queries)."""
    phases = Phase.objects.filter(project=project)
    if kinds is not None:
        phases = phases.filter(kind__in=list(kinds))
    findings = Finding.objects.only(
        "number", "title", "status", "phase_id", "sprint_id", "project_id"
    ).order_by("number")
    return list(
        phases.select_related("report__document", "adopted_sprint").prefetch_related(
            Prefetch(
                "items",
                queryset=RoadmapItem.objects.order_by("order", "id").prefetch_related(
                    Prefetch("findings", queryset=findings)
                ),
            )
        )
    )


def _by_document(phases: list[Phase]) -> list[DocumentPlan]:
    """Phases grouped by document, documents by date (then first import), phases in order."""
    plans: dict[str, DocumentPlan] = {}
    for phase in phases:
        if phase.document_identity not in plans:
            document = getattr(phase.report, "document", None)
            plans[phase.document_identity] = DocumentPlan(
                identity=phase.document_identity,
                document=document,
                report_id=phase.report_id,
                title=(document.title if document else "") or phase.report.filename,
                date=(document.date if document and document.date else None)
                or timezone.localdate(phase.report.created_at),
            )
    return sorted(plans.values(), key=lambda p: (p.date, p.report_id))


def _windows(documents: list[DocumentPlan], phases: list[Phase]) -> dict[int, plan.Window | None]:
    by_identity: dict[str, list[Phase]] = defaultdict(list)
    for phase in sorted(phases, key=lambda p: (p.order, p.pk)):
        by_identity[phase.document_identity].append(phase)
    windows: dict[int, plan.Window | None] = {}
    for doc in documents:
        members = by_identity[doc.identity]
        specs = [(p.kind, p.name, p.window) for p in members]
        for phase, window in zip(members, plan.phase_windows(doc.date, specs), strict=True):
            windows[phase.pk] = window
    return windows


def _planned_levels(phases: list[Phase]) -> dict[int, plan.Tally]:
    """Findings planned into each phase (the sprint page's plan), by level: one query."""
    levels: dict[int, list[str | None]] = defaultdict(list)
    rows = (
        Finding.objects.filter(phase__in=phases)
        .values("phase_id", "status")
        .annotate(n=Count("pk"))
        .order_by()
    )
    for row in rows:
        levels[row["phase_id"]].extend([plan.fix_level(row["status"])] * row["n"])
    return {pk: plan.Tally.of(values) for pk, values in levels.items()}


def _phase_row(
    phase: Phase, window: plan.Window | None, planned: plan.Tally, today: date
) -> PhaseRow:
    items, linked = [], {}
    for item in phase.items.all():
        found = list(item.findings.all())
        items.append(ItemRow(item, plan.item_level(item.done, [f.status for f in found]), found))
        # Findings planned into the phase are counted by ``planned`` already.
        linked.update({f.pk: f for f in found if f.phase_id != phase.pk})
    findings = planned + plan.Tally.of(plan.fix_level(f.status) for f in linked.values())
    items_tally = plan.Tally.of(row.level for row in items)
    # Linked findings speak through their items; findings planned into it speak for themselves.
    work_left = items_tally.open + (planned.open if items else findings.open)
    late = plan.is_late(window.end if window else None, today, work_left=work_left)
    return PhaseRow(phase, window, items, items_tally, findings, late)


def roadmap(*, project: Project, today: date | None = None) -> Roadmap:
    """The project's roadmap: each document's phases in its order, with windows, progress
    from the items' own marks and their findings, lateness, and the timeline. Five queries."""
    today = today or timezone.localdate()
    phases = _phases(project)
    documents = _by_document(phases)
    windows = _windows(documents, phases)
    planned = _planned_levels(phases) if phases else {}
    plans = {doc.identity: doc for doc in documents}
    for phase in sorted(phases, key=lambda p: (p.order, p.pk)):
        row = _phase_row(phase, windows[phase.pk], planned.get(phase.pk, plan.Tally()), today)
        plans[phase.document_identity].phases.append(row)
    return Roadmap(
        documents=documents,
        timeline=_timeline(documents, today) if documents else None,
        unplanned=_unplanned(project, set(plans)),
        today=today,
    )


def _unplanned(project: Project, planned: set[str]) -> list[Document]:
    """The newest version of each document that declares no phase (one query)."""
    newest: dict[str, Document] = {}
    for document in (
        Document.objects.filter(project=project)
        .exclude(identity__in=planned)
        .only("identity", "title", "date", "report_id", "created_at")
        .order_by("identity", "-created_at", "-id")
    ):
        newest.setdefault(document.identity, document)
    return sorted(newest.values(), key=lambda d: (d.date or date.max, d.pk))


def _timeline(documents: list[DocumentPlan], today: date) -> charts.Timeline:
    """Each document (a marker at its date), then its phases that have a window."""
    spans = []
    for doc in documents:
        spans.append(charts.Span(doc.title, doc.date, None, heading=True))
        for row in doc.phases:
            if row.window is None:
                continue
            tally = row.tally
            note = f"{tally.claimed_or_better} of {tally.total} done" if tally.total else ""
            if row.late:
                note = f"late · {row.open_items or tally.open} not done"
            spans.append(
                charts.Span(
                    row.phase.name,
                    row.window.start,
                    row.window.end,
                    share=tally.claimed_or_better / tally.total if tally.total else 0.0,
                    late=row.late,
                    note=note,
                )
            )
    return charts.timeline(spans, today)


# --- sprints that documents propose -------------------------------------------------------

OFFERED = (Phase.Kind.SPRINT, Phase.Kind.NEXT_STEPS)


@dataclass
class SprintOffer:
    """A document's sprint or next-steps section, as the sprint it would make."""

    phase: Phase
    document: DocumentPlan
    start: date
    end: date
    findings: list[Finding]
    adopted: Sprint | None

    @property
    def items(self) -> list[RoadmapItem]:
        return list(self.phase.items.all())

    @property
    def to_plan(self) -> list[Finding]:
        """The findings adopting it would plan: still open-like and in no sprint yet."""
        return [f for f in self.findings if f.status in OPEN_LIKE and f.sprint_id is None]

    @property
    def elsewhere(self) -> int:
        """Open-like findings already in another sprint (adopting leaves them there)."""
        return sum(1 for f in self.findings if f.status in OPEN_LIKE and f.sprint_id)


def sprint_offers(*, project: Project, today: date | None = None) -> list[SprintOffer]:
    """The sections documents propose as sprints ("This Sprint", "Next Sprint", next steps)
    that name at least one finding, sprints first, each document's in its order. Three
    queries."""
    today = today or timezone.localdate()
    phases = _phases(project, kinds=OFFERED)
    documents = _by_document(phases)
    windows = _windows(documents, phases)
    offers = []
    for doc in documents:
        mine = [p for p in phases if p.document_identity == doc.identity]
        first = min((w.start for p in mine if (w := windows[p.pk])), default=None)
        for phase in sorted(mine, key=lambda p: (p.order, p.pk)):
            found = {f.pk: f for item in phase.items.all() for f in item.findings.all()}
            if not found:
                continue
            start, end = plan.offer_dates(windows[phase.pk], first, today)
            offers.append(
                SprintOffer(
                    phase,
                    doc,
                    start,
                    end,
                    sorted(found.values(), key=lambda f: f.number),
                    getattr(phase, "adopted_sprint", None),
                )
            )
    return sorted(offers, key=lambda o: o.phase.kind != Phase.Kind.SPRINT)


def offered_phase(*, project: Project, pk: int) -> Phase | None:
    """The project's section ``pk`` when it is one that may be adopted as a sprint."""
    return (
        Phase.objects.filter(project=project, pk=pk, kind__in=OFFERED)
        .select_related("report__document")
        .first()
    )
