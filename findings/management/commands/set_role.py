"""python manage.py set_role --project KEY --user NAME --role viewer|developer|reviewer|manager
python manage.py set_role --project KEY --user NAME --remove
"""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from findings import services
from findings.models import Project, Role


class Command(BaseCommand):
    help = "Give a user a role in a project, or take them out of it (--remove)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--project", required=True, help="The project key, e.g. LILY.")
        parser.add_argument("--user", required=True, help="The username.")
        action = parser.add_mutually_exclusive_group(required=True)
        action.add_argument("--role", choices=Role.names_lower())
        action.add_argument("--remove", action="store_true")

    def handle(self, *args, **options) -> None:
        project = Project.objects.filter(key=options["project"].strip().upper()).first()
        if project is None:
            raise CommandError(f"there is no project {options['project']!r}")
        user = get_user_model().objects.filter(username=options["user"]).first()
        if user is None:
            raise CommandError(
                f"there is no user {options['user']!r}; create one with `create_user`"
            )
        if options["remove"]:
            removed = services.membership_remove(project=project, user=user)
            self.stdout.write(
                f"{user.get_username()} removed from {project.key}."
                if removed
                else f"{user.get_username()} was not a member of {project.key}; nothing changed."
            )
            return
        role = Role.from_name(options["role"])
        services.membership_set(project=project, user=user, role=role)
        self.stdout.write(f"{user.get_username()} is {role.label} of {project.key}.")
