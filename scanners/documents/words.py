"""Words and dates in remediation documents: cleaning inline Markdown, emoji, stems, dates.

Pure helpers shared by the field and signal vocabularies.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date

LINK_RE = re.compile(r"\[(?P<text>[^\]\n]*)\]\((?P<target>[^)\s]+)(?:\s+\"[^\"]*\")?\)")

# --- dates and windows -------------------------------------------------------------------

_MONTHS = {
    **{
        m: i + 1
        for i, m in enumerate(
            [
                "january",
                "february",
                "march",
                "april",
                "may",
                "june",
                "july",
                "august",
                "september",
                "october",
                "november",
                "december",
            ]
        )
    },
    **{
        m: i + 1
        for i, m in enumerate(
            [
                "januar",
                "februar",
                "märz",
                "april",
                "mai",
                "juni",
                "juli",
                "august",
                "september",
                "oktober",
                "november",
                "dezember",
            ]
        )
    },
    **{
        m: i + 1
        for i, m in enumerate(
            [
                "janvier",
                "février",
                "mars",
                "avril",
                "mai",
                "juin",
                "juillet",
                "août",
                "septembre",
                "octobre",
                "novembre",
                "décembre",
            ]
        )
    },
}
_MONTH_ABBR = {name[:3]: num for name, num in _MONTHS.items()}
_ISO_DATE_RE = re.compile(r"\b(\d{4})-(\d{1,2})-(\d{1,2})\b")
_DMY_DOT_RE = re.compile(r"\b(\d{1,2})\.\s?(\d{1,2})\.\s?(\d{4})\b")
_MDY_RE = re.compile(r"\b([A-Za-zÀ-ÿ]{3,10})\.?\s+(\d{1,2})(?:st|nd|rd|th)?,?\s+(\d{4})\b")
_DMY_RE = re.compile(r"\b(\d{1,2})(?:st|nd|rd|th|er)?\.?\s+([A-Za-zÀ-ÿ]{3,10})\.?,?\s+(\d{4})\b")


def parse_date(text: str) -> str | None:
    """ISO ``yyyy-mm-dd`` for the first date in ``text`` that is a real calendar date."""
    for rx, order in (
        (_ISO_DATE_RE, "ymd"),
        (_MDY_RE, "mdy"),
        (_DMY_RE, "dmy"),
        (_DMY_DOT_RE, "dmy"),
    ):
        for m in rx.finditer(text):
            parts = dict(zip(order, m.groups(), strict=True))
            month = _month(parts["m"])
            try:
                return date(int(parts["y"]), month or 0, int(parts["d"])).isoformat()
            except (TypeError, ValueError):
                continue
    return None


def dates_in(text: str) -> list[str]:
    """Every real calendar date in ``text``, ISO ``yyyy-mm-dd``, in the order they appear
    ("Feb 2, 2026 – 2026-02-16" gives both)."""
    found: dict[tuple[int, int], str] = {}
    for rx, order in (
        (_ISO_DATE_RE, "ymd"),
        (_MDY_RE, "mdy"),
        (_DMY_RE, "dmy"),
        (_DMY_DOT_RE, "dmy"),
    ):
        for m in rx.finditer(text):
            if any(m.start() < end and start < m.end() for start, end in found):
                continue  # already read as another form of date
            parts = dict(zip(order, m.groups(), strict=True))
            try:
                when = date(int(parts["y"]), _month(parts["m"]) or 0, int(parts["d"]))
            except (TypeError, ValueError):
                continue
            found[m.span()] = when.isoformat()
    return [found[span] for span in sorted(found)]


def _month(token: str) -> int | None:
    if token.isdigit():
        return int(token)
    low = token.lower()
    return _MONTHS.get(low) or _MONTH_ABBR.get(low[:3])


_WINDOW_RE = re.compile(
    r"\((?P<w>[^()]*?(?:\d+\s*(?:[-–]\s*\d+\s*)?(?:days?|weeks?|months?|sprints?|hours?|"
    r"quarters?|tage?|wochen?|monate?|jours?|semaines?|mois)|this sprint|next sprint|"
    r"immediate(?:ly)?|q[1-4](?:\s*\d{4})?|sofort|immédiat)[^()]*)\)",
    re.IGNORECASE,
)


def split_window(title: str) -> tuple[str, str | None]:
    """Split "Quick Wins (1-2 weeks)" into ``("Quick Wins", "1-2 weeks")``."""
    m = _WINDOW_RE.search(title)
    if not m:
        return title.strip(), None
    name = (title[: m.start()] + title[m.end() :]).strip(" -–:")
    return re.sub(r"\s{2,}", " ", name), m.group("w").strip()


# --- text cleaning and words -------------------------------------------------------------


def is_emoji(ch: str) -> bool:
    """Pictographs, dingbats, arrows used as icons, variation selectors and joiners."""
    cp = ord(ch)
    return (
        0x1F000 <= cp <= 0x1FAFF
        or 0x2600 <= cp <= 0x27BF
        or 0x2B00 <= cp <= 0x2BFF
        or 0x2300 <= cp <= 0x23FF
        or cp in (0xFE0F, 0xFE0E, 0x200D, 0x20E3)
        or unicodedata.category(ch) == "So"
    )


def strip_decoration(text: str) -> str:
    """Text without emoji, emphasis markers, backticks or link syntax, spaces collapsed."""
    text = LINK_RE.sub(lambda m: m.group("text"), text)
    if not text.isascii():
        text = "".join(" " if is_emoji(ch) else ch for ch in text)
    text = re.sub(r"\*\*|__|`|(?<!\w)[*_](?=\S)|(?<=\S)[*_](?!\w)", "", text)
    return re.sub(r"\s+", " ", text).strip()


STATUS_WORD_TAIL_RE = re.compile(
    r"(?:\s*[-–—:|]\s*|\s+)(?:\*\*)?(?:fixed|resolved|done|completed?|open|identified|"
    r"partially (?:fixed|addressed)|partial|wip|in progress|behoben|erledigt|offen|corrigé|"
    r"résolu|ouvert)(?:\*\*)?\s*$",
    re.IGNORECASE,
)

_STOPWORDS = frozenset(
    "the and for with from into that this these those are was were been have has not "
    "all any add added use using via per its our your their when then than only also "
    "can could should would will issue issues fix fixes fixed problem bug bugs error "
    "errors missing without where which what who how out off over under after before "
    "der die das und mit für von les des une pour avec dans sur".split()
)


def significant_words(text: str) -> set[str]:
    """Crude stems of the content words of ``text``, for matching items to findings."""
    words = re.findall(r"[a-zà-ÿ0-9]+", strip_decoration(text).lower().replace("_", " "))
    out = set()
    for w in words:
        if len(w) < 3 or w in _STOPWORDS or w.isdigit():
            continue
        for suffix in ("ing", "ies", "es", "ed", "s"):
            if w.endswith(suffix) and len(w) - len(suffix) >= 3:
                w = w[: -len(suffix)] + ("y" if suffix == "ies" else "")
                break
        # Six letters are enough to match "exception" with "except", "flushing" with "flush".
        out.add(w[:6])
    return out
