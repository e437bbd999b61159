"""The parse side of a scan import: a report's bytes to batches of rows, in order.

:func:`read_report` turns a report into events: :class:`Start` when the first result is met
(what its rows were made with), a :class:`Batch` of rows every ``BATCH`` results, and
:class:`Done` with what the whole report said of itself. :func:`in_background` runs those
events in a thread of its own, so that the database writes one batch (in its own process)
while the parser, which is Python and holds the interpreter, makes the next: on two cores
the two overlap. Only the thread touches the parser and the file; bad input arrives as the
same :class:`IngestError` either way.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from scanners import registry
from scanners.base import ParseError, ReportMeta
from scanners.files import IngestError, ReportWindow
from scanners.normalise import Cuts, OwnCuts, RowMaker, fit, storable_meta, storable_text
from scanners.rows import StagedRow

BATCH = 5000
FIRST_BATCH = 1000
"""The first batch is smaller: the database starts on it while the parser makes the next."""


@dataclass(frozen=True)
class Start:
    """The first result's turn: the report's facts so far, with which every row is made."""

    meta: ReportMeta
    branch: str
    commit: str


@dataclass(frozen=True)
class Batch:
    rows: list[StagedRow]
    payload: bytes | None = None
    """The rows as the database will load them, when made beside the parse (see
    :func:`with_payload`)."""


@dataclass(frozen=True)
class Done:
    """What the whole report said: its final facts, scopes and scanned paths."""

    meta: ReportMeta
    branch: str
    commit: str
    scopes: tuple[tuple[str, str], ...]
    scanned: tuple[str, ...] | None
    unrooted: int
    failed: tuple[str, ...] = ()
    """The files the tool could not read, as rows store paths."""
    rules: tuple[tuple[str, str, dict], ...] = ()
    """(tool, rule id, details) of the rules the report described."""
    cut: str = ""
    """Which texts were cut to fit their columns, in words ("" when none)."""


Event = Start | Batch | Done


@dataclass(frozen=True)
class Setting:
    """What the caller knows before reading: options, the project's roots and branch."""

    fmt: str
    name: str
    commit: str
    branch: str
    default_branch: str
    roots: tuple[str, ...]
    reader_at: Callable[[str], Callable[[str], str | None] | None]
    """Given a commit, a function reading a repo-relative file at it, or None."""


def read_report(window: ReportWindow, setting: Setting) -> Iterator[Event]:
    """The events of one report; malformed input raises IngestError naming the file."""
    try:
        yield from _events(window, setting)
    except ParseError as error:
        if not error.source:
            error.source = setting.name
        raise IngestError(str(error)) from None
    except UnicodeDecodeError as error:
        raise IngestError(
            f"{setting.name}: byte {error.start}: not valid UTF-8; expected a UTF-8 report"
        ) from None


def _events(window: ReportWindow, setting: Setting) -> Iterator[Event]:
    parser = registry.parser_for(setting.fmt)
    meta = ReportMeta()
    roots = list(setting.roots)
    rows: RowMaker | None = None
    cuts = Cuts()
    own = OwnCuts(cuts)
    batch: list[StagedRow] = []
    count = 0
    size = FIRST_BATCH
    for item in parser.parse(window, source=setting.name):
        if isinstance(item, ReportMeta):
            _merge_meta(meta, item)
            if rows is not None:
                rows.rebuild(meta)
            continue
        if rows is None:
            branch, commit = _branch(setting, meta, own), _commit(setting, meta, own)
            rows = RowMaker(roots, meta, branch, setting.reader_at(commit))
            rows.cuts = cuts
            yield Start(meta=storable_meta(meta, None), branch=branch, commit=commit)
        batch.append(rows.row(count, item, setting.name))
        count += 1
        if len(batch) >= size:
            yield Batch(batch)
            batch, size = [], BATCH
    if batch:
        yield Batch(batch)
    branch, commit = _branch(setting, meta, own), _commit(setting, meta, own)
    if rows is None:
        rows = RowMaker(roots, meta, branch)
        rows.cuts = cuts
    stored = storable_meta(meta, cuts)
    scopes = rows.stored_scopes()
    if not scopes and stored.tool and "," not in stored.tool:
        scopes = ((stored.tool, ""),)
    scanned = None
    if meta.scanned_paths is not None:
        scanned = tuple(sorted({rows.text(rows.paths(p), "path") for p in meta.scanned_paths}))
    failed = tuple(sorted({rows.text(rows.paths(p), "path") for p in meta.failed_paths}))
    yield Done(
        meta=stored,
        branch=branch,
        commit=commit,
        scopes=scopes,
        scanned=scanned,
        unrooted=len(rows.paths.unrooted),
        failed=failed,
        rules=rows.rule_details(),
        cut=cuts.describe(),
    )


def _branch(setting: Setting, meta: ReportMeta, cuts: Cuts | None) -> str:
    """The report's branch as rows store it (storable, cut to fit)."""
    branch = setting.branch or meta.branch or setting.default_branch
    return fit(storable_text(branch), "branch", cuts)


def _commit(setting: Setting, meta: ReportMeta, cuts: Cuts | None) -> str:
    """The report's commit as rows store it (storable, at most 40 characters)."""
    return fit(storable_text(setting.commit or meta.commit), "commit", cuts)


def _merge_meta(into: ReportMeta, item: ReportMeta) -> None:
    for name in ("tool", "tool_version", "commit", "branch", "root", "generated_at"):
        if getattr(item, name) and not getattr(into, name):
            setattr(into, name, getattr(item, name))
    into.base_uris.update(item.base_uris)
    into.errors.extend(item.errors)
    into.failed_paths.extend(item.failed_paths)
    if item.scanned_paths is not None:
        into.scanned_paths = (into.scanned_paths or []) + list(item.scanned_paths)


def with_payload(
    events: Iterator[Event], make: Callable[[list[StagedRow]], bytes | None]
) -> Iterator[Event]:
    """``events`` with each batch's rows also made into their load payload by ``make``, on
    whichever thread reads the events."""
    for event in events:
        if isinstance(event, Batch):
            event = Batch(event.rows, make(event.rows))
        yield event


@dataclass(frozen=True)
class _Failed:
    error: BaseException


_END = object()


@contextmanager
def in_background(events: Iterator[Event], depth: int = 2) -> Iterator[Iterator[Event]]:
    """``events`` produced by a thread, at most ``depth`` batches ahead of the consumer.

    An exception in the thread is raised in the consumer; leaving the block early (the
    consumer failed) stops the thread and waits for it, so the file is free again.
    """
    handoff: queue.Queue = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def put(item) -> bool:
        while not stop.is_set():
            try:
                handoff.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        try:
            for event in events:
                if not put(event):
                    return
            put(_END)
        except BaseException as error:  # handed to the consumer, raised there
            put(_Failed(error))

    thread = threading.Thread(target=produce, name="auditdash-parse", daemon=True)
    thread.start()

    def consume() -> Iterator[Event]:
        while True:
            item = handoff.get()
            if item is _END:
                return
            if isinstance(item, _Failed):
                raise item.error
            yield item

    try:
        yield consume()
    finally:
        stop.set()
        thread.join()
