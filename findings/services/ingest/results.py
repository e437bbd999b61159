"""What a caller says about a report (:class:`Options`) and what its import did
(:class:`IngestResult`, built by :func:`ingest_result` only)."""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Sequence
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

MAX_ONLY_PATHS = 100
"""At most this many paths may name the part of the tree a partial scan covered."""
MAX_ONLY_PATH_LENGTH = 1000
"""At most this many characters in one of them (as a finding's path)."""
_DRIVE = re.compile(r"^[A-Za-z]:[\\/]")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def only_paths(paths: Sequence[str]) -> str:
    """The paths a partial scan covered, as ``Options.only`` keeps them (one a line): each
    relative to the repository's root, with '/' between its parts and no trailing '/';
    blank entries and repeats dropped. Raises ValueError with a message for the person who
    typed them: an absolute path or one with '..' cannot be compared with findings' paths,
    which are relative to the root and inside it."""
    kept: list[str] = []
    for raw in paths:
        path = raw.strip().replace("\\", "/")
        if not path:
            continue
        shown = path if len(path) <= 60 else path[:59] + "…"
        if _CONTROL.search(path):
            raise ValueError(f"{shown!r}: a path may not hold control characters")
        if len(path) > MAX_ONLY_PATH_LENGTH:
            raise ValueError(f"{shown!r}: at most {MAX_ONLY_PATH_LENGTH} characters a path")
        if path.startswith("/") or _DRIVE.match(path):
            raise ValueError(
                f"{shown!r} is absolute: give it relative to the repository root, e.g. src/api"
            )
        parts = [part for part in path.split("/") if part not in ("", ".")]
        if ".." in parts:
            raise ValueError(f"{shown!r} goes up with '..': name a path inside the repository")
        path = "/".join(parts) or WHOLE_TREE
        if path not in kept:
            kept.append(path)
    if WHOLE_TREE in kept:
        return WHOLE_TREE
    if len(kept) > MAX_ONLY_PATHS:
        raise ValueError(
            f"{len(kept)} paths: at most {MAX_ONLY_PATHS}; name their common directories instead"
        )
    return "\n".join(kept)


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
