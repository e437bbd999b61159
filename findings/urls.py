from django.urls import path

from findings import action_views, dashboard_plan_views, dashboard_views, token_views, views

app_name = "findings"
urlpatterns = [
    path("", dashboard_views.overview, name="overview"),
    path("imports/", views.imports, name="imports"),
    path("imports/<int:pk>/", views.report_detail, name="report"),
    path("imports/<int:pk>/document/", views.document_detail, name="document"),
    path("links/<int:pk>/confirm/", views.link_confirm, name="link_confirm"),
    path("links/<int:pk>/undo/", views.link_undo, name="link_undo"),
    path("p/<str:key>/", dashboard_views.board, name="board"),
    path("p/<str:key>/board/<str:status>/", dashboard_views.board_more, name="board_more"),
    path("p/<str:key>/findings/<int:number>/move/", dashboard_views.board_move, name="board_move"),
    path("p/<str:key>/health/", dashboard_views.health, name="health"),
    path("p/<str:key>/reviews/", dashboard_views.review_queue, name="reviews"),
    path("p/<str:key>/reviews/<int:number>/", dashboard_views.review_decide, name="review_decide"),
    path(
        "p/<str:key>/report.<str:fmt>",
        dashboard_views.status_report,
        name="status_report",
    ),
    path("p/<str:key>/metrics/", dashboard_views.metrics, name="metrics"),
    path("p/<str:key>/roadmap/", dashboard_plan_views.roadmap, name="roadmap"),
    path("p/<str:key>/sprints/", dashboard_plan_views.sprints, name="sprints"),
    path("p/<str:key>/findings/<int:number>/plan/", dashboard_plan_views.finding_plan, name="plan"),
    path("p/<str:key>/findings/<int:number>/", views.finding_detail, name="detail"),
    path("p/<str:key>/findings/<int:number>/review/", action_views.finding_review, name="review"),
    path(
        "p/<str:key>/findings/<int:number>/transition/",
        action_views.finding_transition,
        name="transition",
    ),
    path("p/<str:key>/members/", action_views.members, name="members"),
    path("p/<str:key>/tokens/", token_views.tokens, name="tokens"),
    path("p/<str:key>/tokens/<int:pk>/revoke/", token_views.token_revoke, name="token_revoke"),
]
