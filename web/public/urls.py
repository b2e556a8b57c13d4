"""Addresses anyone may open: home, the catalogue and guides, certificate verification, the public
campaign results; and the addresses every audience shares: accounts, the language switch, the
message centre, and file downloads (each download checks who asks)."""

from django.urls import include, path

from web import files
from web.public import campaigns, ranking, ratings, views

urlpatterns = [
    path("", views.home, name="home"),
    path("accounts/", include("web.accounts.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("messages/", include("web.inbox.urls")),
    path("services/", views.service_list, name="service_list"),
    path("services/<str:code>/", views.service_guide, name="service_guide"),
    path("verify/", views.certificate_verify, name="certificate_verify"),
    path("verify/<str:code>/", views.certificate_verify, name="certificate_verify_code"),
    path("verify/<str:code>/qr.svg", views.certificate_qr, name="certificate_qr"),
    path("verify/notices/<str:number>/", views.notice_verify, name="notice_verify"),
    path("efficiency/ranking/", ranking.monthly_ranking, name="efficiency_ranking"),
    path(
        "inspections/",
        include(
            (
                [
                    path("", campaigns.public_list, name="list"),
                    path("<slug:code>/", campaigns.public_detail, name="detail"),
                ],
                "inspections_public",
            )
        ),
    ),
    path("ratings/", ratings.rating_scores, name="rating_scores"),
    path("files/materials/<int:pk>/", files.file_download, {"kind": "material"}, name="material_download"),
    path(
        "files/inspections/<int:pk>/",
        files.file_download,
        {"kind": "inspection_attachment"},
        name="inspection_attachment",
    ),
    path("files/letters/<int:pk>/", files.file_download, {"kind": "letter"}, name="letter_download"),
    path("files/notices/<int:pk>/", files.file_download, {"kind": "notice"}, name="notice_download"),
    path("files/card-notices/<int:pk>/", files.file_download, {"kind": "card_notice"}, name="card_notice_download"),
]
