from django.urls import path

from findings import action_views, views

app_name = "findings"
urlpatterns = [
    path("", views.overview, name="overview"),
    path("imports/", views.imports, name="imports"),
    path("imports/<int:pk>/", views.report_detail, name="report"),
    path("imports/<int:pk>/document/", views.document_detail, name="document"),
    path("links/<int:pk>/confirm/", views.link_confirm, name="link_confirm"),
    path("links/<int:pk>/undo/", views.link_undo, name="link_undo"),
    path("p/<str:key>/", views.board, name="board"),
    path("p/<str:key>/findings/<int:number>/", views.finding_detail, name="detail"),
    path("p/<str:key>/findings/<int:number>/review/", action_views.finding_review, name="review"),
    path(
        "p/<str:key>/findings/<int:number>/transition/",
        action_views.finding_transition,
        name="transition",
    ),
    path("p/<str:key>/members/", action_views.members, name="members"),
]
