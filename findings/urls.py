from django.urls import path

from findings import views

app_name = "findings"
urlpatterns = [
    path("", views.overview, name="overview"),
    path("imports/", views.imports, name="imports"),
    path("imports/<int:pk>/", views.report_detail, name="report"),
    path("p/<str:key>/", views.board, name="board"),
    path("p/<str:key>/findings/<int:number>/", views.finding_detail, name="detail"),
]
