"""pip-audit's native JSON report (``pip-audit -f json``).

Two shapes:

* old (pip-audit < 2.0): a top-level list of dependencies;
* new: ``{"dependencies": [...], "fixes": [...]}``.

Each dependency is ``{name, version, vulns: [{id, fix_versions, aliases, description}]}``, or
``{name, skip_reason}`` for one pip-audit could not audit (those become ``ReportMeta.errors``).
Every dependency pip-audit audited is listed, vulnerable or not.

One finding per (package, advisory): rule_id = the advisory id, title ``"PYSEC-2021-1 in
django 3.2.0"``, message = the advisory's description; ``extra`` holds the package, installed
version, advisory id, aliases, fix versions and description. The fingerprint is the package
name (lower-cased and normalised as PEP 503 does: runs of ``-``, ``_`` and ``.`` become ``-``)
and the advisory id, ``"django|PYSEC-2021-1"``: never the version, so upgrading to a version
that is still vulnerable keeps the same finding open rather than "fixing" it and opening another.

The report does not say which file declared the dependencies, so every finding's path is
``requirements.txt``; the pipeline may override it with the manifest it audited.

Severity: pip-audit's JSON carries none (nor do the corpus samples), so every finding is
``high``, unless an advisory record states a ``severity`` itself (critical, high, moderate or
medium, low), which is then used.

Empty reports: a bare ``[]`` is also what ruff, gitleaks, eslint, trufflehog and others print
when they find nothing, so no other parser claims it and ``sniff`` reads it as an empty (old
format) pip-audit report. Because that reading is a guess, the pipeline refuses such a report
unless its format is given (:func:`anonymous`, ``registry.names_no_tool``); given, it still
gets ``scanned_paths=[]``: it audited no dependency, so it cannot close any finding.
``{"dependencies": []}`` is unambiguous and is a normal empty report.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from scanners.base import ByteStream, ParseError, RawFinding, ReportMeta
from scanners.formats._jsonreport import Fields, JsonReport, ReportBytes, head_shape

FORMAT = "pip_audit"
TOOL = "pip-audit"
PATH = "requirements.txt"
DEFAULT_SEVERITY = "high"

_STATED_SEVERITIES = {
    "critical": "critical",
    "high": "high",
    "moderate": "medium",
    "medium": "medium",
    "low": "low",
}
_DEPENDENCY_KEYS = frozenset({"name", "version", "vulns", "skip_reason"})
_TOP_KEYS = frozenset({"dependencies", "fixes"})
_SEPARATORS = re.compile(r"[-_.]+")


def sniff(head: bytes) -> bool:
    """``{"dependencies": [...]}`` (optionally with ``fixes``), or a list whose entries have
    only pip-audit's dependency keys; also a bare ``[]`` (see the module docstring)."""
    shape = head_shape(head)
    if shape.top == "array":
        return shape.is_empty_list() or _looks_like_dependencies(shape.keys_at("item"))
    if shape.top == "map":
        top_keys = shape.keys_at("")
        if "dependencies" not in top_keys or not top_keys <= _TOP_KEYS:
            return False
        seen = shape.keys_at("dependencies.item")
        return not seen or _looks_like_dependencies(seen)
    return False


def anonymous(head: bytes) -> bool:
    """Whether ``head`` is a whole report that names no tool: a bare ``[]`` (see the module
    docstring). Imported only with the format given."""
    return head_shape(head).is_empty_list()


def _looks_like_dependencies(keys: frozenset[str]) -> bool:
    return "name" in keys and bool({"vulns", "skip_reason"} & keys) and keys <= _DEPENDENCY_KEYS


def package_key(name: str) -> str:
    """The package name as PEP 503 normalises it (``Django_Rest.framework`` ->
    ``django-rest-framework``)."""
    return _SEPARATORS.sub("-", name).lower()


def parse(stream: ByteStream, *, source: str) -> Iterator[RawFinding | ReportMeta]:
    """Yield one RawFinding per (dependency, advisory), then the ReportMeta."""
    opened = ReportBytes(stream, source=source)
    old_format = opened.first == b"["
    report = JsonReport(
        opened,
        source=source,
        items="item" if old_format else "dependencies.item",
        top=("start_array", "start_map"),
        what="a pip-audit JSON report (a list of dependencies, or an object with `dependencies`)",
    )
    meta = ReportMeta(tool=TOOL)
    audited = 0
    for index, value in report.items():
        dependency = Fields(
            value, where=report.item_path(index), source=source, what="a dependency object"
        )
        audited += 1
        yield from _findings(dependency, meta)
    if not old_format and "dependencies" not in report.top_keys:
        raise ParseError(
            "no `dependencies` list: expected a pip-audit JSON report (`pip-audit -f json`)",
            where="the top level",
            source=source,
        )
    if old_format and audited == 0:
        meta.scanned_paths = []  # a bare [] is ambiguous: let it close nothing
    yield meta


def _findings(dependency: Fields, meta: ReportMeta) -> Iterator[RawFinding]:
    name = dependency.text("name", required=True)
    if dependency.has("skip_reason"):
        meta.errors.append(f"{name}: {dependency.text('skip_reason')}")
        return
    version = dependency.text("version", required=True)
    for position, value in enumerate(dependency.array("vulns", required=True)):
        vuln = Fields(
            value,
            where=f"{dependency.where}.vulns[{position}]",
            source=dependency.source,
            what="an advisory object",
        )
        advisory = vuln.text("id", required=True)
        description = vuln.text("description")
        aliases = vuln.texts("aliases")
        fix_versions = vuln.texts("fix_versions")
        title = f"{advisory} in {name} {version}"
        yield RawFinding(
            tool=TOOL,
            rule_id=advisory,
            title=title,
            severity=_severity(vuln),
            path=PATH,
            message=description or title,
            fingerprint=f"{package_key(name)}|{advisory}",
            extra={
                "package": name,
                "installed_version": version,
                "advisory": advisory,
                "aliases": aliases,
                "fix_versions": fix_versions,
                "description": description,
            },
        )


def _severity(vuln: Fields) -> str:
    stated = vuln.raw("severity")
    if isinstance(stated, str):
        return _STATED_SEVERITIES.get(stated.strip().lower(), DEFAULT_SEVERITY)
    return DEFAULT_SEVERITY
