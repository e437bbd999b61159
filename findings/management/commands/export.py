"""python manage.py export --project KEY --format json|csv|sarif [--with-fixed] [--with-triaged]
[--output FILE]"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import TYPE_CHECKING

import orjson
from django.core.management.base import BaseCommand, CommandError

from findings.models import Project
from findings.selectors.reports import EXPORT_COLUMNS, csv_safe, export_rows
from findings.selectors.sarif import sarif_log

if TYPE_CHECKING:
    from _typeshed import SupportsWrite


class Command(BaseCommand):
    help = (
        "List every finding of a project with its lifecycle facts, as JSON or CSV; or its open "
        "findings, with their lifecycle and evidence, as a SARIF 2.1.0 log."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--project", required=True)
        parser.add_argument(
            "--format", choices=("json", "csv", "sarif"), default="json", dest="fmt"
        )
        parser.add_argument(
            "--with-fixed",
            action="store_true",
            help="sarif: also the verified and signed-off findings, as baselineState 'absent'",
        )
        parser.add_argument(
            "--with-triaged",
            action="store_true",
            help="sarif: also the triaged findings (accepted risk, false positive, won't fix, "
            "suppressed), as suppressed results",
        )
        parser.add_argument("--output", default="-", help="file to write, '-' for stdout")

    def handle(self, *args, **opts) -> None:
        project = Project.objects.filter(key=opts["project"]).first()
        if project is None:
            raise CommandError(f"no project with the key {opts['project']!r}")
        for flag in ("with_fixed", "with_triaged"):
            if opts[flag] and opts["fmt"] != "sarif":
                option = "--" + flag.replace("_", "-")
                raise CommandError(
                    f"{option} is for --format sarif; json and csv list every finding"
                )
        if opts["fmt"] == "sarif":
            self._sarif(
                project,
                opts["output"],
                with_fixed=opts["with_fixed"],
                with_triaged=opts["with_triaged"],
            )
        elif opts["output"] == "-":
            _write(project, opts["fmt"], _Raw(self.stdout))
        else:
            with open(opts["output"], "w", newline="") as out:
                _write(project, opts["fmt"], out)

    def _sarif(
        self, project: Project, output: str, *, with_fixed: bool, with_triaged: bool
    ) -> None:
        pieces = sarif_log(project=project, with_fixed=with_fixed, with_triaged=with_triaged)
        if output != "-":
            # Written beside the target and moved into place whole: a failure leaves no half log.
            part = Path(f"{output}.part")
            try:
                with part.open("wb") as out:
                    for piece in pieces:
                        out.write(piece)
                part.replace(output)
            finally:
                part.unlink(missing_ok=True)
            return
        raw = _Raw(self.stdout)
        for piece in pieces:  # each piece ends between two results: whole UTF-8
            raw.write(piece.decode())


def _write(project: Project, fmt: str, out: SupportsWrite[str]) -> None:
    """Every finding of ``project`` into ``out``, as CSV or as a JSON list (``fmt``)."""
    rows = export_rows(project=project)
    if fmt == "csv":
        writer = csv.DictWriter(out, fieldnames=list(EXPORT_COLUMNS))
        writer.writeheader()
        for row in rows:
            writer.writerow(csv_safe(row))
    else:
        out.write("[")
        for index, row in enumerate(rows):
            out.write(("," if index else "") + "\n  " + orjson.dumps(row).decode())
        out.write("\n]\n")


class _Raw:
    """The command's stdout without the newline Django adds to every write."""

    def __init__(self, wrapper) -> None:
        self.wrapper = wrapper

    def write(self, text: str) -> None:
        self.wrapper.write(text, ending="")
