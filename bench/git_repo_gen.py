"""Scratch git repositories for the git adapter's tests and benchmark.

Two tools:

* :class:`ScratchRepo` builds small repositories with the git command line, commit by commit,
  with fixed authors and dates, isolated from the user's git configuration. The tests in
  ``tests/scanners/test_git_*.py`` use it to stage fixes, fake fixes, renames, merges,
  reverts and force-pushes.
* :func:`build_history` writes a repository of many commits in one ``git fast-import`` run
  from a generated stream (10,000 commits take a few seconds), and :func:`measure` times what
  checking one claimed fix costs on it: ``resolve`` + ``diff_hunks`` + ``overlap`` +
  ``file_at``, then the whole ``verify_claim``.

Run ``.venv/bin/python bench/git_repo_gen.py --commits 10000`` from the project root; it
prints the figures and leaves nothing behind (the repository lives in a temporary folder).
"""

from __future__ import annotations

import argparse
import hashlib
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

# The environment every scratch git command runs in: no user or system configuration, fixed
# identities, so repositories (and their hashes) are the same on every machine.
BASE_ENV = {
    "GIT_CONFIG_NOSYSTEM": "1",
    "GIT_CONFIG_GLOBAL": os.devnull,
    "GIT_AUTHOR_NAME": "Ada Author",
    "GIT_AUTHOR_EMAIL": "ada@example.com",
    "GIT_COMMITTER_NAME": "Ada Author",
    "GIT_COMMITTER_EMAIL": "ada@example.com",
    "GIT_TERMINAL_PROMPT": "0",
    "LC_ALL": "C",
}
EPOCH = 1_700_000_000


def scratch_env(**extra: str) -> dict[str, str]:
    """This process's environment without inherited GIT_* variables, plus :data:`BASE_ENV`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    env.update(BASE_ENV)
    env.update(extra)
    return env


class ScratchRepo:
    """A repository built step by step with the git command line.

    Every commit gets the next timestamp (one minute apart) unless one is given, so the
    order of commits by date is the order they were made.
    """

    def __init__(self, path: Path, *, branch: str = "main", bare: bool = False) -> None:
        self.path = Path(path)
        self.path.mkdir(parents=True, exist_ok=True)
        self.clock = EPOCH
        self.git("init", "-q", f"--initial-branch={branch}", *(["--bare"] if bare else []))

    @classmethod
    def existing(cls, path: Path) -> ScratchRepo:
        """A handle on a repository already built at ``path`` (nothing is initialised)."""
        repo = cls.__new__(cls)
        repo.path, repo.clock = Path(path), EPOCH
        return repo

    def git(self, *args: str, env: Mapping[str, str] | None = None, input: str = "") -> str:
        """Run git in this repository; stdout without the trailing newline."""
        result = subprocess.run(
            ["git", *args],
            cwd=self.path,
            env=scratch_env(**(env or {})),
            input=input,
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode != 0:
            raise RuntimeError(f"git {' '.join(args)} failed: {result.stderr.strip()}")
        return result.stdout.rstrip("\n")

    def write(self, path: str, text: str) -> None:
        target = self.path / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text)

    def commit(
        self,
        message: str,
        files: Mapping[str, str | None] | None = None,
        *,
        author: tuple[str, str] | None = None,
        when: int | None = None,
        allow_empty: bool = False,
    ) -> str:
        """Write ``files`` (None deletes one), stage everything and commit; the new hash."""
        for name, text in (files or {}).items():
            if text is None:
                self.git("rm", "-q", "--", name)
            else:
                self.write(name, text)
        self.git("add", "-A")
        self.clock = when if when is not None else self.clock + 60
        stamp = f"{self.clock} +0000"
        env = {"GIT_AUTHOR_DATE": stamp, "GIT_COMMITTER_DATE": stamp}
        if author:
            env.update(GIT_AUTHOR_NAME=author[0], GIT_AUTHOR_EMAIL=author[1])
        flags = ["--allow-empty"] if allow_empty else []
        self.git("commit", "-q", *flags, "-m", message, env=env)
        return self.head()

    def move(self, old: str, new: str, message: str) -> str:
        """Rename a file unchanged and commit the rename."""
        (self.path / new).parent.mkdir(parents=True, exist_ok=True)
        self.git("mv", "--", old, new)
        return self.commit(message)

    def merge(self, branch: str, message: str) -> str:
        """Merge ``branch`` into the current branch with a merge commit."""
        self.clock += 60
        stamp = f"{self.clock} +0000"
        env = {"GIT_AUTHOR_DATE": stamp, "GIT_COMMITTER_DATE": stamp}
        self.git("merge", "-q", "--no-ff", "-m", message, branch, env=env)
        return self.head()

    def head(self, ref: str = "HEAD") -> str:
        return self.git("rev-parse", ref)

    def twin_commits(self, digits: int = 4) -> tuple[str, str]:
        """Write two unreachable commits (on top of HEAD's tree) whose hashes share their
        first ``digits`` hex digits, so that prefix is ambiguous. Found by hashing candidate
        commit objects here and writing only the colliding pair."""
        tree, parent = self.git("rev-parse", "HEAD^{tree}"), self.head()
        seen: dict[str, bytes] = {}
        for n in range(64 * 16**digits):
            body = (
                f"tree {tree}\nparent {parent}\n"
                f"author Ada Author <ada@example.com> {EPOCH} +0000\n"
                f"committer Ada Author <ada@example.com> {EPOCH} +0000\n\nAttempt {n}\n"
            ).encode()
            prefix = object_id("commit", body)[:digits]
            if prefix in seen:
                pair = (seen[prefix], body)
                return tuple(  # type: ignore[return-value]
                    self.git("hash-object", "-t", "commit", "-w", "--stdin", input=b.decode())
                    for b in pair
                )
            seen[prefix] = body
        raise RuntimeError(f"no two commits shared a {digits}-digit prefix")


def object_id(kind: str, body: bytes) -> str:
    """The SHA-1 object name git gives ``body`` stored as ``kind`` (blob, commit, ...)."""
    return hashlib.sha1(b"%s %d\0" % (kind.encode(), len(body)) + body).hexdigest()


def numbered(lines: int, prefix: str = "line") -> str:
    """A file of ``lines`` distinct lines: ``line 1`` ... ``line N``."""
    return "".join(f"{prefix} {i}\n" for i in range(1, lines + 1))


@dataclass(frozen=True)
class GeneratedChange:
    """What one generated commit did: replaced line ``line`` of ``path`` with ``text``."""

    mark: int
    path: str
    line: int
    text: str


def history_stream(
    commits: int, *, files: int = 40, lines: int = 120, seed: int = 7, vendor: int = 0
) -> tuple[bytes, list[GeneratedChange]]:
    """A ``git fast-import`` stream of ``commits`` linear commits on ``main``.

    The first commit adds ``files`` Python files of ``lines`` lines; each later commit
    rewrites one line of one file (about one in 200 also renames a file), one minute apart.
    With ``vendor``, the first commit also adds that many files of a vendored library, and
    every 500th commit upgrades it: the old version's folder is deleted and the next one
    added with every file slightly edited, as real projects do (git sees near-renames).
    Returns the stream and, per commit after the first, what it changed.
    """
    rng = random.Random(seed)
    contents = {
        f"pkg/mod_{n:03d}.py": [f"value_{n}_{i} = {i}  # original" for i in range(lines)]
        for n in range(files)
    }
    out: list[bytes] = []
    changes: list[GeneratedChange] = []

    def data(text: str) -> None:
        raw = text.encode()
        out.append(b"data %d\n" % len(raw))
        out.append(raw + b"\n")

    def blob_of(path: str) -> str:
        return "\n".join(contents[path]) + "\n"

    for n in range(1, commits + 1):
        out.append(b"commit refs/heads/main\nmark :%d\n" % n)
        stamp = EPOCH + 60 * n
        out.append(b"author Ada Author <ada@example.com> %d +0000\n" % stamp)
        out.append(b"committer Ada Author <ada@example.com> %d +0000\n" % stamp)
        if n == 1:
            data("Initial import")
            for path in contents:
                out.append(f"M 100644 inline {path}\n".encode())
                data(blob_of(path)[:-1])
            out += _vendored(vendor, 1)
            continue
        if vendor and n % 500 == 0:
            version = n // 500 + 1
            data(f"Upgrade the vendored library to version {version}")
            out.append(b"from :%d\n" % (n - 1))
            out.append(f"D vendor/lib_v{version - 1}\n".encode())
            out += _vendored(vendor, version)
            continue
        path = rng.choice(sorted(contents))
        line = rng.randrange(lines)
        text = f"value_{n} = compute({n}, {line})  # change {n}"
        contents[path][line] = text
        data(f"Change {n}: rewrite line {line + 1} of {path}\n\nFixes BENCH-{n}")
        out.append(b"from :%d\n" % (n - 1))
        if rng.random() < 0.005:
            new = path.replace("mod_", f"moved_{n}_")
            out.append(f"R {path} {new}\n".encode())
            contents[new] = contents.pop(path)
            path = new
        out.append(f"M 100644 inline {path}\n".encode())
        data(blob_of(path)[:-1])
        changes.append(GeneratedChange(n, path, line + 1, text))
    out.append(b"done\n")
    return b"".join(out), changes


def _vendored(count: int, version: int) -> list[bytes]:
    """fast-import lines adding ``count`` files of version ``version`` of a vendored library."""
    out: list[bytes] = []
    for n in range(count):
        body = "".join(
            f"def helper_{n}_{i}(x):  # library v{version if i % 10 == 0 else 1}\n"
            f"    return x * {i}\n"
            for i in range(60)
        ).encode()
        out.append(f"M 100644 inline vendor/lib_v{version}/part_{n:04d}.py\n".encode())
        out.append(b"data %d\n" % len(body) + body + b"\n")
    return out


def build_history(
    path: Path, commits: int, *, files: int = 40, vendor: int = 0
) -> tuple[ScratchRepo, list[GeneratedChange]]:
    """A repository at ``path`` with ``commits`` generated commits over ``files`` files and a
    vendored library of ``vendor`` files (see :func:`history_stream`). A repository already at
    ``path`` (built by an earlier run with the same figures) is reused as it is."""
    stream, changes = history_stream(commits, files=files, vendor=vendor)
    if (path / ".git").is_dir():
        return ScratchRepo.existing(path), changes
    repo = ScratchRepo(path)
    result = subprocess.run(
        ["git", "fast-import", "--quiet", "--done"],
        cwd=path,
        env=scratch_env(),
        input=stream,
        capture_output=True,
        check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(f"git fast-import failed: {result.stderr.decode(errors='replace')}")
    repo.git("reset", "-q", "--hard", "main")
    return repo, changes


def _claims(changes: list[GeneratedChange], repo: ScratchRepo, count: int) -> Iterator[tuple]:
    marks = repo.git("log", "--reverse", "--format=%H", "main").split()
    rng = random.Random(11)
    for change in rng.sample(changes, min(count, len(changes))):
        yield marks[change.mark - 1][:7], change


def measure(path: Path, changes: list[GeneratedChange], repo: ScratchRepo, claims: int) -> dict:
    """Seconds per claim for the core checks and for the whole ``verify_claim``."""
    from scanners.git import (
        Claim,
        ClaimedFile,
        code_presence,
        diff_hunks,
        file_at,
        open_repo,
        overlap,
        resolve,
        verify_claim,
    )

    handle = open_repo(path)
    core: list[float] = []
    whole: list[float] = []
    outcomes: dict[str, int] = {}
    for short, change in _claims(changes, repo, claims):
        started = time.perf_counter()
        found = resolve(handle, short)
        diff = diff_hunks(handle, found.sha or "", change.path)
        hit = overlap(diff.hunks if diff else (), [(change.line, change.line)])
        text = file_at(handle, found.sha or "", change.path)
        core.append(time.perf_counter() - started)
        assert hit.all_matched and text is not None and code_presence(text, change.text)

        started = time.perf_counter()
        claimed = ClaimedFile(change.path, ((change.line, change.line),), after=change.text)
        verdict = verify_claim(handle, Claim(short, (claimed,)), branch="main")
        whole.append(time.perf_counter() - started)
        outcomes[str(verdict.outcome)] = outcomes.get(str(verdict.outcome), 0) + 1

    def summary(values: list[float]) -> dict:
        ordered = sorted(values)
        return {
            "mean_ms": round(statistics.mean(values) * 1000, 1),
            "median_ms": round(statistics.median(values) * 1000, 1),
            "p95_ms": round(ordered[int(len(ordered) * 0.95) - 1] * 1000, 1),
        }

    return {"core": summary(core), "verify_claim": summary(whole), "outcomes": outcomes}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--commits", type=int, default=10_000)
    parser.add_argument("--claims", type=int, default=200)
    args = parser.parse_args(argv)
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    with tempfile.TemporaryDirectory(prefix="auditdash-git-bench-") as tmp:
        started = time.perf_counter()
        repo, changes = build_history(Path(tmp) / "repo", args.commits)
        built = time.perf_counter() - started
        count = repo.git("rev-list", "--count", "main")
        print(f"built {count} commits with git fast-import in {built:.1f} s")
        figures = measure(repo.path, changes, repo, args.claims)
        print(f"per claim, resolve + diff_hunks + overlap + file_at: {figures['core']}")
        print(f"per claim, whole verify_claim: {figures['verify_claim']}")
        print(f"verdicts: {figures['outcomes']}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
