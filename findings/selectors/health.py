"""The health panels' reads: each health area's declared status, what its open findings imply,
and the trend. The rule tying findings to areas is :mod:`findings.rules.health`; here its
plain rows are read, in a fixed number of queries whatever the areas, readings and claims.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date

from findings.lifecycle import OPEN_LIKE
from findings.models import (
    Claim,
    Document,
    FindingLink,
    HealthArea,
    HealthReading,
    Project,
    Severity,
)
from findings.rules import health as rules


def _claim_rows(projects) -> list[dict]:
    """Live claims with the text that ties them to areas, the document they come from, and
    the findings they speak for."""
    claims = list(
        Claim.objects.filter(project__in=projects, dropped=False).values(
            "id",
            "project_id",
            "document_identity",
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
            {
                "project_id": claim["project_id"],
                "document": claim["document_identity"],
                "words": rules.words(text),
                "findings": findings,
            }
        )
    return rows


def _in_area(row: dict, area: HealthArea, documents: set[str], vocabulary: frozenset) -> bool:
    """A claim speaks for an area when it comes from a document that reads the area and its
    words are the area's: another document's claims say nothing of this document's areas."""
    return (
        row["project_id"] == area.project_id
        and row["document"] in documents
        and rules.belongs(row["words"], vocabulary)
    )


def area_finding_ids(*, project: Project, area_id: int) -> list[int]:
    """Ids of the findings that belong to one health area (see :mod:`findings.rules.health`):
    the findings of claims, in the documents that read the area, that name it."""
    area = HealthArea.objects.filter(project=project, pk=area_id).first()
    if area is None:
        return []
    vocabulary = rules.area_words(area.name)
    documents = set(area.readings.values_list("document_identity", flat=True))
    return sorted(
        {
            finding_id
            for row in _claim_rows([project.pk])
            if _in_area(row, area, documents, vocabulary)
            for finding_id, _, _ in row["findings"]
        }
    )


def note_parts(note: str) -> dict:
    """A reading's note as the panel shows it: "Timeouts: Partially addressed" is a sub-area
    and its words; any other note is words alone."""
    name, colon, text = note.partition(":")
    if colon and text.strip() and 0 < len(name.strip()) <= 40 and "http" not in name:
        return {"name": name.strip(" *`"), "text": text.strip()}
    return {"name": "", "text": note.strip()}


@dataclass
class HealthPanel:
    area: HealthArea
    declared: str | None
    declared_raw: str
    declared_on: date | None
    implied: str
    open_by_severity: dict[str, int]
    trend: list[tuple[date | None, str]] = field(default_factory=list)
    # What the newest document says the area was before its fixes, and what it projects:
    # {"status": ..., "raw": ..., "score": ...}, or None when it does not say.
    before: dict | None = None
    projected: dict | None = None
    score: str = ""
    notes: list[dict] = field(default_factory=list)
    documents: int = 0
    """How many documents read the area: its findings come from their claims only."""
    document: str = ""
    """The identity of the document whose reading is the newest."""
    subareas: list[HealthPanel] = field(default_factory=list)
    """Areas named "<this area> / <part>", shown inside this panel."""

    @property
    def open_count(self) -> int:
        return sum(self.open_by_severity.values())

    @property
    def disagrees(self) -> bool:
        return rules.disagrees(self.declared, self.implied)

    @property
    def open_summary(self) -> str:
        """Open findings tied to the area, as "2 critical, 1 high open", or a "none" sentence."""
        parts = [f"{n} {name}" for name, n in self.open_by_severity.items() if n]
        return f"{', '.join(parts)} open" if parts else "no open findings tied to it"

    @property
    def trend_levels(self) -> list[int]:
        """The declared trend as numbers, healthy (0) to at risk (2); unknown readings left out."""
        return [
            level for _, status in self.trend if (level := rules.declared_level(status)) is not None
        ]


def health_panels(*, projects) -> dict[int, list[HealthPanel]]:
    """Per project id, one panel per health area: declared vs implied status, the trend of
    what documents declared now, the newest document's before and projected states, and the
    areas named "<area> / <part>" as its sub-areas.

    Three queries whatever the number of areas, readings and claims.
    """
    areas = list(HealthArea.objects.filter(project__in=projects).order_by("project_id", "name"))
    readings: dict[int, list[dict]] = defaultdict(list)
    documents: dict[int, set[str]] = defaultdict(set)
    moments: dict[tuple[int, str, str], dict] = {}
    for reading in (
        HealthReading.objects.filter(area__in=areas)
        .order_by("date", "id")
        .values("area_id", "status", "raw", "score", "notes", "date", "when", "document_identity")
    ):
        documents[reading["area_id"]].add(reading["document_identity"])
        if reading["when"] == "current":
            readings[reading["area_id"]].append(dict(reading))
        else:
            key = (reading["area_id"], reading["document_identity"], reading["when"])
            moments[key] = {k: reading[k] for k in ("status", "raw", "score")}
    claims = _claim_rows(projects) if areas else []
    panels: dict[int, list[HealthPanel]] = defaultdict(list)
    for area in areas:
        panel = _panel(area, readings[area.pk], documents[area.pk], moments, claims)
        panels[area.project_id].append(panel)
    return {project_id: _nest(found) for project_id, found in panels.items()}


def _panel(
    area: HealthArea, history: list[dict], documents: set[str], moments: dict, claims: list[dict]
) -> HealthPanel:
    vocabulary = rules.area_words(area.name)
    seen: dict[int, int] = {}
    for row in claims:
        if _in_area(row, area, documents, vocabulary):
            for finding_id, status, severity in row["findings"]:
                if status in OPEN_LIKE:
                    seen[finding_id] = severity
    by_severity = {sev.label: 0 for sev in Severity}
    for severity in seen.values():
        by_severity[Severity(severity).label] += 1
    latest = history[-1] if history else None
    identity = latest["document_identity"] if latest else None
    return HealthPanel(
        area=area,
        declared=latest["status"] if latest else None,
        declared_raw=latest["raw"] if latest else "",
        declared_on=latest["date"] if latest else None,
        implied=rules.implied_status(seen.values()),
        open_by_severity=by_severity,
        trend=[(reading["date"], reading["status"]) for reading in history],
        before=_moment(moments, area.pk, identity, "before"),
        projected=_moment(moments, area.pk, identity, "projected"),
        score=latest["score"] if latest else "",
        notes=[note_parts(str(note)) for note in (latest["notes"] if latest else [])][:12],
        documents=len(documents),
        document=identity or "",
    )


def _nest(panels: list[HealthPanel]) -> list[HealthPanel]:
    """Panels in name order, each "<area> / <part>" inside the panel of <area> when there is
    one (a document that reads "Security" and "Security / API Keys" reads one area and its
    parts)."""
    by_name = {panel.area.name.casefold(): panel for panel in panels}
    top = []
    for panel in panels:
        parent, slash, _ = panel.area.name.rpartition(" / ")
        holder = by_name.get(parent.casefold()) if slash else None
        if holder is not None and holder is not panel:
            holder.subareas.append(panel)
        else:
            top.append(panel)
    return top


GLANCE_ROWS = 8
"""Areas the overview lists by name; the rest are counted, one click from the health page."""


@dataclass
class Glance:
    """A project's health in a few lines: how many areas, which need attention first."""

    total: int
    attention: list[HealthPanel]
    more: int
    disagreements: int
    quiet: int
    """Areas that both the document and the findings call healthy."""


def health_glance(panels: list[HealthPanel]) -> Glance:
    """The areas that need attention, worst first: a document or the open findings say at
    risk or degraded, or the two disagree. Sub-areas count as areas."""
    every = [p for panel in panels for p in (panel, *panel.subareas)]

    def worst(panel: HealthPanel) -> int:
        declared = rules.declared_level(panel.declared or "") or 0
        return max(declared, rules.LEVELS[panel.implied])

    attention = [p for p in every if worst(p) > 0 or p.disagrees]
    attention.sort(key=lambda p: (-worst(p), not p.disagrees, p.area.name))
    return Glance(
        total=len(every),
        attention=attention[:GLANCE_ROWS],
        more=max(0, len(attention) - GLANCE_ROWS),
        disagreements=sum(1 for p in every if p.disagrees),
        quiet=len(every) - len(attention),
    )


@dataclass
class HealthGroup:
    """The areas whose newest reading comes from one document, as that document has them."""

    title: str
    date: date | None
    report_id: int | None
    panels: list[HealthPanel]


def health_groups(panels: list[HealthPanel], *, project: Project) -> list[HealthGroup]:
    """A project's panels grouped by the document that read them last, newest document first:
    a manager reads one document's verdicts together, as the document wrote them. One query."""
    by_document: dict[str, list[HealthPanel]] = defaultdict(list)
    for panel in panels:
        by_document[panel.document].append(panel)
    newest: dict[str, dict] = {}
    for row in (
        Document.objects.filter(project=project, identity__in=list(by_document))
        .order_by("identity", "-created_at", "-id")
        .values("identity", "title", "date", "report_id", "report__filename")
    ):
        newest.setdefault(row["identity"], dict(row))
    groups = [
        HealthGroup(
            title=(newest.get(identity) or {}).get("title")
            or (newest.get(identity) or {}).get("report__filename")
            or "areas with no reading yet",
            date=(newest.get(identity) or {}).get("date"),
            report_id=(newest.get(identity) or {}).get("report_id"),
            panels=found,
        )
        for identity, found in by_document.items()
    ]
    groups.sort(key=lambda group: (group.date is None, -(group.date or date.min).toordinal()))
    return groups


def _moment(moments: dict, area_id: int, identity: str | None, when: str) -> dict | None:
    """The newest document's reading of the area at ``when`` (before, projected), or None."""
    return moments.get((area_id, identity, when)) if identity else None
