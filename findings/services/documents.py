"""Remediation documents as data: claims on findings, links to what scans found, planning and
declared health. The rules (identity, scores, counts) are explained in docs/documents.md.

The extraction arrives as the JSON-ready dict ``scanners.documents`` produces
(``Extraction.to_dict()``), so this package never imports the scanners app.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from findings import lifecycle
from findings.lifecycle import Status
from findings.models import (
    Claim,
    Document,
    Event,
    Finding,
    FindingLink,
    Project,
    Report,
    Severity,
)
from findings.services.counts import DocumentCounts
from findings.services.document_matching import (
    DOCUMENT_TOOL,
    LINK_THRESHOLD,
    SPEAK_THRESHOLD,
    candidates_for,
    clean_path,
    document_identity,
    speaks_for,
    unique_keys,
)
from findings.services.document_planning import DocumentPlanning, parse_date
from findings.services.findings import finding_transition
from findings.services.projects import status_count_move, status_counts_refresh

__all__ = [
    "LINK_THRESHOLD",
    "DocumentCounts",
    "LinkError",
    "claim_link_confirm",
    "claim_link_undo",
    "document_record",
]


class LinkError(ValueError):
    """A link decision that cannot be made, with the reason a user should read."""


# --- recording a document ------------------------------------------------------------------


def _event(
    project: Project, action: str, *, report=None, finding=None, actor=None, **values: str
) -> None:
    Event.objects.create(
        project=project,
        report=report,
        finding=finding,
        actor=actor,
        action=action,
        before=str(values.get("before", ""))[:200],
        after=str(values.get("after", ""))[:200],
        note=str(values.get("note", ""))[:2000],
        created_at=timezone.now(),
    )


def _seen_at(document: Document) -> datetime:
    """When a document says its findings were known: its own date (never later than now)."""
    now = timezone.now()
    if document.date is None:
        return now
    at = datetime.combine(document.date, datetime.min.time(), tzinfo=UTC)
    return min(at, now)


def _first_range(files: list[Mapping[str, Any]]) -> tuple[str, int | None, int | None]:
    for ref in files:
        path = clean_path(ref.get("path"))
        if path:
            lines = ref.get("lines") or []
            if lines:
                return path, int(lines[0][0]), int(lines[0][1])
            return path, None, None
    return "", None, None


def _stated_severity(data: Mapping[str, Any]) -> int | None:
    name = data.get("severity")
    return Severity.from_name(name) if name in Severity.labels else None


def _own_fingerprint(identity: str, claim_key: str, path: str) -> str:
    digest = hashlib.sha256(f"{identity}\n{claim_key}\n{path}".encode()).hexdigest()
    return f"doc:{digest}"


def _own_finding(
    *, claim: Claim, document: Document, report: Report, actor
) -> tuple[Finding, bool]:
    """The claim's own document finding, found by fingerprint or created with the next number.

    Severity is the one the document states; with none stated it is recorded as info and
    marked ``extra.severity_stated = false`` (the model has no "unknown" severity).
    """
    path, start, end = _first_range(claim.files)
    fingerprint = _own_fingerprint(claim.document_identity, claim.claim_key, path)
    existing = Finding.objects.filter(project=claim.project, fingerprint=fingerprint).first()
    if existing is not None:
        return existing, False
    project = Project.objects.select_for_update().get(pk=claim.project_id)
    Project.objects.filter(pk=project.pk).update(next_number=F("next_number") + 1)
    at = _seen_at(document)
    finding = Finding.objects.create(
        project=project,
        number=project.next_number,
        fingerprint=fingerprint,
        tool=DOCUMENT_TOOL,
        rule_id=claim.ref[:300],
        title=claim.title[:500],
        message="\n\n".join(t for t in (claim.problem, claim.impact) if t)[:20000],
        severity=claim.severity or Severity.INFO,
        path=path[:1000],
        start_line=start,
        end_line=end,
        extra={
            "document": claim.document_identity,
            "claim_key": claim.claim_key,
            "severity_stated": claim.severity is not None,
        },
        status=Status.OPEN,
        status_changed_at=timezone.now(),
        first_seen_report=report,
        last_seen_report=report,
        first_seen_at=at,
        last_seen_at=at,
    )
    status_count_move(
        project_id=project.pk, severity=finding.severity, before="", after=finding.status
    )
    _event(
        project,
        "finding_created",
        report=report,
        finding=finding,
        actor=actor,
        after=Status.OPEN,
        note=f"from {document.title or report.filename}",
    )
    return finding, True


def _speaks_for(finding: Finding):
    """Claims that speak for a finding: it is theirs, or they link to it and nobody undid it.
    A weak suggestion (below ``SPEAK_THRESHOLD``: lines of a wide range that meet it by chance)
    speaks only once a person confirms it."""
    return Claim.objects.filter(
        Q(finding=finding)
        | Q(links__finding=finding, links__state=FindingLink.State.CONFIRMED)
        | Q(
            links__finding=finding,
            links__state=FindingLink.State.SUGGESTED,
            links__score__gte=SPEAK_THRESHOLD,
        ),
        dropped=False,
    ).distinct()


_LIVE_LINKS = (FindingLink.State.SUGGESTED, FindingLink.State.CONFIRMED)


def _settle(finding: Finding, *, report: Report, actor, label: str) -> bool:
    """Move a finding as its claims say; True when it moved to ``claimed``.

    A live "fixed" claim moves an open or regressed finding to ``claimed`` (never further:
    only machine evidence verifies). When no live claim says fixed any more and the finding
    is still ``claimed`` by a document, it goes back to ``open``.
    """
    finding.refresh_from_db(fields=["status"])
    if _speaks_for(finding).filter(status=Claim.Status.FIXED).exists():
        try:
            after = lifecycle.next_state(finding.status, lifecycle.Event.CLAIM)
        except lifecycle.IllegalTransition:
            return False  # triaged findings keep their triage; the claim is still recorded
        if after == finding.status:
            return False
        finding_transition(
            finding=finding,
            event=lifecycle.Event.CLAIM,
            actor=actor,
            reason=f"claimed fixed in {label}",
            report=report,
        )
        return True
    if finding.status == Status.CLAIMED:
        last = finding.events.filter(action=lifecycle.Event.CLAIM).order_by("-id").first()
        if last is not None and last.report_id:
            by_document = Report.objects.filter(
                pk=last.report_id, kind=Report.Kind.DOCUMENT
            ).exists()
            if by_document:
                finding_transition(
                    finding=finding,
                    event=lifecycle.Event.REJECT,
                    actor=actor,
                    reason=f"no document claims it fixed any more ({label})",
                    report=report,
                )
    return False


_CLAIM_FIELDS = (
    "title",
    "status",
    "severity",
    "files",
    "commits",
    "before",
    "after",
    "problem",
    "impact",
    "fix",
    "evidence",
)


def _claim_file(ref: Mapping[str, Any]) -> dict[str, Any]:
    """A claimed file as stored: ``approximate`` (the ranges written "~406") only when the
    document gave some, so claims stored before it existed read the same."""
    out = {"path": clean_path(ref.get("path")) or None, "lines": ref.get("lines") or []}
    if ref.get("approximate"):
        out["approximate"] = ref["approximate"]
    return out


def _claim_values(data: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "key": (data.get("key") or "")[:20],
        "ref": (data.get("ref") or "")[:50],
        "title": (data.get("title") or "Untitled finding")[:500],
        "status": data.get("status") if data.get("status") in Claim.Status.values else "identified",
        "severity": _stated_severity(data),
        "severity_raw": (data.get("severity_raw") or "")[:200],
        "files": [_claim_file(f) for f in data.get("files") or []],
        "commits": list(data.get("commits") or []),
        "before": list(data.get("before") or []),
        "after": list(data.get("after") or []) or _shown_code(data),
        "problem": data.get("problem") or "",
        "impact": data.get("impact") or "",
        "fix": data.get("fix") or "",
        "evidence": list(data.get("evidence") or []),
        "section": list(data.get("section") or []),
        "line": int(data.get("line") or 0),
    }


def _shown_code(data: Mapping[str, Any]) -> list[str]:
    """The code a claim of a finished fix quotes without calling it BEFORE or AFTER (nor
    putting it under the problem): what the document shows as the code now, checked as AFTER
    code. Nothing for open claims, or when the claim gives BEFORE code."""
    if data.get("status") not in (Claim.Status.FIXED, Claim.Status.PARTIALLY_FIXED):
        return []
    if data.get("before"):
        return []
    return [str(code) for code in data.get("code") or [] if str(code).strip()]


def document_record(
    *, project: Project, report: Report, extraction: Mapping[str, Any], text: str, user
) -> DocumentCounts:
    """Record one document version: its facts, a claim per finding, planning and health.

    Atomic. ``extraction`` is ``Extraction.to_dict()``. Each document finding updates the
    claim of the same title in an earlier version of the same document (see
    :func:`document_identity`), or becomes a new claim: linked to existing findings that score
    at least ``LINK_THRESHOLD`` (suggested links), else on a new finding of tool "document".
    Fixed claims move their findings to ``claimed``; every change appends an Event.
    """
    with transaction.atomic():
        project = Project.objects.select_for_update().get(pk=project.pk)
        facts = extraction.get("document") or {}
        identity = document_identity(title=facts.get("title"), filename=report.filename)
        previous = (
            Document.objects.filter(project=project, identity=identity)
            .exclude(report=report)
            .order_by("-created_at", "-id")
            .first()
        )
        document = Document.objects.create(
            report=report,
            project=project,
            identity=identity,
            title=(facts.get("title") or "")[:500],
            date=parse_date(facts.get("date")),
            date_raw=(facts.get("date_raw") or "")[:100],
            author=(facts.get("author") or "")[:300],
            repository=(facts.get("repository") or "")[:1000],
            status_line=facts.get("status") or "",
            commits=list(facts.get("commits") or []),
            headline_claims=list(facts.get("headline_claims") or []),
            facts=list(facts.get("facts") or []),
            encoding_repair=(facts.get("encoding_repair") or "")[:20],
            text=text,
            unparsed=list(extraction.get("unparsed") or []),
        )
        counts = DocumentCounts(
            unparsed=len(document.unparsed),
            repaired=document.encoding_repair,
            revision_of=previous.report_id if previous else None,
        )
        label = document.title or report.filename
        _event(
            project,
            "document_recorded",
            report=report,
            actor=user,
            after=identity,
            note=f"revision of report #{previous.report_id}" if previous else "first version",
        )
        recorder = Recorder(project, report, document, user, label, counts)
        by_key = recorder.claims(list(extraction.get("findings") or []))
        planning = DocumentPlanning(recorder)
        planning.phases(list(extraction.get("phases") or []), by_key)
        planning.health(list(extraction.get("health") or []))
        # A revision may change the stated severity of its own findings: recount once.
        status_counts_refresh(project_id=project.pk)
    return counts


class Recorder:
    """The steps of :func:`document_record`, sharing its project, report and counts."""

    def __init__(self, project, report, document, user, label, counts: DocumentCounts) -> None:
        self.project = project
        self.report = report
        self.document = document
        self.identity = document.identity
        self.user = user
        self.label = label
        self.counts = counts

    def event(self, action: str, **kwargs) -> None:
        _event(self.project, action, report=self.report, actor=self.user, **kwargs)

    def claims(self, findings: list[Mapping[str, Any]]) -> dict[str, Finding]:
        """Record every document finding; returns the extractor key -> the claim's finding."""
        keys = unique_keys(f.get("title") or "" for f in findings)
        existing = {
            c.claim_key: c
            for c in Claim.objects.filter(project=self.project, document_identity=self.identity)
        }
        touched: set[Finding] = set()
        fresh: set[int] = set()
        by_key: dict[str, Finding] = {}
        self.counts.total = len(findings)
        for data, claim_key in zip(findings, keys, strict=True):
            claim = existing.get(claim_key)
            if claim is None:
                claim, created = self._new_claim(data, claim_key)
                if created:
                    fresh.add(claim.finding_id)
            else:
                self._update_claim(claim, data)
            touched.update(self._link(claim, data))
            touched.add(claim.finding)
            by_key[data.get("key") or ""] = claim.finding
        seen = set(keys)
        for claim_key, claim in existing.items():
            if claim_key not in seen and not claim.dropped:
                claim.dropped = True
                claim.save(update_fields=["dropped", "updated_at"])
                self.counts.dropped += 1
                self.event(
                    "claim_dropped",
                    finding=claim.finding,
                    before=claim.status,
                    note=f"{claim.title}: no longer in {self.label}",
                )
                touched.add(claim.finding)
                touched.update(link.finding for link in claim.links.filter(state__in=_LIVE_LINKS))
        for finding in sorted(touched, key=lambda f: f.pk):
            if _settle(finding, report=self.report, actor=self.user, label=self.label):
                self.counts.fixed += 1
        self._count(set(by_key.values()), fresh)
        return by_key

    def _count(self, findings: set[Finding], fresh: set[int]) -> None:
        claims = Claim.objects.filter(report=self.report, dropped=False)
        live = FindingLink.objects.filter(claim__in=claims, state__in=_LIVE_LINKS)
        self.counts.new = len(fresh)
        self.counts.linked = claims.filter(links__state__in=_LIVE_LINKS).distinct().count()
        self.counts.suggested = live.filter(state=FindingLink.State.SUGGESTED).count()
        spoken = {f.pk for f in findings} | set(live.values_list("finding_id", flat=True))
        self.counts.still_open = Finding.objects.filter(
            pk__in=spoken - fresh, status__in=lifecycle.OPEN_LIKE
        ).count()

    def _new_claim(self, data: Mapping[str, Any], claim_key: str) -> tuple[Claim, bool]:
        values = _claim_values(data)
        candidates = candidates_for(
            project=self.project, data=data, identity=self.identity, exclude=set()
        )
        claim = Claim(
            project=self.project,
            report=self.report,
            first_report=self.report,
            document_identity=self.identity,
            claim_key=claim_key,
            **values,
        )
        created = False
        best = speaks_for(candidates)
        if best is not None:
            claim.finding = best.finding
        else:
            claim.finding, created = _own_finding(
                claim=claim, document=self.document, report=self.report, actor=self.user
            )
        claim.save()
        self.event(
            "claim_recorded",
            finding=claim.finding,
            after=claim.status,
            note=f"{claim.title} — {claim.get_status_display().lower()} in {self.label}",
        )
        return claim, created

    def _update_claim(self, claim: Claim, data: Mapping[str, Any]) -> None:
        values = _claim_values(data)
        changed = [name for name in _CLAIM_FIELDS if getattr(claim, name) != values[name]]
        before = claim.status
        for name, value in values.items():
            setattr(claim, name, value)
        restated = claim.dropped
        claim.report = self.report
        claim.dropped = False
        claim.save()
        if changed or restated:
            self.counts.updated += 1
            self.event(
                "claim_updated",
                finding=claim.finding,
                before=before,
                after=claim.status,
                note=f"{claim.title}: {', '.join(changed) or 'stated again'} in {self.label}",
            )
        own = claim.finding
        if own.tool == DOCUMENT_TOOL and (own.extra or {}).get("document") == self.identity:
            path, start, end = _first_range(claim.files)
            own.title = claim.title[:500]
            own.message = "\n\n".join(t for t in (claim.problem, claim.impact) if t)[:20000]
            if claim.severity:
                own.severity = claim.severity
                own.extra = {**(own.extra or {}), "severity_stated": True}
            own.path, own.start_line, own.end_line = path[:1000], start, end
            own.last_seen_report = self.report
            own.last_seen_at = max(own.last_seen_at, _seen_at(self.document))
            own.save()

    def _link(self, claim: Claim, data: Mapping[str, Any]) -> list[Finding]:
        """Suggest links to candidates not linked before (an undone pair is never suggested)."""
        known = set(claim.links.values_list("finding_id", flat=True)) | {claim.finding_id}
        own = claim.finding
        linked = []
        candidates = candidates_for(
            project=self.project, data=data, identity=self.identity, exclude=known - {own.pk}
        )
        for candidate in candidates:
            if candidate.finding.pk in known and candidate.finding.pk != own.pk:
                continue
            if claim.links.filter(finding=candidate.finding).exists():
                continue
            FindingLink.objects.create(
                claim=claim,
                finding=candidate.finding,
                score=candidate.score,
                reason=candidate.reason,
            )
            linked.append(candidate.finding)
            self.event(
                "link_suggested",
                finding=candidate.finding,
                after=f"score {candidate.score}",
                note=f"{claim.title} ({self.label}): {candidate.reason}",
            )
        return linked


# --- a person's decision on a link ---------------------------------------------------------


def claim_link_confirm(*, link: FindingLink, user) -> FindingLink:
    """Confirm a suggested link. Confirming twice changes nothing; an undone link stays undone."""
    with transaction.atomic():
        link = FindingLink.objects.select_for_update().select_related("claim").get(pk=link.pk)
        if link.state == FindingLink.State.CONFIRMED:
            return link
        if link.state == FindingLink.State.UNDONE:
            raise LinkError("this link was undone; it cannot be confirmed again")
        before = link.state
        link.state = FindingLink.State.CONFIRMED
        link.decided_by = user
        link.decided_at = timezone.now()
        link.save(update_fields=["state", "decided_by", "decided_at"])
        _event(
            link.claim.project,
            "link_confirmed",
            report=link.claim.report,
            finding=link.finding,
            actor=user,
            before=before,
            after=link.state,
            note=f"{link.claim.title}: {link.reason} (score {link.score})",
        )
    return link


def claim_link_undo(*, link: FindingLink, user) -> FindingLink:
    """Undo a link: the claim stops speaking for that finding, and the pair is never suggested
    again.

    When the undone finding was the claim's own, the claim moves to its best remaining live
    link, else to a document finding of its own (found by the fingerprint it would have had,
    else created). Both findings are settled again: a ``claimed`` status that only this claim
    gave goes back to ``open``.
    """
    with transaction.atomic():
        link = (
            FindingLink.objects.select_for_update()
            .select_related("claim", "claim__report", "finding")
            .get(pk=link.pk)
        )
        if link.state == FindingLink.State.UNDONE:
            return link
        claim = Claim.objects.select_for_update().get(pk=link.claim_id)
        before = link.state
        link.state = FindingLink.State.UNDONE
        link.decided_by = user
        link.decided_at = timezone.now()
        link.save(update_fields=["state", "decided_by", "decided_at"])
        report = claim.report
        label = getattr(getattr(report, "document", None), "title", "") or report.filename
        _event(
            claim.project,
            "link_undone",
            report=report,
            finding=link.finding,
            actor=user,
            before=before,
            after=link.state,
            note=f"{claim.title}: {link.reason} (score {link.score})",
        )
        if claim.finding_id == link.finding_id:
            following = claim.links.filter(state__in=_LIVE_LINKS).order_by("-score", "id").first()
            if following is not None:
                target = following.finding
            else:
                target, _ = _own_finding(
                    claim=claim, document=report.document, report=report, actor=user
                )
            old = link.finding
            claim.finding = target
            claim.save(update_fields=["finding", "updated_at"])
            _event(
                claim.project,
                "claim_moved",
                report=report,
                finding=target,
                actor=user,
                before=old.key,
                after=target.key,
                note=f"{claim.title}: the link to {old.key} was undone",
            )
            _settle(target, report=report, actor=user, label=label)
        _settle(link.finding, report=report, actor=user, label=label)
    return link
