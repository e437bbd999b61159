"""Bad input, content sniffing, mojibake repair and the never-crash property."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scanners.base import ParseError
from scanners.documents import MAX_BYTES, Extraction, extract, looks_like_document


def test_binary_input_is_refused_naming_the_source_and_offset() -> None:
    with pytest.raises(ParseError) as err:
        extract(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", source="logo.png")
    assert err.value.source == "logo.png"
    assert err.value.where == "byte 8"
    assert "binary" in str(err.value)


def test_nul_byte_in_the_middle_is_refused_with_its_offset() -> None:
    with pytest.raises(ParseError) as err:
        extract(b"# Fixes\n\nsome text\x00more", source="handoff.md")
    assert err.value.where == "byte 18"
    assert "NUL" in err.value.message


def test_oversized_document_is_refused() -> None:
    with pytest.raises(ParseError, match="over the"):
        extract(b"a" * (MAX_BYTES + 1), source="huge.md")


@pytest.mark.parametrize("data", [b"", b"   \n\n\t  \n", b"\xef\xbb\xbf"])
def test_empty_document_is_refused(data: bytes) -> None:
    with pytest.raises(ParseError, match="empty"):
        extract(data, source="empty.md")


def test_invalid_utf8_that_is_not_mojibake_names_the_byte() -> None:
    latin1 = "# Korrektur\n\nFehler in der Größe behoben\n".encode("latin-1")
    with pytest.raises(ParseError) as err:
        extract(latin1, source="latin1.md")
    offset = latin1.index("ö".encode("latin-1"))
    assert err.value.where == f"byte {offset}"
    assert "not valid UTF-8" in err.value.message


def test_utf8_bom_is_accepted_and_not_part_of_the_title() -> None:
    result = extract(b"\xef\xbb\xbf# Fixes applied\n\n## Fix #1: Leak \xe2\x9c\x85\n", source="b")
    assert result.document.title == "Fixes applied"
    assert result.findings[0].status == "fixed"


def test_cp1252_mojibake_is_repaired_and_recorded() -> None:
    text = "# Fixes ✅\n\n## Fix #1: Leak ⚠️\n**Severity:** 🔴 High\n"
    garbled = text.encode("utf-8").decode("cp1252", errors="ignore").encode("utf-8")
    result = extract(garbled, source="garbled.md")
    assert result.document.repaired is True
    assert result.document.encoding_repair == "cp1252"
    assert result.findings[0].severity == "high"
    assert result.findings[0].status == "identified"


def test_genuine_accents_are_not_mistaken_for_mojibake() -> None:
    result = extract("# Café résumé — naïve Größe\n".encode(), source="accents.md")
    assert result.document.repaired is False
    assert result.document.title == "Café résumé — naïve Größe"


@pytest.mark.parametrize(
    ("head", "expected"),
    [
        (b"# Handoff\n\n**Date:** 2025-01-01\n", True),
        (b"\xef\xbb\xbf# Handoff\n", True),
        ("# Fixes \u00e2\u0153\u2026\n".encode(), True),
        (b"Plain text notes about the fix week\n", True),
        (b'  {"runs": []}', False),
        (b'\xef\xbb\xbf[{"a": 1}]', False),
        (b"\x89PNG\r\n\x1a\n\x00\x00", False),
        (b"", False),
        (b"\xff\xfe#\x00 \x00", False),
    ],
)
def test_sniffing_accepts_text_documents_and_rejects_json_and_binary(
    head: bytes, expected: bool
) -> None:
    assert looks_like_document(head) is expected


def test_sniffing_tolerates_a_head_cut_inside_a_character() -> None:
    head = ("# Fixes ✅ " * 10).encode()[:-2]
    assert looks_like_document(head) is True


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=400))
def test_random_bytes_give_an_extraction_or_a_parse_error(data: bytes) -> None:
    try:
        result = extract(data, source="random.bin")
    except ParseError:
        return
    assert isinstance(result, Extraction)


_MARKDOWN_PIECES = st.sampled_from(
    [
        "# ",
        "## ",
        "### ",
        "#### 1. ",
        "## Fix #2: ",
        "- ",
        "- [ ] ",
        "- [x] ",
        "1. ",
        "| a | b |\n",
        "|---|---|\n",
        "```python\n",
        "```\n",
        "**Severity:** ",
        "**File:** `a.py`",
        "Lines: 3-4",
        "✅",
        "⚠️",
        "🔴",
        "HIGH",
        "Phase 1: Quick (1-2 weeks)",
        "Next Steps",
        "Health",
        ": AT RISK",
        "e4121ef",
        "# BEFORE:\n",
        "# AFTER:\n",
        "> ",
        "---\n",
        "\n",
        "\n\n",
        "   ",
        "text",
        ":",
        "[x](src/a.py#L1-2)",
        "Status: fixed",
        "âœ…",
        "‚úÖ",
        "\r\n",
        "Setext\n===\n",
    ]
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(st.lists(_MARKDOWN_PIECES, max_size=60).map("".join), st.text(max_size=400)))
def test_random_markdown_gives_an_extraction_or_a_parse_error(text: str) -> None:
    try:
        result = extract(text.encode("utf-8"), source="random.md")
    except ParseError:
        return
    assert isinstance(result, Extraction)
    result.to_dict()
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    listed = set()
    for passage in result.unparsed:
        listed.update(range(passage.line, passage.line + passage.text.count("\n") + 1))
    for number, line in enumerate(lines, start=1):
        if line.strip():
            assert number in result.accounted or number in listed
