"""Format detection over every file of the public scanner corpus, by content alone.

Supported folders must detect as their own format; every other folder as nothing, with two
documented exceptions where the content itself is ambiguous:

* a report that is only an empty list (``[]``) is read as an empty pip-audit report, the one
  format whose corpus sample is exactly that (pip_audit's sniff says why, and that such a
  report closes nothing);
* a report that is only ``null`` is read as gitleaks' "no findings" (gitleaks' sniff).

SARIF filed under another tool's folder (Snyk Code writes SARIF) is expected as ``sarif``,
going by the corpus MANIFEST's format column.
"""

from __future__ import annotations

import importlib
import re
from pathlib import Path

import pytest

from scanners.registry import FORMATS, HEAD_BYTES, detect, parser_for
from tests.conftest import CORPUS

SUPPORTED = {"sarif", "bandit", "semgrep", "pip_audit", "gitleaks"}
NATIVE = ["bandit", "semgrep", "ruff", "pip_audit", "gitleaks"]
NOT_CLI_OUTPUT = {"semgrep/sca-deployments-vulns.json"}
BOM = b"\xef\xbb\xbf"


def _sarif_ready() -> bool:
    # sarif.py is written by a colleague at the same time as these parsers
    try:
        module = importlib.import_module(FORMATS["sarif"])
    except ImportError:
        return False
    return callable(getattr(module, "sniff", None))


SARIF_READY = _sarif_ready()


def _sarif_in_manifest() -> set[str]:
    text = (CORPUS / "MANIFEST.md").read_text()
    rows = re.findall(r"^\| `([^`]+)` \| [^|]+ \| ([^|]+) \|", text, flags=re.MULTILINE)
    return {name for name, kind in rows if kind.strip().startswith("SARIF")}


SARIF_FILES = _sarif_in_manifest()
CORPUS_FILES = sorted(path for path in CORPUS.rglob("*") if path.is_file())


def detect_head(head: bytes) -> str | None:
    """``registry.detect``, or the same walk without SARIF while sarif.py is not there."""
    if SARIF_READY:
        return detect(head)
    for key in FORMATS:
        if key != "sarif" and parser_for(key).sniff(head):
            return key
    return None


def expected_format(path: Path) -> str | None:
    relative = path.relative_to(CORPUS).as_posix()
    folder = relative.split("/", 1)[0] if "/" in relative else ""
    if relative in NOT_CLI_OUTPUT:
        return None
    if folder in SUPPORTED:
        return folder
    if relative in SARIF_FILES:
        return "sarif"
    content = path.read_bytes().strip()
    if re.fullmatch(rb"\[\s*\]", content):
        return "pip_audit"
    if content == b"null":
        return "gitleaks"
    return None


def corpus_id(path: Path) -> str:
    return path.relative_to(CORPUS).as_posix()


def test_the_corpus_is_all_there() -> None:
    assert len(CORPUS_FILES) >= 204
    assert len(SARIF_FILES) >= 28


@pytest.mark.parametrize("path", CORPUS_FILES, ids=corpus_id)
def test_every_corpus_file_detects_as_its_own_format(path: Path) -> None:
    expected = expected_format(path)
    if expected == "sarif" and not SARIF_READY:
        pytest.skip("scanners/formats/sarif.py is not written yet")
    assert detect_head(path.read_bytes()[:HEAD_BYTES]) == expected


@pytest.mark.parametrize("path", CORPUS_FILES, ids=corpus_id)
def test_no_two_native_parsers_claim_the_same_file(path: Path) -> None:
    head = path.read_bytes()[:HEAD_BYTES]
    claims = [key for key in NATIVE if parser_for(key).sniff(head)]
    assert len(claims) <= 1, claims


@pytest.mark.parametrize("path", CORPUS_FILES, ids=corpus_id)
def test_a_bom_or_a_cut_head_never_changes_the_answer_to_another_format(path: Path) -> None:
    data = path.read_bytes()
    expected = expected_format(path)
    if expected == "sarif" and not SARIF_READY:
        pytest.skip("scanners/formats/sarif.py is not written yet")
    assert detect_head(BOM + data[: HEAD_BYTES - len(BOM)]) == detect_head(
        data[: HEAD_BYTES - len(BOM)]
    )
    for size in (40, 300, 2_000, 20_000):
        if size < len(data):
            assert detect_head(data[:size]) in (expected, None), size


def test_ambiguous_empty_documents_are_few_and_named() -> None:
    ambiguous = sorted(
        corpus_id(path)
        for path in CORPUS_FILES
        if expected_format(path) in ("pip_audit", "gitleaks")
        and corpus_id(path).split("/")[0] not in SUPPORTED
    )
    assert ambiguous == [
        "eslint/empty.json",
        "github_sast/github_sast_zero_vul.json",
        "github_secrets_detection_report/github_secrets_detection_report_zero_vul.json",
        "nsp/none.json",
        "safety/empty.json",
        "trivy/legacy_no_vuln.json",
        "trufflehog3/zero_vulns.json",
    ]
