"""The auditdash benchmark: ingest rates, re-ingest, a 10%-changed log, peak memory, page latency.

    python bench/run.py [--sizes 10000,100000,500000] [--database-url URL]

Runs on PostgreSQL (default postgres://postgres@127.0.0.1:5432/auditdash_bench, created and
migrated afresh). Each ingest runs as its own `manage.py ingest` process, so its peak RSS is
the whole cost of one import. Synthetic logs are cached in bench/out/. Not a test: nothing
here fails on timing.
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


def page_latencies(env: dict, project: str, repeats: int = 15) -> dict[str, float]:
    """Median server time of the main pages, rendered in-process with the test client."""
    os.environ.update(env)
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.test import Client

    from findings.models import Finding

    user, _ = get_user_model().objects.get_or_create(username="bench")
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
    result = {}
    for name, url in pages.items():
        headers = {"HTTP_HX_REQUEST": "true"} if "htmx" in name else {}
        times = []
        for _ in range(repeats):
            started = time.perf_counter()
            response = client.get(url, **headers)
            times.append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200, (url, response.status_code)
        result[name] = statistics.median(times)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,100000,500000")
    parser.add_argument(
        "--database-url",
        default=os.environ.get(
            "BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/auditdash_bench"
        ),
    )
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    OUT.mkdir(parents=True, exist_ok=True)
    ensure_database(args.database_url)
    env = {
        **os.environ,
        "DATABASE_URL": args.database_url,
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
    print(f"auditdash benchmark on PostgreSQL, {os.cpu_count()} cores")
    print(f"{'results':>8} {'step':<34} {'seconds':>8} {'findings/s':>11} {'peak MB':>8}  counts")
    last_project = ""
    for size in sizes:
        log = OUT / f"sarif-{size}.sarif"
        changed = OUT / f"sarif-{size}-changed10.sarif"
        if not log.exists():
            write_sarif(log, size, seed=1)
        if not changed.exists():
            write_sarif(changed, size, seed=1, changed_fraction=0.1)
        rescan = OUT / f"sarif-{size}-rescan.sarif"
        rescan.write_bytes(log.read_bytes() + b"\n")
        project = f"B{size}"
        steps = [
            ("first ingest", log),
            ("same bytes again (dedupe)", log),
            ("unchanged rescan (new bytes)", rescan),
            ("10% changed (fixed + new)", changed),
        ]
        for label, path in steps:
            data = ingest(env, path, project)
            rate = size / data["seconds"] if data["seconds"] else float("inf")
            counts = (
                "duplicate"
                if data["duplicate"]
                else f"new {data['new']}, open {data['still_open']}, fixed {data['fixed']}"
            )
            print(
                f"{size:>8} {label:<34} {data['seconds']:>8.2f} {rate:>11,.0f} "
                f"{data['peak_mb']:>8.0f}  {counts}"
            )
        last_project = project
    print("\npage latency, median server time (ms), project", last_project)
    for name, ms in page_latencies(env, last_project).items():
        print(f"  {name:<28} {ms:8.1f}")


if __name__ == "__main__":
    main()
