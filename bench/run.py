"""The auditdash benchmark: ingest rates, re-ingest, a 10%-changed log, peak memory, page latency.

    python bench/run.py [--sizes 10000,100000,500000] [--repeat N] [--database-url URL]
    python bench/run.py --pages-only [--findings 1000000] [--database-url URL]

Runs on PostgreSQL (default postgres://postgres@127.0.0.1:5432/auditdash_bench, created and
migrated afresh). Each ingest runs as its own `manage.py ingest` process, so its peak RSS is
the whole cost of one import. Synthetic logs are cached in bench/out/. Not a test: nothing
here fails on timing.

``--pages-only`` skips ingestion: it bulk-creates one project with ``--findings`` findings
(``INSERT ... SELECT generate_series``, seconds for a million), a little planning and health
around them, and prints the median server time of every dashboard page and board filter.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from sarif_gen import write_sarif  # noqa: E402


def ensure_database(url: str) -> None:
    name = url.rsplit("/", 1)[1]
    admin = url.rsplit("/", 1)[0] + "/postgres"
    import psycopg

    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


_MEASURED = (
    "import atexit, runpy, sys\n"
    "def report():\n"
    "    with open('/proc/self/status') as status:\n"
    "        sys.stderr.write(''.join(l for l in status if l.startswith('VmHWM')))\n"
    "atexit.register(report)\n"
    f"sys.argv = ['manage.py', *sys.argv[1:]]\n"
    f"runpy.run_path({str(ROOT / 'manage.py')!r}, run_name='__main__')\n"
)


def ingest(env: dict, path: Path, project: str) -> dict:
    """One `manage.py ingest --json` in its own process; its output plus wall time and peak RSS."""
    import json
    import tempfile

    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        started = time.perf_counter()
        # The child reports its own high-water mark (VmHWM, reset at exec): ru_maxrss would
        # also count the pages it shared with this process between fork and exec.
        proc = subprocess.Popen(
            [sys.executable, "-c", _MEASURED, "ingest", str(path), "--project", project, "--json"],
            env=env,
            cwd=ROOT,
            stdout=out,
            stderr=err,
        )
        proc.wait()
        wall = time.perf_counter() - started
        out.seek(0)
        err.seek(0)
        if proc.returncode != 0:
            raise SystemExit(f"ingest {path.name} failed:\n{err.read().decode()[-3000:]}")
        data = json.loads(out.read())
        hwm = re.search(rb"VmHWM:\s+(\d+) kB", err.read())
    data["wall"] = wall
    data["peak_mb"] = int(hwm.group(1)) / 1024 if hwm else float("nan")
    return data


def checkpoint(url: str) -> None:
    """Write out what earlier steps left dirty, so that each step pays for its own writes
    only. Needs a superuser (or pg_checkpoint); skipped without one."""
    import psycopg

    try:
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("CHECKPOINT")
    except psycopg.errors.InsufficientPrivilege:
        pass


def reference(url: str, project: str) -> tuple[float, int]:
    """The issue's yardstick on this machine, now: the seconds PostgreSQL alone takes to load
    ``project``'s findings, made already, into a new project by COPY into a temporary table
    and ``INSERT ... ON CONFLICT`` (no parsing, no sightings, no lifecycle). The copy is
    deleted again afterwards. Returns the seconds and the number of findings."""
    import tempfile

    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        columns = [
            name
            for (name,) in conn.execute(
                "SELECT column_name FROM information_schema.columns "
                "WHERE table_name = %s ORDER BY ordinal_position",
                ["findings_finding"],
            )
            if name not in ("id", "project_id")
        ]
        names = ", ".join(columns)
        project_columns = [
            name
            for (name,) in conn.execute(
                "SELECT column_name FROM information_schema.columns "
                "WHERE table_name = 'findings_project' AND column_name NOT IN ('id', 'key')"
            )
        ]
        kept = ", ".join(project_columns)
        source = conn.execute("SELECT id FROM findings_project WHERE key = %s", [project])
        source_id = source.fetchone()[0]
        target_id = conn.execute(
            f"INSERT INTO findings_project (key, {kept}) SELECT 'REF', {kept} "
            "FROM findings_project WHERE id = %s RETURNING id",
            [source_id],
        ).fetchone()[0]
        with tempfile.TemporaryFile() as rows:
            with conn.cursor().copy(
                f"COPY (SELECT {names} FROM findings_finding WHERE project_id = {source_id}) "
                "TO STDOUT"
            ) as out:
                for chunk in out:
                    rows.write(chunk)
            conn.execute("CHECKPOINT")
            rows.seek(0)
            started = time.perf_counter()
            with conn.transaction():
                # As the import does: rule titles are not kept by a trigger call per row.
                conn.execute("SET LOCAL auditdash.merging = 'on'")
                conn.execute(
                    f"CREATE TEMPORARY TABLE ref ON COMMIT DROP AS "
                    f"SELECT {names} FROM findings_finding WITH NO DATA"
                )
                with conn.cursor().copy(f"COPY ref ({names}) FROM STDIN") as copy:
                    while chunk := rows.read(1 << 20):
                        copy.write(chunk)
                loaded = conn.execute(
                    f"INSERT INTO findings_finding (project_id, {names}) "
                    f"SELECT {target_id}, {names} FROM ref "
                    "ON CONFLICT (project_id, fingerprint) DO NOTHING"
                ).rowcount
            seconds = time.perf_counter() - started
        conn.execute("DELETE FROM findings_finding WHERE project_id = %s", [target_id])
        conn.execute("DELETE FROM findings_ruletitle WHERE project_id = %s", [target_id])
        conn.execute("DELETE FROM findings_project WHERE id = %s", [target_id])
    return seconds, loaded


def page_latencies(env: dict, project: str, repeats: int = 15) -> dict[str, float]:
    """Median server time of the main pages, rendered in-process with the test client."""
    os.environ.update(env)
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.test import Client

    from findings.models import Finding

    # A site admin sees every project (pages check per-project roles).
    user, _ = get_user_model().objects.get_or_create(username="bench")
    user.is_superuser = True
    user.save()
    client = Client()
    client.force_login(user)
    number = (
        Finding.objects.filter(project__key=project)
        .order_by("number")
        .values_list("number", flat=True)[1000]
    )
    pages = {
        "overview": "/",
        "board": f"/p/{project}/",
        "board filter (htmx)": f"/p/{project}/?severity=high&status=open_like&path=src/",
        "board text search (htmx)": f"/p/{project}/?q=injection",
        "finding detail": f"/p/{project}/findings/{number}/",
        "imports": "/imports/",
    }
    htmx = {"HTTP_HX_REQUEST": "true"}
    return {
        name: median_ms(client, url, htmx if "htmx" in name else {}, repeats)
        for name, url in pages.items()
    }


def median_ms(client, url: str, headers: dict, repeats: int) -> float:
    """The median server time (ms) of ``repeats`` GETs of ``url``, each answered 200."""
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        response = client.get(url, **headers)
        times.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, (url, response.status_code)
    return statistics.median(times)


PAGES_PROJECT = "PAGES"
REFERENCE = "reference: COPY + ON CONFLICT"

# Each attribute draws on its own hash of i, so tool, status, severity, path and title are
# independent (plain i %% n buckets would correlate them and make some filters match nothing).
_FINDINGS_SQL = """
INSERT INTO findings_finding (
    project_id, number, fingerprint, tool, category, branch, rule_id, title, message, severity,
    cwe, path, start_line, end_line, snippet, extra, status, status_reason, status_changed_at,
    first_seen_at, last_seen_at, first_seen_commit, last_seen_commit, fixed_in_commit,
    created_at)
SELECT %(project)s, i, md5(i::text),
    (ARRAY['bandit','ruff','semgrep','pip-audit','gitleaks'])[1 + h.tool %% 5],
    '', 'main', 'R' || (h.rule %% 300),
    (ARRAY['SQL injection in query','Use of eval','Hard-coded password','Unbounded query',
           'Missing timeout on request','Weak hash','Shell injection',
           'N+1 query in view'])[1 + h.title %% 8] || ' #' || i,
    '', CASE WHEN h.sev %% 100 < 2 THEN 1 WHEN h.sev %% 100 < 12 THEN 2
             WHEN h.sev %% 100 < 40 THEN 3 WHEN h.sev %% 100 < 75 THEN 4 ELSE 5 END,
    '', 'src/mod' || (h.path %% 500) || '/file' || (h.rule %% 37) || '.py',
    1 + i %% 900, 1 + i %% 900, '', '{}'::jsonb,
    CASE WHEN h.status %% 50 < 42 THEN 'open' WHEN h.status %% 50 < 45 THEN 'claimed'
         WHEN h.status %% 50 < 47 THEN 'verified' WHEN h.status %% 50 < 48 THEN 'signed_off'
         WHEN h.status %% 50 < 49 THEN 'regressed' ELSE 'false_positive' END,
    '', now() - (h.age %% 400) * interval '1 day', now() - (h.age %% 400) * interval '1 day',
    now(), '', '', '', now()
FROM generate_series(1, %(n)s) AS i,
LATERAL (SELECT abs(hashint4(i)) AS tool, abs(hashint4(i + 7)) AS status,
                abs(hashint4(i + 13)) AS sev, abs(hashint4(i + 29)) AS path,
                abs(hashint4(i + 31)) AS rule, abs(hashint4(i + 43)) AS title,
                abs(hashint4(i + 57)) AS age) AS h
"""


def seed_pages_project(n: int) -> None:
    """One project with ``n`` findings, plus sprints, phases, health areas and claims."""
    from django.contrib.auth import get_user_model

    from findings.services import project_get_or_create

    project, _ = project_get_or_create(key=PAGES_PROJECT)
    _seed_findings(project, n)
    report = _seed_document(project)
    findings = _seed_claims(project, report)
    _seed_planning(project, report, findings)
    user, _ = get_user_model().objects.get_or_create(username="bench-admin")
    user.is_superuser = True
    user.save()


def _seed_findings(project, n: int) -> None:
    """``n`` findings made by PostgreSQL itself (_FINDINGS_SQL), their rule titles and
    status counts."""
    from django.db import connection, transaction

    from findings.services import status_counts_refresh

    started = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor:
        # As the scan merge does: the rule titles set-wise, not by a trigger call per row.
        cursor.execute("SET LOCAL auditdash.merging = 'on'")
        cursor.execute(_FINDINGS_SQL, {"project": project.pk, "n": n})
        cursor.execute(
            "INSERT INTO findings_ruletitle (project_id, tool, rule_id, title) "
            "SELECT DISTINCT project_id, tool, rule_id, title FROM findings_finding "
            "WHERE project_id = %s",
            [project.pk],
        )
        cursor.execute(
            "UPDATE findings_project SET next_number = %s WHERE id = %s", [n + 1, project.pk]
        )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE findings_finding")
        cursor.execute("ANALYZE findings_ruletitle")
    status_counts_refresh(project_id=project.pk)
    print(f"created {n:,} findings in {time.perf_counter() - started:.1f} s")


def _seed_document(project):
    """A document report with four health areas, each read over four weeks; returns it."""
    from datetime import timedelta

    from django.utils import timezone

    from findings.models import Document, HealthArea, HealthReading, Report

    today = timezone.localdate()
    report = Report.objects.create(
        project=project, sha256="bench-doc", kind="document", filename="handoff.md", state="done"
    )
    Document.objects.create(
        report=report, project=project, identity="handoff", date=today - timedelta(days=20), text=""
    )
    for i, name in enumerate(
        ["Server Performance", "Task Performance", "Frontend Performance", "Integration Stability"]
    ):
        area = HealthArea.objects.create(project=project, name=name, area_key=name.lower())
        for week in range(4):
            HealthReading.objects.create(
                area=area,
                status=["healthy", "degraded", "at_risk", "improved"][(i + week) % 4],
                date=today - timedelta(days=7 * (4 - week)),
                report=report,
                document_identity=f"handoff-{week}",
            )
    return report


def _seed_claims(project, report) -> list:
    """A claim of the document on each of the project's first 400 findings; returns them."""
    from findings.models import Claim, Finding

    words = ["N+1 query on endpoint", "Celery task retries", "Template render slow", "Webhook sync"]
    findings = list(Finding.objects.filter(project=project).order_by("number")[:400])
    Claim.objects.bulk_create(
        Claim(
            project=project,
            report=report,
            first_report=report,
            finding=finding,
            document_identity="handoff",
            claim_key=f"c{finding.number}",
            key=f"F{i}",
            title=f"{words[i % 4]} {i}",
            status="fixed" if i % 2 else "identified",
        )
        for i, finding in enumerate(findings)
    )
    return findings


def _seed_planning(project, report, findings: list) -> None:
    """Two phases of five roadmap items and two sprints, over ``findings``."""
    from datetime import timedelta

    from django.utils import timezone

    from findings.models import Finding, Phase, RoadmapItem, Sprint

    today = timezone.localdate()
    for order, (name, window) in enumerate(
        [("Phase 1: Quick Wins", "1-2 weeks"), ("Phase 2: Hardening", "2-4 weeks")]
    ):
        phase = Phase.objects.create(
            project=project,
            name=name,
            window=window,
            order=order,
            report=report,
            document_identity="handoff",
            phase_key=name,
        )
        for j in range(5):
            item = RoadmapItem.objects.create(phase=phase, text=f"Item {j}", item_key=f"i{j}")
            item.findings.add(*findings[order * 50 + j * 10 : order * 50 + j * 10 + 10])
    for k in range(2):
        sprint = Sprint.objects.create(
            project=project,
            name=f"Sprint {k + 1}",
            start=today - timedelta(days=7 - 14 * k),
            end=today + timedelta(days=7 + 14 * k),
            capacity=40,
        )
        Finding.objects.filter(pk__in=[f.pk for f in findings[200 + k * 50 : 250 + k * 50]]).update(
            sprint=sprint
        )


def dashboard_latencies(number: int, repeats: int = 15) -> dict[str, float]:
    """Median server time (ms) of every dashboard page and board filter, test client in-process."""
    from django.contrib.auth import get_user_model
    from django.test import Client

    from findings.models import HealthArea, Phase, Sprint

    client = Client()
    client.force_login(get_user_model().objects.get(username="bench-admin"))
    key = PAGES_PROJECT
    area = HealthArea.objects.filter(project__key=key).first()
    phase = Phase.objects.filter(project__key=key).first()
    sprint = Sprint.objects.filter(project__key=key).first()
    htmx = {"HTTP_HX_REQUEST": "true"}
    pages = {
        "overview": ("/", {}),
        "board": (f"/p/{key}/", {}),
        "board + triaged": (f"/p/{key}/?triaged=1", {}),
        "filter: severity (htmx)": (f"/p/{key}/?severity=critical", htmx),
        "filter: tool (htmx)": (f"/p/{key}/?tool=semgrep", htmx),
        "filter: path (htmx)": (f"/p/{key}/?path=src/mod42/", htmx),
        "filter: text (htmx)": (f"/p/{key}/?q=password", htmx),
        "filter: phase (htmx)": (f"/p/{key}/?phase={phase.pk}", htmx),
        "filter: sprint (htmx)": (f"/p/{key}/?sprint={sprint.pk}", htmx),
        "filter: health area (htmx)": (f"/p/{key}/?area={area.pk}", htmx),
        "filter: combined (htmx)": (f"/p/{key}/?severity=high&tool=ruff&path=src/mod1", htmx),
        "column: more (htmx)": (f"/p/{key}/board/open/?after=3-{number // 2}", htmx),
        "health": (f"/p/{key}/health/", {}),
        "roadmap": (f"/p/{key}/roadmap/", {}),
        "sprint planning": (f"/p/{key}/sprints/", {}),
        "backlog filter (htmx)": (f"/p/{key}/sprints/?severity=high&q=eval", htmx),
        "review queue": (f"/p/{key}/reviews/", {}),
        "metrics": (f"/p/{key}/metrics/", {}),
        "status report (md)": (f"/p/{key}/report.md", {}),
        "finding detail": (f"/p/{key}/findings/{max(1, number // 2)}/", {}),
        "imports": ("/imports/", {}),
        "api: findings, first 100": (f"/api/v1/projects/{key}/findings?limit=100", {}),
        "api: findings, deep page": (
            f"/api/v1/projects/{key}/findings?limit=100&after=3.{number // 2}",
            {},
        ),
        "api: findings, filtered": (
            f"/api/v1/projects/{key}/findings?status=open,regressed&severity=high&q=eval",
            {},
        ),
        "api: one finding": (f"/api/v1/projects/{key}/findings/{max(1, number // 2)}", {}),
    }
    return {
        name: median_ms(client, url, headers, repeats) for name, (url, headers) in pages.items()
    }


def pages_only(env: dict, findings: int, *, seed: bool = True) -> None:
    os.environ.update(env)
    import django

    django.setup()
    print(f"auditdash page benchmark on PostgreSQL, {findings:,} findings, {os.cpu_count()} cores")
    if seed:
        seed_pages_project(findings)
    print("median server time (ms), 15 requests each (targets: page < 150, filter < 100)")
    for name, ms in dashboard_latencies(findings).items():
        print(f"  {name:<30} {ms:8.1f}")


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,100000,500000")
    parser.add_argument(
        "--database-url",
        default=os.environ.get(
            "BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/auditdash_bench"
        ),
    )
    parser.add_argument(
        "--pages-only", action="store_true", help="skip ingestion; time the dashboard pages"
    )
    parser.add_argument("--findings", type=int, default=1_000_000)
    parser.add_argument(
        "--repeat",
        type=int,
        default=1,
        help="run each size's steps this many times, each in a new project; print medians",
    )
    parser.add_argument(
        "--keep-data",
        action="store_true",
        help="with --pages-only: time the pages on the project an earlier run created",
    )
    return parser.parse_args()


def _environment(database_url: str) -> dict:
    """The child processes' environment, with the database migrated."""
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "AUDITDASH_DATA_DIR": str(OUT / "data"),
        "DJANGO_SETTINGS_MODULE": "auditdash.settings",
        "ALLOWED_HOSTS": "testserver,localhost",
    }
    env.pop("CELERY_BROKER_URL", None)
    subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), "migrate", "-v", "0"],
        env=env,
        cwd=ROOT,
        check=True,
    )
    return env


def _print_header() -> None:
    print(f"auditdash benchmark on PostgreSQL, {os.cpu_count()} cores")
    print("seconds: the import itself, file to commit (its own --json figure); process: the")
    print("whole `manage.py ingest` run, interpreter and Django start included; a CHECKPOINT")
    print("before each step. The reference: PostgreSQL alone loading the same findings, made")
    print("already, by COPY + INSERT ... ON CONFLICT (issue 2's yardstick, on this machine now)")
    print(
        f"{'results':>8} {'step':<34} {'seconds':>8} {'findings/s':>11} {'process':>8} "
        f"{'peak MB':>8}  counts"
    )


def _steps(size: int) -> list[tuple[str, Path]]:
    """The ingest steps of one size, with their logs (generated once, cached in OUT)."""
    log = OUT / f"sarif-{size}.sarif"
    changed = OUT / f"sarif-{size}-changed10.sarif"
    if not log.exists():
        write_sarif(log, size, seed=1)
    if not changed.exists():
        write_sarif(changed, size, seed=1, changed_fraction=0.1)
    rescan = OUT / f"sarif-{size}-rescan.sarif"
    rescan.write_bytes(log.read_bytes() + b"\n")
    return [
        ("first ingest", log),
        ("same bytes again (dedupe)", log),
        ("unchanged rescan (new bytes)", rescan),
        ("10% changed (fixed + new)", changed),
    ]


def bench_size(env: dict, database_url: str, size: int, repeat: int) -> None:
    """Every step of one size, ``repeat`` times, each line printed as it ends."""
    steps = _steps(size)
    seconds: dict[str, list[float]] = {label: [] for label, _ in steps}
    seconds[REFERENCE] = []
    for run in range(1, repeat + 1):
        # Each run in a project of its own: every "first ingest" meets an empty project.
        project = f"B{size}" if run == 1 else f"B{size}-{run}"
        for label, path in steps:
            checkpoint(database_url)
            data = ingest(env, path, project)
            seconds[label].append(data["seconds"])
            rate = size / data["seconds"] if data["seconds"] else float("inf")
            counts = (
                "duplicate"
                if data["duplicate"]
                else f"new {data['new']}, open {data['still_open']}, fixed {data['fixed']}"
            )
            print(
                f"{size:>8} {label:<34} {data['seconds']:>8.2f} {rate:>11,.0f} "
                f"{data['wall']:>8.2f} {data['peak_mb']:>8.0f}  {counts}"
            )
        # After the steps: the project now holds the 10%-changed log's new findings too.
        took, rows = reference(database_url, project)
        seconds[REFERENCE].append(took * size / rows)
        print(f"{size:>8} {REFERENCE:<34} {took:>8.2f} {rows / took:>11,.0f}  {rows} rows")
    if repeat > 1:
        for label, values in seconds.items():
            middle = statistics.median(values)
            print(
                f"{size:>8} {'median: ' + label:<34} {middle:>8.2f} "
                f"{size / middle if middle else float('inf'):>11,.0f}  "
                f"(of {len(values)}: {min(values):.2f}-{max(values):.2f} s)"
            )
    first = statistics.median(seconds["first ingest"])
    ref = statistics.median(seconds[REFERENCE])
    print(f"{size:>8} first ingest / reference (medians) {first / ref:>8.2f}")


def main() -> None:
    args = _arguments()
    sizes = [int(s) for s in args.sizes.split(",")]
    OUT.mkdir(parents=True, exist_ok=True)
    if not (args.pages_only and args.keep_data):
        ensure_database(args.database_url)
    env = _environment(args.database_url)
    if args.pages_only:
        pages_only(env, args.findings, seed=not args.keep_data)
        return
    _print_header()
    last_project = ""
    for size in sizes:
        bench_size(env, args.database_url, size, args.repeat)
        last_project = f"B{size}"
    print("\npage latency, median server time (ms), project", last_project)
    for name, ms in page_latencies(env, last_project).items():
        print(f"  {name:<28} {ms:8.1f}")


if __name__ == "__main__":
    main()
