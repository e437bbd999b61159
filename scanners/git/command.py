"""The one place auditdash runs git: a hardened, time-limited command helper.

Every git process in this package is started by :func:`run_git`. It pins down what a hostile
repository or environment could otherwise change:

* a timeout on every call; on expiry the process and everything it started (a hanging
  ``ssh``, a stalled remote helper) is killed and :class:`GitError` says so;
* no prompts (``GIT_TERMINAL_PROMPT=0``, an askpass that answers nothing);
* no system or global configuration (``GIT_CONFIG_NOSYSTEM``, ``GIT_CONFIG_GLOBAL=/dev/null``),
  no configuration smuggled through the environment (``GIT_CONFIG_PARAMETERS``/``COUNT``),
  no replace refs (they could rewrite history as we see it);
* no program named by the repository's own configuration ever runs: hooks, fsmonitor,
  pager, filter, diff and merge drivers, ssh, gpg, editors, credential helpers (every such
  key is overridden, see :mod:`scanners.git.config`); no automatic or detached garbage
  collection that would outlive the timeout;
* a protocol allow-list: https and ssh always, the local file transport only when the
  caller says the remote is an allowed local path, everything else (``ext::``, ``fd::``,
  ``git://``, plain ``http://``) never.

Callers pass arguments as a list and put ``--`` before paths; this helper never builds a
shell string.
"""

from __future__ import annotations

import os
import signal
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from scanners.git import config
from scanners.git.cache import GitCache

# Seconds for one git call when the caller does not say; long enough for a log over a large
# history on a slow disk, short enough that a stuck worker is noticed.
DEFAULT_TIMEOUT = 60.0

# Variables that would let the parent environment point git at another repository, another
# object store or extra configuration. They are removed, not merely overridden.
_SCRUBBED_ENV = (
    "GIT_DIR",
    "GIT_WORK_TREE",
    "GIT_INDEX_FILE",
    "GIT_OBJECT_DIRECTORY",
    "GIT_ALTERNATE_OBJECT_DIRECTORIES",
    "GIT_COMMON_DIR",
    "GIT_NAMESPACE",
    "GIT_CEILING_DIRECTORIES",
    "GIT_DISCOVERY_ACROSS_FILESYSTEM",
    "GIT_CONFIG",
    "GIT_CONFIG_SYSTEM",
    "GIT_EXTERNAL_DIFF",
    "GIT_DIFF_OPTS",
    "GIT_PAGER",
    "GIT_EDITOR",
    "GIT_TEMPLATE_DIR",
    "GIT_EXEC_PATH",
    "GIT_REPLACE_REF_BASE",
    "GIT_GRAFT_FILE",
    "GIT_SHALLOW_FILE",
    "GIT_TRACE",
    "GIT_TRACE2",
    "GIT_TRACE2_EVENT",
    "GIT_TRACE_PACKET",
    "GIT_PROTOCOL_FROM_USER",
    "GIT_ALLOW_PROTOCOL",
)

_FIXED_ENV = {
    "GIT_TERMINAL_PROMPT": "0",
    # An askpass that prints nothing: a credential prompt gets an empty answer and fails.
    "GIT_ASKPASS": "true",
    "SSH_ASKPASS": "true",
    "GIT_CONFIG_NOSYSTEM": "1",
    "GIT_CONFIG_GLOBAL": os.devnull,
    "GIT_CONFIG_PARAMETERS": "",
    "GIT_NO_REPLACE_OBJECTS": "1",
    "GIT_OPTIONAL_LOCKS": "0",
    "GIT_PROTOCOL_FROM_USER": "0",
    "LC_ALL": "C",
    "LANGUAGE": "C",
}

_FIXED_CONFIG = (
    "core.quotePath=false",
    # A repository's own config could otherwise make log run gpg.program on every commit.
    "log.showSignature=false",
    "gc.auto=0",
    "maintenance.auto=false",
    "fetch.recurseSubmodules=false",
    "submodule.recurse=false",
    "protocol.allow=never",
    "protocol.https.allow=always",
    "protocol.ssh.allow=always",
    "protocol.ext.allow=never",
    "protocol.fd.allow=never",
)


class GitError(Exception):
    """A git operation failed or was refused. The message says what, where and why.

    The message is for the server's log and the command line: it may name server folders and
    quote git's own output. ``plain`` says the same in words fit for a page: what is missing
    or went wrong, never a server path or git's message.
    """

    def __init__(self, message: str, *, plain: str = "") -> None:
        super().__init__(message)
        self.plain = plain or "git could not read the repository (the server log has git's message)"


@dataclass(frozen=True, slots=True)
class Repository:
    """An opened repository: where its object store is and how long one git call may take.

    ``work_tree`` is None for bare repositories (auditdash's own clones are bare). Reads never
    look at the work tree: everything comes from commits, so uncommitted edits are invisible.
    ``cache``, when set, answers repeated reads through :func:`git_read` (see
    :mod:`scanners.git.cache`); it takes no part in comparing handles.
    """

    git_dir: Path
    work_tree: Path | None
    timeout: float = DEFAULT_TIMEOUT
    cache: GitCache | None = field(default=None, compare=False, repr=False)

    @property
    def name(self) -> str:
        """How messages name this repository."""
        return str(self.work_tree or self.git_dir)

    def cached(self, cache: GitCache | None) -> Repository:
        """This repository read through ``cache`` (None: a handle that runs git every time)."""
        return replace(self, cache=cache)


def git_environment(git_dir: Path | None = None) -> dict[str, str]:
    """The environment every git process gets: this process's, minus redirections, plus
    the fixed settings above and the overrides that stop ``git_dir``'s own configuration
    from running any program (:func:`scanners.git.config.environment`)."""
    env = {k: v for k, v in os.environ.items() if k not in _SCRUBBED_ENV}
    env.update(_FIXED_ENV)
    env.update(config.environment(git_dir))
    return env


def run_git(
    args: Sequence[str],
    *,
    timeout: float,
    git_dir: Path | None = None,
    cwd: Path | None = None,
    stdin: bytes | None = None,
    allow_file_protocol: bool = False,
    ok_statuses: Sequence[int] = (0,),
    what: str = "",
    doing: str = "",
) -> tuple[int, bytes, str]:
    """Run ``git <hardening options> <args>`` and return (status, stdout bytes, stderr text).

    ``git_dir`` is passed as ``--git-dir`` so nothing in the environment can redirect git
    elsewhere. git runs in a session of its own; on timeout the whole process group (git and
    whatever it started: ssh, remote helpers) is killed. A status outside ``ok_statuses``, a
    timeout, or git missing from the PATH raises :class:`GitError` naming ``what`` (a short
    phrase such as "reading commit e4121ef in /srv/repo") and git's own message; its
    ``plain`` words name ``doing`` (the same phrase without server paths) when given.
    """
    label = what or "git"
    if timeout <= 0:
        raise GitError(
            f"{label}: the timeout must be positive, got {timeout!r}",
            plain="the time allowed for git is not a positive number",
        )
    command = ["git"]
    for item in _FIXED_CONFIG:
        command += ["-c", item]
    command += ["-c", f"protocol.file.allow={'always' if allow_file_protocol else 'never'}"]
    if git_dir is not None:
        command.append(f"--git-dir={git_dir}")
    command += list(args)
    try:
        # A plain subprocess rather than GitPython's executor: GitPython always starts from
        # os.environ, so it cannot drop the variables scrubbed above.
        proc = subprocess.Popen(
            command,
            cwd=cwd,
            env=git_environment(git_dir or git_dir_of(cwd)),
            stdin=subprocess.PIPE if stdin is not None else subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            start_new_session=True,
        )
    except FileNotFoundError as exc:
        raise GitError(
            f"{label}: the git program was not found on the PATH",
            plain="git is not installed on the server",
        ) from exc
    try:
        out, err = proc.communicate(stdin, timeout=timeout)
    except subprocess.TimeoutExpired:
        _kill_group(proc)
        raise GitError(
            f"{label}: timed out after {timeout:g} s and was stopped",
            plain=f"git timed out after {timeout:g} s and was stopped",
        ) from None
    except BaseException:
        _kill_group(proc)
        raise
    err_text = err.decode("utf-8", "replace")
    if proc.returncode not in ok_statuses:
        said = _short(err_text) or "no message"
        plain = f"git could not finish {doing} (the server log has git's message)" if doing else ""
        raise GitError(f"{label}: git exited with status {proc.returncode}: {said}", plain=plain)
    return proc.returncode, out, err_text


def git_dir_of(cwd: Path | None) -> Path | None:
    """The git directory of a work tree git is started in (its ``.git`` folder, or the one a
    linked worktree's ``.git`` file points to), else None."""
    if cwd is None:
        return None
    dot_git = Path(cwd) / ".git"
    if dot_git.is_dir():
        return dot_git
    if dot_git.is_file():
        text = dot_git.read_text(errors="replace").strip()
        if text.startswith("gitdir:"):
            return (Path(cwd) / text.removeprefix("gitdir:").strip()).resolve()
    return None


def _kill_group(proc: subprocess.Popen[bytes]) -> None:
    """Kill git and everything it started, then reap it so no zombie or open pipe is left."""
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    proc.communicate()


def open_repo(path: Path | str, *, timeout: float = DEFAULT_TIMEOUT) -> Repository:
    """Open the repository at ``path`` (a work tree or a bare repository) for reading.

    Parent directories are never searched: ``path`` itself must be the repository. Raises
    :class:`GitError` when the path is missing, is not a repository, or git cannot read it
    (for example a repository owned by another user that git refuses as unsafe).
    """
    # GitPython is read here only: imported on first use, it stays out of the start-up of
    # every process that never opens a repository (a tenth of a second).
    from git.exc import InvalidGitRepositoryError, NoSuchPathError
    from git.repo import Repo

    where = Path(path)
    try:
        repo = Repo(where, search_parent_directories=False)
    except NoSuchPathError as exc:
        raise GitError(
            f"{where}: no such directory, so there is no repository to read",
            plain="the folder of the linked repository no longer exists on the server",
        ) from exc
    except InvalidGitRepositoryError as exc:
        raise GitError(
            f"{where}: not a git repository (no .git directory or bare layout)",
            plain="the folder of the linked repository is not a git repository",
        ) from exc
    try:
        git_dir = Path(repo.git_dir).resolve()
        work_tree = None if repo.bare else Path(repo.working_tree_dir or where).resolve()
    finally:
        repo.close()
    handle = Repository(git_dir=git_dir, work_tree=work_tree, timeout=timeout)
    # Ask git itself once: it applies checks GitPython does not (ownership, format version).
    run_git(
        ["rev-parse", "--git-dir"],
        git_dir=git_dir,
        timeout=timeout,
        what=f"opening the repository {handle.name}",
    )
    return handle


def git_read(
    repo: Repository,
    args: Sequence[str],
    *,
    what: str,
    stdin: bytes | None = None,
    ok_statuses: Sequence[int] = (0,),
) -> tuple[int, bytes]:
    """Run a read-only git command against ``repo``; (status, stdout). See :func:`run_git`.

    A handle with a cache answers a repeated read from it instead of starting git again.
    """

    def run() -> tuple[int, bytes, str]:
        return run_git(
            args,
            git_dir=repo.git_dir,
            timeout=repo.timeout,
            stdin=stdin,
            ok_statuses=ok_statuses,
            what=f"{what} in {repo.name}",
        )

    if repo.cache is None:
        status, out, _ = run()
    else:
        status, out, _ = repo.cache.answer(args, stdin=stdin, ok_statuses=ok_statuses, run=run)
    return status, out


def _short(text: str, limit: int = 500) -> str:
    """Git's message trimmed to something a person can read in one place."""
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
