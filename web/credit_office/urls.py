"""The credit office, mounted at ``credit-office/`` (namespace ``credit_office``; the objection and
repair decision page keeps its global name ``credit_request_decide``)."""

from django.urls import include, path

from web.credit_office import views

office_patterns = [
    path("", views.office_home, name="home"),
    path("propose/", views.office_propose, name="propose"),
    path("proposals/<int:pk>/<str:decision>/", views.office_proposal_decide, name="proposal_decide"),
    path("import/", views.office_import, name="import"),
]

urlpatterns = [
    path("", include((office_patterns, "credit_office"))),
    path("requests/<int:pk>/", views.request_decide, name="credit_request_decide"),
]
