"""Running one scanner process: output to files, a time limit, and nothing left behind.

A scanner may start helpers of its own (semgrep runs ``semgrep-core``, pip-audit may start
pip), so each one runs in a session of its own and, when its time is up or the caller is
interrupted, the whole process group is stopped: first asked (SIGTERM), then killed.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

# Seconds a process group gets between SIGTERM and SIGKILL: enough for semgrep to stop its
# workers, short enough that a stuck tool does not hold the worktree.
_GRACE = 3.0


@dataclass(frozen=True, slots=True)
class Finished:
    """How a process ended. ``status`` is None when it was stopped for running too long."""

    status: int | None
    seconds: float
    timed_out: bool


def run_process(
    argv: Sequence[str],
    *,
    cwd: Path,
    env: Mapping[str, str],
    stdout: Path,
    stderr: Path,
    timeout: float,
) -> Finished:
    """Run ``argv`` in ``cwd`` with stdout written to ``stdout`` and stderr to ``stderr``.

    Never raises for the program's own failure: the caller judges the exit status. A missing
    program raises ``FileNotFoundError``. On timeout, or when the caller is interrupted
    (KeyboardInterrupt, a Celery soft time limit), the process group is stopped before this
    returns or re-raises, so no scanner outlives the worktree it reads.
    """
    started = time.monotonic()
    with stdout.open("wb") as out, stderr.open("wb") as err:
        proc = subprocess.Popen(
            list(argv),
            cwd=cwd,
            env=dict(env),
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=err,
            start_new_session=True,
        )
        try:
            status = proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            stop_group(proc)
            return Finished(None, time.monotonic() - started, timed_out=True)
        except BaseException:
            stop_group(proc)
            raise
        # The leader exited; helpers it left running in its group go too.
        _signal_group(proc.pid, signal.SIGKILL)
    return Finished(status, time.monotonic() - started, timed_out=False)


def stop_group(proc: subprocess.Popen) -> None:
    """Stop ``proc`` and every process in its group, then reap it."""
    _signal_group(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=_GRACE)
    except subprocess.TimeoutExpired:
        pass
    _signal_group(proc.pid, signal.SIGKILL)
    proc.wait()


def _signal_group(pgid: int, sig: signal.Signals) -> None:
    try:
        os.killpg(pgid, sig)
    except (ProcessLookupError, PermissionError):
        # Already gone (PermissionError: on some systems for a group of only zombies).
        pass


def tail(path: Path, limit: int = 600) -> str:
    """The last ``limit`` characters of a text file, on one line, for an error message."""
    try:
        with path.open("rb") as handle:
            handle.seek(0, os.SEEK_END)
            size = handle.tell()
            handle.seek(max(0, size - limit * 4))
            text = handle.read().decode("utf-8", "replace")
    except OSError:
        return ""
    text = " ".join(text.split())
    return text if len(text) <= limit else "…" + text[-limit:]
