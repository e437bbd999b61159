"""python manage.py create_user USERNAME [--email ADDRESS] [--superuser] [--password-stdin]

The password is read from a prompt (twice) or, with ``--password-stdin``, from the first line
of standard input; never from the command line, where other users and shell history see it.
"""

from __future__ import annotations

import getpass
import sys

from django.contrib.auth import get_user_model, password_validation
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.db import IntegrityError


class Command(BaseCommand):
    help = "Create a user who can sign in; --superuser makes a site admin."

    def add_arguments(self, parser) -> None:
        parser.add_argument("username")
        parser.add_argument("--email", default="")
        parser.add_argument(
            "--superuser", action="store_true", help="A site admin: every project, every right."
        )
        parser.add_argument(
            "--password-stdin",
            action="store_true",
            help="Read the password from the first line of standard input (for scripts).",
        )

    def handle(self, *args, **options) -> None:
        User = get_user_model()  # noqa: N806 - the model class, named as Django names it
        username = options["username"].strip()
        if not username:
            raise CommandError("the username is empty")
        if User.objects.filter(username=username).exists():
            raise CommandError(f"user {username!r} exists already; use the admin to change it")
        password = self._password(options["password_stdin"])
        candidate = User(username=username, email=options["email"])
        try:
            password_validation.validate_password(password, candidate)
        except ValidationError as error:
            raise CommandError("the password is refused: " + " ".join(error.messages)) from None
        try:
            if options["superuser"]:
                User.objects.create_superuser(username, options["email"], password)
            else:
                User.objects.create_user(username, options["email"], password)
        except IntegrityError:
            raise CommandError(f"user {username!r} exists already") from None
        kind = "site admin" if options["superuser"] else "user"
        self.stdout.write(f"Created {kind} {username}.")

    def _password(self, from_stdin: bool) -> str:
        if from_stdin:
            password = sys.stdin.readline().rstrip("\r\n")
            if not password:
                raise CommandError("--password-stdin: standard input held no password")
            return password
        if not sys.stdin.isatty():
            raise CommandError("no terminal to prompt on: pipe the password with --password-stdin")
        password = getpass.getpass("Password: ")
        if password != getpass.getpass("Password (again): "):
            raise CommandError("the two passwords differ")
        return password
