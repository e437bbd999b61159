"""The extraction of one remediation document, as plain dataclasses.

``Extraction.to_dict()`` is exactly the JSON that ``manage.py extract DOC --json`` prints.
Line numbers are 1-based lines of the decoded document (CRLF counts as one line break).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(slots=True)
class FileRef:
    """A file a finding names, with the line ranges it claims there (``[[66, 66], [115, 125]]``).

    ``path`` is None when the document gives line numbers but no file they belong to.
    ``approximate`` repeats the ranges of ``lines`` the document gave only roughly ("~406",
    "around line 406"); the JSON leaves it out when there are none, so ``lines`` reads as
    before and older stored claims need no change.
    """

    path: str | None
    lines: list[list[int]] = field(default_factory=list)
    approximate: list[list[int]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"path": self.path, "lines": self.lines}
        if self.approximate:
            out["approximate"] = self.approximate
        return out


@dataclass(slots=True)
class Note:
    """Labelled text attached to a finding that is not problem, impact or fix."""

    label: str
    text: str


@dataclass(slots=True)
class Finding:
    """One fix or issue the document describes, with what it claims about it."""

    key: str
    ref: str | None
    title: str
    severity: str | None
    severity_raw: str | None
    severity_source: str | None
    status: str
    status_source: str
    files: list[FileRef]
    commits: list[str]
    problem: str
    impact: str
    fix: str
    before: list[str]
    after: list[str]
    code: list[str]
    evidence: list[str]
    notes: list[Note]
    section: list[str]
    line: int


@dataclass(slots=True)
class PhaseItem:
    """One planned or checked item; ``done`` is its checkbox or ✅ state, None when unstated."""

    text: str
    done: bool | None
    finding_refs: list[str]
    details: list[str]
    line: int


@dataclass(slots=True)
class Phase:
    """A roadmap phase, sprint, next-steps list or checklist with its items."""

    name: str
    window: str | None
    kind: str
    items: list[PhaseItem]
    section: list[str]
    line: int


@dataclass(slots=True)
class HealthReading:
    """A declared state of one system area ("Server Performance: ⚠️ AT RISK")."""

    area: str
    status: str
    raw: str
    date: str | None
    notes: list[str]
    line: int
    when: str = "current"  # before | current | projected
    score: str | None = None  # "35/100", "6.5/10", "80%" where the reading gives one


@dataclass(slots=True)
class Unparsed:
    """Text the extractor could not place, kept so that nothing is silently dropped."""

    line: int
    text: str
    section: list[str]


@dataclass(slots=True)
class Fact:
    """A labelled document fact that has no dedicated key ("Compilation: ✅ ...")."""

    label: str
    value: str
    line: int


@dataclass(slots=True)
class DocumentFacts:
    """What the document says about itself."""

    title: str | None
    date: str | None
    date_raw: str | None
    author: str | None
    repository: str | None
    status: str | None
    commits: list[str]
    headline_claims: list[str]
    files: list[FileRef]
    facts: list[Fact]
    repaired: bool
    encoding_repair: str | None


@dataclass(slots=True)
class Extraction:
    """Everything read from one document. ``accounted`` holds the line numbers placed."""

    source: str
    document: DocumentFacts
    findings: list[Finding]
    phases: list[Phase]
    health: list[HealthReading]
    unparsed: list[Unparsed]
    accounted: frozenset[int] = frozenset()

    def to_dict(self) -> dict[str, Any]:
        """The JSON-ready extraction: document, findings, phases, health and unparsed."""
        return {
            "document": {**asdict(self.document), "files": _files(self.document.files)},
            "findings": [{**asdict(f), "files": _files(f.files)} for f in self.findings],
            "phases": [asdict(p) for p in self.phases],
            "health": [asdict(h) for h in self.health],
            "unparsed": [asdict(u) for u in self.unparsed],
        }


def _files(refs: list[FileRef]) -> list[dict[str, Any]]:
    return [ref.to_dict() for ref in refs]
