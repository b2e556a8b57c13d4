from django.urls import path

from credit import views

app_name = "credit"
urlpatterns = [
    path("join/", views.membership_join, name="join"),
    path("enterprises/<int:pk>/", views.enterprise_detail, name="enterprise"),
]
