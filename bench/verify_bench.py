"""Linking and verifying claimed fixes at scale: 1,000 claims against 10,000 commits.

    .venv/bin/python bench/verify_bench.py [--commits 10000] [--claims 1000] [--dump FILE]
        [--no-memo] [--files 40] [--vendor 0] [--repo DIR]

The issue-14 figure (10 claims; a vendored library of 300 files upgraded every 500 commits,
as in real projects; the repository kept for the next run):
``--claims 10 --vendor 300 --repo /tmp/bench-10k-vendor``.

Builds a repository of ``--commits`` generated commits (``git_repo_gen.build_history``: each
commit rewrites one line and says "Fixes BENCH-<n>"), a fresh SQLite database in a temporary
data folder, a project with ``--claims`` document claims (each citing the short hash of a
generated commit, the line it changed and the code it wrote; half on files renamed after that
commit, so the checks at the head follow them), then times

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


def _claims(project, changes, marks: list[str], count: int, moved: list) -> int:
    """``count`` claims, one per sampled generated change, each with its own finding; half of
    them (as many as there are) on ``moved``, changes to files renamed after the change, so
    the head checks must follow the file."""
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
    rng = random.Random(11)
    sample = rng.sample(moved, min(count // 2, len(moved)))
    rest = [c for c in changes if c not in set(sample)]
    sample += rng.sample(rest, min(count - len(sample), len(rest)))
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


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--commits", type=int, default=10_000)
    parser.add_argument("--claims", type=int, default=1_000)
    parser.add_argument("--files", type=int, default=40, help="files in the generated tree")
    parser.add_argument(
        "--vendor", type=int, default=0, help="files of a vendored library upgraded now and then"
    )
    parser.add_argument(
        "--repo", type=Path, help="build the repository here, or reuse the one built here"
    )
    parser.add_argument(
        "--no-memo",
        action="store_true",
        help="keep no git answers between checks (evidence_checks.MEMO_BYTES = 0), to compare",
    )
    parser.add_argument(
        "--dump", type=Path, help="write every claim's checks here as JSON, for comparing runs"
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = _arguments(argv)
    from git_repo_gen import build_history

    with tempfile.TemporaryDirectory(prefix="auditdash-verify-bench-") as tmp:
        data_dir = Path(tmp) / "data"
        data_dir.mkdir()
        started = time.perf_counter()
        where = args.repo or data_dir / "bench-repo"
        reused = (where / ".git").is_dir()
        repo, changes = build_history(where, args.commits, files=args.files, vendor=args.vendor)
        built = time.perf_counter() - started
        how = f"reused {where}" if reused else f"built with git fast-import in {built:.1f} s"
        vendored = f" and {args.vendor} vendored" if args.vendor else ""
        print(f"{args.commits} commits over {args.files} files{vendored}: {how}")
        if args.repo:  # linking reads repositories only from the allowed folders
            os.environ["AUDITDASH_REPO_ROOTS"] = f"{data_dir}:{where.resolve().parent}"
        _setup_django(data_dir)

        from findings.models import Check, CommitLink, Project
        from findings.services import repository_link

        project = Project.objects.create(key="BENCH", name="bench")
        marks = repo.git("log", "--reverse", "--format=%H", "main").split()
        at_head = set(repo.git("ls-tree", "-r", "--name-only", "main").split())
        moved = [c for c in changes if c.path not in at_head]
        claims = _claims(project, changes, marks, args.claims, moved)
        print(f"{claims} claims, {min(args.claims // 2, len(moved))} on files renamed later")

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

        if args.no_memo:
            evidence_checks.MEMO_BYTES = 0

        results, verified, calls, spent = _timed_verify(project)
        per_claim = calls["git"] / max(claims, 1)
        print(f"verify started {calls['git']} git processes ({per_claim:.1f} per claim)")
        slowest = ", ".join(f"git {name} {secs:.1f} s" for name, secs in spent.most_common(4))
        print(f"time in git by command: {slowest}")
        if args.dump:
            _dump(args.dump, results)
        levels = Counter(str(e.level) for e in results)
        print(
            f"verify: {claims} claims in {verified:.1f} s = {claims / verified:.1f} claims/s, "
            f"{Check.objects.count()} checks stored; evidence {dict(sorted(levels.items()))}"
        )
        print(f"total (link + verify): {linked + verified:.1f} s")
    return 0


def _timed_verify(project) -> tuple[list, float, Counter, Counter]:
    """``project_verify`` timed, with the git processes it starts counted by command."""
    from findings.services import project_verify
    from scanners.git import command

    calls: Counter = Counter()
    spent: Counter = Counter()
    run_git = command.run_git

    def counted(*a, **kw):
        calls["git"] += 1
        began = time.perf_counter()
        try:
            return run_git(*a, **kw)
        finally:
            args = [str(x) for x in (a[0] if a else kw.get("args", []))]
            spent[" ".join(x for x in args[:1] if not x.startswith("-"))] += (
                time.perf_counter() - began
            )

    command.run_git = counted
    started = time.perf_counter()
    try:
        results = project_verify(project=project)
    finally:
        command.run_git = run_git
    return results, time.perf_counter() - started, calls, spent


if __name__ == "__main__":
    raise SystemExit(main())
