"""Scan one commit of a project's linked repository and import each tool's report.

The runners (:mod:`scanners.runners`) check the commit out and run the tools; this module
imports what they wrote through the ingestion pipeline, while the checkout still exists.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings

from findings.models import Project
from findings.services.ingest.pipeline import ingest_file
from findings.services.ingest.results import WHOLE_TREE, IngestResult, Options
from scanners.files import IngestError
from scanners.git.command import GitError, open_repo
from scanners.git.history import ResolveOutcome, resolve
from scanners.runners.run import (
    DEFAULT_TIMEOUT_PER_TOOL,
    ProgressCallback,
    ToolRun,
    run_scanners,
    select_tools,
)
from scanners.runners.tools import DEFAULT_TOOLS
from scanners.runners.worktree import Checkout


class ScanError(Exception):
    """A scan that could not run at all (no repository, unknown commit); says what to do."""


@dataclass(frozen=True, slots=True)
class ToolOutcome:
    """One tool's run and what became of its report: ``result`` when imported,
    ``import_error`` when the pipeline refused it."""

    run: ToolRun
    result: IngestResult | None = None
    import_error: str = ""

    @property
    def failed(self) -> bool:
        return self.run.failed or bool(self.import_error)

    def as_dict(self) -> dict:
        return {
            **self.run.as_dict(),
            "report": None,  # the tool's output file is gone; the stored report is in result
            "result": self.result.as_dict() if self.result else None,
            "import_error": self.import_error,
        }


@dataclass(slots=True)
class ScanSummary:
    """Every tool of a scan of ``commit`` (a full hash) on ``branch`` and its import."""

    project: str
    repository: str
    commit: str
    branch: str
    seconds: float = 0.0
    tools: list[ToolOutcome] = field(default_factory=list)
    unlinked: int = 0

    @property
    def failures(self) -> list[ToolOutcome]:
        return [t for t in self.tools if t.failed]

    def as_dict(self) -> dict:
        return {
            "project": self.project,
            "repository": self.repository,
            "commit": self.commit,
            "branch": self.branch,
            "seconds": round(self.seconds, 3),
            "links_removed": self.unlinked,
            "tools": [t.as_dict() for t in self.tools],
        }


def resolve_commit(repo_path: str, ref: str) -> str:
    """The full hash of ``ref`` (a short or full hash, a branch, a tag) in the repository at
    ``repo_path``. :class:`ScanError` when the repository cannot be read or ``ref`` names no
    commit or several (the candidates are listed; nothing is guessed)."""
    try:
        repo = open_repo(repo_path)
        found = resolve(repo, ref)
    except GitError as error:
        raise ScanError(str(error)) from None
    if found.outcome is not ResolveOutcome.FOUND or not found.sha:
        raise ScanError(f"commit {ref!r} cannot be scanned: {found.reason} in {repo.name}")
    return found.sha


def scan_commit(
    *,
    project: Project,
    commit: str = "",
    branch: str = "",
    user=None,
    on_progress: ProgressCallback | None = None,
    tools: Sequence[str] = DEFAULT_TOOLS,
    timeout_per_tool: float = DEFAULT_TIMEOUT_PER_TOOL,
    work_root: Path | None = None,
) -> ScanSummary:
    """Scan ``commit`` (default: the head of ``branch``, default the project's default
    branch) of ``project``'s linked repository and import each successful tool's report as a
    report of that commit and branch.

    Reports are imported while the checkout still exists, with the worktree as their root,
    so absolute paths become repo-relative and tools without snippets (ruff) get their
    flagged lines. A tool that failed, timed out or is unavailable is listed with its reason
    and imports nothing; a report the pipeline refuses is listed with the pipeline's message.
    The checkout lives under ``work_root`` (default ``DATA_DIR/worktrees``).
    Raises :class:`ScanError` when the project has no repository or the commit is unknown,
    and :class:`scanners.runners.RunnerError` for an unknown tool.
    """
    if not project.repo_path:
        raise ScanError(
            f"project {project.key} has no linked repository: link one with "
            f"`python manage.py link_repo --project {project.key} PATH_OR_URL`"
        )
    # An unknown tool is refused before anything is checked out.
    total = len(select_tools(tools))
    branch = branch or project.default_branch
    sha = resolve_commit(project.repo_path, commit or branch)
    summary = ScanSummary(
        project=project.key, repository=project.repo_path, commit=sha, branch=branch
    )
    started = time.monotonic()

    def import_report(run: ToolRun, checkout: Checkout) -> None:
        if not run.ok or run.report is None:
            summary.tools.append(ToolOutcome(run))
            return
        if on_progress:
            on_progress(len(summary.tools), total, f"importing the {run.tool} report")
        try:
            result = ingest_file(
                run.report,
                project_key=project.key,
                options=Options(
                    commit=sha,
                    branch=branch,
                    root=str(checkout.tree),
                    format=run.format,
                    remember_root=False,
                    only=WHOLE_TREE,
                ),
                filename=f"{run.tool}@{sha[:12]}.json",
                user=user,
            )
        except IngestError as error:
            summary.tools.append(ToolOutcome(run, import_error=str(error)))
            return
        summary.tools.append(ToolOutcome(run, result=result))

    try:
        scan = run_scanners(
            project.repo_path,
            sha,
            tools=tools,
            timeout_per_tool=timeout_per_tool,
            on_progress=on_progress,
            on_result=import_report,
            work_root=work_root or Path(settings.DATA_DIR) / "worktrees",
        )
    except GitError as error:
        raise ScanError(str(error)) from None
    summary.repository = scan.repository
    summary.unlinked = scan.unlinked
    summary.seconds = time.monotonic() - started
    return summary
