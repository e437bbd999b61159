"""Bandit's native JSON report (``bandit -f json``).

Shape: ``{"errors": [{filename, reason}], "generated_at", "metrics": {<file>: {...}, "_totals":
{...}}, "results": [...]}``, keys sorted, so the (possibly large) metrics come before the results.
Each result has ``filename``, ``line_number``, ``line_range``, ``col_offset`` (0-based),
``code`` (the flagged lines with context, each prefixed by its line number), ``issue_severity``,
``issue_confidence``, ``test_id``, ``test_name``, ``issue_text``, ``issue_cwe {id, link}`` and
``more_info``.

Severity is bandit's severity weighed by its confidence (UNDEFINED counts as LOW): a LOW
confidence lowers a finding one step, a HIGH/MEDIUM confidence keeps bandit's own level, and the
weakest corner (LOW/LOW) is only informational.

=================  ===========  =============  ==========
severity \\ conf.   HIGH         MEDIUM         LOW
=================  ===========  =============  ==========
HIGH               high         high           medium
MEDIUM             medium       medium         low
LOW                low          low            info
=================  ===========  =============  ==========

Mapping: rule_id = ``test_id``; title = ``test_name`` made readable (``hardcoded_sql_expressions``
-> "Hardcoded sql expressions"), except bandit's catch-all name ``blacklist`` (shared by every
B3xx/B4xx check), where ``issue_text`` says more; message =
``issue_text``; cwe = ``CWE-<id>``; start_column is 1-based (bandit's ``col_offset`` + 1).
The snippet is only the flagged lines (``line_range``) with their number prefixes removed: the
pipeline fingerprints on it, so context lines must not leak in.

``ReportMeta.scanned_paths`` is every file in ``metrics`` (plus any file with a result), minus
the files bandit reported in ``errors``: a file bandit could not parse says nothing about whether
its findings are fixed.
"""

from __future__ import annotations

from collections.abc import Iterator

from scanners.base import ByteStream, ParseError, RawFinding, ReportMeta
from scanners.formats._jsonreport import Fields, JsonReport, head_shape

FORMAT = "bandit"
TOOL = "bandit"

_LEVELS = ("HIGH", "MEDIUM", "LOW")
SEVERITY_TABLE: dict[tuple[str, str], str] = {
    ("HIGH", "HIGH"): "high",
    ("HIGH", "MEDIUM"): "high",
    ("HIGH", "LOW"): "medium",
    ("MEDIUM", "HIGH"): "medium",
    ("MEDIUM", "MEDIUM"): "medium",
    ("MEDIUM", "LOW"): "low",
    ("LOW", "HIGH"): "low",
    ("LOW", "MEDIUM"): "low",
    ("LOW", "LOW"): "info",
}

_METRIC_KEYS = frozenset({"SEVERITY.HIGH", "CONFIDENCE.HIGH", "SEVERITY.UNDEFINED"})


def sniff(head: bytes) -> bool:
    """A JSON object whose results carry ``test_id`` and ``issue_severity``, or whose metrics
    carry bandit's per-file counters (the metrics can fill the whole head before any result)."""
    shape = head_shape(head)
    if shape.top != "map":
        return False
    result_keys = shape.keys_at("results.item")
    if {"test_id", "issue_severity"} <= result_keys or {"test_id", "issue_confidence"} <= (
        result_keys
    ):
        return True
    for prefix, keys in shape.keys.items():
        if prefix.startswith("metrics.") and (keys & _METRIC_KEYS or {"loc", "nosec"} <= keys):
            return True
    return False


def severity_for(severity: str, confidence: str) -> str:
    """Our severity for bandit's (severity, confidence) pair; both already validated."""
    return SEVERITY_TABLE[(_level(severity), _level(confidence))]


def _level(value: str) -> str:
    return "LOW" if value == "UNDEFINED" else value


def flagged_lines(code: str, first: int, last: int) -> str:
    """The lines numbered ``first``..``last`` of bandit's ``code`` block, prefixes removed."""
    kept = []
    for line in code.split("\n"):
        number, _, text = line.partition(" ")
        if number.isdigit() and first <= int(number) <= last:
            kept.append(text.rstrip("\r"))
    return "\n".join(kept)


def parse(stream: ByteStream, *, source: str) -> Iterator[RawFinding | ReportMeta]:
    """Yield one RawFinding per bandit result, then the ReportMeta."""
    meta = ReportMeta(tool=TOOL)
    metric_files: list[str] = []
    failed_files: set[str] = set()
    result_files: set[str] = set()

    def on_generated_at(value: object) -> None:
        if isinstance(value, str):
            meta.generated_at = value

    def on_metrics_key(key: str) -> None:
        if key != "_totals":
            metric_files.append(key)

    def on_error(value: object) -> None:
        where = f"errors[{len(meta.errors)}]"
        fields = Fields(value, where=where, source=source, what="an error object")
        filename, reason = fields.text("filename"), fields.text("reason")
        if filename:
            failed_files.add(filename)
        meta.errors.append(f"{filename}: {reason}" if filename else reason)

    report = JsonReport(
        stream,
        source=source,
        items="results.item",
        top=("start_map",),
        what="a bandit JSON report (an object with `results`)",
        values={"generated_at": on_generated_at, "errors.item": on_error},
        keys={"metrics": on_metrics_key},
    )
    for index, value in report.items():
        finding = _finding(Fields(value, where=report.item_path(index), source=source))
        result_files.add(finding.path)
        yield finding
    if "results" not in report.top_keys:
        raise ParseError(
            "no `results` list: expected a bandit JSON report (`bandit -f json`)",
            where="the top level",
            source=source,
        )
    if "metrics" in report.top_keys:
        scanned = dict.fromkeys([*metric_files, *sorted(result_files)])
        meta.scanned_paths = [path for path in scanned if path not in failed_files]
        meta.failed_paths = sorted(failed_files)
    yield meta


def _finding(result: Fields) -> RawFinding:
    line = result.whole("line_number", required=True)
    severity = _checked_level(result, "issue_severity")
    confidence = _checked_level(result, "issue_confidence")
    line_range = [
        n for n in result.array("line_range") if isinstance(n, int) and not isinstance(n, bool)
    ] or [line]
    first, last = min(line_range), max(line_range)
    column = result.whole("col_offset")
    test_id = result.text("test_id", required=True)
    test_name = result.text("test_name")
    issue_text = result.text("issue_text", required=True)
    cwe_id = result.obj("issue_cwe").raw("id")
    cwe = str(cwe_id) if isinstance(cwe_id, int | str) and str(cwe_id) not in ("", "0") else ""
    extra: dict[str, object] = {
        "bandit_severity": severity,
        "bandit_confidence": confidence,
    }
    if more_info := result.text("more_info"):
        extra["help_url"] = more_info
    return RawFinding(
        tool=TOOL,
        rule_id=test_id,
        title=issue_text if test_name in ("", "blacklist") else _readable(test_name),
        severity=severity_for(severity, confidence),
        path=result.text("filename", required=True),
        start_line=line,
        end_line=max(last, line or last),
        start_column=column + 1 if column is not None else None,
        message=issue_text,
        snippet=flagged_lines(result.text("code"), first, last),
        cwe=f"CWE-{cwe.removeprefix('CWE-')}" if cwe else "",
        extra=extra,
    )


def _checked_level(result: Fields, key: str) -> str:
    value = result.text(key, required=True).upper()
    if value not in (*_LEVELS, "UNDEFINED"):
        raise result.fail(key, f"`{key}` should be HIGH, MEDIUM, LOW or UNDEFINED, found {value!r}")
    return value


def _readable(test_name: str) -> str:
    """``start_process_with_a_shell`` -> "Start process with a shell"."""
    words = test_name.replace("_", " ").strip()
    return words[:1].upper() + words[1:]
