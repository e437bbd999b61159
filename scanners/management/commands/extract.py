"""``manage.py extract DOC [--json]``: show what auditdash reads from a remediation document.

Prints and writes nothing anywhere else. Problems with the file (missing, a directory,
unreadable, binary, not UTF-8, too large) end in one line on stderr and exit code 1.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from scanners.base import ParseError
from scanners.documents import MAX_BYTES, Extraction, extract


class Command(BaseCommand):
    help = "Print the extraction of a remediation document (writes nothing)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("document", help="path of the Markdown or text document")
        parser.add_argument(
            "--json", action="store_true", help="print the extraction as JSON (UTF-8, indent 2)"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        path = Path(options["document"])
        data = _read(path)
        try:
            result = extract(data, source=str(path))
        except ParseError as exc:
            raise CommandError(str(exc)) from exc
        if options["json"]:
            self.stdout.write(json.dumps(result.to_dict(), ensure_ascii=False, indent=2))
        else:
            self.stdout.write(summary(result))


def _read(path: Path) -> bytes:
    if not path.exists():
        raise CommandError(f"{path}: no such file")
    if path.is_dir():
        raise CommandError(f"{path}: is a directory, expected a document file")
    try:
        size = path.stat().st_size
        if size > MAX_BYTES:
            raise CommandError(f"{path}: {size} bytes, over the {MAX_BYTES} byte limit")
        return path.read_bytes()
    except OSError as exc:
        raise CommandError(f"{path}: cannot read ({exc.strerror or exc})") from exc


def summary(result: Extraction) -> str:
    """A short human-readable account of an extraction."""
    doc = result.document
    out = [f"Document: {doc.title or '(untitled)'}"]
    for label, value in (
        ("Date", doc.date or doc.date_raw),
        ("Author", doc.author),
        ("Repository", doc.repository),
        ("Status", doc.status),
    ):
        if value:
            out.append(f"  {label}: {value}")
    if doc.commits:
        out.append(f"  Commits: {', '.join(doc.commits)}")
    if doc.repaired:
        out.append(f"  Encoding repaired: UTF-8 that had been read as {doc.encoding_repair}")
    for claim in doc.headline_claims:
        out.append(f"  Claim: {claim}")
    out.append(f"Findings: {len(result.findings)}")
    for f in result.findings:
        where = ", ".join(
            (fr.path or "?")
            + (
                ":"
                + ",".join(
                    ("~" if [a, b] in fr.approximate else "") + (f"{a}-{b}" if a != b else str(a))
                    for a, b in fr.lines
                )
                if fr.lines
                else ""
            )
            for fr in f.files
        )
        ref = f"{f.ref} " if f.ref else ""
        out.append(f"  [{f.key}] {ref}{f.title} — {f.severity or 'no severity'}, {f.status}")
        if where:
            out.append(f"      files: {where}")
        if f.commits:
            out.append(f"      commits: {', '.join(f.commits)}")
        if f.evidence:
            out.append(f"      evidence: {', '.join(f.evidence)}")
    out.append(f"Phases: {len(result.phases)}")
    for p in result.phases:
        window = f" ({p.window})" if p.window else ""
        out.append(f"  {p.name}{window} [{p.kind}]: {len(p.items)} items")
    out.append(f"Health: {len(result.health)}")
    for h in result.health:
        out.append(f"  {h.area}: {h.status} ({h.raw})")
    out.append(f"Unparsed: {len(result.unparsed)} passages")
    return "\n".join(out)
