"""python manage.py verify --project KEY [--json]"""

from __future__ import annotations

import orjson
from django.core.management.base import BaseCommand, CommandError

from findings import services
from findings.models import Project

_MARK = {"pass": "pass", "fail": "FAIL", "cannot-check": "cannot-check"}


class Command(BaseCommand):
    help = (
        "Check every claimed fix of a project against its linked repository (and every open "
        "claim, for an already-fixed hint) and print, per claim, the finding, the document, "
        "the evidence level and each check with its reason."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--project", required=True, help="project key, e.g. LILY")
        parser.add_argument(
            "--json",
            action="store_true",
            help="print a list of {finding, document, claim_title, evidence, checks}",
        )

    def handle(self, *args, **opts) -> None:
        project = Project.objects.filter(key=opts["project"]).first()
        if project is None:
            raise CommandError(f"no project with key {opts['project']!r}")
        results = [services.evidence_summary(e) for e in services.project_verify(project=project)]
        if opts["json"]:
            self.stdout.write(orjson.dumps(results, option=orjson.OPT_INDENT_2).decode())
            return
        if not results:
            self.stdout.write(f"{project.key}: no claimed fixes to verify")
            return
        for result in results:
            self.stdout.write(
                f"{result['finding']}  {result['evidence']}  “{result['claim_title']}” "
                f"({result['document']})"
            )
            for check in result["checks"]:
                where = f" {check['path']}" if check.get("path") else ""
                at = f" @{check['commit'][:12]}" if check["commit"] else ""
                mark = _MARK[check["result"]]
                self.stdout.write(f"    {mark:<12} {check['name']}{where}{at}: {check['reason']}")
        levels: dict[str, int] = {}
        for result in results:
            levels[result["evidence"]] = levels.get(result["evidence"], 0) + 1
        counted = ", ".join(f"{n} {level}" for level, n in sorted(levels.items()))
        self.stdout.write(f"{project.key}: {len(results)} claims: {counted}")
