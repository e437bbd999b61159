"""python manage.py scan --project KEY [--commit SHA] [--branch NAME] [--tools a,b] [--json]"""

from __future__ import annotations

import sys

import orjson
from django.core.management.base import BaseCommand, CommandError

from findings.management.commands.ingest import Command as IngestCommand
from findings.models import Project
from findings.services.ingest import ScanError, ScanSummary, ToolOutcome, scan_commit
from scanners.runners import DEFAULT_TIMEOUT_PER_TOOL, DEFAULT_TOOLS, RunnerError

_BAR = 30


class Command(BaseCommand):
    help = (
        "Check a commit of the project's linked repository out into a temporary worktree, run "
        f"the scanners ({', '.join(DEFAULT_TOOLS)}) over it and import their reports as "
        "reports of that commit. Default commit: the head of the branch."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--project", required=True, help="project key, e.g. LILY")
        parser.add_argument("--commit", default="", help="commit to scan (hash, tag or branch)")
        parser.add_argument(
            "--branch", default="", help="branch the commit belongs to (default: the project's)"
        )
        parser.add_argument(
            "--tools",
            default=",".join(DEFAULT_TOOLS),
            help=f"comma-separated tools to run (default: {','.join(DEFAULT_TOOLS)})",
        )
        parser.add_argument(
            "--timeout",
            type=float,
            default=DEFAULT_TIMEOUT_PER_TOOL,
            help=f"seconds each tool may run (default: {DEFAULT_TIMEOUT_PER_TOOL:g})",
        )
        parser.add_argument("--json", action="store_true", help="print the result as JSON")

    def handle(self, *args, **opts) -> None:
        project = Project.objects.filter(key=opts["project"]).first()
        if project is None:
            raise CommandError(f"no project with key {opts['project']!r}")
        tools = [name for name in opts["tools"].split(",") if name.strip()]
        show = None if opts["json"] else self._progress()
        try:
            summary = scan_commit(
                project=project,
                commit=opts["commit"],
                branch=opts["branch"],
                tools=tools,
                timeout_per_tool=opts["timeout"],
                on_progress=show,
            )
        except (ScanError, RunnerError) as error:
            raise CommandError(str(error)) from None
        finally:
            if show is not None:
                sys.stderr.write("\r" + " " * 80 + "\r")
        if opts["json"]:
            self.stdout.write(orjson.dumps(summary.as_dict(), option=orjson.OPT_INDENT_2).decode())
        else:
            self._print(summary)
        if failures := summary.failures:
            raise CommandError(
                f"{len(failures)} of {len(summary.tools)} tools failed at "
                f"{summary.commit[:12]}: {', '.join(f.run.tool for f in failures)}"
            )

    def _print(self, summary: ScanSummary) -> None:
        for outcome in summary.tools:
            self.stdout.write(self._describe(summary, outcome))
        line = (
            f"{summary.project}: scanned {summary.commit[:12]} ({summary.branch}) with "
            f"{len(summary.tools)} tools in {summary.seconds:.1f}s"
        )
        if summary.unlinked:
            links = "link" if summary.unlinked == 1 else "links"
            line += f"; {summary.unlinked} symbolic {links} out of the repository not followed"
        self.stdout.write(line)

    @staticmethod
    def _describe(summary: ScanSummary, outcome: ToolOutcome) -> str:
        if outcome.result is not None:
            return IngestCommand._describe(outcome.result)
        if outcome.import_error:
            return f"{summary.project}: {outcome.run.tool}: import failed: {outcome.import_error}"
        return f"{summary.project}: {outcome.run.describe()}"

    @staticmethod
    def _progress():
        """A progress bar on stderr when it is a terminal, else None."""
        if not sys.stderr.isatty():
            return None

        def show(done: int, total: int, message: str) -> None:
            filled = int(_BAR * done / max(total, 1))
            sys.stderr.write(
                f"\r[{'#' * filled}{'.' * (_BAR - filled)}] {done}/{total} {message[:40]:<40}"
            )
            sys.stderr.flush()

        return show
