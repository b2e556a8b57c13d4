"""The staff workbench, mounted at ``workbench/``: the queue and task pages (namespace
``workbench``), inspections (``supervision``), random-inspection campaigns (``campaigns``),
integrity alerts (``integrity``)."""

from django.urls import include, path

from web.workbench import campaigns, cards, dashboard, extensions, inspections, integrity, ratings, tasks, views

workbench_patterns = [
    path("", views.workbench_home, name="home"),
    path("supervision/", views.supervision, name="supervision"),
    path("supervision/dashboard/", dashboard.efficiency_dashboard, name="dashboard"),
    path("supervision/dashboard/cases/", dashboard.efficiency_cases, name="dashboard_cases"),
    path("supervision/dashboard/export.csv", dashboard.efficiency_export, name="dashboard_export"),
    path("tasks/<int:task_pk>/", tasks.task_page, name="task"),
    path("tasks/<int:task_pk>/claim/", tasks.task_claim, name="task_claim"),
    path("tasks/<int:task_pk>/release/", tasks.task_release, name="task_release"),
    path("tasks/<int:task_pk>/reassign/", tasks.task_reassign, name="task_reassign"),
    path("applications/<int:pk>/", tasks.staff_application, name="application"),
    path("applications/<int:pk>/clock/<str:action>/", tasks.clock_action, name="clock_action"),
    path("supervision/cards/", cards.card_queue, name="cards"),
    path("supervision/cards/<int:pk>/", cards.card_page, name="card"),
    path("supervision/cards/<int:pk>/<slug:action>/", cards.card_action, name="card_action"),
    path("extensions/", extensions.extension_list, name="extensions"),
    path("extensions/<int:pk>/decide/", extensions.extension_decide, name="extension_decide"),
    path("ratings/", ratings.loop_list, name="rating_loops"),
    path("ratings/<int:pk>/", ratings.loop_page, name="rating_loop"),
]

inspection_patterns = [
    path("", inspections.my_inspections, name="mine"),
    path("<int:pk>/", inspections.task_page, name="task"),
]

campaign_patterns = [
    path("", campaigns.campaign_list, name="list"),
    path("new/", campaigns.campaign_create, name="create"),
    path("<slug:code>/", campaigns.campaign_detail, name="detail"),
    path("<slug:code>/ratios/", campaigns.campaign_ratios, name="ratios"),
    path("<slug:code>/recusals/", campaigns.campaign_recusal_add, name="recusal_add"),
    path("<slug:code>/recusals/<int:pk>/remove/", campaigns.campaign_recusal_remove, name="recusal_remove"),
    path("<slug:code>/freeze/", campaigns.campaign_freeze, name="freeze"),
    path("<slug:code>/draw/", campaigns.campaign_draw, name="draw"),
]

integrity_patterns = [
    path("", integrity.alert_list, name="list"),
    path("<int:pk>/", integrity.alert_detail, name="alert"),
    path("<int:pk>/dispose/", integrity.alert_dispose, name="dispose"),
]

urlpatterns = [
    path("campaigns/", include((campaign_patterns, "campaigns"))),
    path("integrity/", include((integrity_patterns, "integrity"))),
    path("inspections/", include((inspection_patterns, "supervision"))),
    path("", include((workbench_patterns, "workbench"))),
]
