"""URLs of the pages that drive the flows: the enterprise portal and the staff workbench."""

from django.urls import path

from approvals import views as approvals_views
from workflows import files, portal_views, supervision_views
from workflows import views as wf_views

portal_patterns = (
    [
        path("", approvals_views.portal_home, name="home"),
        path("applications/", portal_views.application_list, name="applications"),
        path("apply/<int:version_pk>/", portal_views.application_file, name="application_file"),
        path("applications/<int:pk>/", portal_views.application_detail, name="application"),
        path("applications/<int:pk>/submitted/", portal_views.application_submitted, name="application_submitted"),
        path(
            "applications/<int:pk>/supplements/<int:notice_pk>/answer/",
            portal_views.supplement_answer,
            name="supplement_answer",
        ),
        path("applications/<int:pk>/withdraw/", portal_views.application_withdraw, name="application_withdraw"),
        path("applications/<int:pk>/commitment/", supervision_views.commitment, name="commitment"),
        path("inspections/", supervision_views.enterprise_inspections, name="inspections"),
        path("rectifications/<int:pk>/report/", supervision_views.rectification_report, name="rectification_report"),
    ],
    "portal",
)

workbench_patterns = (
    [
        path("", approvals_views.workbench_home, name="home"),
        path("supervision/", approvals_views.supervision, name="supervision"),
        path("tasks/<int:task_pk>/", wf_views.task_page, name="task"),
        path("tasks/<int:task_pk>/claim/", wf_views.task_claim, name="task_claim"),
        path("tasks/<int:task_pk>/release/", wf_views.task_release, name="task_release"),
        path("tasks/<int:task_pk>/reassign/", wf_views.task_reassign, name="task_reassign"),
        path("applications/<int:pk>/", wf_views.staff_application, name="application"),
        path("applications/<int:pk>/clock/<str:action>/", wf_views.clock_action, name="clock_action"),
    ],
    "workbench",
)

supervision_patterns = (
    [
        path("", supervision_views.my_inspections, name="mine"),
        path("<int:pk>/", supervision_views.task_page, name="task"),
    ],
    "supervision",
)

file_patterns = [
    path("files/materials/<int:pk>/", files.file_download, {"kind": "material"}, name="material_download"),
    path(
        "files/inspections/<int:pk>/",
        files.file_download,
        {"kind": "inspection_attachment"},
        name="inspection_attachment",
    ),
    path("files/letters/<int:pk>/", files.file_download, {"kind": "letter"}, name="letter_download"),
]
