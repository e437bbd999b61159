"""Gitleaks' native JSON report (``gitleaks detect -f json``), versions 7 and 8.

Shape: a top-level list, or the JSON literal ``null`` when nothing was found. ``sniff`` claims a
lone ``null`` (and ``[]``) for gitleaks for that reason, but since any tool may print them the
pipeline imports them only with the format given (:func:`anonymous`). Entries:

* v8: ``Description, StartLine, EndLine, StartColumn, EndColumn, Match, Secret, File,
  SymlinkFile, Commit, Entropy, Author, Email, Date, Message, Tags, RuleID, Fingerprint``;
* v7: ``line, lineNumber, offender, offenderEntropy, commit, repo, repoURL, leakURL, rule,
  commitMessage, author, email, file, date, tags``.

The secret (``Secret`` / ``offender``) never leaves this module. The snippet is the matched
text (v8 ``Match``) or line (v7 ``line``) with every occurrence of the secret replaced by
``[REDACTED]``; when the secret is empty, does not occur in that text, or would still occur
after replacing, the snippet is dropped rather than risk it. As a last guard every other text
of the finding is scrubbed of the secret too. Gitleaks' own ``Fingerprint`` is not used (it
embeds the commit and line number, so it changes with every commit, and with every line
shift). A leak's identity is a digest of its secret (:func:`secret_identity`): two leaks of
one rule in one file have the same redacted snippet, and told apart by their order they
would swap identities when a leak is added above them. A report written with
``--redact`` has no secret; its leaks are known by their redacted snippet. Commit, author
name and date go in ``extra``; the e-mail address (personal data) and commit message are left
out. :func:`redact_raw` rewrites a whole report without its secrets, for storing the raw artifact.

Mapping: rule_id = ``RuleID`` (v8) or ``rule`` (v7); title = ``Description`` (v8) or ``rule``.

Severity: every leaked secret is ``high``; a private key (rule id, description or tags
mentioning "private key", e.g. the description "RSA private key" or v7 "Asymmetric Private Key")
is ``critical``.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from typing import Any

import orjson

from scanners.base import ByteStream, ParseError, RawFinding, ReportMeta
from scanners.formats._jsonreport import BOM, Fields, JsonReport, head_shape, kind_of

FORMAT = "gitleaks"
TOOL = "gitleaks"
MASK = "[REDACTED]"
# What ``gitleaks --redact`` writes in place of the secret: the text is already redacted.
GITLEAKS_MASK = "REDACTED"
GO_ZERO_TIME = "0001-01-01T00:00:00Z"

_PRIVATE_KEY = re.compile(r"private[\s_-]*key", re.IGNORECASE)
_V8_SECRET_KEYS = ("Secret",)
_V8_TEXT_KEYS = ("Match",)
_V7_SECRET_KEYS = ("offender",)
_V7_TEXT_KEYS = ("line",)


def sniff(head: bytes) -> bool:
    """A list whose entries have gitleaks v8 keys (``RuleID`` with ``Secret``, or ``StartLine``
    with ``Description``/``Secret``/``RuleID``) or v7 keys (``offender`` with ``rule``/
    ``lineNumber``/``line``); or a lone ``null``, gitleaks' way of saying it found nothing."""
    shape = head_shape(head)
    if shape.top == "null":
        return shape.complete
    if shape.top != "array":
        return False
    keys = shape.keys_at("item")
    v8 = {"RuleID", "Secret"} <= keys or (
        "StartLine" in keys and bool({"Description", "Secret", "RuleID"} & keys)
    )
    v7 = "offender" in keys and bool({"rule", "lineNumber", "line"} & keys)
    return v8 or v7


def anonymous(head: bytes) -> bool:
    """Whether ``head`` is a whole report that names no tool: a lone ``null`` or ``[]``, which
    many tools print when they find nothing. Imported only with the format given."""
    shape = head_shape(head)
    return (shape.top == "null" and shape.complete) or shape.is_empty_list()


def severity_for(*texts: str) -> str:
    """``critical`` when any of the rule's texts names a private key, else ``high``."""
    return "critical" if any(_PRIVATE_KEY.search(text) for text in texts) else "high"


def redacted(text: str, secret: str) -> str | None:
    """``text`` with ``secret`` masked, or None when that cannot be done with confidence."""
    if secret == GITLEAKS_MASK:
        return text  # gitleaks --redact already replaced the secret
    if not secret or secret not in text:
        return None
    masked = text.replace(secret, MASK)
    return None if secret in masked else masked


def scrub(value: Any, secret: str) -> Any:
    """``value`` (text, or lists and objects of text) with every occurrence of ``secret``
    masked; the last guard for fields that should never hold it anyway."""
    if not secret or secret == GITLEAKS_MASK:
        return value
    if isinstance(value, str):
        return value.replace(secret, MASK) if secret in value else value
    if isinstance(value, list):
        return [scrub(entry, secret) for entry in value]
    if isinstance(value, dict):
        return {key: scrub(entry, secret) for key, entry in value.items()}
    return value


def parse(stream: ByteStream, *, source: str) -> Iterator[RawFinding | ReportMeta]:
    """Yield one RawFinding per leak, then the ReportMeta."""
    report = JsonReport(
        stream,
        source=source,
        items="item",
        top=("start_array", "null"),
        what="a gitleaks JSON report (a list of findings, or null)",
    )
    for index, value in report.items():
        where = report.item_path(index)
        if not isinstance(value, dict):
            raise ParseError(
                f"expected a gitleaks finding object, found {kind_of(value)}",
                where=where,
                source=source,
            )
        yield _finding(Fields(value, where=where, source=source))
    yield ReportMeta(tool=TOOL)


def _finding(entry: Fields) -> RawFinding:
    if entry.has("RuleID") or entry.has("StartLine"):
        finding, secret = _v8(entry)
    elif entry.has("rule") or entry.has("offender"):
        finding, secret = _v7(entry)
    else:
        raise ParseError(
            "expected a gitleaks finding with `RuleID` (gitleaks 8) or `rule` (gitleaks 7)",
            where=entry.where,
            source=entry.source,
        )
    if secret and secret != GITLEAKS_MASK:
        finding.fingerprint = secret_identity(secret)
        finding.title = scrub(finding.title, secret)
        finding.message = scrub(finding.message, secret)
        finding.path = scrub(finding.path, secret)
        finding.rule_id = scrub(finding.rule_id, secret)
        finding.extra = scrub(finding.extra, secret)
    return finding


def secret_identity(secret: str) -> str:
    """A leak's identity: a digest of its secret, the one thing that tells two leaks of one
    rule in one file apart (their redacted snippets read the same) and that no line shift
    changes. Only the digest leaves this module, mixed by the pipeline into a finding's
    fingerprint with the tool, rule and path."""
    digest = hashlib.blake2b(secret.encode("utf-8", "surrogatepass"), digest_size=16)
    digest.update(b"auditdash gitleaks identity")
    return "secret:" + digest.hexdigest()


def _v8(entry: Fields) -> tuple[RawFinding, str]:
    secret = _secret_text(entry, "Secret")
    rule_id = entry.text("RuleID", required=True)
    description = entry.text("Description")
    tags = entry.texts("Tags")
    path = entry.text("File", required=True)
    commit = entry.text("Commit")
    extra = _context(
        commit=commit,
        author=entry.text("Author"),
        date=entry.text("Date"),
        tags=tags,
        entropy=entry.number("Entropy"),
        symlink_file=entry.text("SymlinkFile"),
    )
    title = description or rule_id
    return (
        RawFinding(
            tool=TOOL,
            rule_id=rule_id,
            title=title,
            severity=severity_for(rule_id, description, *tags),
            path=path,
            start_line=entry.whole("StartLine"),
            end_line=entry.whole("EndLine"),
            start_column=entry.whole("StartColumn"),
            message=_message(rule_id, path, commit),
            snippet=redacted(_secret_text(entry, "Match"), secret) or "",
            extra=extra,
        ),
        secret,
    )


def _v7(entry: Fields) -> tuple[RawFinding, str]:
    secret = _secret_text(entry, "offender")
    rule = entry.text("rule", required=True)
    tags = [tag.strip() for text in entry.texts("tags") for tag in text.split(",") if tag.strip()]
    path = entry.text("file", required=True)
    commit = entry.text("commit")
    line = entry.whole("lineNumber")
    extra = _context(
        commit=commit,
        author=entry.text("author"),
        date=entry.text("date"),
        tags=tags,
        entropy=entry.number("offenderEntropy"),
        repo_url=entry.text("repoURL"),
        leak_url=entry.text("leakURL"),
    )
    return (
        RawFinding(
            tool=TOOL,
            rule_id=rule,
            title=rule,
            severity=severity_for(rule, *tags),
            path=path,
            start_line=line,
            end_line=line,
            message=_message(rule, path, commit),
            snippet=redacted(_secret_text(entry, "line"), secret) or "",
            extra=extra,
        ),
        secret,
    )


def _secret_text(entry: Fields, key: str) -> str:
    """A field that holds the secret: text, and never quoted in an error message."""
    value = entry.raw(key)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise entry.fail(key, f"`{key}` should be text, found {kind_of(value)}")
    return value


def _context(**facts: object) -> dict[str, object]:
    """The non-empty facts about a leak, worth showing beside it."""
    return {
        key: value
        for key, value in facts.items()
        if value not in (None, "", [], GO_ZERO_TIME) and not (key == "entropy" and value == 0)
    }


def _message(rule_id: str, path: str, commit: str) -> str:
    where = f"{path} at commit {commit[:12]}" if commit else path
    return f"A secret matching gitleaks rule `{rule_id}` was found in {where}."


def redact_raw(data: bytes, *, source: str = "") -> bytes:
    """The same gitleaks report re-serialised with its secrets masked.

    ``Secret``/``offender`` become ``[REDACTED]``; ``Match``/``line`` keep their text with
    the secret masked, or become ``[REDACTED]`` when that cannot be done with confidence; any
    other text holding the secret is masked too. ``null`` stays ``null``. Raises ParseError
    for anything that is not a gitleaks report.
    """
    if data.startswith(BOM):
        data = data[len(BOM) :]
    try:
        document = orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        raise ParseError(f"not valid JSON: {exc}", where=f"byte {exc.pos}", source=source) from None
    if document is None:
        return b"null\n"
    if not isinstance(document, list):
        raise ParseError(
            f"expected a gitleaks JSON report (a list of findings, or null), found "
            f"{kind_of(document)} at the top level",
            where="the top level",
            source=source,
        )
    cleaned = []
    for index, entry in enumerate(document):
        if not isinstance(entry, dict):
            raise ParseError(
                f"expected a gitleaks finding object, found {kind_of(entry)}",
                where=f"[{index}]",
                source=source,
            )
        cleaned.append(_redact_entry(entry))
    return orjson.dumps(cleaned, option=orjson.OPT_INDENT_2) + b"\n"


def _redact_entry(entry: dict[str, Any]) -> dict[str, Any]:
    secrets = [entry[key] for key in (*_V8_SECRET_KEYS, *_V7_SECRET_KEYS) if key in entry]
    secret = next((value for value in secrets if isinstance(value, str) and value), "")
    cleaned: dict[str, Any] = {}
    for key, value in entry.items():
        if key in (*_V8_SECRET_KEYS, *_V7_SECRET_KEYS):
            cleaned[key] = MASK if value else value
        elif key in (*_V8_TEXT_KEYS, *_V7_TEXT_KEYS) and isinstance(value, str) and value:
            cleaned[key] = redacted(value, secret) or MASK
        else:
            cleaned[key] = scrub(value, secret)
    return cleaned
