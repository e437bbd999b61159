"""Fetching a linked repository: new commits read in, then regressions looked for.

Above both :mod:`findings.services.repositories` (linking, reading commits) and
:mod:`findings.services.evidence` (which reads the repository through the former): a fetch
uses each, and neither needs this module.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

from django.utils import timezone

from findings.models import Project, Repository
from findings.services.evidence import regressions_check
from findings.services.repositories import (
    RepositoryError,
    SyncSummary,
    allowed_roots,
    git_timeout,
    repository_sync_commits,
)
from scanners import git

log = logging.getLogger(__name__)


@dataclass
class FetchSummary:
    """What a fetch (or, for a local repository, a re-read) found."""

    project: str
    ok: bool
    message: str
    head_sha: str = ""
    head_moved: bool = False
    sync: SyncSummary = field(default_factory=SyncSummary)
    regressed: list[str] = field(default_factory=list)


def repository_fetch(*, project: Project) -> FetchSummary:
    """Bring the project's repository up to date: fetch a clone (a local repository is read
    as it is), record the result and the branch head, read new commits in and, when the head
    moved, look for regressions of verified fixes. Never raises for git failures: they are
    recorded on the Repository and returned with ``ok`` False."""
    repository = Repository.objects.filter(project=project).first()
    if repository is None:
        raise RepositoryError(f"project {project.key} has no linked repository")
    message = "read in place"
    ok = True
    if repository.kind == Repository.Kind.CLONE:
        try:
            result = git.fetch(
                Path(repository.path), timeout=git_timeout(), allowed_local_roots=allowed_roots()
            )
        except git.GitError as error:
            ok, message = False, error.plain
            log.warning("fetch of %s failed: %s", project.key, error)
        else:
            message = _describe_fetch(result)
    head_sha = ""
    if ok:
        try:
            handle = git.open_repo(repository.path, timeout=git_timeout())
            head = git.resolve(handle, repository.branch)
        except git.GitError as error:
            ok, message = False, error.plain
            log.warning("fetch of %s failed: %s", project.key, error)
        else:
            if head.outcome is git.ResolveOutcome.FOUND and head.sha:
                head_sha = head.sha
            else:
                ok, message = False, f"branch {repository.branch}: {head.reason}"
    moved = bool(head_sha) and head_sha != repository.head_sha
    Repository.objects.filter(pk=repository.pk).update(
        fetched_at=timezone.now(),
        fetch_ok=ok,
        fetch_message=message[:2000],
        **({"head_sha": head_sha} if head_sha else {}),
    )
    summary = FetchSummary(project.key, ok, message, head_sha, moved)
    if ok:
        summary.sync = repository_sync_commits(project=project, handle=handle)
        if moved:
            summary.regressed = regressions_check(project=project)
    return summary


def _describe_fetch(result: git.FetchResult) -> str:
    if not result.changes:
        return "up to date"
    parts = []
    for change in result.changes:
        name = change.ref.removeprefix("refs/heads/").removeprefix("refs/tags/")
        if not change.new:
            parts.append(f"{name} deleted")
        elif not change.old:
            parts.append(f"{name} created at {change.new[:12]}")
        elif change.forced:
            parts.append(f"{name} force-pushed {change.old[:12]} -> {change.new[:12]}")
        else:
            parts.append(f"{name} {change.old[:12]} -> {change.new[:12]}")
    return "; ".join(parts)
