"""The scanners auditdash runs, how each is invoked, and how its output is judged.

All four come from this virtualenv (next to ``sys.executable``), never from the PATH, and
read only the checked-out tree and auditdash's own files:

* **bandit** ``-r . -f json -q``: every Python file, tests included; which code matters is
  not the scanner's call. A ``.bandit`` file in the repository is honoured (it is the team's
  recorded decision, like ``# nosec``).
* **ruff** ``check --no-cache --output-format json``, always with the rules a security
  reviewer wants: ``E9`` (the file cannot be parsed), ``F`` (pyflakes: undefined names, unused
  imports), ``B`` (bugbear: likely bugs), ``S`` (the flake8-bandit security rules) and
  ``E722`` (bare ``except``). When the repository has its own ruff configuration at its root
  (``.ruff.toml``, ``ruff.toml``, or ``pyproject.toml`` with ``[tool.ruff]``) it is used for
  everything else (excludes, per-file ignores, target version, its own extra rules) and our
  rules are added with ``--extend-select``: a repository that adds or changes its config
  between two commits must not make our rules' findings look fixed. Without one, ruff runs
  ``--isolated`` so no configuration outside the tree (the data folder's parents) leaks in.
* **semgrep** with the rules shipped in ``scanners/semgrep_rules/`` only, ``--metrics=off
  --disable-version-check``, no registry, no login, no git calls (``--no-git-ignore``: the
  worktree holds only tracked files anyway) and ``--no-rewrite-rule-ids`` so rule ids do not
  depend on where auditdash is installed. Semgrep's default ignore list skips ``tests/``; a
  repository without its own ``.semgrepignore`` gets an empty one so every file is scanned.
* **pip-audit** once over every requirements file in the tree (``-r`` repeated, one report:
  pip-audit findings are keyed by package and advisory, so two reports of the same tool would
  close each other's findings). ``--disable-pip --no-deps`` audits the pinned versions as
  written and never installs anything: installing a repository's requirements would run their
  build scripts. pip-audit needs the network for its vulnerability database; without it the
  run is reported *unavailable* with the reason, not failed and not "no vulnerabilities".
"""

from __future__ import annotations

import os
import re
import sys
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import ijson
import orjson

from scanners.git.command import git_dir_of, git_environment

BIN = Path(sys.executable).parent
RULES_DIR = Path(__file__).resolve().parent.parent / "semgrep_rules"

RUFF_RULES = ("E9", "F", "B", "S", "E722")
RUFF_CONFIGS = (".ruff.toml", "ruff.toml")
# Folders that never hold the project's own requirements: vendored environments and caches.
_SKIP_DIRS = frozenset(
    {".git", "node_modules", ".venv", "venv", ".tox", ".nox", "site-packages", "__pycache__"}
)
_REQUIREMENTS = re.compile(r"^(?:.*[-_.])?requirements(?:[-_.].*)?\.txt$", re.IGNORECASE)
MAX_REQUIREMENTS = 50
# pip-audit's words for "the vulnerability service could not be asked".
_OFFLINE = re.compile(
    r"ConnectionError|NameResolutionError|Max retries exceeded|Temporary failure in name "
    r"resolution|Name or service not known|Network is unreachable|Connection refused|"
    r"timed out|ProxyError|SSLError",
)


class Skip(Exception):
    """This tool has nothing to scan in this tree; the message says why."""


@dataclass(frozen=True, slots=True)
class Workspace:
    """Where a tool runs: the checked-out ``tree`` and a private ``scratch`` folder."""

    tree: Path
    scratch: Path


@dataclass(frozen=True, slots=True)
class Invocation:
    """A tool's command line, and the files it was pointed at (pip-audit's requirements)."""

    argv: list[str]
    inputs: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Verdict:
    """A tool's own judgement of an output that is valid JSON: ``unavailable`` is None when
    the report can be trusted, else why it says nothing although the tool exited normally."""

    unavailable: str | None = None


@dataclass(frozen=True, slots=True)
class Tool:
    """One scanner: its ``name`` (as reports and the command line name it), the format key
    its JSON output is read with, the program in this virtualenv, the exit statuses that mean
    "ran" (scanners exit 1 when they find something), and whether a missing program is a
    failure (``required``) or the tool is merely unavailable here."""

    name: str
    format: str
    program: str
    command: Callable[[Workspace], Invocation]
    ok_statuses: tuple[int, ...] = (0, 1)
    required: bool = True
    judge: Callable[[Path, str], Verdict] = field(default=lambda report, stderr: Verdict())
    # Given the stderr of a run that failed: why the tool is unavailable here, or None.
    explain: Callable[[str], str | None] = field(default=lambda stderr: None)
    env: Callable[[Workspace], dict[str, str]] = field(default=lambda ws: {})

    @property
    def executable(self) -> Path:
        return BIN / self.program


def tool_environment(extra: dict[str, str], *, tree: Path | None = None) -> dict[str, str]:
    """The environment every scanner gets: git's hardened one (no outside git configuration,
    no prompts), for any git a tool itself runs in the checked-out ``tree``: the repository's
    own configuration applies there, so every program it names is overridden too (hooks,
    fsmonitor, filter and diff drivers; see :mod:`scanners.git.config`)."""
    env = git_environment(git_dir_of(tree) if tree is not None else None)
    for name in [k for k in env if k.startswith(("SEMGREP_APP", "SEMGREP_URL"))]:
        del env[name]
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    env.update(extra)
    return env


# -- bandit -----------------------------------------------------------------------------------


def _bandit(ws: Workspace) -> Invocation:
    return Invocation([str(BIN / "bandit"), "-r", ".", "-f", "json", "-q"])


# -- ruff -------------------------------------------------------------------------------------


def ruff_config(tree: Path) -> Path | None:
    """The ruff configuration file at the root of ``tree``, in ruff's own order of
    preference, or None. A ``pyproject.toml`` counts only with a ``[tool.ruff]`` table; one
    that is not valid TOML does not count (ruff would refuse it and fail the run)."""
    for name in RUFF_CONFIGS:
        candidate = tree / name
        if candidate.is_file():
            return candidate
    pyproject = tree / "pyproject.toml"
    if pyproject.is_file():
        try:
            data = tomllib.loads(pyproject.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError, OSError):
            return None
        tool = data.get("tool")
        if isinstance(tool, dict) and "ruff" in tool:
            return pyproject
    return None


def _ruff(ws: Workspace) -> Invocation:
    command = [str(BIN / "ruff"), "check", "--no-cache", "--output-format", "json", "--exit-zero"]
    rules = ",".join(RUFF_RULES)
    config = ruff_config(ws.tree)
    if config is None:
        command += ["--isolated", "--select", rules]
    else:
        command += ["--config", str(config), "--extend-select", rules]
    return Invocation([*command, "."])


# -- semgrep ----------------------------------------------------------------------------------


def semgrep_rule_files() -> list[Path]:
    """The rule files shipped with auditdash, sorted."""
    return sorted(RULES_DIR.glob("*.yml"))


def semgrep_command(target: str = ".") -> list[str]:
    """semgrep's command line for our rules over ``target`` (relative to the working
    directory), offline, JSON on stdout."""
    command = [str(BIN / "semgrep"), "scan"]
    for rules in semgrep_rule_files():
        command += ["--config", str(rules)]
    return [
        *command,
        "--json",
        "--metrics=off",
        "--disable-version-check",
        "--no-rewrite-rule-ids",
        "--no-git-ignore",
        "--quiet",
        target,
    ]


def semgrep_environment(scratch: Path) -> dict[str, str]:
    """Keeps semgrep's settings, log and version cache in ``scratch`` instead of the home
    folder, and its metrics off even if a flag is lost."""
    return {
        "SEMGREP_SETTINGS_FILE": str(scratch / "semgrep-settings.yml"),
        "SEMGREP_LOG_FILE": str(scratch / "semgrep.log"),
        "SEMGREP_VERSION_CACHE_PATH": str(scratch / "semgrep-version"),
        "SEMGREP_SEND_METRICS": "off",
        "SEMGREP_ENABLE_VERSION_CHECK": "0",
    }


def _semgrep(ws: Workspace) -> Invocation:
    ignore = ws.tree / ".semgrepignore"
    if not ignore.exists() and not ignore.is_symlink():
        ignore.write_text("# written by auditdash: scan every tracked file, tests included\n")
    return Invocation(semgrep_command("."))


# -- pip-audit --------------------------------------------------------------------------------


def requirements_files(tree: Path) -> list[str]:
    """Requirements files in ``tree`` (``requirements.txt``, ``dev-requirements.txt``,
    ``requirements/*.txt``, ...), as sorted tree-relative paths; vendored environments and
    links are skipped. At most :data:`MAX_REQUIREMENTS`."""
    found: list[str] = []
    for folder, dirs, files in os.walk(tree):
        dirs[:] = sorted(d for d in dirs if d not in _SKIP_DIRS)
        here = Path(folder)
        in_requirements_dir = here.name.lower() == "requirements"
        for name in sorted(files):
            path = here / name
            if path.is_symlink() or not path.is_file():
                continue
            if _REQUIREMENTS.match(name) or (in_requirements_dir and name.endswith(".txt")):
                found.append(path.relative_to(tree).as_posix())
    return sorted(found)[:MAX_REQUIREMENTS]


def _pip_audit(ws: Workspace) -> Invocation:
    files = requirements_files(ws.tree)
    if not files:
        raise Skip("no requirements file at this commit")
    command = [
        str(BIN / "pip-audit"),
        "-f",
        "json",
        "--progress-spinner",
        "off",
        "--disable-pip",
        "--no-deps",
        "--cache-dir",
        str(ws.scratch / "pip-audit-cache"),
        "--timeout",
        "15",
    ]
    for name in files:
        command += ["-r", name]
    return Invocation(command, inputs=tuple(files))


def judge_pip_audit(report: Path, stderr: str) -> Verdict:
    """pip-audit exits 0 and writes a valid report when it cannot reach its vulnerability
    service: each dependency then carries a ``skip_reason`` ("Dependency not found on PyPI and
    could not be audited"). A report in which nothing at all was audited is therefore not
    "no vulnerabilities" but an unavailable audit."""
    try:
        data = orjson.loads(report.read_bytes())
    except (orjson.JSONDecodeError, OSError):
        return Verdict()
    dependencies = data.get("dependencies") if isinstance(data, dict) else data
    if not isinstance(dependencies, list) or not dependencies:
        return Verdict()
    skipped = [d for d in dependencies if isinstance(d, dict) and "skip_reason" in d]
    if len(skipped) < len(dependencies):
        return Verdict()
    reason = str(skipped[0].get("skip_reason") or "no reason given")
    offline = " (is the vulnerability service reachable?)" if not _OFFLINE.search(reason) else ""
    return Verdict(
        unavailable=f"none of {len(dependencies)} dependencies could be audited{offline}: {reason}"
    )


def offline_reason(stderr: str) -> str | None:
    """A short reason when pip-audit's error output says the network is missing, else None."""
    if _OFFLINE.search(stderr) is None:
        return None
    hosts = re.findall(r"ConnectionPool\(host='([^']+)'", stderr)
    kinds = re.findall(r"requests\.exceptions\.(\w+)", stderr)
    where = hosts[-1] if hosts else "the vulnerability service"
    why = f" ({kinds[-1]})" if kinds else ""
    return f"no network: {where} could not be reached{why}"


# -- the registry of tools --------------------------------------------------------------------

TOOLS: dict[str, Tool] = {
    "bandit": Tool(name="bandit", format="bandit", program="bandit", command=_bandit),
    # --exit-zero: ruff's status then means only "ran" (0) or "could not run" (2).
    "ruff": Tool(name="ruff", format="ruff", program="ruff", command=_ruff, ok_statuses=(0,)),
    "semgrep": Tool(
        name="semgrep",
        format="semgrep",
        program="semgrep",
        command=_semgrep,
        ok_statuses=(0, 1),
        env=lambda ws: semgrep_environment(ws.scratch),
    ),
    "pip-audit": Tool(
        name="pip-audit",
        format="pip_audit",
        program="pip-audit",
        command=_pip_audit,
        required=False,
        judge=judge_pip_audit,
        explain=offline_reason,
    ),
}
DEFAULT_TOOLS = tuple(TOOLS)


def check_json(report: Path) -> str | None:
    """None when ``report`` is one complete JSON document, else what is wrong with it.

    Streams (the C backend of ijson), so a large report costs no memory."""
    try:
        if report.stat().st_size == 0:
            return "it printed nothing; expected a JSON report"
        with report.open("rb") as handle:
            for _ in ijson.parse(handle):
                pass
    except (ijson.JSONError, OSError, UnicodeDecodeError) as error:
        return f"its output is not a JSON report: {error}"
    return None


def program_missing(tool: Tool) -> bool:
    """Whether the tool's program is missing from this virtualenv."""
    return not (tool.executable.is_file() and os.access(tool.executable, os.X_OK))
