from django.urls import path

from findings.views import (
    board,
    documents,
    finding,
    health,
    imports,
    members,
    metrics,
    planning,
    reports,
    reviews,
    tokens,
)

app_name = "findings"
urlpatterns = [
    path("", metrics.overview, name="overview"),
    path("imports/", imports.imports, name="imports"),
    path("imports/<int:pk>/", imports.report_detail, name="report"),
    path("imports/<int:pk>/document/", documents.document_detail, name="document"),
    path("links/<int:pk>/confirm/", documents.link_confirm, name="link_confirm"),
    path("links/<int:pk>/undo/", documents.link_undo, name="link_undo"),
    path("p/<str:key>/", board.board, name="board"),
    path("p/<str:key>/board/<str:status>/", board.board_more, name="board_more"),
    path("p/<str:key>/findings/<int:number>/move/", board.board_move, name="board_move"),
    path("p/<str:key>/health/", health.health, name="health"),
    path("p/<str:key>/reviews/", reviews.review_queue, name="reviews"),
    # One view records a review; it answers the page it came from by the URL's name.
    path("p/<str:key>/reviews/<int:number>/", reviews.review_record, name=reviews.FROM_QUEUE),
    path("p/<str:key>/report.<str:fmt>", reports.status_report, name="status_report"),
    path("p/<str:key>/metrics/", metrics.metrics, name="metrics"),
    path("p/<str:key>/roadmap/", planning.roadmap, name="roadmap"),
    path("p/<str:key>/sprints/", planning.sprints, name="sprints"),
    path("p/<str:key>/sprints/adopt/<int:pk>/", planning.sprint_adopt, name="sprint_adopt"),
    path("p/<str:key>/findings/<int:number>/plan/", planning.finding_plan, name="plan"),
    path("p/<str:key>/findings/<int:number>/", finding.finding_detail, name="detail"),
    path("p/<str:key>/findings/<int:number>/review/", reviews.review_record, name="review"),
    path(
        "p/<str:key>/findings/<int:number>/transition/",
        finding.finding_transition,
        name="transition",
    ),
    path("p/<str:key>/members/", members.members, name="members"),
    path("p/<str:key>/tokens/", tokens.tokens, name="tokens"),
    path("p/<str:key>/tokens/<int:pk>/revoke/", tokens.token_revoke, name="token_revoke"),
]
