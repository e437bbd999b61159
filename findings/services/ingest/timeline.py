"""Where a report sits in time, and the code it speaks of, read from the linked repository.

Reports arrive out of order: they are placed by the scanned commit's date, else the date the
report states, else their arrival. Reports without snippets read the flagged lines from the
repository at the report's commit.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from django.utils import timezone
from django.utils.dateparse import parse_datetime

from findings.models import Project
from scanners import git
from scanners.base import ReportMeta

Order = tuple[datetime, str]
"""A report's place in time and where it came from: "commit", "report" or "arrival"."""


def repository(project: Project | None) -> git.Repository | None:
    """The project's linked repository through the hardened git layer, or None."""
    if not (project and project.repo_path):
        return None
    try:
        return git.open_repo(project.repo_path)
    except git.GitError:
        return None


def commit_time(project: Project | None, commit: str) -> datetime | None:
    repo = repository(project) if commit else None
    if repo is None:
        return None
    try:
        return git.commit_info(repo, commit).committed_at
    except git.GitError:
        return None


def file_reader(project: Project | None, commit: str) -> Callable[[str], str | None] | None:
    """Reads a repo-relative file at the report's commit, for reports without snippets."""
    repo = repository(project) if commit else None
    if repo is None:
        return None

    def read(relative: str) -> str | None:
        try:
            return git.file_at(repo, commit, relative)
        except git.GitError:
            return None

    return read


def order_key(project: Project | None, commit: str, meta: ReportMeta) -> Order:
    """When the scanned code was current: the commit's date, else the report's, else now."""
    if when := commit_time(project, commit):
        return when, "commit"
    if meta.generated_at:
        parsed = parse_datetime(meta.generated_at.replace("Z", "+00:00"))
        if parsed is not None:
            if timezone.is_naive(parsed):
                parsed = timezone.make_aware(parsed, UTC)
            return parsed, "report"
    return timezone.now(), "arrival"
