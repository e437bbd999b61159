"""Linking a project to its git repository, fetching it, and reading its commits in.

A project links either a local repository under a folder an administrator allowed
(``AUDITDASH_REPO_ROOTS``, colon-separated, default the data folder), read in place, or a
clone URL that auditdash clones (bare) into ``DATA_DIR/repos/<project key>`` and fetches on
demand and on the beat schedule. Every git call goes through the hardened engine in
``scanners.git`` (validated remotes, no hooks, time limits); this module only decides what
to store. ``Project.repo_path`` and ``Project.default_branch`` mirror the link, because the
ingestion pipeline and the scanners read them.

Fetching (and looking for regressions afterwards) is in :mod:`findings.services.fetching`.

Commits are read incrementally: each sync reads the commits of the branch that are not
reachable from the tip read last time, stores them, and links the findings their messages
cite ("Fixes LILY-42").
"""

from __future__ import annotations

import shutil
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from findings import lifecycle
from findings.lifecycle import Status
from findings.models import Commit, CommitLink, Event, Finding, Project, Repository
from findings.services.findings import finding_transition
from scanners import git
from scanners.git.command import git_read

_COMMIT_BATCH = 1000
_NOTE_COMMITS = 5
"""How many commits read in part a read note names one by one."""


class RepositoryError(ValueError):
    """A link, fetch or read that cannot be done; the message says what and why.

    ``plain`` is the same in words for a page (no server path, no git output); it is the
    message itself unless git's failure is behind it (see :class:`scanners.git.GitError`).
    """

    def __init__(self, message: str, *, plain: str = "") -> None:
        super().__init__(message)
        self.plain = plain or message


@dataclass
class SyncSummary:
    """What a commit sync read: commits stored, findings newly linked and claimed, and
    (``read_note``) the commits git could read only in part."""

    commits: int = 0
    links: int = 0
    claimed: int = 0
    notes: list[str] = field(default_factory=list)
    read_note: str = ""


def allowed_roots() -> list[Path]:
    """The folders local repositories may be linked from (``AUDITDASH_REPO_ROOTS``)."""
    raw = getattr(settings, "AUDITDASH_REPO_ROOTS", "") or str(settings.DATA_DIR)
    return [Path(part).resolve() for part in str(raw).split(":") if part.strip()]


def git_timeout() -> float:
    """Seconds one git call may take (``AUDITDASH_GIT_TIMEOUT``, default the engine's)."""
    return float(getattr(settings, "AUDITDASH_GIT_TIMEOUT", git.DEFAULT_TIMEOUT))


def clone_folder(project: Project) -> Path:
    """Where auditdash keeps its clone of ``project``'s repository."""
    return Path(settings.DATA_DIR) / "repos" / project.key


def repository_link(*, project: Project, target: str, branch: str = "", actor=None) -> Repository:
    """Link ``project`` to the repository at ``target`` (an absolute local path under an
    allowed root, or a clone URL) and read its commits in.

    Local paths are read in place; URLs (``https://``, ``ssh://``, ``user@host:path``,
    ``file://`` under an allowed root) are cloned bare into :func:`clone_folder`, or fetched
    when that clone already has the same origin. ``branch`` defaults to the repository's
    own HEAD branch. Raises :class:`RepositoryError` for a refused URL or path, a failed
    clone, a branch the repository does not have, or a history git cannot list; nothing is
    stored then (a previous link stays). A commit whose changed files need an object git
    cannot read is stored as far as it can be read, and ``Repository.read_note`` names it.
    """
    target = target.strip()
    roots = allowed_roots()
    try:
        remote = git.validate_remote(target, allowed_local_roots=roots)
    except git.GitError as error:
        raise RepositoryError(str(error)) from None
    if target.startswith("/"):
        kind, url, path = Repository.Kind.LOCAL, "", Path(remote)
        try:
            handle = git.open_repo(path, timeout=git_timeout())
        except git.GitError as error:
            raise RepositoryError(str(error)) from None
    else:
        kind, url = Repository.Kind.CLONE, target
        handle = _clone_or_fetch(project, target, roots)
        path = handle.git_dir
    branch = branch.strip() or _head_branch(handle) or project.default_branch
    try:
        head = git.resolve(handle, branch)
    except git.GitError as error:
        raise RepositoryError(f"branch {branch!r}: {error}") from None
    if head.outcome is not git.ResolveOutcome.FOUND or not head.sha:
        raise RepositoryError(
            f"{_shown(url or str(path))} has no branch {branch!r}: {head.reason}"
            f" (branches: {', '.join(_branches(handle)) or 'none'})"
        )
    now = timezone.now()
    # One transaction for the link and the read: a link whose commits cannot be read is
    # not stored, and a previous link stays as it was.
    with transaction.atomic():
        previous = Repository.objects.filter(project=project).first()
        same = previous is not None and (previous.url, previous.path) == (url, str(path))
        repository, _ = Repository.objects.update_or_create(
            project=project,
            defaults={
                "kind": kind,
                "url": url,
                "path": str(path),
                "branch": branch,
                "head_sha": head.sha,
                # A different repository's commits say nothing about this one's history.
                "commits_read_to": previous.commits_read_to if same and previous else "",
                "fetched_at": now if kind == Repository.Kind.CLONE else None,
                "fetch_ok": True if kind == Repository.Kind.CLONE else None,
                "fetch_message": "cloned" if kind == Repository.Kind.CLONE else "",
                "linked_by": actor,
                "linked_at": now,
            },
        )
        Project.objects.filter(pk=project.pk).update(repo_path=str(path), default_branch=branch)
        project.repo_path, project.default_branch = str(path), branch
        summary = repository_sync_commits(project=project, handle=handle)
        read = f"; {summary.read_note}" if summary.read_note else ""
        Event.objects.create(
            project=project,
            actor=actor,
            action="repository_linked",
            before=(previous.url or previous.path)[:200] if previous else "",
            after=(url or str(path))[:200],
            note=f"branch {branch}, head {head.sha[:12]}{read}"[:2000],
            created_at=now,
        )
    repository.refresh_from_db()
    return repository


def repository_open(project: Project) -> git.Repository:
    """The project's linked repository opened for reading; RepositoryError when unlinked or
    unreadable."""
    path = _linked_path(project)
    if not path:
        raise RepositoryError(f"project {project.key} has no linked repository")
    try:
        return git.open_repo(path, timeout=git_timeout())
    except git.GitError as error:
        raise RepositoryError(str(error), plain=error.plain) from None


def repository_branch(project: Project) -> str:
    repository = Repository.objects.filter(project=project).first()
    return repository.branch if repository else project.default_branch


def repository_sync_commits(
    *, project: Project, handle: git.Repository | None = None
) -> SyncSummary:
    """Store the branch's commits not stored yet (incrementally from the tip read last time)
    and link the findings their messages cite.

    A citing verb that closes (fixes, closes, resolves) moves an open or regressed finding to
    ``claimed`` when the commit is newer than the finding's last status change: a commit
    cannot claim a fix of a problem that was reopened after it.
    """
    repository = Repository.objects.filter(project=project).first()
    if repository is None:
        raise RepositoryError(f"project {project.key} has no linked repository")
    handle = handle or repository_open(project)
    summary = SyncSummary()
    unreadable: list[git.Unreadable] = []
    try:
        tip = git.require_commit(handle, repository.branch)
        since = repository.commits_read_to or None
        if since and git.resolve(handle, since).outcome is not git.ResolveOutcome.FOUND:
            since = None
        batch: list[git.CommitInfo] = []
        commits = git.iter_commits(handle, branch=tip, since_sha=since, unreadable=unreadable)
        for info in commits:
            batch.append(info)
            if len(batch) >= _COMMIT_BATCH:
                _store_commits(project, batch, summary)
                batch = []
        _store_commits(project, batch, summary)
    except git.GitError as error:
        raise RepositoryError(str(error), plain=_unreadable_plain(error)) from None
    summary.read_note = _read_note(unreadable)
    # A read of new commits only keeps what an earlier read could not read.
    kept = {} if since and not summary.read_note else {"read_note": summary.read_note}
    Repository.objects.filter(pk=repository.pk).update(commits_read_to=tip, head_sha=tip, **kept)
    return summary


def _read_note(unreadable: list[git.Unreadable]) -> str:
    """The commits read only in part, in words; "" when every commit was read whole."""
    if not unreadable:
        return ""
    shown = "; ".join(u.plain for u in unreadable[:_NOTE_COMMITS])
    more = len(unreadable) - _NOTE_COMMITS
    tail = f"; and {more} more" if more > 0 else ""
    count = len(unreadable)
    return f"{count} commit{'s' if count != 1 else ''} read in part: {shown}{tail}"


def _unreadable_plain(error: git.GitError) -> str:
    """Words for a page about a read that failed: which object git could not read when
    that is why, else the error's own plain words."""
    damage = git.unreadable_object(error)
    if damage is None:
        return error.plain
    obj, problem = damage
    what = f"object {obj[:12]}" if obj else "an object"
    why = "is missing from this copy" if problem == "missing" else "is damaged"
    return f"the history cannot be read: git could not read {what}, which {why}"


# --- helpers ----------------------------------------------------------------------------------


def _clone_or_fetch(project: Project, url: str, roots: list[Path]) -> git.Repository:
    dest = clone_folder(project)
    dest.parent.mkdir(parents=True, exist_ok=True)
    timeout = git_timeout()
    if dest.exists():
        try:
            _, raw = git_read(
                git.open_repo(dest, timeout=timeout),
                ["config", "--get", "remote.origin.url"],
                ok_statuses=(0, 1),
                what="reading the origin of the existing clone",
            )
            if raw.decode("utf-8", "replace").strip() in (url, _local_target(url, roots)):
                git.fetch(dest, timeout=timeout, allowed_local_roots=roots)
                return git.open_repo(dest, timeout=timeout)
        except git.GitError:
            pass  # an unreadable old clone is replaced below
    staging = dest.parent / f".{dest.name}.{uuid.uuid4().hex}"
    try:
        handle = git.clone(url, staging, timeout=timeout, allowed_local_roots=roots)
    except git.GitError as error:
        raise RepositoryError(str(error)) from None
    del handle
    if dest.exists():
        trash = dest.parent / f".{dest.name}.old.{uuid.uuid4().hex}"
        dest.rename(trash)
        shutil.rmtree(trash, ignore_errors=True)
    staging.rename(dest)
    return git.open_repo(dest, timeout=timeout)


def _local_target(url: str, roots: list[Path]) -> str:
    try:
        return git.validate_remote(url, allowed_local_roots=roots)
    except git.GitError:
        return ""


def _head_branch(handle: git.Repository) -> str:
    status, out = git_read(
        handle,
        ["symbolic-ref", "--quiet", "--short", "HEAD"],
        ok_statuses=(0, 1, 128),
        what="reading the current branch",
    )
    return out.decode("utf-8", "replace").strip() if status == 0 else ""


def _branches(handle: git.Repository) -> list[str]:
    _, out = git_read(
        handle,
        ["for-each-ref", "--format=%(refname:short)", "refs/heads"],
        what="listing branches",
    )
    return out.decode("utf-8", "replace").split()[:20]


def _linked_path(project: Project) -> str:
    repository = Repository.objects.filter(project=project).first()
    return repository.path if repository else project.repo_path


def _shown(text: str) -> str:
    return "".join(c if c.isprintable() else "?" for c in text)


def _file_dict(change: git.FileChange) -> dict:
    entry = {"change": change.change, "path": change.path}
    if change.old_path:
        entry["old_path"] = change.old_path
    return entry


def _store_commits(project: Project, batch: list[git.CommitInfo], summary: SyncSummary) -> None:
    if not batch:
        return
    rows = [
        Commit(
            project=project,
            sha=info.sha,
            short_sha=info.short_sha[:16],
            author_name=info.author_name[:300],
            author_email=info.author_email[:300],
            authored_at=info.authored_at,
            committed_at=info.committed_at,
            message=info.message,
            parents=list(info.parents),
            files=[_file_dict(change) for change in info.files],
        )
        for info in batch
    ]
    with transaction.atomic():
        Commit.objects.bulk_create(rows, ignore_conflicts=True, batch_size=500)
        summary.commits += len(rows)
        citations = _citations(project, batch, summary)
        if citations:
            _link_citations(project, citations, summary)


def _citations(
    project: Project, batch: list[git.CommitInfo], summary: SyncSummary
) -> list[tuple[git.CommitInfo, git.Citation]]:
    found = []
    for info in batch:
        if project.key.upper() not in info.message.upper():
            continue
        try:
            found += [(info, c) for c in git.cited_keys(info.message, project.key)]
        except git.GitError as error:
            # Project keys may contain '-', which the citation grammar cannot tell apart.
            note = f"commit citations are not read for this project: {error}"
            if note not in summary.notes:
                summary.notes.append(note)
            return []
    return found


def _link_citations(
    project: Project,
    citations: list[tuple[git.CommitInfo, git.Citation]],
    summary: SyncSummary,
) -> None:
    numbers = {int(c.key.rsplit("-", 1)[1]) for _, c in citations}
    findings = {f.number: f for f in Finding.objects.filter(project=project, number__in=numbers)}
    commits = {
        c.sha: c
        for c in Commit.objects.filter(project=project, sha__in={i.sha for i, _ in citations})
    }
    now = timezone.now()
    for info, citation in citations:
        finding = findings.get(int(citation.key.rsplit("-", 1)[1]))
        if finding is None:
            continue
        link, created = CommitLink.objects.get_or_create(
            finding=finding,
            commit=commits[info.sha],
            verb=citation.verb,
            defaults={"created_at": now},
        )
        if not created:
            continue
        summary.links += 1
        Event.objects.create(
            project=project,
            finding=finding,
            action="commit_linked",
            after=info.sha[:40],
            note=f"{info.short_sha} {citation.verb} {citation.key}: {info.summary}"[:2000],
            created_at=now,
        )
        if (
            citation.closes
            and finding.status in (Status.OPEN, Status.REGRESSED)
            and info.committed_at > finding.status_changed_at
        ):
            finding = finding_transition(
                finding=finding,
                event=lifecycle.Event.CLAIM,
                actor=None,
                reason=f"commit {info.short_sha} says '{citation.verb} {citation.key}'",
            )
            findings[finding.number] = finding
            summary.claimed += 1
