"""The first pass over a SARIF log: everything except the results.

It reads the log's skeleton — version, and for each run its tool, artifacts, base URIs,
invocations, category and provenance — and notes where each run's ``results`` list starts,
jumping over the list itself. The results are read afterwards with every run's context
complete, whichever order the producer wrote the properties in.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urljoin

from scanners.base import ReportMeta
from scanners.formats.sarif.run import Artifact, Run
from scanners.formats.sarif.stream import JsonReader, describe
from scanners.formats.sarif.values import Checker

VERSION = "2.1.0"
# Run properties the parser uses; all others are stepped over without keeping them.
_KEPT = (
    "tool",
    "invocations",
    "originalUriBaseIds",
    "automationDetails",
    "versionControlProvenance",
)
_NOTE_LENGTH = 200


@dataclass(slots=True)
class RunSpan:
    """A run's context and where its results list lies in the file (byte offsets)."""

    run: Run
    results_start: int = -1
    results_end: int = -1


@dataclass(slots=True)
class Skeleton:
    meta: ReportMeta
    runs: list[RunSpan]


def scan(reader: JsonReader, *, careful: bool) -> Skeleton:
    """Read the log from the start, all but its results. ``careful`` parses the results
    lists instead of jumping over them (slower, never misled)."""
    check = Checker(reader.source)
    reader.start()
    first = reader.peek("")
    if first != ord("{"):
        raise reader.error(
            f"the top-level JSON value is {describe(first)}; a SARIF log is an object", "byte 0"
        )
    version: Any = None
    spans: list[RunSpan] | None = None
    raw_runs: list[dict] = []
    for key in reader.iter_object(""):
        if key == "version":
            if version is not None:
                raise check.fail("version", 'the log has "version" twice; expected it once')
            version = reader.read_value("version")
            _check_version(version, check)
        elif key == "runs":
            if spans is not None:
                raise check.fail(
                    "runs",
                    'the log has "runs" twice; expected one list of runs (JSON keys are '
                    "unique, and readers disagree on which copy counts)",
                )
            if reader.peek("runs") != ord("["):
                value = reader.read_value("runs")
                raise check.wrong("runs", value, "a list of runs")
            spans = []
            reader.expect(b"[", "runs", "a list")
            index = 0
            if reader.peek("runs") == ord("]"):
                reader.expect(b"]", "runs", "']'")
            else:
                while True:
                    span, raw = _scan_run(reader, index, check, careful=careful)
                    spans.append(span)
                    raw_runs.append(raw)
                    index += 1
                    if reader.peek("runs") == ord(","):
                        reader.expect(b",", "runs", "','")
                        continue
                    reader.expect(b"]", "runs", f"',' or ']' after runs[{index - 1}]")
                    break
        else:
            reader.skip_value(key)
    reader.expect_end()
    if version is None:
        raise check.fail("version", f'the log has no "version"; expected "version": "{VERSION}"')
    if spans is None:
        raise check.fail("runs", 'the log has no "runs"; expected a list of runs')
    return Skeleton(meta=_meta(spans, raw_runs, check), runs=spans)


def _check_version(version: Any, check: Checker) -> None:
    if version != VERSION:
        found = f"version {version}" if isinstance(version, str) else f"a version of {version!r}"
        raise check.fail("version", f"found SARIF {found}; only SARIF {VERSION} is supported")


def _scan_run(
    reader: JsonReader, index: int, check: Checker, *, careful: bool
) -> tuple[RunSpan, dict]:
    where = f"runs[{index}]"
    if reader.peek(where) != ord("{"):
        raise check.wrong(where, reader.read_value(where), "a run object")
    raw: dict[str, Any] = {}
    artifacts: list[Artifact] = []
    start = end = -1
    for key in reader.iter_object(where):
        place = f"{where}.{key}"
        if key == "results":
            if reader.peek(place) == ord("n"):
                reader.read_value(place)  # null: the tool did not report results
                continue
            if reader.peek(place) != ord("["):
                raise check.wrong(place, reader.read_value(place), "a list of results")
            start = reader.offset
            reader.skip_array(place, careful=careful)
            end = reader.offset
        elif key == "artifacts":
            if reader.peek(place) != ord("["):
                check.array(reader.read_value(place), place)  # null, or a wrong type
                continue
            for i, item in reader.iter_array(place):
                artifacts.append(_artifact(item, f"{place}[{i}]", check))
        elif key in _KEPT:
            raw[key] = reader.read_value(place)
        else:
            reader.skip_value(place)
    details = check.obj(raw.get("automationDetails"), f"{where}.automationDetails")
    category_id = check.text(details.get("id"), f"{where}.automationDetails.id") or ""
    # "category/instance": the category is everything before the last slash.
    category = category_id.rsplit("/", 1)[0] if "/" in category_id else ""
    run = Run(index, raw.get("tool"), artifacts, category, check)
    return RunSpan(run=run, results_start=start, results_end=end), raw


def _artifact(item: Any, where: str, check: Checker) -> Artifact:
    location = check.obj(check.obj(item, where).get("location"), f"{where}.location")
    uri = check.text(location.get("uri"), f"{where}.location.uri") or ""
    base = check.text(location.get("uriBaseId"), f"{where}.location.uriBaseId") or ""
    return Artifact(uri=uri, base=base)


# -- report metadata -------------------------------------------------------------------------


def _meta(spans: list[RunSpan], raw_runs: list[dict], check: Checker) -> ReportMeta:
    meta = ReportMeta()
    tools: list[str] = []
    times: list[str] = []
    for span, raw in zip(spans, raw_runs, strict=True):
        run = span.run
        where = run.where
        if run.tool not in tools:
            tools.append(run.tool)
        if not meta.tool_version:
            meta.tool_version = run.version
        for name, uri in _base_uris(
            raw.get("originalUriBaseIds"), f"{where}.originalUriBaseIds", check
        ).items():
            meta.base_uris.setdefault(name, uri)
        provenance = check.array(
            raw.get("versionControlProvenance"), f"{where}.versionControlProvenance"
        )
        if provenance and not meta.commit:
            first = check.obj(provenance[0], f"{where}.versionControlProvenance[0]")
            meta.commit = (
                check.text(
                    first.get("revisionId"), f"{where}.versionControlProvenance[0].revisionId"
                )
                or ""
            )
            branch = (
                check.text(first.get("branch"), f"{where}.versionControlProvenance[0].branch") or ""
            )
            meta.branch = branch.removeprefix("refs/heads/")
        invocations = check.array(raw.get("invocations"), f"{where}.invocations")
        for i, item in enumerate(invocations):
            place = f"{where}.invocations[{i}]"
            invocation = check.obj(item, place)
            if i == 0 and not meta.root:
                directory = check.obj(
                    invocation.get("workingDirectory"), f"{place}.workingDirectory"
                )
                meta.root = check.text(directory.get("uri"), f"{place}.workingDirectory.uri") or ""
            stamp = check.text(invocation.get("endTimeUtc"), f"{place}.endTimeUtc") or check.text(
                invocation.get("startTimeUtc"), f"{place}.startTimeUtc"
            )
            if stamp:
                times.append(stamp)
            meta.errors.extend(_invocation_errors(invocation, place, run.tool, check))
    meta.tool = ", ".join(tools)
    meta.generated_at = _latest(times)
    return meta


def _base_uris(value: Any, where: str, check: Checker) -> dict[str, str]:
    """``originalUriBaseIds`` with every chain of ``uriBaseId`` resolved to an absolute URI."""
    entries = check.obj(value, where)
    resolved: dict[str, str] = {}

    def resolve(name: str, trail: tuple[str, ...]) -> str:
        if name in resolved:
            return resolved[name]
        if name in trail:
            raise check.fail(
                where, "uriBaseIds refer to each other in a loop: " + " -> ".join((*trail, name))
            )
        entry = check.obj(entries.get(name), f"{where}.{name}")
        uri = (check.text(entry.get("uri"), f"{where}.{name}.uri") or "").strip()
        parent = check.text(entry.get("uriBaseId"), f"{where}.{name}.uriBaseId")
        if parent and parent in entries:
            base = resolve(parent, (*trail, name))
            uri = urljoin(base if base.endswith("/") else base + "/", uri)
        resolved[name] = uri
        return uri

    for name in entries:
        resolve(name, ())
    return resolved


def _invocation_errors(invocation: dict, where: str, tool: str, check: Checker) -> list[str]:
    errors = []
    for key in ("toolExecutionNotifications", "toolConfigurationNotifications"):
        for i, item in enumerate(check.array(invocation.get(key), f"{where}.{key}")):
            notification = check.obj(item, f"{where}.{key}[{i}]")
            if notification.get("level") != "error":
                continue
            text = check.message_text(notification.get("message"), f"{where}.{key}[{i}].message")
            descriptor = notification.get("descriptor")
            label = descriptor.get("id") if isinstance(descriptor, dict) else None
            note = f"{tool}: {label}: {text}" if isinstance(label, str) else f"{tool}: {text}"
            errors.append(_shorten(note))
    if invocation.get("executionSuccessful") is False:
        code = invocation.get("exitCode")
        detail = f" (exit code {code})" if isinstance(code, int) else ""
        errors.append(
            f"{tool}: the tool reports that its run did not complete successfully{detail}"
        )
    return errors


def _shorten(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= _NOTE_LENGTH else text[: _NOTE_LENGTH - 1] + "…"


def _latest(stamps: list[str]) -> str:
    """The latest of some ISO-8601 timestamps (as written); unreadable ones count as oldest."""
    best, best_time = "", None
    for stamp in stamps:
        try:
            moment = datetime.fromisoformat(stamp)
        except ValueError:
            moment = None
        if not best or (
            moment is not None and (best_time is None or _aware(moment) > _aware(best_time))
        ):
            best, best_time = stamp, moment
    return best


def _aware(moment: datetime) -> datetime:
    # Naive stamps are read as UTC, which is what SARIF's *Utc properties hold.
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
