"""Where imported reports are kept: under a generated name in the data folder, outside the
web root, named by the hash of their bytes, gzip-compressed (JSON reports shrink about tenfold).

Read a kept report back with :func:`scanners.files.read_kept`, which inflates it (and reads the
uncompressed copies kept before compression came in as they are).

Retention: a report that was imported is kept. An upload waits in ``uploads/`` for its import;
the import removes it once the report is kept, or once the import refused its bytes (a bad
report: the same bytes would be refused again). An upload whose import failed for another
reason (an internal error, the worker or database gone) stays, so that the import can run
again.
"""

from __future__ import annotations

import gzip
import shutil
import threading
from pathlib import Path

from django.conf import settings

from scanners import registry
from scanners.files import KEPT_SUFFIX

_LEVEL = 1
"""gzip's fastest level: within a few percent of its best on reports, and several times
faster, which matters since a report is kept while its import's transaction is open."""


def report_path(sha: str) -> Path:
    """The file a report with these bytes is kept in (its folder created)."""
    target = Path(settings.DATA_DIR) / "reports" / sha[:2] / f"{sha}{KEPT_SUFFIX}"
    target.parent.mkdir(parents=True, exist_ok=True)
    return target


def store_scan(source: Path, sha: str, fmt: str) -> str:
    """Keep a scanner report, compressed (secrets redacted when its format says how); its
    path. The same bytes kept already are not written again."""
    target = report_path(sha)
    redact = getattr(registry.parser_for(fmt), "redact_raw", None)
    if redact is not None:
        _write(target, lambda out: out.write(redact(source.read_bytes())))
    elif not target.is_file():
        _write(target, lambda out: _copy(source, out))
    return str(target)


class ScanKeeper:
    """Keeps a scanner report (:func:`store_scan`) on a thread of its own, so that compressing
    it overlaps the end of the merge instead of lengthening the import's transaction.

    Use as a context manager around the import. Keeping starts once both the report is read
    (:meth:`read`, from any thread) and its report row is written (:meth:`opened`): an import
    that loses the race for the same bytes fails writing that row, and must not have touched
    the copy the winner keeps. :meth:`path` waits for it, before the row records it. Leaving
    the block with an error waits for the thread and removes the copy unless the same bytes
    were kept before: a failed import keeps nothing of its own (see the module docstring).
    """

    def __init__(self, source: Path, sha: str, fmt: str) -> None:
        self.source, self.sha, self.fmt = source, sha, fmt
        self._lock = threading.Lock()
        self._due = {"read": False, "opened": False}
        self._thread: threading.Thread | None = None
        self._kept_before = False
        self._path = ""
        self._error: BaseException | None = None

    def __enter__(self) -> ScanKeeper:
        return self

    def __exit__(self, kind, *exc) -> None:
        if self._thread is None:
            return
        self._thread.join()
        if kind is not None and not self._kept_before:
            report_path(self.sha).unlink(missing_ok=True)

    def read(self) -> None:
        """The parser is done with the report's bytes."""
        self._due_now("read")

    def opened(self) -> None:
        """The import's report row is written, in its transaction."""
        self._due_now("opened")

    def _due_now(self, step: str) -> None:
        with self._lock:
            self._due[step] = True
            if self._thread is not None or not all(self._due.values()):
                return
            self._kept_before = report_path(self.sha).is_file()
            self._thread = threading.Thread(target=self._keep, name="auditdash-keep", daemon=True)
            self._thread.start()

    def path(self) -> str:
        """The kept report's path, once it is written; raises what writing it raised."""
        self.read()
        self.opened()
        assert self._thread is not None
        self._thread.join()
        if self._error is not None:
            raise self._error
        return self._path

    def _keep(self) -> None:
        try:
            self._path = store_scan(self.source, self.sha, self.fmt)
        except BaseException as error:  # raised again by path(), on the import's thread
            self._error = error


def store_document(source: Path, sha: str) -> str:
    """Keep a remediation document as it came, compressed; its path."""
    target = report_path(sha)
    if not target.is_file():
        _write(target, lambda out: _copy(source, out))
    return str(target)


def upload_folder() -> Path:
    """Where uploads wait for their import (created)."""
    folder = Path(settings.DATA_DIR) / "uploads"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def is_waiting_upload(path: Path) -> bool:
    """Whether ``path`` is an upload waiting in :func:`upload_folder` for its import."""
    return path.parent.resolve() == upload_folder().resolve()


def _copy(source: Path, out) -> None:
    with source.open("rb") as handle:
        shutil.copyfileobj(handle, out, 1 << 20)


def _write(target: Path, fill) -> None:
    """Write ``target`` through gzip, beside it first, then moved into place: a reader never
    sees half a file, and a failed write leaves none."""
    partial = target.with_name(target.name + ".part")
    try:
        with gzip.open(partial, "wb", compresslevel=_LEVEL) as out:
            fill(out)
        partial.replace(target)
    finally:
        partial.unlink(missing_ok=True)
