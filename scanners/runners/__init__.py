"""Scanners auditdash runs itself: bandit, ruff, semgrep and pip-audit over one commit.

Pure: this package reads a repository and runs programs; it never imports ``findings`` or
Django. :mod:`findings.services.ingest.commit_scan` turns a run into reports.
Modules, in the order a newcomer needs them:

* ``run``      -- :func:`run_scanners`, :class:`ScanRun`, :class:`ToolRun`, :class:`ToolStatus`;
* ``tools``    -- each scanner's command line and how its output is judged (:data:`TOOLS`);
* ``worktree`` -- the temporary detached worktree, always removed;
* ``process``  -- one time-limited process group, output to files.
"""

from scanners.runners.run import (
    DEFAULT_TIMEOUT_PER_TOOL,
    ProgressCallback,
    RunnerError,
    ScanRun,
    ToolRun,
    ToolStatus,
    run_scanners,
    select_tools,
)
from scanners.runners.tools import DEFAULT_TOOLS, TOOLS

__all__ = [
    "DEFAULT_TIMEOUT_PER_TOOL",
    "DEFAULT_TOOLS",
    "TOOLS",
    "ProgressCallback",
    "RunnerError",
    "ScanRun",
    "ToolRun",
    "ToolStatus",
    "run_scanners",
    "select_tools",
]
