"""The document page's reads: a remediation document rendered next to what was extracted from
it (claims, phases, health readings, unparsed lines), and the links between claims and
findings that its page confirms or undoes.
"""

from __future__ import annotations

import nh3
from django.db.models import Prefetch, QuerySet
from markdown_it import MarkdownIt

from findings.access import projects_for
from findings.models import (
    Claim,
    Document,
    Finding,
    FindingLink,
    HealthReading,
    Phase,
    Project,
    Report,
    RoadmapItem,
)

_MARKED_BLOCKS = frozenset(
    {"paragraph_open", "heading_open", "list_item_open", "table_open", "fence", "code_block"}
)
_DOC_ATTRIBUTES = {
    **{tag: set(attrs) for tag, attrs in nh3.ALLOWED_ATTRIBUTES.items()},
    "*": {"class", "id", "data-line", "title"},
}
_DOC_TAGS = set(nh3.ALLOWED_TAGS) - {"img"}


def render_document(text: str, unparsed_lines: set[int]) -> tuple[str, dict[int, int]]:
    """A document as sanitised HTML, its blocks with unparsed lines marked.

    Markdown is rendered by markdown-it-py with raw HTML off and images off (no remote
    fetches), then cleaned by nh3: no script, no event handlers, no ``javascript:`` URLs;
    links get ``rel="noopener noreferrer"``. Each block carries ``data-line`` (its first line)
    and an ``id`` ``doc-L<line>``; blocks holding an unparsed line get the class ``unparsed``.
    Headings move two levels down (h1 becomes h3) to fit under the page's own outline.
    Also returns, for each unparsed line, the first line of the block that shows it.
    """
    md = MarkdownIt("commonmark", {"html": False}).enable(["table", "strikethrough"])
    md.disable("image")
    tokens = md.parse(text)
    anchors: dict[int, int] = {}
    for token in tokens:
        if token.type in ("heading_open", "heading_close"):
            # The page has its own h1 and h2s; the document's outline sits two levels below.
            token.tag = f"h{min(6, int(token.tag[1]) + 2)}"
        if token.type not in _MARKED_BLOCKS or token.map is None or token.hidden:
            continue
        first, last = token.map[0] + 1, token.map[1]
        token.attrSet("data-line", str(first))
        token.attrSet("id", f"doc-L{first}")
        hit = [n for n in range(first, last + 1) if n in unparsed_lines]
        if hit:
            token.attrJoin("class", "unparsed")
            token.attrSet("title", "Not placed by the extractor")
            for n in hit:
                anchors.setdefault(n, first)
    html = md.renderer.render(tokens, md.options, {})
    clean = nh3.clean(
        html,
        tags=_DOC_TAGS,
        attributes=_DOC_ATTRIBUTES,
        link_rel="noopener noreferrer",
        url_schemes={"http", "https", "mailto"},
    )
    return clean, anchors


def _unparsed_rows(unparsed: list[dict], anchors: dict[int, int]) -> list[dict]:
    rows = []
    for part in unparsed:
        line = int(part.get("line") or 0)
        count = str(part.get("text") or "").count("\n") + 1
        numbers = range(line, line + count)
        anchor = next((anchors[n] for n in numbers if n in anchors), line)
        rows.append(
            {
                "line": line,
                "last": line + count - 1,
                "text": part.get("text") or "",
                "section": " › ".join(part.get("section") or []),
                "anchor": anchor,
            }
        )
    return rows


def document_reports(*, projects: QuerySet[Project]) -> QuerySet[Report]:
    """Document reports a user may open."""
    return Report.objects.filter(project__in=projects, kind=Report.Kind.DOCUMENT)


def document_report(*, projects: QuerySet[Project], pk: int) -> Report | None:
    """The imported document report ``pk`` with its project and document, if the user may see
    one of ``projects``; None otherwise."""
    return (
        document_reports(projects=projects)
        .filter(pk=pk, document__isnull=False)
        .select_related("project", "document")
        .first()
    )


def document_page(*, report: Report) -> dict:
    """Everything the document page shows: the rendered text next to what was extracted.

    Claims, phases and readings are those of the document's identity as of its newest
    version; ``newer`` names that version when this report is an older one.
    """
    document = report.document
    unparsed_lines = {
        int(part.get("line") or 0) + offset
        for part in document.unparsed
        for offset in range(str(part.get("text") or "").count("\n") + 1)
    }
    html, anchors = render_document(document.text, unparsed_lines)
    versions = list(
        Document.objects.filter(project=report.project, identity=document.identity)
        .select_related("report")
        .order_by("created_at", "id")
    )
    newest = versions[-1] if versions else document
    claims = (
        _claim_cards()
        .filter(project=report.project, document_identity=document.identity)
        .order_by("dropped", "line", "id")
    )
    phases = (
        Phase.objects.filter(project=report.project, document_identity=document.identity)
        .prefetch_related(
            Prefetch(
                "items",
                queryset=RoadmapItem.objects.prefetch_related(
                    Prefetch("findings", queryset=Finding.objects.select_related("project"))
                ),
            )
        )
        .order_by("order", "id")
    )
    readings = (
        HealthReading.objects.filter(
            area__project=report.project, document_identity=document.identity
        )
        .select_related("area")
        .order_by("line", "id")
    )
    return {
        "report": report,
        "document": document,
        "html": html,
        "claims": claims,
        "phases": phases,
        "readings": readings,
        "unparsed": _unparsed_rows(document.unparsed, anchors),
        "versions": versions,
        "newer": newest if newest.pk != document.pk else None,
    }


def link_for_user(*, user, pk: int) -> FindingLink | None:
    """A finding link in a project the user may see, with its claim and finding loaded."""
    return (
        FindingLink.objects.filter(pk=pk, claim__project__in=projects_for(user))
        .select_related("claim", "claim__report", "claim__project", "finding", "finding__project")
        .first()
    )


def claim_card(*, claim_id: int) -> Claim:
    """One claim with its links, as the document page's claim card shows it."""
    return _claim_cards().get(pk=claim_id)


def _claim_cards() -> QuerySet[Claim]:
    """Claims as their cards show them: finding, report, and links best first."""
    links = FindingLink.objects.select_related("finding", "finding__project", "decided_by")
    return Claim.objects.select_related("finding", "finding__project", "report").prefetch_related(
        Prefetch("links", queryset=links.order_by("-score", "id"))
    )
