"""SARIF 2.1.0 logs from any tool.

``parse`` reads a log in two passes over the (seekable) stream. The first reads every run's
metadata — tool and rules, artifacts, base URIs, invocations, category, provenance — and
jumps over the ``results`` lists; the :class:`~scanners.base.ReportMeta` is yielded from it,
before any finding. The second pass seeks to each run's results and maps them one at a time.
Memory therefore grows with the number of rules and artifacts, never with the number of
results. A stream that cannot seek is first copied to a temporary file.

Severity, first rule that applies:

=====================================================  ===========
result                                                 severity
=====================================================  ===========
``kind: informational``                                info
``security-severity`` >= 9.0 (result, else rule)       critical
``security-severity`` >= 7.0                           high
``security-severity`` >= 4.0                           medium
``security-severity`` > 0                              low
``security-severity`` = 0                              info
``level`` (result, else rule default, else "warning")
  ``error``                                            high
  ``warning``                                          medium
  ``note``                                             low
  ``none``                                             info
=====================================================  ===========

``security-severity`` is a CVSS-like score in the rule's (or result's) property bag; a word
("high") is read as that severity, anything unreadable is ignored. Results of kind ``review``
and ``open`` use the level mapping like ``fail``: when they carry no level, the rule's default
and then "warning" apply (SARIF would say "none"; we would rather not bury them as info).

Not findings, and not yielded: results of kind ``pass`` and ``notApplicable``, and results
whose ``baselineState`` is ``absent`` (the tool says they are gone).

A result is ``suppressed`` when it has suppressions and each one's status is ``accepted`` or
absent; ``suppression_reason`` lists every suppression as ``kind[ (status)][: justification]``.

The ``fingerprint`` is the result's ``fingerprints`` (else ``partialFingerprints``) as sorted
``key=value`` pairs joined by ``;``; nested values are flattened as ``key.sub=value``. The
``scope`` is the run's category: ``automationDetails.id`` up to its last ``/``.

Secret scanners (gitleaks and the like) write the secret itself into ``region.snippet``; for
their runs the snippet is left empty.
"""

from __future__ import annotations

import re
import shutil
import tempfile
from collections.abc import Iterator

from scanners.base import ByteStream, ParseError, RawFinding, ReportMeta
from scanners.formats._jsonreport import head_shape
from scanners.formats.sarif.log import scan
from scanners.formats.sarif.stream import JsonReader

FORMAT = "sarif"

_RUNS = re.compile(rb'"runs"\s*:')
_SCHEMA = re.compile(rb'"\$schema"\s*:\s*"[^"]*sarif', re.IGNORECASE)
_VERSION = re.compile(rb'"version"\s*:\s*"2\.1\.0"')
# Keys a SARIF result has beside its message (one of them at least: a rule, or a place).
_RESULT_KEYS = frozenset({"ruleId", "ruleIndex", "rule", "locations"})


def sniff(head: bytes) -> bool:
    """Whether ``head`` (the first bytes of a report, possibly cut anywhere) is a SARIF log.

    By structure, whatever the order of the keys (bandit writes ``version`` and ``$schema``
    after its runs, so on a real project they lie far past the head): a JSON object whose
    ``runs`` hold a ``tool`` with a ``driver``, or results with a ``message`` and a rule or
    locations. Failing that, by its header: a ``"runs"`` key with a ``$schema`` naming SARIF or
    ``"version": "2.1.0"``; a ``$schema`` naming SARIF alone when ``"runs"`` lies beyond the
    head."""
    text = head.removeprefix(b"\xef\xbb\xbf").lstrip()
    if not text.startswith(b"{"):
        return False
    shape = head_shape(head)
    if "runs" in shape.keys_at(""):
        if "driver" in shape.keys_at("runs.item.tool"):
            return True
        results = shape.keys_at("runs.item.results.item")
        if "message" in results and results & _RESULT_KEYS:
            return True
    schema = _SCHEMA.search(text) is not None
    if _RUNS.search(text):
        return schema or _VERSION.search(text) is not None
    return schema and len(head) >= 64 * 1024


def parse(stream: ByteStream, *, source: str) -> Iterator[RawFinding | ReportMeta]:
    """Yield the log's :class:`ReportMeta` first, then one :class:`RawFinding` per result.

    Raises :class:`ParseError` (naming ``source``, the JSON path and what was expected) for
    anything that is not a readable SARIF 2.1.0 log.
    """
    if not _seekable(stream):
        spool = tempfile.TemporaryFile()  # closed when the generator ends
        shutil.copyfileobj(stream, spool)
        spool.seek(0)
        try:
            yield from parse(spool, source=source)
        finally:
            spool.close()
        return
    origin = stream.tell()
    reader = JsonReader(stream, source=source)
    try:
        skeleton = scan(reader, careful=False)
    except ParseError:
        # Jumping over results may have been misled by an unusual layout, or the log is bad;
        # reading carefully tells the two apart and reports the real place.
        reader.seek(origin)
        skeleton = scan(reader, careful=True)
    yield skeleton.meta
    for span in skeleton.runs:
        if span.results_start < 0:
            continue
        run = span.run
        reader.seek(span.results_start)
        for number, result in reader.iter_array(f"{run.where}.results"):
            finding = run.finding(result, number)
            if finding is not None:
                yield finding
        if reader.offset != span.results_end:
            raise ParseError(
                "the results list ends somewhere other than the first pass found; "
                "the log's layout confused the reader (please report this file)",
                where=f"{run.where}.results",
                source=source,
            )


def _seekable(stream: ByteStream) -> bool:
    try:
        return stream.seekable()
    except (AttributeError, ValueError):
        return False
