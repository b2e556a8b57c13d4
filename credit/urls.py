from django.urls import path

from credit import ledger_views, views

app_name = "credit"
urlpatterns = [
    path("join/", views.membership_join, name="join"),
    path("enterprises/<int:pk>/", views.enterprise_detail, name="enterprise"),
    path("enterprises/<int:pk>/credit/", ledger_views.enterprise_credit, name="credit"),
]
