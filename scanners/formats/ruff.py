"""Ruff's native JSON report (``ruff check --output-format json``).

Shape: a top-level list of ``{cell, code, end_location {row, column}, filename (absolute), fix,
location {row, column}, message, name, noqa_row, severity, url}``. ``code`` is null (older
ruff) or ``"invalid-syntax"`` (newer ruff) for a syntax error. The report carries no source
text, so the snippet stays empty (the pipeline reads the line from disk), and no list of
checked files, so ``ReportMeta.scanned_paths`` is None.

Ruff gives every diagnostic the same level, so severity comes from the rule, looked up by
exact code, then by ever shorter prefixes of the code within its family, then by family:

=========  ==============================================================================
severity   rules
=========  ==============================================================================
high       syntax errors (null code, ``invalid-syntax``, E999); E9 (the file cannot be
           read or parsed); F63 (comparisons that are always true/false, ``is`` with a
           literal); F7 (``break``/``return``/``await`` misplaced); F82 (undefined names).
           These are the checks flake8 users run as "the build must not break". From
           flake8-bandit, the directly exploitable ones: S102 ``exec``, S105/S106/S107
           hard-coded passwords, S301 pickle, S307 ``eval``, S324 weak hash, S501 TLS
           without certificate check, S506 unsafe ``yaml.load`` (code execution, like
           pickle), S602/S605 shell injection, S608 SQL built from strings.
medium     every other S (flake8-bandit) rule: security-relevant, exploitable only in
           context.
low        S101 ``assert``, S110/S112 silenced exceptions (bandit itself rates them low);
           B (bugbear: likely bugs, not vulnerabilities); E722 bare ``except``; every other
           F (pyflakes: unused imports and variables, redefinitions); BLE blind ``except``.
info       everything else: style and modernisation families (E, W, I, D, N, UP, SIM, C4,
           PL, RUF, ...).
=========  ==============================================================================
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from scanners.base import ByteStream, RawFinding, ReportMeta
from scanners.formats._jsonreport import Fields, JsonReport, head_shape

FORMAT = "ruff"
TOOL = "ruff"
SYNTAX_ERROR = "invalid-syntax"

SEVERITY_BY_RULE: dict[str, str] = {
    "E999": "high",
    "E9": "high",
    "F63": "high",
    "F7": "high",
    "F82": "high",
    "S102": "high",
    "S105": "high",
    "S106": "high",
    "S107": "high",
    "S301": "high",
    "S307": "high",
    "S324": "high",
    "S501": "high",
    "S506": "high",
    "S602": "high",
    "S605": "high",
    "S608": "high",
    "S101": "low",
    "S110": "low",
    "S112": "low",
    "S": "medium",
    "B": "low",
    "E722": "low",
    "F": "low",
    "BLE": "low",
}
DEFAULT_SEVERITY = "info"

_CODE = re.compile(r"([A-Z]+)([0-9]+)")
_REQUIRED_KEYS = frozenset({"code", "filename", "location", "message"})


def sniff(head: bytes) -> bool:
    """A list whose entries have ruff's ``code``/``filename``/``location``/``message`` keys and
    one of ``noqa_row``/``end_location``. A bare ``[]`` is not claimed: see pip_audit."""
    shape = head_shape(head)
    if shape.top != "array":
        return False
    keys = shape.keys_at("item")
    return _REQUIRED_KEYS <= keys and bool({"noqa_row", "end_location"} & keys)


def severity_for(code: str | None) -> str:
    """Our severity for a ruff rule code (None or ``invalid-syntax`` for a syntax error)."""
    if code is None or code == SYNTAX_ERROR:
        return "high"
    if code in SEVERITY_BY_RULE:
        return SEVERITY_BY_RULE[code]
    match = _CODE.fullmatch(code)
    if match is None:
        return DEFAULT_SEVERITY
    family, digits = match.groups()
    for length in range(len(digits) - 1, -1, -1):
        found = SEVERITY_BY_RULE.get(family + digits[:length])
        if found is not None:
            return found
    return DEFAULT_SEVERITY


def parse(stream: ByteStream, *, source: str) -> Iterator[RawFinding | ReportMeta]:
    """Yield one RawFinding per ruff diagnostic, then the ReportMeta."""
    report = JsonReport(
        stream,
        source=source,
        items="item",
        top=("start_array",),
        what="a ruff JSON report (a list of diagnostics)",
    )
    for index, value in report.items():
        yield _finding(Fields(value, where=report.item_path(index), source=source))
    yield ReportMeta(tool=TOOL)


def _finding(item: Fields) -> RawFinding:
    item.require("code")
    code = item.text("code") or None
    location = item.obj("location", required=True)
    end = item.obj("end_location")
    message = item.text("message", required=True)
    extra: dict[str, object] = {}
    if name := item.text("name"):
        extra["rule_name"] = name
    if url := item.text("url"):
        extra["help_url"] = url
    fix = item.obj("fix")
    if fix.data:
        extra["fix"] = fix.text("message") or "available"
        if applicability := fix.text("applicability"):
            extra["fix_applicability"] = applicability
    if (cell := item.whole("cell")) is not None:
        extra["notebook_cell"] = cell
    return RawFinding(
        tool=TOOL,
        rule_id=code or SYNTAX_ERROR,
        title=message,
        severity=severity_for(code),
        path=item.text("filename", required=True),
        start_line=location.whole("row", required=True),
        end_line=end.whole("row"),
        start_column=location.whole("column"),
        message=message,
        extra=extra,
    )
