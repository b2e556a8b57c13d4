from django.urls import path

from credit import ledger_views

app_name = "credit_office"
urlpatterns = [
    path("", ledger_views.office_home, name="home"),
    path("propose/", ledger_views.office_propose, name="propose"),
    path("proposals/<int:pk>/<str:decision>/", ledger_views.office_proposal_decide, name="proposal_decide"),
    path("import/", ledger_views.office_import, name="import"),
]
