"""python manage.py create_token --project KEY --user NAME --name CI [--role developer] [--days N]
python manage.py create_token --project KEY --revoke PREFIX --user NAME

Prints a new API token once, on standard output alone (so a script can capture it); the
token acts for --user, who must be a manager of the project (or a site admin).
"""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from findings import services
from findings.models import ApiToken, Project, Role


class Command(BaseCommand):
    help = "Create a project API token for CI and scripts (printed once), or revoke one."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--project", required=True, help="The project key, e.g. LILY.")
        parser.add_argument(
            "--user", required=True, help="The manager the token acts for (its creator)."
        )
        action = parser.add_mutually_exclusive_group(required=True)
        action.add_argument("--name", help="Where the token is used, e.g. 'GitHub Actions'.")
        action.add_argument("--revoke", metavar="PREFIX", help="Revoke the token shown as PREFIX…")
        parser.add_argument("--role", choices=Role.names_lower(), default="developer")
        parser.add_argument("--days", type=int, help="Expire after this many days (1-366).")

    def handle(self, *args, **options) -> None:
        project = Project.objects.filter(key=options["project"].strip().upper()).first()
        if project is None:
            raise CommandError(f"there is no project {options['project']!r}")
        user = get_user_model().objects.filter(username=options["user"], is_active=True).first()
        if user is None:
            raise CommandError(f"there is no active user {options['user']!r}")
        if options["revoke"]:
            self._revoke(project, user, options["revoke"])
            return
        try:
            issued = services.token_create(
                project=project,
                creator=user,
                name=options["name"],
                role=Role.from_name(options["role"]),
                days=options["days"],
            )
        except services.TokenError as error:
            raise CommandError(str(error)) from None
        self.stderr.write(
            f"Token {issued.token.name!r} ({issued.token.role_name}) for {project.key}, acting "
            f"for {user.get_username()}. It is shown once; store it in your CI's secrets."
        )
        self.stdout.write(issued.secret)

    def _revoke(self, project: Project, user, prefix: str) -> None:
        from findings import access

        if not access.can(user, project, access.ACTION_ROLES["members"]):
            raise CommandError(f"only managers of {project.key} revoke its tokens")
        tokens = list(ApiToken.objects.filter(project=project, prefix__startswith=prefix[:12]))
        if len(tokens) != 1:
            raise CommandError(
                f"{len(tokens)} tokens of {project.key} start with {prefix!r}; give a longer prefix"
                if tokens
                else f"no token of {project.key} starts with {prefix!r}"
            )
        revoked = services.token_revoke(token=tokens[0], actor=user)
        self.stdout.write(
            f"Token {tokens[0].name!r} revoked." if revoked else "It was revoked already."
        )
