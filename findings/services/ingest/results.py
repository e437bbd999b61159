"""What a caller says about a report (:class:`Options`) and what its import did
(:class:`IngestResult`, built by :func:`ingest_result` only)."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass

from findings.models import Report
from scanners.files import IngestError

Progress = Callable[[float], None]
"""Hears the share of a report read so far, from 0 to 1."""


@dataclass
class IngestResult:
    report: int
    project: str
    tool: str
    format: str
    commit: str
    new: int
    still_open: int
    fixed: int
    regressed: int
    suppressed: int
    seconds: float
    duplicate: bool = False
    note: str = ""

    def as_dict(self) -> dict:
        return asdict(self)


WHOLE_TREE = "."
"""``Options.only`` for a scan of the whole tree (a scan auditdash ran on a checkout)."""


@dataclass
class Options:
    """What a caller may say about a report beyond its bytes."""

    commit: str = ""
    branch: str = ""
    root: str = ""
    format: str = ""
    # The paths (directories or files) the scan covered, one a line, when it covered only
    # part of the tree (a path filter): findings elsewhere are not scanned, kept open.
    # WHOLE_TREE says the scan covered everything; "" leaves it to the report (the directory
    # all its scanned files sit under).
    only: str = ""
    # A root given by a person is kept for later reports; a temporary checkout's is not.
    remember_root: bool = True

    def as_dict(self) -> dict:
        return {k: v for k, v in asdict(self).items() if v and k != "remember_root"}


def ingest_result(report: Report, *, duplicate_since: float | None = None) -> IngestResult:
    """What the import of ``report`` did, read from the finished report (its counts, time
    and note as ``report_finish`` recorded them).

    With ``duplicate_since`` (the ``time.perf_counter()`` when the import began), ``report``
    is the earlier import of the same bytes: nothing changed, every count is 0.
    """
    duplicate = duplicate_since is not None
    if duplicate_since is not None:
        counts = (0, 0, 0, 0, 0)
        seconds = time.perf_counter() - duplicate_since
        note = f"already imported as report #{report.pk}: nothing changed"
    else:
        counts = (report.new, report.still_open, report.fixed, report.regressed, report.suppressed)
        seconds, note = report.seconds, report.note
    new, still_open, fixed, regressed, suppressed = counts
    return IngestResult(
        report=report.pk,
        project=report.project.key,
        tool=report.tool,
        format=report.format,
        commit=report.commit,
        new=new,
        still_open=still_open,
        fixed=fixed,
        regressed=regressed,
        suppressed=suppressed,
        seconds=round(seconds, 3),
        duplicate=duplicate,
        note=note,
    )


def lost_race(project_key: str, sha: str, started: float, name: str = "") -> IngestResult:
    """After a unique-constraint failure: the same bytes were imported by a concurrent import.

    When that import is not over (an upload queued or running), an :class:`IngestError` says
    so. Must be called from an ``except IntegrityError`` block: any other integrity error is
    re-raised.
    """
    same = Report.objects.filter(project__key=project_key, sha256=sha)
    existing = same.filter(state=Report.State.DONE).first()
    if existing is not None:
        return ingest_result(existing, duplicate_since=started)
    pending = same.exclude(state=Report.State.FAILED).order_by("pk").first()
    if pending is None:
        raise  # the IntegrityError being handled: not a lost race
    raise IngestError(
        f"{name or 'report'}: these exact bytes are being imported already as report "
        f"#{pending.pk} ({pending.state}, {pending.progress}%); nothing changed. Once it "
        "is done they are imported; should it fail, import the file again."
    ) from None
