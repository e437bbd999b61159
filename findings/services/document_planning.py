"""A document's planning and declared health: phases, roadmap items and health readings."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any, Protocol

from findings.models import (
    Document,
    Finding,
    HealthArea,
    HealthReading,
    Phase,
    Project,
    Report,
    RoadmapItem,
)
from findings.services.document_matching import normalise_text, unique_keys


class PlanningCounts(Protocol):
    """The tallies a document's planning adds to (``DocumentCounts`` has them)."""

    phases: int
    items: int
    readings: int


class Recording(Protocol):
    """What the planning steps need of the document being recorded: the recorder in
    :mod:`findings.services.documents` is one. A protocol, so that this module depends on
    nothing of that one and the import goes one way (documents -> document_planning)."""

    # Read-only members: a recorder may hold a richer counts object (``DocumentCounts``).
    @property
    def project(self) -> Project: ...

    @property
    def report(self) -> Report: ...

    @property
    def document(self) -> Document: ...

    @property
    def identity(self) -> str: ...

    @property
    def label(self) -> str: ...

    @property
    def counts(self) -> PlanningCounts: ...

    def event(self, action: str, **kwargs: Any) -> None: ...


def parse_date(value: str | None) -> date | None:
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None


class DocumentPlanning:
    """Phases, their items and health readings of one document version.

    A revised version updates the phases, items and readings of the earlier one by name;
    what it no longer states is removed (the Events keep that it was there).
    """

    def __init__(self, recorder: Recording) -> None:
        self.r = recorder

    def phases(self, phases: list[Mapping[str, Any]], by_key: dict[str, Finding]) -> None:
        r = self.r
        keys = unique_keys(p.get("name") or "" for p in phases)
        existing = {
            p.phase_key: p
            for p in Phase.objects.filter(project=r.project, document_identity=r.identity)
        }
        for order, (data, phase_key) in enumerate(zip(phases, keys, strict=True)):
            values = {
                "name": (data.get("name") or "Untitled")[:300],
                "window": (data.get("window") or "")[:100],
                "kind": data.get("kind") if data.get("kind") in Phase.Kind.values else "phase",
                "order": order,
                "report": r.report,
                "section": list(data.get("section") or []),
                "line": int(data.get("line") or 0),
            }
            phase = existing.get(phase_key)
            if phase is None:
                phase = Phase.objects.create(
                    project=r.project, document_identity=r.identity, phase_key=phase_key, **values
                )
                r.event("phase_recorded", after=phase.kind, note=f"{phase.name} ({r.label})")
            else:
                for name, value in values.items():
                    setattr(phase, name, value)
                phase.save()
            r.counts.phases += 1
            self._items(phase, list(data.get("items") or []), by_key)
        for phase_key, phase in existing.items():
            if phase_key not in keys:
                r.event("phase_dropped", before=phase.kind, note=f"{phase.name}: not in {r.label}")
                phase.delete()

    def _items(
        self, phase: Phase, items: list[Mapping[str, Any]], by_key: dict[str, Finding]
    ) -> None:
        keys = unique_keys(i.get("text") or "" for i in items)
        existing = {i.item_key: i for i in phase.items.all()}
        for order, (data, item_key) in enumerate(zip(items, keys, strict=True)):
            item = existing.get(item_key) or RoadmapItem(phase=phase, item_key=item_key)
            was_done = item.done if item.pk else None
            item.text = data.get("text") or ""
            item.done = data.get("done")
            item.details = list(data.get("details") or [])
            item.order = order
            item.line = int(data.get("line") or 0)
            item.save()
            if item.done != was_done and item.done is not None:
                self.r.event(
                    "item_done" if item.done else "item_not_done",
                    before="" if was_done is None else str(was_done),
                    after=str(item.done),
                    note=f"{phase.name}: {item.text[:300]}",
                )
            item.findings.set(
                {by_key[ref] for ref in data.get("finding_refs") or [] if ref in by_key}
            )
            self.r.counts.items += 1
        for item_key, item in existing.items():
            if item_key not in keys:
                item.delete()

    def health(self, readings: list[Mapping[str, Any]]) -> None:
        """Each area's reading now, then what the document says it was before its fixes and
        what it projects. A before or projected reading joins an area the document (or an
        earlier one) reads now; alone it names no area of the system today."""
        r = self.r
        kept: set[int] = set()
        ordered = sorted(readings, key=lambda data: (data.get("when") or "current") != "current")
        for data in ordered:
            name = (data.get("area") or "").strip()[:200]
            when = data.get("when") or "current"
            if not name or when not in ("before", "current", "projected"):
                continue
            key = normalise_text(name)[:200]
            if when == "current":
                area, created = HealthArea.objects.get_or_create(
                    project=r.project, area_key=key, defaults={"name": name}
                )
                if created:
                    r.event("health_area_created", after=name)
            else:
                found = HealthArea.objects.filter(project=r.project, area_key=key).first()
                if found is None:
                    continue
                area = found
            kept.add(self._reading(area, when, data))
        HealthReading.objects.filter(area__project=r.project, document_identity=r.identity).exclude(
            pk__in=kept
        ).delete()

    def _reading(self, area: HealthArea, when: str, data: Mapping[str, Any]) -> int:
        """Store one reading of ``area`` at ``when``; a changed state today is an Event."""
        r = self.r
        reading = HealthReading.objects.filter(
            area=area, document_identity=r.identity, when=when
        ).first()
        before = reading.status if reading else ""
        reading = reading or HealthReading(area=area, document_identity=r.identity, when=when)
        reading.status = (data.get("status") or "unknown")[:20]
        reading.raw = data.get("raw") or ""
        reading.notes = list(data.get("notes") or [])
        reading.score = str(data.get("score") or "")[:40]
        reading.date = parse_date(data.get("date")) or r.document.date
        reading.report = r.report
        reading.line = int(data.get("line") or 0)
        reading.save()
        r.counts.readings += 1
        if when == "current" and before != reading.status:
            r.event(
                "health_recorded",
                before=before,
                after=reading.status,
                note=f"{area.name}: {reading.raw[:300]} ({r.label})",
            )
        return reading.pk
