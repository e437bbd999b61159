"""python manage.py link_repo --project KEY PATH_OR_URL [--branch NAME] [--json]"""

from __future__ import annotations

import os

import orjson
from django.core.management.base import BaseCommand, CommandError

from findings import services
from findings.models import Project


class Command(BaseCommand):
    help = (
        "Link a project to its git repository: a local path under AUDITDASH_REPO_ROOTS (read "
        "in place) or a clone URL (https://, ssh://, user@host:path) that auditdash clones "
        "into its data folder. Reads the branch's commits in."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--project", required=True, help="project key, e.g. LILY")
        parser.add_argument("target", help="absolute or relative local path, or a clone URL")
        parser.add_argument("--branch", default="", help="branch to follow (default: its HEAD)")
        parser.add_argument("--json", action="store_true", help="print the link as JSON")

    def handle(self, *args, **opts) -> None:
        project = Project.objects.filter(key=opts["project"]).first()
        if project is None:
            try:
                project, _ = services.project_get_or_create(key=opts["project"])
            except services.ProjectKeyError as error:
                raise CommandError(str(error)) from None
        target = opts["target"]
        # A relative path the user can see, or one spelled "./x" or "../x", is meant as that
        # path, not as a URL; it is made absolute here and the service decides if it is allowed.
        spelled_relative = target.startswith(("./", "../")) or target in (".", "..")
        if not target.startswith("-") and "://" not in target:
            if spelled_relative or os.path.isdir(target):
                target = os.path.abspath(target)
        try:
            repository = services.repository_link(
                project=project, target=target, branch=opts["branch"]
            )
        except services.RepositoryError as error:
            raise CommandError(f"{project.key}: {error}") from None
        commits = project.commits.count()
        facts = {
            "project": project.key,
            "kind": repository.kind,
            "url": repository.url,
            "path": repository.path,
            "branch": repository.branch,
            "head": repository.head_sha,
            "commits": commits,
            "read_note": repository.read_note,
        }
        if opts["json"]:
            self.stdout.write(orjson.dumps(facts, option=orjson.OPT_INDENT_2).decode())
            return
        source = repository.url or repository.path
        how = "cloned into " + repository.path if repository.url else "read in place"
        self.stdout.write(
            f"{project.key}: linked {source} ({how}), branch {repository.branch} at "
            f"{repository.head_sha[:12]}, {commits} commits read"
        )
        if repository.read_note:
            self.stdout.write(f"{project.key}: {repository.read_note}")
