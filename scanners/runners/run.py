"""Run the scanners over one commit of a repository: :func:`run_scanners`."""

from __future__ import annotations

import enum
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from scanners.git.command import open_repo
from scanners.git.history import require_commit
from scanners.runners.process import Finished, run_process, tail
from scanners.runners.tools import (
    DEFAULT_TOOLS,
    TOOLS,
    Skip,
    Tool,
    Workspace,
    check_json,
    program_missing,
    tool_environment,
)
from scanners.runners.worktree import Checkout, checked_out

# Seconds one tool may run. Four tools at this limit stay under the default Celery task
# time limit (AUDITDASH_TASK_TIME_LIMIT, one hour) with room for the checkout and ingest.
DEFAULT_TIMEOUT_PER_TOOL = 600.0
# How much of a tool's stderr is read to explain a failure.
_STDERR_TAIL = 600


class RunnerError(Exception):
    """A scan that could not start (bad arguments); the message says what to change."""


class ToolStatus(enum.StrEnum):
    OK = "ok"
    FAILED = "failed"
    TIMED_OUT = "timed_out"
    UNAVAILABLE = "unavailable"
    SKIPPED = "skipped"


@dataclass(frozen=True, slots=True)
class ToolRun:
    """One tool's run. ``report`` is its JSON output, set only when ``status`` is ok;
    ``exit_status`` is None when it never started or was stopped; ``error`` says why it is
    not ok (a failure with the tail of the tool's stderr, or why it is unavailable/skipped).
    ``inputs`` lists the files a tool was pointed at (pip-audit's requirements files)."""

    tool: str
    format: str
    status: ToolStatus
    report: Path | None
    exit_status: int | None
    seconds: float
    error: str = ""
    inputs: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        return self.status is ToolStatus.OK

    @property
    def failed(self) -> bool:
        """Failed or timed out: something is wrong (unavailable and skipped are not)."""
        return self.status in (ToolStatus.FAILED, ToolStatus.TIMED_OUT)

    def describe(self) -> str:
        """One line for people: ``pip-audit: unavailable: no network ...``."""
        if self.ok:
            return f"{self.tool}: ran in {self.seconds:.1f}s"
        return f"{self.tool}: {self.status.value.replace('_', ' ')}: {self.error}"

    def as_dict(self) -> dict:
        return {
            "tool": self.tool,
            "format": self.format,
            "status": self.status.value,
            "report": str(self.report) if self.report else None,
            "exit_status": self.exit_status,
            "seconds": round(self.seconds, 3),
            "error": self.error,
            "inputs": list(self.inputs),
        }


@dataclass(frozen=True, slots=True)
class ScanRun:
    """Every tool's run over one commit. ``unlinked`` counts symbolic links dropped from the
    checkout because they pointed outside it."""

    repository: str
    commit: str
    runs: tuple[ToolRun, ...]
    seconds: float
    unlinked: int = 0


# (steps done, steps in all, what is happening now)
ProgressCallback = Callable[[int, int, str], None]
# Called after each tool, while the checkout still exists (to ingest its report).
ResultCallback = Callable[[ToolRun, Checkout], None]


def run_scanners(
    repo_path: Path | str,
    commit: str,
    *,
    output_dir: Path | None = None,
    tools: Sequence[str] = DEFAULT_TOOLS,
    timeout_per_tool: float = DEFAULT_TIMEOUT_PER_TOOL,
    on_progress: ProgressCallback | None = None,
    on_result: ResultCallback | None = None,
    work_root: Path,
) -> ScanRun:
    """Check ``commit`` of the repository at ``repo_path`` out into a temporary detached
    worktree, run ``tools`` over it one after the other, and remove the worktree.

    Each tool's JSON output is written to ``output_dir/<tool>.json`` (the caller owns that
    folder; everything else is removed). Without ``output_dir`` the reports live in the
    scan's scratch folder and are gone on return: read them in ``on_result``. A tool that
    exits with an unexpected status, prints something that is not JSON or exceeds
    ``timeout_per_tool`` seconds (its whole process group is then killed) is reported, never
    raised; the other tools still run. ``on_progress`` hears "tool i of n"; ``on_result``
    gets each run while the checkout exists. The worktree lives in a folder of its own
    under ``work_root``; it and the scratch files go on success, failure, timeout and
    KeyboardInterrupt.

    Raises :class:`RunnerError` for an unknown tool or a non-positive timeout, and
    :class:`scanners.git.GitError` when the repository or commit cannot be read or checked out.
    """
    chosen = select_tools(tools)
    if timeout_per_tool <= 0:
        raise RunnerError(f"the time limit per tool must be positive, got {timeout_per_tool!r}")
    started = time.monotonic()
    repo = open_repo(repo_path)
    sha = require_commit(repo, commit)
    if output_dir is not None:
        output_dir.mkdir(parents=True, exist_ok=True)
    total = len(chosen)
    runs: list[ToolRun] = []
    with checked_out(repo, sha, work_root=work_root) as checkout:
        for index, tool in enumerate(chosen):
            if on_progress:
                on_progress(index, total, f"running {tool.name} ({index + 1} of {total})")
            run = _run_tool(tool, checkout, output_dir or checkout.scratch, timeout_per_tool)
            runs.append(run)
            if on_result:
                on_result(run, checkout)
        if on_progress:
            on_progress(total, total, "done")
        unlinked = checkout.unlinked
    return ScanRun(
        repository=repo.name,
        commit=sha,
        runs=tuple(runs),
        seconds=time.monotonic() - started,
        unlinked=unlinked,
    )


def select_tools(names: Sequence[str]) -> list[Tool]:
    """The tools named, in the order given, each once; :class:`RunnerError` for an unknown
    name or an empty list."""
    chosen: list[Tool] = []
    for name in names:
        tool = TOOLS.get(name.strip().lower())
        if tool is None:
            raise RunnerError(f"unknown tool {name!r}: expected one of {', '.join(TOOLS)}")
        if tool not in chosen:
            chosen.append(tool)
    if not chosen:
        raise RunnerError(f"no tool to run: name at least one of {', '.join(TOOLS)}")
    return chosen


def _run_tool(tool: Tool, checkout: Checkout, output_dir: Path, timeout: float) -> ToolRun:
    def result(
        status: ToolStatus,
        error: str = "",
        *,
        report: Path | None = None,
        ran: Finished | None = None,
        inputs: tuple[str, ...] = (),
    ) -> ToolRun:
        # ``ran`` is None when the tool never started: no exit status, no time spent.
        return ToolRun(
            tool=tool.name,
            format=tool.format,
            status=status,
            error=error,
            report=report,
            exit_status=ran.status if ran is not None else None,
            seconds=ran.seconds if ran is not None else 0.0,
            inputs=inputs,
        )

    if program_missing(tool):
        status = ToolStatus.FAILED if tool.required else ToolStatus.UNAVAILABLE
        return result(status, f"{tool.program} is not installed in this virtualenv")
    workspace = Workspace(tree=checkout.tree, scratch=checkout.scratch)
    try:
        invocation = tool.command(workspace)
    except Skip as reason:
        return result(ToolStatus.SKIPPED, str(reason))
    report = output_dir / f"{tool.name}.json"
    stderr = checkout.scratch / f"{tool.name}.stderr"
    finished = run_process(
        invocation.argv,
        cwd=checkout.tree,
        env=tool_environment(tool.env(workspace), tree=checkout.tree),
        stdout=report,
        stderr=stderr,
        timeout=timeout,
    )
    if finished.timed_out:
        report.unlink(missing_ok=True)
        return result(
            ToolStatus.TIMED_OUT,
            f"stopped after {timeout:g} s, the time limit per tool",
            ran=finished,
            inputs=invocation.inputs,
        )
    message = tail(stderr, _STDERR_TAIL)
    problem = None
    if finished.status not in tool.ok_statuses:
        problem = f"exited with status {finished.status}"
    else:
        problem = check_json(report)
    if problem is not None:
        report.unlink(missing_ok=True)
        if unavailable := tool.explain(tail(stderr, 20_000)):
            return result(
                ToolStatus.UNAVAILABLE, unavailable, ran=finished, inputs=invocation.inputs
            )
        return result(
            ToolStatus.FAILED,
            f"{problem}: {message or 'no message'}",
            ran=finished,
            inputs=invocation.inputs,
        )
    verdict = tool.judge(report, message)
    if verdict.unavailable:
        report.unlink(missing_ok=True)
        return result(
            ToolStatus.UNAVAILABLE, verdict.unavailable, ran=finished, inputs=invocation.inputs
        )
    return result(ToolStatus.OK, report=report, ran=finished, inputs=invocation.inputs)
