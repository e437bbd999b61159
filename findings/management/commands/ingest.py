"""python manage.py ingest FILE [FILE...] --project KEY [--commit SHA] [--branch NAME]
[--only PATH]... [--json] [--owner USER]

A new key creates the project. Nobody is a member of a new project (site admins aside), so the
command says so and prints the ``set_role`` command that gives someone access; ``--owner USER``
makes USER the new project's manager at once. ``--only PATH`` says the report scanned only
those paths, so findings elsewhere stay open.
"""

from __future__ import annotations

import sys
from pathlib import Path

import orjson
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from findings import services
from findings.models import Project, Role
from findings.services.ingest import IngestError, IngestResult, Options, ingest_file
from findings.services.ingest.results import only_paths


class Command(BaseCommand):
    help = (
        "Import scanner reports (SARIF 2.1.0, bandit, ruff, semgrep, pip-audit, gitleaks JSON) "
        "into a project, created if its key is new. The format is read from the content."
    )
    # A CI step runs this once per report: Django's system checks (URLs, the API's schemas,
    # every model) would add about a second to each run and check nothing an import uses.
    # `manage.py check`, migrate and the servers still run them.
    requires_system_checks: list[str] = []

    def add_arguments(self, parser) -> None:
        parser.add_argument("files", nargs="+", metavar="FILE")
        parser.add_argument("--project", required=True, help="project key, e.g. LILY")
        parser.add_argument("--commit", default="", help="commit the scan ran at")
        parser.add_argument("--branch", default="", help="branch the scan ran on")
        parser.add_argument(
            "--root", default="", help="directory the scan ran in (made repo-relative)"
        )
        parser.add_argument("--format", default="", dest="report_format", help="force a format key")
        parser.add_argument(
            "--only",
            action="append",
            default=[],
            metavar="PATH",
            help="the scan covered only this directory or file (repeat for several): "
            "findings elsewhere are not scanned and stay open",
        )
        parser.add_argument("--json", action="store_true", help="print results as JSON")
        parser.add_argument(
            "--owner",
            default="",
            metavar="USER",
            help="when the import creates the project, make USER its manager",
        )

    def handle(self, *args, **opts) -> None:
        owner = self._owner(opts["owner"])
        try:
            only = only_paths(opts["only"])
        except ValueError as error:
            raise CommandError(f"--only {error}") from None
        existed = Project.objects.filter(key=opts["project"]).exists()
        options = Options(
            commit=opts["commit"],
            branch=opts["branch"],
            root=opts["root"],
            format=opts["report_format"],
            only=only,
        )
        results: list[IngestResult] = []
        failures = 0
        for name in opts["files"]:
            path = Path(name)
            try:
                result = ingest_file(
                    path,
                    project_key=opts["project"],
                    options=options,
                    filename=name,
                    on_progress=None if opts["json"] else self._progress(name),
                )
            except IngestError as error:
                failures += 1
                self._clear_progress(opts["json"])
                self.stderr.write(f"error: {error}")
                continue
            self._clear_progress(opts["json"])
            results.append(result)
            if not opts["json"]:
                self.stdout.write(self._describe(result))
        project = None if existed else Project.objects.filter(key=opts["project"]).first()
        if project is not None:
            self._announce(project, owner)
        elif owner is not None and existed:
            self.stderr.write(
                f"note: {opts['project']} already exists, so --owner changed nothing; "
                f"use `manage.py set_role --project {opts['project']} --user "
                f"{owner.get_username()} --role manager`"
            )
        if opts["json"]:
            payload = [r.as_dict() for r in results]
            data = payload[0] if len(opts["files"]) == 1 and payload else payload
            self.stdout.write(orjson.dumps(data, option=orjson.OPT_INDENT_2).decode())
        if failures:
            raise CommandError(f"{failures} of {len(opts['files'])} reports failed; see above")

    @staticmethod
    def _owner(username: str):
        """The user ``--owner`` names (None without it); an unknown name stops the command
        before anything is imported."""
        if not username:
            return None
        user = get_user_model().objects.filter(username=username).first()
        if user is None or not user.is_active:
            raise CommandError(
                f"--owner {username!r}: there is no active user of that name; create one with "
                f"`manage.py create_user {username}` first. Nothing was imported."
            )
        return user

    def _announce(self, project: Project, owner) -> None:
        """Say that ``project`` was created, and who can see it."""
        if owner is not None:
            services.membership_set(project=project, user=owner, role=Role.MANAGER)
            self.stderr.write(
                f"Created project {project.key}; {owner.get_username()} is its manager."
            )
            return
        self.stderr.write(
            f"Created project {project.key}. No one is a member yet, so only site admins see "
            f"it. To give someone access: manage.py set_role --project {project.key} "
            "--user USERNAME --role manager"
        )

    def _progress(self, name: str):
        if not sys.stderr.isatty():
            return None

        def show(fraction: float) -> None:
            filled = int(fraction * 30)
            sys.stderr.write(
                f"\r{name[-40:]} [{'#' * filled}{'.' * (30 - filled)}] {fraction:4.0%}"
            )
            sys.stderr.flush()

        return show

    def _clear_progress(self, quiet: bool) -> None:
        if not quiet and sys.stderr.isatty():
            sys.stderr.write("\r" + " " * 80 + "\r")

    @staticmethod
    def _describe(result: IngestResult) -> str:
        if result.duplicate:
            return f"{result.project}: {result.note}"
        line = (
            f"{result.project} report #{result.report} ({result.tool}, {result.format}"
            f"{', ' + result.commit[:12] if result.commit else ''}): "
            f"{result.new} new, {result.still_open} still open, {result.fixed} fixed, "
            f"{result.regressed} regressed, {result.suppressed} suppressed "
            f"in {result.seconds:.2f}s"
        )
        if result.note:
            line += "\n  note: " + result.note.replace("\n", "\n  note: ")
        return line
