"""The policy office, mounted at ``policy-office/`` (namespace ``policy_office``)."""

from django.urls import include, path

from web.policy_office import views

office_patterns = [
    path("", views.queue, name="home"),
    path("applications/<int:pk>/", views.review, name="review"),
    path("grants/", views.grant_list, name="grants"),
    path("grants/<int:pk>/", views.grant_detail, name="grant"),
    path("projects/", views.project_list, name="projects"),
    path("projects/<int:pk>/", views.project_detail, name="project"),
]

urlpatterns = [path("", include((office_patterns, "policy_office")))]
