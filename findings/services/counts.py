"""What an import did, in numbers: the counts every report keeps (:class:`ImportCounts`), and
what a scan (:class:`ScanCounts`) or a remediation document (:class:`DocumentCounts`) adds."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class ImportCounts:
    """The counts a finished report records (see report_finish); they never change after."""

    total: int = 0
    new: int = 0
    still_open: int = 0
    fixed: int = 0
    regressed: int = 0
    suppressed: int = 0


@dataclass
class ScanCounts(ImportCounts):
    """A scan's counts; ``historic`` are the new findings already gone by the next report of
    their scope (recorded as fixed there); ``moved`` and ``edited`` the known findings found
    under another path or on an edited line (counted as still open, not as new)."""

    historic: int = 0
    moved: int = 0
    edited: int = 0


@dataclass
class DocumentCounts(ImportCounts):
    """What one document version did: a report's counts (see docs/documents.md for what each
    means of a document), then what only documents do."""

    linked: int = 0
    suggested: int = 0
    updated: int = 0
    dropped: int = 0
    phases: int = 0
    items: int = 0
    readings: int = 0
    unparsed: int = 0
    repaired: str = ""
    revision_of: int | None = None
    notes: list[str] = field(default_factory=list)

    def describe(self) -> str:
        """The report note a user reads on the imports page."""
        lines = []
        if not self.total:
            lines.append("no findings found in this document: nothing was claimed")
        else:
            lines.append(
                f"{_n(self.total, 'claim')}: {_n(self.new, 'new finding')}, "
                f"{self.linked} linked to existing findings "
                f"({_n(self.suggested, 'suggested link')} to confirm), "
                f"{self.fixed} moved to claimed fixed (awaiting machine evidence)"
            )
        if self.revision_of:
            lines.append(
                f"revision of report #{self.revision_of}: {_n(self.updated, 'claim')} updated, "
                f"{self.dropped} no longer stated"
            )
        lines.append(
            f"{_n(self.phases, 'phase')} with {_n(self.items, 'item')}, "
            f"{_n(self.readings, 'health reading')}"
        )
        if self.unparsed:
            lines.append(
                f"{_n(self.unparsed, 'passage')} could not be placed: see the document page"
            )
        if self.repaired:
            lines.append(f"mojibake repaired (UTF-8 that was read as {self.repaired})")
        return "\n".join(lines + self.notes)


def _n(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"
