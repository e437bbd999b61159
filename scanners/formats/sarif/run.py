"""One SARIF run: its tool, rules and artifacts, and how each of its results becomes a finding.

A :class:`Run` is built once from the run's metadata (everything except ``results``) and then
maps results one at a time, so the cost per result is a handful of dictionary look-ups.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote

from scanners.base import RawFinding
from scanners.formats.sarif.values import (
    LEVEL_SEVERITY,
    Checker,
    cwes_in,
    flatten,
    score_severity,
)
from scanners.normalise import identifies

KINDS = ("fail", "pass", "notApplicable", "informational", "review", "open")
NOT_FINDINGS = ("pass", "notApplicable")
# "existing" is the pre-release name of "unchanged", still found in the wild.
BASELINE_STATES = ("new", "unchanged", "updated", "absent", "existing")
SUPPRESSION_STATUSES = ("accepted", "underReview", "rejected")
_PLACEHOLDER = re.compile(r"\{\{|\}\}|\{(\d+)\}")
# Secret scanners put the secret itself in the flagged line; never carry it as a snippet.
_SECRET_TOOLS = ("gitleaks", "trufflehog", "detect-secrets", "ggshield", "noseyparker", "secret")


@dataclass(slots=True)
class Rule:
    """What a reportingDescriptor says about its results."""

    id: str
    title: str
    level: str | None
    severity: str | None
    cwes: list[str]
    details: dict
    """For RawFinding.rule_details: one dict shared by the rule's findings."""
    messages: dict[str, str]
    component: Component


@dataclass(slots=True)
class Component:
    """A tool component (the driver or an extension) and its rules."""

    name: str
    rules: list[Rule] = field(default_factory=list)
    by_id: dict[str, Rule] = field(default_factory=dict)
    messages: dict[str, str] = field(default_factory=dict)


@dataclass(slots=True)
class Artifact:
    uri: str
    base: str


class Run:
    """The context results of one run are read in."""

    def __init__(
        self,
        index: int,
        tool: Any,
        artifacts: list[Artifact],
        category: str,
        check: Checker,
    ) -> None:
        self.index = index
        self.where = f"runs[{index}]"
        self.check = check
        self.artifacts = artifacts
        self.scope = category
        tool = check.obj(tool, f"{self.where}.tool")
        if not tool:
            raise check.fail(f"{self.where}.tool", "the run has no tool; expected tool.driver")
        driver = check.obj(tool.get("driver"), f"{self.where}.tool.driver")
        name = check.text(driver.get("name"), f"{self.where}.tool.driver.name")
        if not name:
            raise check.fail(
                f"{self.where}.tool.driver.name", "the tool has no name; expected driver.name"
            )
        self.tool = name
        self.version = (
            check.text(driver.get("version"), f"{self.where}.tool.driver.version")
            or check.text(
                driver.get("semanticVersion"), f"{self.where}.tool.driver.semanticVersion"
            )
            or ""
        )
        self.driver = self._component(driver, f"{self.where}.tool.driver")
        self.extensions = [
            self._component(
                check.obj(ext, f"{self.where}.tool.extensions[{i}]"),
                f"{self.where}.tool.extensions[{i}]",
            )
            for i, ext in enumerate(
                check.array(tool.get("extensions"), f"{self.where}.tool.extensions")
            )
        ]
        lowered = name.lower()
        self.keeps_snippets = not any(marker in lowered for marker in _SECRET_TOOLS)

    # -- rules ------------------------------------------------------------------------------

    def _component(self, data: dict, where: str) -> Component:
        check = self.check
        component = Component(name=check.text(data.get("name"), f"{where}.name") or "")
        component.messages = self._strings(
            data.get("globalMessageStrings"), f"{where}.globalMessageStrings"
        )
        for i, item in enumerate(check.array(data.get("rules"), f"{where}.rules")):
            rule = self._rule(
                check.obj(item, f"{where}.rules[{i}]"), f"{where}.rules[{i}]", component
            )
            component.rules.append(rule)
            component.by_id.setdefault(rule.id, rule)
        return component

    def _strings(self, value: Any, where: str) -> dict[str, str]:
        strings = self.check.obj(value, where)
        return {
            key: self.check.message_text(item, f"{where}.{key}") for key, item in strings.items()
        }

    def _rule(self, data: dict, where: str, component: Component) -> Rule:
        check = self.check
        rule_id = check.text(data.get("id"), f"{where}.id") or ""
        name = check.text(data.get("name"), f"{where}.name") or ""
        short = check.message_text(data.get("shortDescription"), f"{where}.shortDescription")
        config = check.obj(data.get("defaultConfiguration"), f"{where}.defaultConfiguration")
        level = check.level(config.get("level"), f"{where}.defaultConfiguration.level")
        help_uri = check.text(data.get("helpUri"), f"{where}.helpUri")
        properties = data.get("properties")
        properties = properties if isinstance(properties, dict) else {}
        tags = [tag for tag in properties.get("tags") or () if isinstance(tag, str)]
        cwes = cwes_in(tags, properties.get("cwe"))
        score = properties.get("security-severity")
        details: dict = {}
        if name:
            details["rule_name"] = name
        if tags:
            details["tags"] = tags
        if isinstance(properties.get("precision"), str):
            details["precision"] = properties["precision"]
        if help_uri:
            details["help_uri"] = help_uri
        if score is not None and not isinstance(score, dict | list):
            details["security_severity"] = str(score)
        if cwes:
            details["cwes"] = cwes
        return Rule(
            id=rule_id,
            title=_one_line(short or name),
            level=level,
            severity=score_severity(score),
            cwes=cwes,
            details=details,
            messages=self._strings(data.get("messageStrings"), f"{where}.messageStrings"),
            component=component,
        )

    def _component_for(self, reference: dict, where: str) -> Component:
        check = self.check
        index = check.integer(reference.get("index"), f"{where}.index")
        if index is not None:
            if index >= len(self.extensions):
                raise check.fail(
                    f"{where}.index",
                    f"toolComponent index {index} is out of range; the tool has "
                    f"{len(self.extensions)} extension(s)",
                )
            return self.extensions[index]
        name = check.text(reference.get("name"), f"{where}.name")
        for component in (self.driver, *self.extensions):
            if name and component.name == name:
                return component
        return self.driver

    def rule_for(self, result: dict, where: str) -> tuple[str, Rule | None]:
        """The result's rule id and its rule, resolved the way SARIF §3.27.5-7 describes."""
        check = self.check
        rule_id = result.get("ruleId")
        if rule_id is not None and type(rule_id) is not str:
            raise check.wrong(f"{where}.ruleId", rule_id, "a string")
        index = result.get("ruleIndex")
        component = self.driver
        reference = result.get("rule")
        if reference is not None:
            reference = check.obj(reference, f"{where}.rule")
            if index is None:
                index = reference.get("index")
            if rule_id is None:
                rule_id = check.text(reference.get("id"), f"{where}.rule.id")
            if "toolComponent" in reference:
                component = self._component_for(
                    check.obj(reference["toolComponent"], f"{where}.rule.toolComponent"),
                    f"{where}.rule.toolComponent",
                )
        rule = None
        if index is not None and index != -1:
            if type(index) is not int or index < 0:
                raise check.wrong(f"{where}.ruleIndex", index, "a whole number")
            if index >= len(component.rules):
                raise check.fail(
                    f"{where}.ruleIndex",
                    f"ruleIndex {index} is out of range; {component.name or 'the tool'} has "
                    f"{len(component.rules)} rule(s)",
                )
            rule = component.rules[index]
        elif rule_id:
            rule = component.by_id.get(rule_id) or self._rule_by_id(rule_id)
        if not rule_id and rule is not None:
            rule_id = rule.id
        return rule_id or "", rule

    def _rule_by_id(self, rule_id: str) -> Rule | None:
        # Hierarchical ids ("CA2000/1") name a more specific case of the rule "CA2000".
        candidate = rule_id
        while True:
            for component in (self.driver, *self.extensions):
                if candidate in component.by_id:
                    return component.by_id[candidate]
            if "/" not in candidate:
                return None
            candidate = candidate.rsplit("/", 1)[0]

    # -- results ----------------------------------------------------------------------------

    def finding(self, result: Any, number: int) -> RawFinding | None:
        """The finding for ``runs[i].results[number]``; None for results that are not
        findings (kind pass / notApplicable, baselineState absent).

        This runs once per result, so the usual shapes are handled inline and anything
        unusual goes through the checked helpers, which also build the error paths."""
        if type(result) is not dict:
            raise self.check.wrong(self._where(number), result, "a result object")
        get = result.get
        kind = get("kind")
        state = get("baselineState")
        if ((kind is not None and kind != "fail") or state is not None) and not self._is_finding(
            kind, state, number
        ):
            return None
        rule_id, rule = self._result_rule(result, number)
        message = self._result_message(get("message"), rule, number)
        if not rule_id and not message:
            raise self.check.fail(
                self._where(number),
                "the result has neither a rule id nor a message; expected at least one",
            )
        extra: dict = {}
        if rule is not None:
            cwes = rule.cwes
            title = rule.title or rule_id
        else:
            cwes = []
            title = rule_id or _first_line(message)
        if state is not None:
            extra["baseline_state"] = state
        if kind is not None and kind != "fail":
            extra["kind"] = kind
        properties = get("properties")
        if type(properties) is dict and ("cwe" in properties or "tags" in properties):
            more = cwes_in(properties.get("tags"), properties.get("cwe"))
            if more:
                cwes = cwes_in(cwes, more)
                extra["cwes"] = cwes
        finding = RawFinding(
            tool=self.tool,
            rule_id=rule_id,
            title=title,
            severity=self._severity(result, kind, rule, number),
            message=message,
            cwe=cwes[0] if cwes else "",
            scope=self.scope,
            extra=extra,
            rule_details=rule.details if rule is not None else {},
        )
        locations = get("locations")
        if locations:
            self._locate(finding, locations, number)
        fingerprints = get("fingerprints")
        if fingerprints:
            self._set_fingerprint(finding, fingerprints, number)
        partial = get("partialFingerprints") if not finding.fingerprint else None
        if partial:
            self._set_fingerprint(finding, partial, number)
        suppressions = get("suppressions")
        if suppressions:
            self._suppress(finding, suppressions, self._where(number, ".suppressions"))
        return finding

    def _is_finding(self, kind: Any, state: Any, number: int) -> bool:
        """False for a result that is no finding (kind pass / notApplicable, baselineState
        absent); fails on a kind or baselineState SARIF does not define."""
        if kind is not None and kind != "fail":
            if kind not in KINDS:
                raise self.check.wrong(
                    self._where(number, ".kind"), kind, "one of " + ", ".join(KINDS)
                )
            if kind in NOT_FINDINGS:
                return False
        if state is not None:
            if state == "absent":
                return False
            if state not in BASELINE_STATES:
                raise self.check.wrong(
                    self._where(number, ".baselineState"),
                    state,
                    "one of " + ", ".join(BASELINE_STATES),
                )
        return True

    def _result_rule(self, result: dict, number: int) -> tuple[str, Rule | None]:
        """The result's rule id and rule. The usual shape (a driver rule named by index and
        id) is resolved inline; anything else goes through :meth:`rule_for`."""
        get = result.get
        rule_id = get("ruleId")
        index = get("ruleIndex")
        rules = self.driver.rules
        reference = get("rule")
        if (
            type(reference) is dict
            and index is None
            and rule_id is None
            and "toolComponent" not in reference
        ):
            index = reference.get("index")
            rule_id = reference.get("id")
        elif reference is not None and (
            type(reference) is not dict or "toolComponent" in reference
        ):
            index = -2  # resolved by rule_for, through the referenced tool component
        if type(index) is int and 0 <= index < len(rules) and type(rule_id) is str:
            return rule_id, rules[index]
        return self.rule_for(result, self._where(number))

    def _result_message(self, message: Any, rule: Rule | None, number: int) -> str:
        """The result's message text: a plain ``text`` inline, anything else (ids,
        arguments, markdown, odd values) through :meth:`_message`."""
        if (
            type(message) is dict
            and type(message.get("text")) is str
            and "arguments" not in message
        ):
            return message["text"]
        return self._message(message, rule, self._where(number, ".message"))

    def _severity(self, result: dict, kind: Any, rule: Rule | None, number: int) -> str:
        """The result's severity: see the table in the package docstring."""
        if kind == "informational":
            return "info"
        properties = result.get("properties")
        if type(properties) is dict and "security-severity" in properties:
            severity = score_severity(properties["security-severity"])
            if severity is not None:
                return severity
        if rule is not None and rule.severity is not None:
            return rule.severity
        level = result.get("level")
        if level is None:
            level = rule.level if rule is not None else None
        elif type(level) is not str or level not in LEVEL_SEVERITY:
            self.check.level(level, self._where(number, ".level"))
        return LEVEL_SEVERITY[level or "warning"]

    def _set_fingerprint(self, finding: RawFinding, fingerprints: Any, number: int) -> None:
        """The tool's own fingerprints, as ``key=value`` pairs in key order."""
        if type(fingerprints) is not dict:
            self.check.obj(fingerprints, self._where(number, ".fingerprints"))
            return
        try:
            pairs = [(key, fingerprints[key]) for key in sorted(fingerprints)]
            finding.fingerprint = ";".join(
                [key + "=" + value for key, value in pairs if identifies(value)]
            )
        except TypeError:  # a value that is not a string: flatten it
            try:
                finding.fingerprint = self._fingerprint(fingerprints)
            except ValueError as error:
                raise self.check.fail(self._where(number, ".fingerprints"), str(error)) from None

    def _where(self, number: int, suffix: str = "") -> str:
        return f"{self.where}.results[{number}]{suffix}"

    def _message(self, value: Any, rule: Rule | None, where: str) -> str:
        if value is None:
            return ""
        check = self.check
        message = check.obj(value, where)
        text = message.get("text")
        if text is not None and type(text) is not str:
            raise check.wrong(f"{where}.text", text, "a string")
        if text is None:
            message_id = check.text(message.get("id"), f"{where}.id")
            if message_id is not None:
                text = self._message_string(message_id, rule)
            if text is None:
                text = check.text(message.get("markdown"), f"{where}.markdown")
        if not text:
            return ""
        arguments = message.get("arguments")
        if arguments is not None and "{" in text:
            arguments = check.array(arguments, f"{where}.arguments")
            text = _substitute(text, [str(item) for item in arguments])
        return text

    def _message_string(self, message_id: str, rule: Rule | None) -> str | None:
        # A rule's own strings first, then its component's, then the driver's (§3.11.7).
        if rule is not None:
            if message_id in rule.messages:
                return rule.messages[message_id]
            if message_id in rule.component.messages:
                return rule.component.messages[message_id]
        return self.driver.messages.get(message_id)

    def _locate(self, finding: RawFinding, locations: Any, number: int) -> None:
        location = locations[0] if type(locations) is list else None
        if type(location) is not dict:
            where = self._where(number, ".locations")
            location = self.check.obj(self.check.array(locations, where)[0], f"{where}[0]")
        physical = location.get("physicalLocation")
        if physical is not None:
            self._physical(finding, physical, number)
        logical = location.get("logicalLocations")
        if logical:
            where = self._where(number, ".locations[0].logicalLocations")
            first = self.check.obj(self.check.array(logical, where)[0], f"{where}[0]")
            name = first.get("fullyQualifiedName") or first.get("name")
            if isinstance(name, str) and name:
                finding.extra["logical_location"] = name

    def _physical(self, finding: RawFinding, physical: Any, number: int) -> None:
        if type(physical) is not dict:
            self.check.obj(physical, self._where(number, ".locations[0].physicalLocation"))
            return
        artifact = physical.get("artifactLocation")
        if artifact is not None:
            uri = base = None
            if type(artifact) is dict:
                uri = artifact.get("uri")
                base = artifact.get("uriBaseId")
            if type(uri) is not str or (base is not None and type(base) is not str):
                uri, base = self._artifact_uri(artifact, number)
            if uri:
                finding.path = unquote(uri) if "%" in uri else uri
            if base:
                finding.uri_base_id = base
        region = physical.get("region")
        if region is not None:
            if type(region) is not dict:
                self.check.obj(region, self._where(number, ".locations[0].physicalLocation.region"))
                return
            get = region.get
            start = get("startLine")
            end = get("endLine")
            column = get("startColumn")
            if (
                (start is not None and (type(start) is not int or start < 1))
                or (end is not None and (type(end) is not int or end < 1))
                or (column is not None and (type(column) is not int or column < 1))
            ):
                self._check_region(region, number)
            finding.start_line = start
            finding.end_line = end
            finding.start_column = column
            snippet = get("snippet")
            if snippet is not None and self.keeps_snippets:
                text = snippet.get("text") if type(snippet) is dict else None
                if type(text) is not str:
                    text = self.check.message_text(
                        snippet,
                        self._where(number, ".locations[0].physicalLocation.region.snippet"),
                    )
                finding.snippet = text

    def _check_region(self, region: dict, number: int) -> None:
        for name in ("startLine", "endLine", "startColumn"):
            where = self._where(number, f".locations[0].physicalLocation.region.{name}")
            self.check.integer(region.get(name), where, minimum=1)

    def _artifact_uri(self, artifact: Any, number: int) -> tuple[str, str]:
        """The uri and uriBaseId of an artifactLocation given by index, or by odd values."""
        check = self.check
        where = self._where(number, ".locations[0].physicalLocation.artifactLocation")
        artifact = check.obj(artifact, where)
        uri = check.text(artifact.get("uri"), f"{where}.uri")
        base = check.text(artifact.get("uriBaseId"), f"{where}.uriBaseId")
        index = check.integer(artifact.get("index"), f"{where}.index")
        if uri is None and index is not None:
            if index >= len(self.artifacts):
                raise check.fail(
                    f"{where}.index",
                    f"artifact index {index} is out of range; the run lists "
                    f"{len(self.artifacts)} artifact(s)",
                )
            uri = self.artifacts[index].uri
            base = base or self.artifacts[index].base
        return uri or "", base or ""

    def _fingerprint(self, fingerprints: dict) -> str:
        pairs: list[tuple[str, str]] = []
        for key, item in fingerprints.items():
            flatten(key, item, pairs)
        return ";".join(f"{key}={item}" for key, item in sorted(pairs) if identifies(item))

    def _suppress(self, finding: RawFinding, value: Any, where: str) -> None:
        check = self.check
        reasons = []
        accepted = True
        for i, item in enumerate(check.array(value, where)):
            suppression = check.obj(item, f"{where}[{i}]")
            status = suppression.get("status")
            if status is not None and status not in SUPPRESSION_STATUSES:
                raise check.wrong(
                    f"{where}[{i}].status", status, "one of " + ", ".join(SUPPRESSION_STATUSES)
                )
            accepted = accepted and status in (None, "accepted")
            kind = check.text(suppression.get("kind"), f"{where}[{i}].kind") or "suppressed"
            justification = check.text(
                suppression.get("justification"), f"{where}[{i}].justification"
            )
            reason = kind if status in (None, "accepted") else f"{kind} ({status})"
            reasons.append(f"{reason}: {justification}" if justification else reason)
        if reasons:
            finding.suppressed = accepted
            finding.suppression_reason = "; ".join(reasons)


def _substitute(text: str, arguments: list[str]) -> str:
    """Fill ``{0}``-style placeholders; ``{{`` and ``}}`` are literal braces (§3.11.5)."""

    def replace(match: re.Match[str]) -> str:
        number = match.group(1)
        if number is None:
            return match.group()[0]
        index = int(number)
        return arguments[index] if index < len(arguments) else match.group()

    return _PLACEHOLDER.sub(replace, text)


def _first_line(text: str) -> str:
    return _one_line(text.strip().split("\n", 1)[0])


def _one_line(text: str) -> str:
    """A title: blanks collapsed, at most 200 characters."""
    line = " ".join(text.split())
    return line if len(line) <= 200 else line[:199] + "…"
