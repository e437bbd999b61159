"""A project's findings as a SARIF 2.1.0 log: the pure half of the export (no ORM).

``findings.selectors.sarif`` reads the findings, their evidence and the facts a baseline
state needs, as plain dicts; this module maps them onto SARIF objects and writes the log a
piece at a time, so the export's memory does not grow with the number of findings. What
each auditdash fact becomes, and why, is in ``docs/sarif-export.md``.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from urllib.parse import quote

import orjson

VERSION = "2.1.0"
SCHEMA = (
    "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
)
FINGERPRINT_KEY = "auditdash/v1"
"""The key of auditdash's own fingerprint among a result's ``partialFingerprints``."""
DOCUMENTS_DRIVER = "auditdash documents"
"""The driver of the run that holds findings from remediation documents (no scanner)."""
SOURCE_ROOT = "%SRCROOT%"

LEVELS = {"critical": "error", "high": "error", "medium": "warning", "low": "note", "info": "note"}
"""SARIF ``level`` per severity. SARIF has three levels for problems; ``none`` is for results
whose kind is not "fail" (§3.27.10), so info findings are notes."""

SECURITY_SEVERITY = {
    "critical": "9.0",
    "high": "7.0",
    "medium": "4.0",
    "low": "0.1",
    "info": "0.0",
}
"""``properties.security-severity`` per severity: the lowest CVSS v3 score of the band (the
convention GitHub code scanning reads), so the exact severity survives where ``level`` has
only three values."""


class Baseline:
    """SARIF ``baselineState`` values (§3.27.24)."""

    NEW = "new"
    UNCHANGED = "unchanged"
    UPDATED = "updated"
    ABSENT = "absent"


def baseline_state(*, fixed: bool, in_baseline: bool, changed_since_baseline: bool) -> str:
    """The finding's state against its baseline run: the report of its scope before the
    newest report that saw it (or, for a fixed finding, that found it gone).

    - fixed (verified, signed off): ``absent``, detected before, not any more;
    - not seen by the baseline (first seen now, or back after a fix, or no earlier report of
      its scope): ``new``;
    - seen by both, and its lifecycle status changed since the baseline was imported (a
      claimed fix the scan contradicts, a reopened finding): ``updated``, a change auditdash
      considers significant; lines shifting is not one (fingerprints ignore them);
    - seen by both otherwise: ``unchanged``.
    """
    if fixed:
        return Baseline.ABSENT
    if not in_baseline:
        return Baseline.NEW
    return Baseline.UPDATED if changed_since_baseline else Baseline.UNCHANGED


@dataclass
class RuleFacts:
    """One rule of a run: its id, the one title its findings share ("" when they differ) and
    what the scanner said of it (``findings.Rule.details``)."""

    id: str
    title: str = ""
    details: dict = field(default_factory=dict)


@dataclass
class RunFacts:
    """One SARIF run: the findings of one tool, SARIF category and branch."""

    tool: str
    category: str = ""
    branch: str = ""
    version: str = ""
    documents: bool = False
    rules: list[RuleFacts] = field(default_factory=list)
    project: str = ""

    def rule_index(self) -> dict[str, int]:
        return {rule.id: index for index, rule in enumerate(self.rules)}


def rule_object(rule: RuleFacts) -> dict:
    """A ``reportingDescriptor``. A short description only when all of the rule's findings
    share one title: SARIF viewers title a result by its rule."""
    details = rule.details
    descriptor: dict = {"id": rule.id}
    if isinstance(details.get("rule_name"), str) and details["rule_name"]:
        descriptor["name"] = details["rule_name"]
    if rule.title:
        descriptor["shortDescription"] = {"text": rule.title}
    if isinstance(details.get("help_uri"), str) and details["help_uri"]:
        descriptor["helpUri"] = details["help_uri"]
    properties: dict = {}
    tags = [tag for tag in details.get("tags") or () if isinstance(tag, str)]
    tags += [f"external/cwe/{cwe.lower()}" for cwe in details.get("cwes") or () if cwe]
    if tags:
        properties["tags"] = list(dict.fromkeys(tags))
    for key, name in (("precision", "precision"), ("security_severity", "security-severity")):
        if isinstance(details.get(key), str) and details[key]:
            properties[name] = details[key]
    if properties:
        descriptor["properties"] = properties
    return descriptor


def run_object(run: RunFacts) -> dict:
    """A run without its results."""
    driver: dict = {
        "name": DOCUMENTS_DRIVER if run.documents else run.tool,
        "rules": [rule_object(rule) for rule in run.rules],
    }
    if run.version:
        driver["version"] = run.version
    body: dict = {"tool": {"driver": driver}}
    if run.category:
        # "category/instance": readers (auditdash's, GitHub's) take the part before the slash.
        body["automationDetails"] = {"id": f"{run.category}/"}
    body["columnKind"] = "unicodeCodePoints"
    facts: dict = {"project": run.project, "branch": run.branch}
    if run.documents:
        facts["source"] = "remediation documents"
    body["properties"] = {"auditdash": facts}
    return body


def location_object(row: dict) -> dict | None:
    """A result's location: a URI relative to the repository root, and its lines."""
    path = row["path"]
    if not path:
        return None
    artifact: dict = {"uri": quote(path, safe="/:@!$&'()*+,;=-._~")}
    if not path.startswith("/"):
        artifact["uriBaseId"] = SOURCE_ROOT
    physical: dict = {"artifactLocation": artifact}
    start, end = row["start_line"], row["end_line"]
    region: dict = {}
    if start and start >= 1:
        region["startLine"] = start
        if end and end >= start:
            region["endLine"] = end
    if region and row["snippet"]:
        region["snippet"] = {"text": row["snippet"]}
    if region:
        physical["region"] = region
    return {"physicalLocation": physical}


def result_object(row: dict, rule_index: dict[str, int], *, with_baseline: bool) -> dict:
    """One finding as a ``result``. ``row`` is what ``findings.selectors.sarif`` reads:
    the finding's own fields, ``baseline`` (the facts of :func:`baseline_state`) and
    ``auditdash`` (its lifecycle and evidence, carried whole in the property bag), and
    ``suppression`` for a triaged finding."""
    severity = row["severity"]
    result: dict = {}
    if row["rule_id"]:
        result["ruleId"] = row["rule_id"]
        if row["rule_id"] in rule_index:
            result["ruleIndex"] = rule_index[row["rule_id"]]
    result["level"] = LEVELS[severity]
    result["message"] = {"text": row["message"] or row["title"] or row["rule_id"]}
    location = location_object(row)
    if location is not None:
        result["locations"] = [location]
    result["partialFingerprints"] = {FINGERPRINT_KEY: row["fingerprint"]}
    if with_baseline:
        result["baselineState"] = baseline_state(**row["baseline"])
    if row.get("suppression"):
        result["suppressions"] = [row["suppression"]]
    properties: dict = {"security-severity": SECURITY_SEVERITY[severity]}
    if row["cwe"]:
        properties["cwe"] = row["cwe"]
    properties["auditdash"] = row["auditdash"]
    result["properties"] = properties
    return result


def write_log(runs: Iterable[tuple[RunFacts, Iterable[dict]]]) -> Iterator[bytes]:
    """The SARIF log as UTF-8 pieces: each run's header, then its results one at a time.

    ``runs`` pairs each run with an iterator of its finding rows, read only when the run's
    results are written, so no more than one chunk of findings is held at once.
    """
    buffer = bytearray(b'{"$schema":' + orjson.dumps(SCHEMA) + b',"version":"2.1.0","runs":[')
    for number, (run, rows) in enumerate(runs):
        header = orjson.dumps(run_object(run))
        buffer += (b",\n" if number else b"\n") + header[:-1] + b',"results":['
        index = run.rule_index()
        with_baseline = not run.documents
        for count, row in enumerate(rows):
            buffer += b",\n" if count else b"\n"
            buffer += orjson.dumps(result_object(row, index, with_baseline=with_baseline))
            if len(buffer) >= _PIECE:
                yield bytes(buffer)
                buffer.clear()
        buffer += b"]}"
    buffer += b"\n]}\n"
    yield bytes(buffer)


_PIECE = 1 << 16
