"""Linking and verifying claimed fixes at scale: 1,000 claims against 10,000 commits.

    .venv/bin/python bench/verify_bench.py [--commits 10000] [--claims 1000] [--dump FILE]
        [--no-memo]

Builds a repository of ``--commits`` generated commits (``git_repo_gen.build_history``: each
commit rewrites one line and says "Fixes BENCH-<n>"), a fresh SQLite database in a temporary
data folder, a project with ``--claims`` document claims (each citing the short hash of a
generated commit, the line it changed and the code it wrote), then times

1. ``repository_link``: open the repository, read every commit into the database, link the
   commit messages' citations to the findings;
2. ``project_verify``: every check of every claim, stored as Checks with evidence levels.

Prints the figures (with the number of git processes verification started; ``--no-memo``
turns off the run's memo of git answers to measure what it saves) and leaves
nothing behind but ``--dump FILE``: every claim's verification result as JSON, without run
ids and times, so two runs (before and after a speed change) can be compared byte for byte.
Not a test: nothing here fails on timing.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))


def _setup_django(data_dir: Path) -> None:
    """A throwaway SQLite database under ``data_dir``, migrated."""
    os.environ["AUDITDASH_DATA_DIR"] = str(data_dir)
    os.environ.pop("DATABASE_URL", None)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "auditdash.settings")
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)


def _claims(project, changes, marks: list[str], count: int) -> int:
    """``count`` claims, one per sampled generated change, each with its own finding."""
    import random

    from django.utils import timezone

    from findings.lifecycle import Status
    from findings.models import Claim, Document, Finding, Report

    now = timezone.now()
    report = Report.objects.create(
        project=project,
        sha256="0" * 64,
        kind=Report.Kind.DOCUMENT,
        format="markdown",
        tool="document",
        filename="bench-handoff.md",
        state=Report.State.DONE,
    )
    Document.objects.create(report=report, project=project, identity="title:bench", text="")
    sample = random.Random(11).sample(changes, min(count, len(changes)))
    findings = Finding.objects.bulk_create(
        Finding(
            project=project,
            number=n,
            fingerprint=f"doc:bench-{n}",
            tool="document",
            title=f"Claimed fix {n}",
            severity=3,
            path=change.path,
            start_line=change.line,
            status=Status.CLAIMED,
            status_changed_at=now,
            first_seen_at=now,
            last_seen_at=now,
        )
        for n, change in enumerate(sample, start=1)
    )
    Claim.objects.bulk_create(
        Claim(
            project=project,
            report=report,
            first_report=report,
            finding=finding,
            document_identity="title:bench",
            claim_key=f"claimed fix {n}",
            key=f"F{n}",
            title=f"Claimed fix {n}",
            status=Claim.Status.FIXED,
            files=[{"path": change.path, "lines": [[change.line, change.line]]}],
            commits=[marks[change.mark - 1][:7]],
            after=[change.text],
            line=n,
        )
        for n, (finding, change) in enumerate(zip(findings, sample, strict=True), start=1)
    )
    project.next_number = len(sample) + 1
    project.save(update_fields=["next_number"])
    return len(sample)


def _dump(path: Path, results) -> None:
    """Each claim's summary (finding, level, checks with commit, path, side and reason)."""
    import orjson

    from findings.services import evidence_summary

    rows = [evidence_summary(e) for e in results]
    path.write_bytes(orjson.dumps(rows, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS))
    print(f"wrote {len(rows)} claims' checks to {path}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--commits", type=int, default=10_000)
    parser.add_argument("--claims", type=int, default=1_000)
    parser.add_argument(
        "--no-memo",
        action="store_true",
        help="keep no git answers between checks (evidence_checks.MEMO_BYTES = 0), to compare",
    )
    parser.add_argument(
        "--dump", type=Path, help="write every claim's checks here as JSON, for comparing runs"
    )
    args = parser.parse_args(argv)
    from git_repo_gen import build_history

    with tempfile.TemporaryDirectory(prefix="auditdash-verify-bench-") as tmp:
        data_dir = Path(tmp) / "data"
        data_dir.mkdir()
        started = time.perf_counter()
        repo, changes = build_history(data_dir / "bench-repo", args.commits)
        built = time.perf_counter() - started
        print(f"built {args.commits} commits with git fast-import in {built:.1f} s")
        _setup_django(data_dir)

        from findings.models import Check, CommitLink, Project
        from findings.services import project_verify, repository_link

        project = Project.objects.create(key="BENCH", name="bench")
        marks = repo.git("log", "--reverse", "--format=%H", "main").split()
        claims = _claims(project, changes, marks, args.claims)

        started = time.perf_counter()
        repository = repository_link(project=project, target=str(repo.path))
        linked = time.perf_counter() - started
        commits = project.commits.count()
        print(
            f"link_repo: {commits} commits read and {CommitLink.objects.count()} citations "
            f"linked in {linked:.1f} s ({commits / linked:,.0f} commits/s), head "
            f"{repository.head_sha[:12]}"
        )

        from findings.services import evidence_checks
        from scanners.git import command

        if args.no_memo:
            evidence_checks.MEMO_BYTES = 0

        calls = Counter()
        run_git = command.run_git

        def counted(*a, **kw):
            calls["git"] += 1
            return run_git(*a, **kw)

        command.run_git = counted
        started = time.perf_counter()
        try:
            results = project_verify(project=project)
        finally:
            command.run_git = run_git
        verified = time.perf_counter() - started
        per_claim = calls["git"] / max(claims, 1)
        print(f"verify started {calls['git']} git processes ({per_claim:.1f} per claim)")
        if args.dump:
            _dump(args.dump, results)
        levels = Counter(str(e.level) for e in results)
        print(
            f"verify: {claims} claims in {verified:.1f} s = {claims / verified:.1f} claims/s, "
            f"{Check.objects.count()} checks stored; evidence {dict(sorted(levels.items()))}"
        )
        print(f"total (link + verify): {linked + verified:.1f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
