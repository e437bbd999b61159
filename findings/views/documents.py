"""A remediation document's page: its text beside what was extracted, and the links between
its claims and findings, which developers confirm or undo."""

from __future__ import annotations

from collections.abc import Callable

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_POST
from django.views.decorators.vary import vary_on_headers

from findings import access, services
from findings.selectors import documents as selectors
from findings.views.helpers import HtmxHttpRequest, mutation_response


@login_required
def document_detail(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    report = selectors.document_report(projects=access.projects_for(request.user), pk=pk)
    if report is None:
        raise Http404("No such document, or it was not imported.")
    context = selectors.document_page(report=report)
    return render(request, "findings/document_detail.html", {"project": report.project, **context})


@login_required
@require_POST
@vary_on_headers("HX-Request")
def link_confirm(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    return _decide_link(request, pk, services.claim_link_confirm, "confirmed")


@login_required
@require_POST
@vary_on_headers("HX-Request")
def link_undo(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    return _decide_link(request, pk, services.claim_link_undo, "undone")


def _decide_link(request: HtmxHttpRequest, pk: int, decide: Callable, done: str) -> HttpResponse:
    """Confirm or undo a link; htmx gets the claim card back, a plain form a redirect."""
    link = selectors.link_for_user(user=request.user, pk=pk)
    if link is None:
        raise Http404("No such link.")
    access.require(request, link.claim.project, access.ACTION_ROLES["link"])
    error = ""
    try:
        decide(link=link, user=request.user)
    except services.LinkError as failure:
        error = str(failure)
    text = error or f"Link {link.claim.title} → {link.finding.key} {done}."

    def context() -> dict:
        claim = selectors.claim_card(claim_id=link.claim_id)
        return {"claim": claim, "decision": text, "decision_failed": bool(error)}

    target = reverse("findings:document", args=[link.claim.report_id])
    return mutation_response(
        request,
        text=text,
        failed=bool(error),
        partial="findings/document_detail.html#claim-card",
        context=context,
        target=f"{target}#claim-{link.claim_id}",
        event=None,
    )
