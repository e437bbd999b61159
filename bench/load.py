"""Pages under load: simulated users on gunicorn over loopback, optionally while imports run.

    python bench/load.py [--users 50] [--seconds 30] [--think 0] [--import]
                         [--findings 50000] [--keep-data] [--cache-url URL] [--database-url URL]

Seeds one project of ``--findings`` findings (bench/run.py's seeding, PostgreSQL itself makes
the rows), starts gunicorn on 127.0.0.1 with the production settings (``gunicorn.conf.py``,
``WEB_CONCURRENCY`` and ``GUNICORN_THREADS`` as in production), and runs ``--users`` simulated
users for ``--seconds`` over a mix of the status board (full page and htmx filters), finding
pages (a signed-in session each) and the API's finding lists (a project API token). Each user
sends its next request when the last one is answered, after ``--think`` seconds (±50%, so that
users do not march in step). With ``--import``, 100k-result SARIF imports (bench/sarif_gen.py,
each into a new project, one after another) run through ``manage.py ingest`` for the whole
window. Prints requests/s, p50/p95/p99 and the errors, overall and per kind of request.

The load generator runs on the same cores as the server: its own CPU time is printed too, and
so is the server's (gunicorn's processes and their PostgreSQL backends, read from /proc): CPU
milliseconds a request is the figure that holds when other work shares the machine.
Not a test: nothing here fails on timing.
"""

from __future__ import annotations

import argparse
import http.client
import os
import random
import resource
import socket
import statistics
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from run import OUT, PAGES_PROJECT, _environment, ensure_database, seed_pages_project  # noqa: E402
from sarif_gen import write_sarif  # noqa: E402

IMPORT_SIZE = 100_000
LOAD_USER = "load-manager"


@dataclass(frozen=True)
class Target:
    """One kind of request of the mix: its name, weight and how to make its URL."""

    name: str
    weight: int
    api: bool
    htmx: bool = False


MIX = (
    Target("board", 20, api=False),
    Target("board filter (htmx)", 15, api=False, htmx=True),
    Target("finding page", 35, api=False),
    Target("api: findings list", 30, api=True),
)
"""Weights in percent of the requests sent."""

_FILTERS = (
    "severity=high",
    "severity=critical&path=src/mod1",
    "tool=semgrep",
    "q=password",
    "severity=high&tool=ruff&path=src/mod1",
)
_API_LISTS = (
    "limit=100",
    "limit=50&status=open,regressed&severity=high",
    "limit=100&after=3.{deep}",
)


def url_of(target: Target, rng: random.Random, findings: int) -> str:
    """A URL for one request of ``target`` (the numbers drawn from ``rng``)."""
    key = PAGES_PROJECT
    if target.name == "board":
        return f"/p/{key}/"
    if target.name.startswith("board filter"):
        return f"/p/{key}/?{rng.choice(_FILTERS)}"
    if target.name == "finding page":
        return f"/p/{key}/findings/{rng.randint(1, findings)}/"
    query = rng.choice(_API_LISTS).format(deep=rng.randint(1, findings))
    return f"/api/v1/projects/{key}/findings?{query}"


@dataclass
class Tally:
    """What the users saw: latencies (s) per kind, and errors by kind and cause."""

    latencies: dict[str, list[float]] = field(default_factory=dict)
    errors: dict[str, int] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, name: str, seconds: float, error: str = "") -> None:
        with self.lock:
            if error:
                self.errors[f"{name}: {error}"] = self.errors.get(f"{name}: {error}", 0) + 1
            else:
                self.latencies.setdefault(name, []).append(seconds)


@dataclass(frozen=True)
class Credentials:
    session_cookies: tuple[str, ...]
    token: str


def credentials(users: int) -> Credentials:
    """A signed-in session per user, and one API token, for a manager of the load project.

    The sessions are made as a login makes them (the configured session engine), without
    the password hashing of ``users`` logins."""
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.test import Client

    from findings.models import ApiToken, Project, Role
    from findings.services import membership_set, token_create

    project = Project.objects.get(key=PAGES_PROJECT)
    user, _ = get_user_model().objects.get_or_create(username=LOAD_USER)
    membership_set(project=project, user=user, role=Role.MANAGER)
    cookies = []
    for _ in range(users):
        client = Client()
        client.force_login(user)
        cookies.append(
            f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}"
        )
    ApiToken.objects.filter(project=project, name="load").delete()
    issued = token_create(project=project, creator=user, name="load", role=Role.VIEWER)
    return Credentials(tuple(cookies), issued.secret)


def user_loop(
    index: int,
    port: int,
    cookie: str,
    token: str,
    args: argparse.Namespace,
    deadline: float,
    tally: Tally,
) -> None:
    """One simulated user: request, wait for the whole answer, think, until the deadline."""
    rng = random.Random(index)
    weights = [target.weight for target in MIX]
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    if args.think:
        time.sleep(rng.uniform(0, args.think))  # users arrive spread over one think time
    while time.monotonic() < deadline:
        target = rng.choices(MIX, weights)[0]
        headers = {"Host": "127.0.0.1"}
        if target.api:
            headers["Authorization"] = f"Bearer {token}"
        else:
            headers["Cookie"] = cookie
        if target.htmx:
            headers["HX-Request"] = "true"
        started = time.monotonic()
        try:
            conn.request("GET", url_of(target, rng, args.findings), headers=headers)
            response = conn.getresponse()
            response.read()
            error = "" if response.status == 200 else f"HTTP {response.status}"
            if response.will_close:
                conn.close()
        except (OSError, http.client.HTTPException) as failure:
            error = type(failure).__name__
            conn.close()
        if time.monotonic() <= deadline:
            tally.add(target.name, time.monotonic() - started, error)
        if args.think:
            time.sleep(rng.uniform(0.5 * args.think, 1.5 * args.think))
    conn.close()


def _cpu_of(pid: int) -> float:
    """CPU seconds (user + system) process ``pid`` has used, 0 when it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def gunicorn_pids(server: subprocess.Popen) -> list[int]:
    """The gunicorn master and its workers."""
    try:
        children = Path(f"/proc/{server.pid}/task/{server.pid}/children").read_text()
    except OSError:
        return [server.pid]
    return [server.pid, *(int(pid) for pid in children.split())]


def server_cpu(server: subprocess.Popen, database: str) -> dict[int, float]:
    """CPU seconds so far of each gunicorn process and each PostgreSQL backend serving
    ``database`` (read from /proc: figures of the work done, whatever else the cores run)."""
    pids = gunicorn_pids(server)
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                command = (entry / "cmdline").read_bytes()
            except OSError:
                continue
            if command.startswith(b"postgres: ") and f" {database} ".encode() in command:
                pids.append(int(entry.name))
    return {pid: _cpu_of(pid) for pid in pids}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_gunicorn(env: dict, port: int) -> subprocess.Popen:
    """gunicorn with the repository's production configuration, on loopback; waits until up."""
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "auditdash.wsgi", "--bind", f"127.0.0.1:{port}"],
        env=env,
        cwd=ROOT,
    )
    for _ in range(300):
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            conn.request("GET", "/api/v1/health", headers={"Host": "127.0.0.1"})
            if conn.getresponse().status == 200:
                return server
        except OSError:
            pass
        if server.poll() is not None:
            raise SystemExit("gunicorn did not start")
        time.sleep(0.2)
    server.terminate()
    raise SystemExit("gunicorn did not answer /api/v1/health within a minute")


class Imports(threading.Thread):
    """100k-result imports, one after another, each into a new project, until stopped."""

    def __init__(self, env: dict, nice: int) -> None:
        super().__init__(daemon=True)
        self.env = env
        self.nice = nice
        self.stopping = threading.Event()
        self.finished: list[float] = []
        self.current: subprocess.Popen | None = None

    def run(self) -> None:
        log = OUT / f"sarif-{IMPORT_SIZE}.sarif"
        if not log.exists():
            write_sarif(log, IMPORT_SIZE, seed=1)
        while not self.stopping.is_set():
            key = f"IMP{time.time_ns() % 10**12}"
            started = time.monotonic()
            self.current = subprocess.Popen(
                ["nice", "-n", str(self.nice), sys.executable, "manage.py", "ingest", str(log)]
                + ["--project", key],
                env=self.env,
                cwd=ROOT,
                stdout=subprocess.DEVNULL,
            )
            if self.current.wait() == 0 and not self.stopping.is_set():
                self.finished.append(time.monotonic() - started)

    def stop(self) -> None:
        self.stopping.set()
        if self.current is not None and self.current.poll() is None:
            self.current.terminate()
            self.current.wait()


def run_load(env: dict, args: argparse.Namespace, creds: Credentials) -> None:
    port = free_port()
    server = start_gunicorn(env, port)
    imports = Imports(env, args.import_nice) if args.with_import else None
    try:
        if imports is not None:
            imports.start()
            time.sleep(args.import_head_start)
        tally = Tally()
        database = args.database_url.rsplit("/", 1)[1]
        server_before = server_cpu(server, database)
        cpu_before = resource.getrusage(resource.RUSAGE_SELF)
        started = time.monotonic()
        deadline = started + args.seconds
        threads = [
            threading.Thread(
                target=user_loop,
                args=(i, port, creds.session_cookies[i], creds.token, args, deadline, tally),
            )
            for i in range(args.users)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        cpu_after = resource.getrusage(resource.RUSAGE_SELF)
        server_after = server_cpu(server, database)
        web_pids = gunicorn_pids(server)
    finally:
        if imports is not None:
            imports.stop()
        server.terminate()
        server.wait()
    client_cpu = (cpu_after.ru_utime + cpu_after.ru_stime) - (
        cpu_before.ru_utime + cpu_before.ru_stime
    )
    used = {pid: cpu - server_before.get(pid, 0.0) for pid, cpu in server_after.items()}
    web = sum(cpu for pid, cpu in used.items() if pid in web_pids)
    report(tally, args, (client_cpu, web, sum(used.values()) - web), imports)


def _percentiles(values: list[float]) -> str:
    if len(values) < 2:
        return "   -      -      -"
    cuts = statistics.quantiles(values, n=100, method="inclusive")
    return f"{cuts[49] * 1000:6.0f} {cuts[94] * 1000:6.0f} {cuts[98] * 1000:6.0f}"


def report(
    tally: Tally, args: argparse.Namespace, cpu: tuple[float, float, float], imports
) -> None:
    every = [value for values in tally.latencies.values() for value in values]
    errors = sum(tally.errors.values())
    print(
        f"\n{args.users} users, think {args.think:g} s, {args.seconds:g} s, "
        f"{'with' if imports else 'no'} import running, cache {args.cache_url or 'per process'}; "
        f"WEB_CONCURRENCY={os.environ.get('WEB_CONCURRENCY', '(default)')} "
        f"GUNICORN_THREADS={os.environ.get('GUNICORN_THREADS', '(default)')}"
    )
    print(f"{'request':<24} {'count':>7} {'req/s':>7} {'p50 ms':>6} {'p95':>6} {'p99':>6}")
    for target in MIX:
        values = tally.latencies.get(target.name, [])
        print(
            f"{target.name:<24} {len(values):>7} {len(values) / args.seconds:>7.1f} "
            f"{_percentiles(values)}"
        )
    print(
        f"{'all':<24} {len(every):>7} {len(every) / args.seconds:>7.1f} {_percentiles(every)}"
        f"   errors: {errors}"
    )
    for cause, count in sorted(tally.errors.items()):
        print(f"  error {cause}: {count}")
    client_cpu, web, database = cpu
    print(f"load generator CPU: {client_cpu:.1f} s over {args.seconds:g} s")
    if every:
        also = " (the import's included)" if imports else ""
        each = (web + database) / len(every)
        print(
            f"server CPU: gunicorn {web:.1f} s + PostgreSQL backends{also} {database:.1f} s, "
            f"{each * 1000:.1f} ms a request: two cores of its own would serve about "
            f"{2 / each:.0f} requests/s"
        )
    if imports is not None:
        done = ", ".join(f"{s:.1f} s" for s in imports.finished) or "none finished"
        print(f"{IMPORT_SIZE:,}-result imports (nice {args.import_nice}) during the run: {done}")


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--think", type=float, default=0, help="seconds between requests")
    parser.add_argument("--import", dest="with_import", action="store_true")
    parser.add_argument(
        "--import-head-start",
        type=float,
        default=3,
        help="with --import: seconds the import runs before the users start",
    )
    parser.add_argument(
        "--import-nice",
        type=int,
        default=10,
        help="with --import: the imports' CPU niceness, as docs/performance.md advises for "
        "workers beside the web processes (0: same priority as the pages)",
    )
    parser.add_argument("--findings", type=int, default=50_000)
    parser.add_argument("--keep-data", action="store_true", help="reuse the seeded project")
    parser.add_argument(
        "--cache-url",
        default=os.environ.get("CACHE_URL", ""),
        help="the shared cache production runs with (Redis: sessions are read from it)",
    )
    parser.add_argument(
        "--database-url",
        default=os.environ.get(
            "BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/auditdash_bench"
        ),
    )
    return parser.parse_args()


def main() -> None:
    args = _arguments()
    OUT.mkdir(parents=True, exist_ok=True)
    if not args.keep_data:
        ensure_database(args.database_url)
    env = _environment(args.database_url)
    # Production shape: DEBUG off, plain HTTP on loopback (no TLS proxy in front here).
    env.update({"ALLOWED_HOSTS": "127.0.0.1,testserver", "SECURE_COOKIES": "0", "DEBUG": "0"})
    env["CACHE_URL"] = args.cache_url
    os.environ.update(env)
    import django

    django.setup()
    if not args.keep_data:
        seed_pages_project(args.findings)
    creds = credentials(args.users)
    run_load(env, args, creds)


if __name__ == "__main__":
    main()
