"""Semgrep's native JSON report (``semgrep scan --json``).

Shape: ``{"version", "results": [...], "errors": [...], "paths": {"scanned": [...]},
"skipped_rules", "interfile_languages_used", "time", ...}`` (key order varies by version).
Each result: ``check_id``, ``path``, ``start {line, col, offset}``, ``end``, and ``extra``
with ``message``, ``severity``, ``metadata`` (``cwe`` as a string or a list, ``owasp``,
``confidence``, ``likelihood``, ``impact``, ``category``, ``references``, ``source``),
``lines`` (the flagged source), ``fingerprint`` and ``is_ignored`` (a ``nosemgrep`` comment).
Semgrep without a login writes the literal ``"requires login"`` in ``lines`` and
``fingerprint``: those placeholders are dropped (no snippet, no fingerprint; the pipeline
then reads the line from disk and computes its own fingerprint).

Severity, from ``extra.severity``:

===========================  =========
semgrep                      ours
===========================  =========
CRITICAL                     critical
ERROR, HIGH                  high
WARNING, MEDIUM              medium
INFO, LOW                    low
INVENTORY, EXPERIMENT        info
===========================  =========

Mapping: rule_id = ``check_id``; title = the rule's own name (the last dotted part of
``check_id``); message = ``extra.message``; cwe = the first ``CWE-<n>`` in ``metadata.cwe``
(every one in ``extra["cwes"]`` when there are several); fingerprint = ``extra.fingerprint``
(stable across line shifts); suppressed = ``extra.is_ignored``.

``ReportMeta.scanned_paths`` is ``paths.scanned`` plus every file with a result, minus files
named in ``errors`` (semgrep could not fully read them), or None when the report has no
``paths`` (older semgrep).

Not semgrep CLI output, and refused by ``sniff``: a Semgrep Supply Chain API page
(``{"vulns", "hasMore", "cursor"}``) and the Semgrep AppSec Platform findings API
(``{"findings": [...]}``).
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from scanners.base import ByteStream, ParseError, RawFinding, ReportMeta
from scanners.formats._jsonreport import Fields, JsonReport, head_shape

FORMAT = "semgrep"
TOOL = "semgrep"
PLACEHOLDER = "requires login"

SEVERITIES: dict[str, str] = {
    "ERROR": "high",
    "WARNING": "medium",
    "INFO": "low",
    "CRITICAL": "critical",
    "HIGH": "high",
    "MEDIUM": "medium",
    "LOW": "low",
    "INVENTORY": "info",
    "EXPERIMENT": "info",
}

# Top-level keys semgrep CLI writes; an object with keys outside these is not claimed unless
# its results look like semgrep's.
KNOWN_TOP_KEYS = frozenset(
    {
        "version",
        "results",
        "errors",
        "paths",
        "time",
        "skipped_rules",
        "interfile_languages_used",
        "engine_requested",
        "profiling_results",
        "explanations",
        "rules_by_engine",
        "skipped",
        "mcp_scan_results",
    }
)
_SEMGREP_ONLY_KEYS = frozenset({"skipped_rules", "interfile_languages_used", "engine_requested"})
_NOT_CLI = {
    "vulns": "a Semgrep Supply Chain API page",
    "findings": "a Semgrep AppSec Platform API response",
}
_CWE = re.compile(r"CWE-(\d+)", re.IGNORECASE)


def sniff(head: bytes) -> bool:
    """An object whose results carry ``check_id``; or one with only semgrep's top-level keys
    and a marker only semgrep writes (``paths.scanned``, ``skipped_rules``, ...); or an empty
    ``{"results": [], "errors": []}`` seen whole."""
    shape = head_shape(head)
    if shape.top != "map":
        return False
    top_keys = shape.keys_at("")
    if "check_id" in shape.keys_at("results.item") and {"path", "extra"} & shape.keys_at(
        "results.item"
    ):
        return True
    if not top_keys <= KNOWN_TOP_KEYS:
        return False
    if top_keys & _SEMGREP_ONLY_KEYS or "scanned" in shape.keys_at("paths"):
        return True
    return shape.complete and {"results", "errors"} <= top_keys and shape.sizes.get("results") == 0


def anonymous(head: bytes) -> bool:
    """Whether ``head`` is a whole report that names no tool: empty results and errors and
    nothing only semgrep writes (``{"results": [], "errors": []}``). Imported only with the
    format given."""
    shape = head_shape(head)
    top_keys = shape.keys_at("")
    return (
        shape.complete
        and shape.top == "map"
        and not top_keys & _SEMGREP_ONLY_KEYS
        and "scanned" not in shape.keys_at("paths")
        and not shape.keys_at("results.item")
    )


def severity_for(value: str) -> str | None:
    """Our severity for semgrep's ``extra.severity`` (None when unknown)."""
    return SEVERITIES.get(value.upper())


def cwe_ids(values: list[str]) -> list[str]:
    """``CWE-<n>`` for every CWE named in ``metadata.cwe`` entries, in order, without repeats."""
    found = (f"CWE-{match}" for value in values for match in _CWE.findall(value))
    return list(dict.fromkeys(found))


def parse(stream: ByteStream, *, source: str) -> Iterator[RawFinding | ReportMeta]:
    """Yield one RawFinding per semgrep result, then the ReportMeta."""
    meta = ReportMeta(tool=TOOL)
    scanned: list[str] | None = None
    failed: set[str] = set()
    result_files: set[str] = set()

    def on_version(value: object) -> None:
        if isinstance(value, str):
            meta.tool_version = value

    def on_scanned(value: object) -> None:
        nonlocal scanned
        fields = Fields({"scanned": value}, where="paths", source=source)
        scanned = fields.texts("scanned")

    def on_error(value: object) -> None:
        where = f"errors[{len(meta.errors)}]"
        fields = Fields(value, where=where, source=source, what="an error object")
        meta.errors.append(_error_text(fields, failed))

    report = JsonReport(
        stream,
        source=source,
        items="results.item",
        top=("start_map",),
        what="a semgrep JSON report (an object with `results`)",
        values={"version": on_version, "paths.scanned": on_scanned, "errors.item": on_error},
    )
    for index, value in report.items():
        finding = _finding(Fields(value, where=report.item_path(index), source=source))
        result_files.add(finding.path)
        yield finding
    if "results" not in report.top_keys:
        not_cli = next((what for key, what in _NOT_CLI.items() if key in report.top_keys), "")
        hint = (
            f"this looks like {not_cli}, not `semgrep --json` output"
            if not_cli
            else ("expected a semgrep JSON report (`semgrep scan --json`)")
        )
        raise ParseError(f"no `results` list: {hint}", where="the top level", source=source)
    if scanned is not None:
        paths = dict.fromkeys([*scanned, *sorted(result_files)])
        meta.scanned_paths = [path for path in paths if path not in failed]
        meta.failed_paths = sorted(failed)
    yield meta


def _finding(result: Fields) -> RawFinding:
    check_id = result.text("check_id", required=True)
    start = result.obj("start", required=True)
    end = result.obj("end")
    extra = result.obj("extra", required=True)
    metadata = extra.obj("metadata")
    raw_severity = extra.text("severity", required=True)
    severity = severity_for(raw_severity)
    if severity is None:
        raise extra.fail(
            "severity",
            f"`severity` should be one of {', '.join(SEVERITIES)}, found {raw_severity!r}",
        )
    lines = extra.text("lines")
    fingerprint = extra.text("fingerprint")
    cwes = cwe_ids(_strings(metadata.raw("cwe")))
    details: dict[str, object] = {}
    for key in ("confidence", "likelihood", "impact", "category"):
        if value := metadata.raw(key):
            if isinstance(value, str):
                details[key] = value
    for key in ("owasp", "references"):
        if values := _strings(metadata.raw(key)):
            details[key] = values
    help_url = (
        metadata.raw("source") or metadata.raw("shortlink") or metadata.raw("source-rule-url")
    )
    if isinstance(help_url, str) and help_url:
        details["help_url"] = help_url
    if len(cwes) > 1:
        details["cwes"] = cwes
    ignored = extra.raw("is_ignored") is True
    return RawFinding(
        tool=TOOL,
        rule_id=check_id,
        title=check_id.rsplit(".", 1)[-1],
        severity=severity,
        path=result.text("path", required=True),
        start_line=start.whole("line", required=True),
        end_line=end.whole("line"),
        start_column=start.whole("col"),
        message=extra.text("message").strip(),
        snippet="" if lines == PLACEHOLDER else lines,
        cwe=cwes[0] if cwes else "",
        fingerprint="" if fingerprint == PLACEHOLDER else fingerprint,
        suppressed=ignored,
        suppression_reason="nosemgrep comment" if ignored else "",
        extra=details,
    )


def _strings(value: object) -> list[str]:
    """Free-form rule metadata as a list of text: rule authors write a string or a list, and
    whatever else a custom rule puts there is not ours to refuse, so it is ignored."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [entry for entry in value if isinstance(entry, str)]
    return []


def _error_text(error: Fields, failed: set[str]) -> str:
    """One line for a semgrep error; files it names go into ``failed``."""
    path = error.text("path")
    if path:
        failed.add(path)
    level = error.text("level")
    message = error.text("message").strip() or str(error.raw("type") or "error")
    text = f"{path}: {message}" if path else message
    return f"{level}: {text}" if level else text
