"""The status board: one column per lifecycle state, filters in the URL, cards moved by
lifecycle events the user's role allows. htmx requests get the partial they replace."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse, QueryDict
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST
from django.views.decorators.vary import vary_on_headers

from findings import access, lifecycle, services
from findings.access import Role
from findings.forms import BoardFilterForm
from findings.models import EvidenceLevel, Finding, Project
from findings.selectors import board as selectors
from findings.views.helpers import HtmxHttpRequest, event_role, finding_or_404, mutation_response

MOVE_LABELS = {
    lifecycle.Event.CLAIM: "Claim fixed",
    lifecycle.Event.VERIFY: "Mark verified",
    lifecycle.Event.REOPEN: "Reopen",
}
"""Board buttons say what they do; the lifecycle's labels say what happened."""

BOARD_KEYS = ("severity", "tool", "path", "q", "phase", "sprint", "area", "triaged")


def board_filters(data: QueryDict) -> tuple[BoardFilterForm, selectors.BoardFilter]:
    """The board's filter form bound to ``data``, and the filters it holds (none if invalid)."""
    form = BoardFilterForm(data or None)
    if not form.is_valid():
        return form, selectors.BoardFilter()
    clean = form.cleaned_data
    return form, selectors.BoardFilter(
        severity=clean["severity"],
        tool=clean["tool"],
        path=clean["path"].strip(),
        q=clean["q"].strip(),
        phase=clean["phase"],
        sprint=clean["sprint"],
        area=clean["area"],
    )


def board_query(data: QueryDict) -> str:
    """The board's filters as a query string, for links that keep them."""
    kept = QueryDict(mutable=True)
    for key in BOARD_KEYS:
        if value := data.get(key):
            kept[key] = value
    return kept.urlencode()


def _columns_context(request: HtmxHttpRequest, project: Project, data: QueryDict) -> dict:
    form, filters = board_filters(data)
    triaged = bool(form.is_valid() and form.cleaned_data["triaged"])
    role = access.role_for(request.user, project)
    columns = selectors.board_columns(project=project, filters=filters, triaged=triaged)
    for column in columns:
        _set_moves(column, role)
    return {
        "project": project,
        "form": form,
        "columns": columns,
        "total": sum(column.count for column in columns),
        "total_capped": any(column.capped for column in columns),
        "query": board_query(data),
        "triaged": triaged,
        "may_move": bool(role and role >= Role.DEVELOPER),
    }


def _moves(role: Role | None, status: str) -> list[dict]:
    """The buttons a card in ``status`` offers this role: event, label and target column."""
    events = access.events_for(role, lifecycle.allowed_events(status))
    moves = []
    for event in events:
        if event in lifecycle.REQUIRES_REASON:
            continue  # triage needs a written reason: the finding page asks for it
        target = lifecycle.next_state(status, event)
        if target != status:
            moves.append(
                {
                    "event": event,
                    "label": MOVE_LABELS.get(event, lifecycle.Event(event).label),
                    "to": target.value,
                }
            )
    return moves


def _set_moves(column: selectors.Column, role: Role | None) -> None:
    """The column's moves, and each card's: "Mark verified" only where evidence proves it."""
    column.moves = _moves(role, column.status)
    for card in column.cards:
        card["moves"] = [
            move
            for move in column.moves
            if move["event"] != lifecycle.Event.VERIFY or EvidenceLevel.proves_fix(card["evidence"])
        ]


@login_required
@require_GET
@vary_on_headers("HX-Request")
def board(request: HtmxHttpRequest, key: str) -> HttpResponse:
    """The status board: one column per lifecycle state, filters in the URL."""
    project = access.require(request, key, Role.VIEWER)
    context = _columns_context(request, project, request.GET)
    if request.htmx:
        return render(request, "findings/board.html#board-columns", context)
    context.update(selectors.board_choices(project=project))
    context["matrix"] = selectors.status_matrix(project=project)
    context["triaged_total"] = context["matrix"]["triaged"]
    context["can_manage"] = access.can(request.user, project, access.ACTION_ROLES["members"])
    return render(request, "findings/board.html", context)


@login_required
@require_GET
@vary_on_headers("HX-Request")
def board_more(request: HtmxHttpRequest, key: str, status: str) -> HttpResponse:
    """The next cards of one column after the cursor ``after`` (htmx appends them)."""
    project = access.require(request, key, Role.VIEWER)
    try:
        status = lifecycle.Status(status)
    except ValueError:
        raise Http404("No such column.") from None
    _, filters = board_filters(request.GET)
    column = selectors.board_column(
        project=project, status=status, filters=filters, after=request.GET.get("after", "")
    )
    _set_moves(column, access.role_for(request.user, project))
    context = {
        "project": project,
        "column": column,
        "query": board_query(request.GET),
        "may_move": access.can(request.user, project, Role.DEVELOPER),
    }
    if request.htmx:
        return render(request, "findings/board.html#column-items", context)
    return render(request, "findings/board_column.html", context)


@login_required
@require_POST
@vary_on_headers("HX-Request")
def board_move(request: HtmxHttpRequest, key: str, number: int) -> HttpResponse:
    """Move a card: a lifecycle event the table allows and the user's role may apply."""
    project = access.require(request, key, Role.VIEWER)
    finding = finding_or_404(project, number)
    event = request.POST.get("event", "")
    role = event_role(request, project, event)
    allowed = {move["event"] for move in _moves(role, finding.status)}
    error = ""
    if event not in allowed:
        error = _refusal(finding, event)
    else:
        try:
            finding = services.finding_transition(finding=finding, event=event, actor=request.user)
        except services.TransitionError as failure:
            error = str(failure)
    text = error or f"{project.key}-{number} moved to {finding.get_status_display()}."

    def context() -> dict:
        found = _columns_context(request, project, request.POST)
        return {**found, "notice": text, "notice_failed": bool(error)}

    query = board_query(request.POST)
    return mutation_response(
        request,
        text=text,
        failed=bool(error),
        partial="findings/board.html#board-columns",
        context=context,
        target=reverse("findings:board", args=[project.key]) + (f"?{query}" if query else ""),
    )


def _refusal(finding: Finding, event: str) -> str:
    key = f"{finding.project.key}-{finding.number}"
    if event == lifecycle.Event.VERIFY_BY_DECISION:
        return f"{key}: verifying without evidence is a reviewer's decision; make it on its page."
    if event in access.REVIEW_EVENTS:
        return f"{key}: signing off or rejecting a fix is a review; open the review queue."
    if event in lifecycle.REQUIRES_REASON:
        return f"{key}: this needs a written reason; change it on the finding's page."
    status = finding.get_status_display().lower()
    return f"{key} is {status}: it cannot be moved that way (or your role may not)."
