"""Claim verification on real repositories: the labelled corpus against its mirrors.

    .venv/bin/python bench/evidence_real.py [--corpus DIR] [--mirrors DIR]
        [--expect FILE] [--only PREFIX]... [--json]

For every corpus document (``NAME.md`` with ``NAME.expected.json``, whose ``source`` names
repository, path and commit) whose repository has a mirror (``MIRRORS/OWNER+NAME/repo``, a
bare clone), it runs the real commands in a scratch data folder with its own SQLite
database: ``link_repo --project P MIRROR`` (the mirror's HEAD branch, or a branch holding the
commit when HEAD's history does not), ``ingest DOC --project P --commit SHA`` and
``verify --project P --json``. Each step is timed.

It prints every verified claim (document, title, evidence level, each check in short) with
its outcome against ``bench/evidence_expect.json`` (written by hand from the labels' notes:
what a person found in the code), then issue 14's table: false claims flagged (and by the
right check), false alarms on true claims, claims no check could run for (and how many of
those give no reason), code-checked claims whose only passing check was touches_file, and
verify's wall time per repository. ``--json`` prints the same for machines.

The corpus defaults to ``../shared/corpus/documents`` (``EVIDENCE_CORPUS``), the mirrors to
``bench/out/mirrors`` (``EVIDENCE_MIRRORS``; point it at wherever the fetched bare mirrors
are). Without them it says what is missing and exits 0:
it is a benchmark, not a test, and nothing here fails on a figure.
"""

from __future__ import annotations

import argparse
import io
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import orjson

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import evidence_score as es  # noqa: E402

EXPECT = ROOT / "bench" / "evidence_expect.json"
_SHORT = {"pass": "ok", "fail": "FAIL", "cannot-check": "n/a"}


@dataclass
class Run:
    """One document through link, ingest and verify."""

    name: str
    repo: str
    project: str
    seconds: dict[str, float] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    rows: list[dict] = field(default_factory=list)
    keys: list[str] = field(default_factory=list)
    linked: str = ""


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--corpus",
        type=Path,
        default=Path(os.environ.get("EVIDENCE_CORPUS", "../shared/corpus/documents")),
    )
    parser.add_argument(
        "--mirrors",
        type=Path,
        default=Path(os.environ.get("EVIDENCE_MIRRORS", "bench/out/mirrors")),
    )
    parser.add_argument("--expect", type=Path, default=EXPECT)
    parser.add_argument(
        "--only", action="append", default=[], help="documents whose name starts with this"
    )
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    return parser.parse_args(argv)


def mirror_of(mirrors: Path, repo: str) -> Path | None:
    """The git directory of ``repo``'s mirror (``OWNER+NAME/repo``), or None."""
    base = mirrors / repo.replace("/", "+")
    for candidate in (base / "repo", base / "repo" / ".git", base):
        if (candidate / "HEAD").is_file() and (candidate / "objects").is_dir():
            return candidate
    return None


def _git(git_dir: Path, *args: str) -> tuple[int, str]:
    proc = subprocess.run(
        ["git", f"--git-dir={git_dir}", *args], capture_output=True, text=True, check=False
    )
    return proc.returncode, proc.stdout.strip()


def branch_for(git_dir: Path, commit: str) -> str:
    """The mirror's HEAD branch when ``commit`` is in its history, else a branch that has it
    ("" when none does: link_repo then follows HEAD and verify says what it cannot find)."""
    _, head = _git(git_dir, "symbolic-ref", "--quiet", "--short", "HEAD")
    if head and _git(git_dir, "merge-base", "--is-ancestor", commit, head)[0] == 0:
        return head
    _, listed = _git(git_dir, "for-each-ref", "--contains", commit, "--format=%(refname:short)")
    branches = listed.split()
    return branches[0] if branches else ""


def _setup_django(data_dir: Path, mirrors: Path) -> None:
    """A throwaway SQLite database under ``data_dir``, migrated; mirrors may be linked."""
    os.environ["AUDITDASH_DATA_DIR"] = str(data_dir)
    os.environ["AUDITDASH_REPO_ROOTS"] = f"{data_dir}:{mirrors.resolve()}"
    os.environ.pop("DATABASE_URL", None)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "auditdash.settings")
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)


def _command(run: Run, step: str, *args: str) -> str:
    """Run a management command in this process, timed; its output, or "" after an error
    (recorded on ``run``)."""
    from django.core.management import call_command
    from django.core.management.base import CommandError

    out, err = io.StringIO(), io.StringIO()
    started = time.perf_counter()
    try:
        call_command(*args, stdout=out, stderr=err)
    except CommandError as error:
        run.errors.append(f"{step}: {error}")
    finally:
        run.seconds[step] = time.perf_counter() - started
    return out.getvalue()


def run_document(label_path: Path, index: int, mirrors: Path) -> Run | None:
    """Link, ingest and verify one document; None when its repository has no mirror."""
    label = orjson.loads(label_path.read_bytes())
    source = label["source"]
    git_dir = mirror_of(mirrors, source["repo"])
    if git_dir is None:
        return None
    name = label_path.name.removesuffix(".expected.json")
    run = Run(name=name, repo=source["repo"], project=f"EV{index:02d}")
    branch = branch_for(git_dir, source["commit"])
    link = ["link_repo", "--project", run.project, str(git_dir)]
    run.linked = _command(run, "link", *link, *(["--branch", branch] if branch else []))
    document = label_path.with_name(name + ".md")
    _command(run, "ingest", "ingest", str(document), "--project", run.project,
             "--commit", source["commit"], "--json")  # fmt: skip
    out = _command(run, "verify", "verify", "--project", run.project, "--json")
    run.rows = orjson.loads(out) if out.strip() else []
    run.keys = _claim_keys(run.project, run.rows)
    return run


def _claim_keys(project: str, rows: list[dict]) -> list[str]:
    """The document's own id of each verified claim (Claim.key), by finding key."""
    from findings.models import Claim

    keys = {
        c.finding.key: c.key
        for c in Claim.objects.filter(project__key=project).select_related("finding__project")
    }
    return [keys.get(row.get("finding", ""), "") for row in rows]


def load_expectations(path: Path) -> dict[str, list[es.Expectation]]:
    """Document name -> its expectations."""
    data = orjson.loads(path.read_bytes())
    return {
        name: [es.Expectation.from_dict(c) for c in entry.get("claims", [])]
        for name, entry in data["documents"].items()
    }


def _checks_short(checks: list[dict]) -> str:
    return " ".join(f"{c['name']}:{_SHORT.get(c['result'], c['result'])}" for c in checks)


def _print_run(run: Run, scored: list[es.Scored], unmatched: list[es.Expectation]) -> None:
    times = ", ".join(f"{step} {secs:.1f} s" for step, secs in run.seconds.items())
    print(f"\n== {run.name} ({run.repo}) {times}")
    for error in run.errors:
        print(f"   error: {error}")
    for item in scored:
        row = item.row
        print(f"   {row['finding']:<7} {row['evidence']:<14} {row['claim_title'][:60]!r}")
        print(f"      {_checks_short(row.get('checks') or []) or 'no checks'}")
        if item.expectation is None or item.expectation.truth == "unknown":
            if item.outcome == es.NO_EXPECTATION and not item.ran:
                print("      -> no check could run")
            continue
        wanted = "/".join(item.expectation.checks)
        said = f"known {item.expectation.truth}" + (f", shown by {wanted}" if wanted else "")
        print(f"      -> {item.outcome.upper()} ({said}: {item.expectation.reason[:110]})")
    for expectation in unmatched:
        print(f"   not in verify's output: {expectation.title[:70]!r} ({expectation.truth})")


def _report(runs: list[Run], expectations: dict, as_json: bool) -> None:
    every: list[es.Scored] = []
    out_docs = []
    verify_seconds: dict[str, float] = {}
    for run in runs:
        scored, unmatched = es.score(run.rows, run.keys, expectations.get(run.name, []))
        every += scored
        verify_seconds[run.repo] = verify_seconds.get(run.repo, 0.0) + run.seconds.get(
            "verify", 0.0
        )
        if not as_json:
            _print_run(run, scored, unmatched)
        out_docs.append(_run_json(run, scored, unmatched))
    result = es.totals(every)
    lines = es.table(result, verify_seconds)
    if as_json:
        payload = {
            "documents": out_docs,
            "totals": {
                **asdict(result),
                "outcomes": dict(result.outcomes),
                "false_alarm_rate": round(result.false_alarm_rate, 4),
                "verify_seconds": verify_seconds,
            },
        }
        print(orjson.dumps(payload, option=orjson.OPT_INDENT_2).decode())
        return
    print(f"\noutcomes: {dict(sorted(result.outcomes.items()))}\n")
    print("\n".join(lines))


def _run_json(run: Run, scored: list[es.Scored], unmatched: list[es.Expectation]) -> dict:
    return {
        "document": run.name,
        "repo": run.repo,
        "seconds": {k: round(v, 3) for k, v in run.seconds.items()},
        "errors": run.errors,
        "claims": [
            {
                "finding": s.row.get("finding"),
                "key": s.key,
                "title": s.row.get("claim_title"),
                "evidence": s.row.get("evidence"),
                "checks": [(c["name"], c["result"]) for c in s.row.get("checks") or []],
                "expected": s.expectation.truth if s.expectation else None,
                "expected_checks": list(s.expectation.checks) if s.expectation else [],
                "outcome": s.outcome,
            }
            for s in scored
        ],
        "not_in_verify": [e.title for e in unmatched],
    }


def main(argv: list[str] | None = None) -> int:
    args = _arguments(argv)
    if not args.corpus.is_dir():
        print(f"skipped: no corpus at {args.corpus}")
        return 0
    if not args.mirrors.is_dir():
        print(f"skipped: no mirrors at {args.mirrors}")
        return 0
    labels = sorted(args.corpus.glob("*.expected.json"))
    labels = [p for p in labels if not args.only or p.name.startswith(tuple(args.only))]
    present = [p for p in labels if mirror_of(args.mirrors, _repo(p))]
    if not present:
        print(f"skipped: no mirrors at {args.mirrors} for the {len(labels)} corpus documents")
        return 0
    expectations = load_expectations(args.expect)
    runs: list[Run] = []
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="auditdash-evidence-real-") as tmp:
        _setup_django(Path(tmp), args.mirrors)
        for index, label in enumerate(labels, start=1):
            run = run_document(label, index, args.mirrors)
            if run is None:
                if not args.json:
                    print(f"skipped {label.name}: no mirror of {_repo(label)}")
                continue
            runs.append(run)
            if not args.json:
                steps = ", ".join(f"{k} {v:.1f} s" for k, v in run.seconds.items())
                print(f"{run.name}: {len(run.rows)} claims verified ({steps})", flush=True)
        _report(runs, expectations, args.json)
    if not args.json:
        print(f"\n{len(runs)} documents in {time.perf_counter() - started:.0f} s")
    return 0


def _repo(label: Path) -> str:
    return orjson.loads(label.read_bytes())["source"]["repo"]


if __name__ == "__main__":
    raise SystemExit(main())
